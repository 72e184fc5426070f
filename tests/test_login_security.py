"""Admin logins: lockouts per username and per address, the lockout page, the client address behind
proxies, password validators, demo logins."""

from datetime import timedelta

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.urls import reverse

from tests.factories import UserFactory

PASSWORD = "correct-horse-battery"
LOGIN = reverse("admin:login")


def attempt(client, username, password):
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR="10.9.8.7"
    )


@pytest.fixture
def staff(db):
    return UserFactory(username="clerk")


def test_right_password_logs_in(client, staff):
    response = attempt(client, "clerk", PASSWORD)
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


@override_settings(AXES_FAILURE_LIMIT=3)
def test_locked_out_user_cannot_log_in_even_with_the_right_password(client, staff):
    for _ in range(2):
        assert attempt(client, "clerk", "wrong").status_code == 200
    assert attempt(client, "clerk", "wrong").status_code == 429
    response = attempt(client, "clerk", PASSWORD)
    assert response.status_code == 429
    assert "locked" in response.content.decode().lower()
    assert client.get("/admin/").status_code == 302  # still not logged in


@override_settings(AXES_FAILURE_LIMIT=3)
def test_lockout_ends_after_the_cool_off(client, staff):
    for _ in range(3):
        attempt(client, "clerk", "wrong")
    assert attempt(client, "clerk", PASSWORD).status_code == 429
    call_command("axes_reset_username", "clerk")  # what the cool-off expiry does, without waiting
    assert attempt(client, "clerk", PASSWORD).status_code == 302


@override_settings(AXES_FAILURE_LIMIT=3)
def test_cool_off_time_expiry_unlocks(client, staff):
    from datetime import timedelta

    from axes.models import AccessAttempt
    from django.utils import timezone

    for _ in range(3):
        attempt(client, "clerk", "wrong")
    assert attempt(client, "clerk", PASSWORD).status_code == 429
    # Age the failures past the configured cool-off instead of sleeping through it.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(hours=1))
    assert attempt(client, "clerk", PASSWORD).status_code == 302


@override_settings(AXES_FAILURE_LIMIT=3)
def test_failures_on_one_user_do_not_lock_out_another(client, staff):
    UserFactory(username="other")
    for _ in range(3):
        attempt(client, "clerk", "wrong")
    assert attempt(client, "other", PASSWORD).status_code == 302


def test_password_validators_refuse_weak_passwords():
    for weak in ("short", "password123", "12345678901"):
        with pytest.raises(ValidationError):
            validate_password(weak)


@override_settings(DEBUG=False)
def test_demo_logins_refused_without_debug(db):
    with pytest.raises(CommandError):
        call_command("demo_logins")


# The lockout page ------------------------------------------------------------------------------


def page_of(response) -> str:
    """The page with its white space collapsed (sentences span template lines)."""
    return " ".join(response.content.decode().split())


def failures(client, username, count, **meta):
    response = None
    for _ in range(count):
        response = client.post(
            LOGIN,
            {"username": username, "password": "wrong", "next": "/admin/"},
            **{"REMOTE_ADDR": "10.9.8.7", **meta},
        )
    return response


@override_settings(AXES_FAILURE_LIMIT=3)
def test_the_lockout_page_looks_like_the_admin_and_says_for_how_long(client, staff):
    response = failures(client, "clerk", 3)
    assert response.status_code == 429
    page = page_of(response)
    assert "Too many failed logins" in page
    assert "Shop back office" in page and "admin/css/login.css" in page  # the admin's login look
    assert "Logins as <strong>clerk</strong> from your network address are locked" in page
    assert "the password was wrong 3 times within 15 minutes" in page
    assert 'Try again in <strong class="lockout-wait">15 minutes</strong>' in page
    assert 880 <= int(response["Retry-After"]) <= 900
    assert response["Content-Security-Policy"]
    assert "Back to the login page" in page


@override_settings(AXES_FAILURE_LIMIT=3)
def test_the_wait_counts_down_from_the_last_failure(client, staff):
    from axes.models import AccessAttempt
    from django.utils import timezone

    failures(client, "clerk", 3)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=10, seconds=30))
    response = attempt(client, "clerk", PASSWORD)
    assert response.status_code == 429
    assert '<strong class="lockout-wait">5 minutes</strong>' in page_of(response)
    assert 260 <= int(response["Retry-After"]) <= 270


