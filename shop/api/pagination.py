"""Cursor pagination: an opaque cursor naming the last row seen (its id), keyset-read."""

import base64
import binascii

from shop.api.problems import ApiProblem

MAX_LIMIT = 100


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind != "id" or not value.isdigit() or len(value) > 18:
            raise ValueError(text)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiProblem(422, "invalid_cursor", "This cursor is not one the API gave out.") from None


def page(queryset, *, cursor: str | None, limit: int, descending: bool = False):
    """(rows, next_cursor) of the queryset ordered by id, after the cursor's row."""
    last = decode_cursor(cursor)
    if last is not None:
        queryset = queryset.filter(**{"pk__lt" if descending else "pk__gt": last})
    rows = list(queryset.order_by("-pk" if descending else "pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].pk) if more and rows else None
