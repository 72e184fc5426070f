"""Admin logins: lockout after repeated failures, password validators, demo logins."""

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