@override_settings(AXES_FAILURE_LIMIT=3, AXES_COOLOFF_TIME=timedelta(minutes=90))
def test_a_long_cool_off_is_said_in_hours_and_minutes(client, staff):
    page = page_of(failures(client, "clerk", 3))
    assert "within 1 hour and 30 minutes" in page
    assert '<strong class="lockout-wait">1 hour and 30 minutes</strong>' in page


@override_settings(AXES_FAILURE_LIMIT=3)
def test_attempts_while_locked_out_are_refused_without_making_the_wait_longer(client, staff):
    from axes.models import AccessAttempt

    failures(client, "clerk", 3)
    before = list(AccessAttempt.objects.values_list("failures_since_start", "attempt_time"))
    for password in ("wrong", PASSWORD, "wrong"):
        assert attempt(client, "clerk", password).status_code == 429
    assert list(AccessAttempt.objects.values_list("failures_since_start", "attempt_time")) == before


@override_settings(AXES_FAILURE_LIMIT=2)
def test_the_lockout_page_escapes_the_username(client, db):
    page = failures(client, "<script>alert(1)</script>", 2).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_human_durations():
    from shop.backoffice.login_lockout import human_duration

    cases = {
        timedelta(seconds=0): "1 minute",
        timedelta(seconds=1): "1 minute",
        timedelta(seconds=61): "2 minutes",
        timedelta(minutes=15): "15 minutes",
        timedelta(hours=1): "1 hour",
        timedelta(hours=2, minutes=1): "2 hours and 1 minute",
        timedelta(days=1): "1 day",
        timedelta(days=2, hours=3, minutes=4): "2 days, 3 hours and 4 minutes",
    }
    for duration, words in cases.items():
        assert human_duration(duration) == words, duration


# One address, many usernames ---------------------------------------------------------------------


@override_settings(AXES_FAILURE_LIMIT=3, AXES_IP_FAILURE_LIMIT=5)
def test_spraying_one_password_over_many_usernames_locks_the_address_out(client, staff):
    for number in range(4):
        assert failures(client, f"user{number}", 1).status_code == 200  # each under its own limit
    response = failures(client, "user4", 1)
    assert response.status_code == 429
    page = page_of(response)
    assert "Logins from your network address are locked: 5 logins failed from it within 15 minutes" in page
    assert '<strong class="lockout-wait">15 minutes</strong>' in page
    # Every username from that address, even with the right password; other addresses go on.
    assert attempt(client, "clerk", PASSWORD).status_code == 429
    other = client.post(LOGIN, {"username": "clerk", "password": PASSWORD}, REMOTE_ADDR="10.9.8.6")
    assert other.status_code == 302


@override_settings(AXES_FAILURE_LIMIT=3, AXES_IP_FAILURE_LIMIT=5)
def test_the_per_user_limit_still_comes_first(client, staff):
    UserFactory(username="other")
    assert failures(client, "clerk", 3).status_code == 429  # 3 < 5: the username, not the address
    assert attempt(client, "other", PASSWORD).status_code == 302


@override_settings(AXES_FAILURE_LIMIT=3, AXES_IP_FAILURE_LIMIT=5)
def test_a_good_login_clears_only_its_own_failures_not_the_address_count(client, staff):
    from axes.models import AccessAttempt

    for number in range(3):
        failures(client, f"user{number}", 1)
    failures(client, "clerk", 1)
    assert attempt(client, "clerk", PASSWORD).status_code == 302  # clerk's one failure is cleared
    client.logout()
    assert sorted(AccessAttempt.objects.values_list("username", flat=True)) == ["user0", "user1", "user2"]
    assert failures(client, "user3", 1).status_code == 200  # 4 of 5
    assert failures(client, "user4", 1).status_code == 429  # an attacker's own good login reset nothing


@override_settings(AXES_FAILURE_LIMIT=3, AXES_IP_FAILURE_LIMIT=3)
def test_the_address_lock_lifts_when_its_failures_age_below_the_limit(client, staff):
    from axes.models import AccessAttempt
    from django.utils import timezone

    now = timezone.now()

    def age(username, minutes):
        AccessAttempt.objects.filter(username=username).update(attempt_time=now - timedelta(minutes=minutes))

    for username, minutes in [("a", 14), ("b", 13), ("c", 6), ("d", 5), ("e", 1)]:
        AccessAttempt.objects.create(
            username=username,
            ip_address="10.9.8.7",
            user_agent="<unknown>",
            http_accept="*/*",
            path_info=LOGIN,
            get_data="",
            post_data="",
            failures_since_start=1,
        )
        age(username, minutes)
    # The newest three (1, 5 and 6 minutes old) hold the lock: it ends when the 6-minute one
    # ages past the 15-minute cool-off.
    response = attempt(client, "clerk", PASSWORD)
    assert response.status_code == 429
    assert '<strong class="lockout-wait">9 minutes</strong>' in page_of(response)
    age("c", 16)
    assert '<strong class="lockout-wait">2 minutes</strong>' in page_of(attempt(client, "clerk", PASSWORD))
    age("b", 16)
    assert '<strong class="lockout-wait">1 minute</strong>' in page_of(attempt(client, "clerk", PASSWORD))
    age("a", 16)
    assert attempt(client, "clerk", PASSWORD).status_code == 302  # 2 of 3 left in the window


