"""What the routes share: the error responses every operation declares, money as text."""

from decimal import Decimal

from shop.api.schemas import Problem

AUTH_ERRORS = {401: Problem, 403: Problem, 429: Problem}
READ_ERRORS = {**AUTH_ERRORS, 404: Problem, 422: Problem}
WRITE_ERRORS = {
    **AUTH_ERRORS,
    400: Problem,
    404: Problem,
    409: Problem,
    413: Problem,
    422: Problem,
    503: Problem,
}


def money(value: Decimal) -> str:
    return f"{value:.2f}"
