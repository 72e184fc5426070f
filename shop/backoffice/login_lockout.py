"""Login lockouts (django-axes): two limits, the client's address, and the page that says how long.

- `AXES_FAILURE_LIMIT` failed logins for one username from one address lock that username out
  from that address (django-axes' own count, `AXES_LOCKOUT_PARAMETERS`);
- `AXES_IP_FAILURE_LIMIT` failed logins from one address, whatever usernames they tried, lock the
  address out, so spraying one password over many usernames is limited too. It is higher than the
  per-user limit: staff behind one office address share it.

Both count the failures of the last `AXES_COOLOFF_TIME`. A lockout lifts when enough of the
failures behind it have aged past the cool-off; attempts while locked out are refused without
being counted, so they do not make the wait longer (`AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT`
is off) and the time the page names is the time it ends.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from axes.attempts import get_cool_off_threshold
from axes.conf import settings
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.contrib import admin
from django.db.models import Sum
from django.shortcuts import render
from django.utils import timezone
from ipware.ip import get_client_ip

USERNAME = "username"
ADDRESS = "address"
USERNAME_MAX_LENGTH = AccessAttempt._meta.get_field("username").max_length


def client_ip_address(request) -> str | None:
    """The address a lockout counts against (`AXES_CLIENT_IP_CALLABLE`).

    Without a proxy (`SHOP_PROXY_COUNT`, from AXES_PROXY_COUNT, is 0) it is REMOTE_ADDR and
    X-Forwarded-For is ignored: anyone can send that header. Behind N trusted reverse proxies,
    each appending the address it was called from, the client is the N-th entry from the right
    of X-Forwarded-For (django-ipware parses the header; python-ipware counts the proxies listed
    in the header, which is one fewer: the last proxy is REMOTE_ADDR). Entries further left were
    written by the client and are ignored, so a forged header cannot pick the address. A request
    without the header (one that went around the proxy) counts against REMOTE_ADDR.
    """
    proxies = getattr(settings, "SHOP_PROXY_COUNT", 0) or 0
    if proxies:
        address, _routable = get_client_ip(
            request,
            proxy_count=proxies - 1,
            request_header_order=["HTTP_X_FORWARDED_FOR"],
            strict=False,
        )
        if address:
            return address
    return request.META.get("REMOTE_ADDR") or None


def client_username(request, credentials: dict | None = None) -> str | None:
    """The username a failure is recorded under (`AXES_USERNAME_CALLABLE`): as typed, cut to what
    django-axes' column holds (Django's login form does not limit its length, and a longer one
    would fail the insert on PostgreSQL and MariaDB). No account has a username that long."""
    field = settings.AXES_USERNAME_FORM_FIELD
    source = credentials or getattr(request, "data", request.POST)
    username = source.get(field)
    return username[:USERNAME_MAX_LENGTH] if isinstance(username, str) else username


def _ip_failure_limit() -> int:
    return settings.AXES_IP_FAILURE_LIMIT


@dataclass(frozen=True)
class Lockout:
    """Why a login is refused: which limit (per username or per address) and until when."""

    scope: str  # USERNAME or ADDRESS
    limit: int
    username: str
    until: datetime | None  # None: no cool-off configured, until an administrator lifts it

    @property
    def remaining(self) -> timedelta | None:
        if self.until is None:
            return None
        return max(self.until - timezone.now(), timedelta(0))


def _unlock_time(attempts, limit: int, cool_off: timedelta | None) -> datetime | None:
    """When the failures counted in `attempts` fall below `limit`: the newest failures are kept
    longest, so the lockout ends when the attempt that brings the newest ones up to the limit
    ages past the cool-off."""
    if cool_off is None:
        return None
    total = 0
    for attempt_time, failures in attempts.order_by("-attempt_time").values_list(
        "attempt_time", "failures_since_start"
    ):
        total += failures
        if total >= limit:
            return attempt_time + cool_off
    return timezone.now()


class ShopAxesHandler(AxesDatabaseHandler):
    """django-axes' database handler with the per-address limit on top of the per-user one."""

    def _address_attempts(self, request):
        attempts = AccessAttempt.objects.filter(ip_address=request.axes_ip_address)
        if settings.AXES_COOLOFF_TIME is not None:
            attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
        return attempts

    def address_failures(self, request) -> int:
        return self._address_attempts(request).aggregate(n=Sum("failures_since_start"))["n"] or 0

    def get_failures(self, request, credentials: dict | None = None) -> int:
        """The username's failures from this address; at least the per-user limit when the address
        has reached its own limit, so that django-axes locks out every username from there."""
        failures = super().get_failures(request, credentials)
        if self.address_failures(request) >= _ip_failure_limit():
            return max(failures, get_failure_limit(request, credentials))
        return failures

    def lockout(self, request, credentials: dict | None = None) -> Lockout:
        """The lockout this request ran into: the per-address one if the address is locked (it
        covers every username), else the username's."""
        username = get_client_username(request, credentials) or ""
        cool_off = get_cool_off(request)
        address_attempts = self._address_attempts(request)
        address_limit = _ip_failure_limit()
        if (address_attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0) >= address_limit:
            until = _unlock_time(address_attempts, address_limit, cool_off)
            return Lockout(scope=ADDRESS, limit=address_limit, username=username, until=until)
        limit = get_failure_limit(request, credentials)
        # The most failed of the groups AXES_LOCKOUT_PARAMETERS counts (username and address).
        user_attempts = max(
            self.get_user_attempts(request, credentials),
            key=lambda attempts: attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0,
        )
        until = _unlock_time(user_attempts, limit, cool_off)
        return Lockout(scope=USERNAME, limit=limit, username=username, until=until)


def human_duration(duration: timedelta) -> str:
    """`15 minutes`, `1 hour`, `1 hour and 5 minutes`, `2 days`: rounded up to the minute."""
    minutes = max(1, math.ceil(duration.total_seconds() / 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [
        f"{value} {unit}{'' if value == 1 else 's'}"
        for value, unit in ((days, "day"), (hours, "hour"), (minutes, "minute"))
        if value
    ]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def lockout_response(request, original_response=None, credentials=None):
    """The lockout page (`AXES_LOCKOUT_CALLABLE`): the admin's login look, which limit was reached
    and how long until the next try; status 429 with Retry-After."""
    lockout = ShopAxesHandler().lockout(request, credentials)
    remaining = lockout.remaining
    context = {
        **admin.site.each_context(request),
        "title": "Too many failed logins",
        "lockout": lockout,
        "per_address": lockout.scope == ADDRESS,
        "cool_off": human_duration(get_cool_off(request)) if get_cool_off(request) else None,
        "wait": human_duration(remaining) if remaining is not None else None,
        "until": timezone.localtime(lockout.until) if lockout.until else None,
    }
    response = render(request, "admin/lockout.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
    if remaining is not None:
        response["Retry-After"] = str(max(1, math.ceil(remaining.total_seconds())))
    return response
