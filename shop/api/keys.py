"""API keys: creation (the key is shown once), authentication, scopes, throttling per key."""

import hashlib
import hmac
import logging
import math
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import caches
from django.db.models import Q
from django.utils import timezone
from ninja.security import HttpBearer

from shop.api.exceptions import ApiKeyRevoked
from shop.api.models import ApiKey
from shop.api.problems import ApiProblem
from shop.core.db import first_raw, sql_select

KEY_PREFIX = "shop"
# Touch last_used_at at most this often per key (seconds), so reads do not write every time.
LAST_USED_RESOLUTION = 60
# When the throttle's cache is unreachable, say so in the log at most this often (seconds).
THROTTLE_WARNING_INTERVAL = 60

logger = logging.getLogger("shop.api")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_create(*, name: str, scopes) -> tuple[ApiKey, str]:
    """A new key named `name` with these scopes; returns (row, key). Only the hash is stored."""
    scopes = set(scopes)
    unknown = scopes - set(ApiKey.Scope.values)
    if unknown:
        raise ValueError(
            f"Unknown scope(s): {', '.join(sorted(unknown))}; use {', '.join(ApiKey.Scope.values)}."
        )
    prefix = secrets.token_hex(6)
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    fields = {field: scope in scopes for scope, field in ApiKey.SCOPE_FIELDS.items()}
    row = ApiKey.objects.create(name=name, prefix=prefix, key_hash=hash_key(key), **fields)
    return row, key


def api_key_revoke(*, api_key: ApiKey, actor=None) -> ApiKey:
    """Revoke a key: every request with it gets 401 from now on. Refuses one already revoked."""
    now = timezone.now()
    if not ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=now):
        raise ApiKeyRevoked(f"The API key {api_key.name} was already revoked.")
    api_key.revoked_at = now
    return api_key


_KEY_FIELDS = tuple(f.name for f in ApiKey._meta.concrete_fields)


def find_key(token: str) -> ApiKey | None:
    """The unrevoked key this token is, compared in constant time; None otherwise."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12:
        return None
    # Every request runs it: one raw statement (the prefix is unique), not the ORM's compiler.
    row = first_raw(ApiKey, sql_select(ApiKey, _KEY_FIELDS, where=("prefix",)), [parts[1]])
    if row is None or not hmac.compare_digest(row.key_hash, hash_key(token)):
        return None
    if row.revoked_at is not None:
        return None
    return row


def _touch(row: ApiKey) -> None:
    now = timezone.now()
    if row.last_used_at and (now - row.last_used_at).total_seconds() < LAST_USED_RESOLUTION:
        return
    stale = now - timedelta(seconds=LAST_USED_RESOLUTION)
    ApiKey.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale), pk=row.pk).update(
        last_used_at=now
    )
    row.last_used_at = now


def _count(cache, cache_key: str, window: int) -> int:
    """This request's number in its window (add, or increment: atomic in Redis and locmem)."""
    if cache.add(cache_key, 1, timeout=window + 1):
        return 1
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=window + 1)
        return 1


_last_warning = 0.0


def _warn_unthrottled(error: Exception) -> None:
    """Log that requests go unthrottled, at most once a minute per process (not once a request)."""
    global _last_warning
    now = time.monotonic()
    if _last_warning and now - _last_warning < THROTTLE_WARNING_INTERVAL:
        return
    _last_warning = now
    logger.warning(
        "api throttle cache %r unavailable, requests are not throttled: %s",
        settings.API_THROTTLE_CACHE,
        error,
    )


def throttle(row: ApiKey) -> None:
    """At most API_THROTTLE_RATE requests per key per API_THROTTLE_WINDOW seconds (fixed
    windows in the cache); over it, 429 with Retry-After (seconds to the next window)."""
    rate, window = settings.API_THROTTLE_RATE, settings.API_THROTTLE_WINDOW
    if rate <= 0:
        return
    now = time.time()
    slot = int(now // window)
    try:
        count = _count(caches[settings.API_THROTTLE_CACHE], f"api-throttle:{row.pk}:{slot}", window)
    except Exception as error:  # whatever the cache backend raises when its server is away
        # Fail open: a throttle that cannot count must not turn the storefront away.
        _warn_unthrottled(error)
        return
    if count > rate:
        retry_after = max(1, math.ceil((slot + 1) * window - now))
        raise ApiProblem(
            429,
            "rate_limited",
            f"This API key made more than {rate} requests in {window} seconds; "
            f"try again in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
            limit=rate,
            window=window,
        )


class ApiKeyAuth(HttpBearer):
    """`Authorization: Bearer <key>` with the given scope: 401 without a valid key, 429 over the
    key's rate, 403 without the scope. The key's row is `request.auth` (and `request.api_key`)."""

    def __init__(self, scope: str):
        super().__init__()
        self.scope = scope

    def __call__(self, request):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if not header:
            raise ApiProblem(401, "unauthenticated", "Send the API key as `Authorization: Bearer <key>`.")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiProblem(401, "unauthenticated", "The Authorization header must be `Bearer <key>`.")
        return self.authenticate(request, token.strip())

    def authenticate(self, request, token):
        row = find_key(token)
        if row is None:
            raise ApiProblem(401, "invalid_api_key", "This API key is unknown or was revoked.")
        request.api_key = row
        throttle(row)
        _touch(row)
        if not row.has_scope(self.scope):
            raise ApiProblem(
                403, "missing_scope", f"This API key does not have the {self.scope} scope.", scope=self.scope
            )
        return row


READ_CATALOG = ApiKeyAuth(ApiKey.Scope.READ_CATALOG)
WRITE_CUSTOMERS = ApiKeyAuth(ApiKey.Scope.WRITE_CUSTOMERS)
WRITE_ORDERS = ApiKeyAuth(ApiKey.Scope.WRITE_ORDERS)