# The client's address behind a proxy -------------------------------------------------------------


def _locked_addresses():
    from axes.models import AccessAttempt

    return sorted(set(AccessAttempt.objects.values_list("ip_address", flat=True)))


@override_settings(AXES_FAILURE_LIMIT=3, SHOP_PROXY_COUNT=0)
def test_without_a_proxy_the_address_is_remote_addr_and_x_forwarded_for_is_ignored(client, staff):
    for forged in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        failures(client, "clerk", 1, REMOTE_ADDR="198.51.100.20", HTTP_X_FORWARDED_FOR=forged)
    assert _locked_addresses() == ["198.51.100.20"]
    # A new forged header does not get the locked-out client a fresh count.
    response = client.post(
        LOGIN,
        {"username": "clerk", "password": PASSWORD},
        REMOTE_ADDR="198.51.100.20",
        HTTP_X_FORWARDED_FOR="203.0.113.4",
    )
    assert response.status_code == 429


@override_settings(AXES_FAILURE_LIMIT=3, SHOP_PROXY_COUNT=1)
def test_behind_one_proxy_the_x_forwarded_for_client_is_the_one_locked_out(client, staff):
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    failures(client, "clerk", 3, HTTP_X_FORWARDED_FOR="203.0.113.9", **proxy)
    assert _locked_addresses() == ["203.0.113.9"]

    def login_from(header):
        return client.post(
            LOGIN, {"username": "clerk", "password": PASSWORD}, HTTP_X_FORWARDED_FOR=header, **proxy
        )

    # The client cannot pick another address: what it writes itself stands left of what the proxy adds.
    assert login_from("198.51.100.7, 203.0.113.9").status_code == 429
    assert login_from("203.0.113.9").status_code == 429
    # Another client through the same proxy is not locked out (the proxy's address is not counted).
    assert login_from("203.0.113.10").status_code == 302


@override_settings(AXES_FAILURE_LIMIT=3, SHOP_PROXY_COUNT=2)
def test_behind_two_proxies_the_client_is_second_from_the_right(client, staff):
    failures(
        client, "clerk", 3, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.9, 10.0.0.1"
    )
    assert _locked_addresses() == ["203.0.113.9"]


@override_settings(AXES_FAILURE_LIMIT=3, SHOP_PROXY_COUNT=1)
def test_behind_a_proxy_a_request_without_the_header_counts_against_remote_addr(client, staff):
    failures(client, "clerk", 3, REMOTE_ADDR="198.51.100.20")
    assert _locked_addresses() == ["198.51.100.20"]


@override_settings(AXES_FAILURE_LIMIT=3, SHOP_PROXY_COUNT=1)
def test_a_malformed_x_forwarded_for_counts_against_remote_addr_and_never_fails(client, staff):
    for header in ("garbage", "", "999.1.1.1", ",,,", "x" * 5000, "203.0.113.9:443, \x00"):
        response = client.post(
            LOGIN,
            {"username": "clerk", "password": "wrong"},
            REMOTE_ADDR="198.51.100.20",
            HTTP_X_FORWARDED_FOR=header,
        )
        assert response.status_code in (200, 429), header
    assert "198.51.100.20" in _locked_addresses()


@override_settings(AXES_FAILURE_LIMIT=2)
def test_hostile_usernames_are_a_failed_login_not_a_500(client, staff):
    from axes.models import AccessAttempt

    for username in ("x" * 5000, "nul\x00byte", "émile ✓", "' OR 1=1 --", "<b>x</b>"):
        response = client.post(LOGIN, {"username": username, "password": "wrong"}, REMOTE_ADDR="10.9.8.7")
        assert response.status_code == 200, username
    # A username longer than any account's is recorded cut to the column, and still locks out.
    assert AccessAttempt.objects.filter(username="x" * 255).exists()
    response = client.post(LOGIN, {"username": "x" * 5000, "password": "wrong"}, REMOTE_ADDR="10.9.8.7")
    assert response.status_code == 429
