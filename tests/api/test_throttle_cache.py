"""The throttle's count in Redis, shared by every server process; and failing open without it."""

import logging
import os
import threading
import uuid

import pytest
from django.core.cache import caches
from django.test import override_settings

from shop.api import keys
from tests.api.conftest import Api, assert_problem
from tests.factories import ProductFactory

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# Port 1 on the loopback: nothing listens there, so connecting is refused at once.
UNREACHABLE_URL = "redis://127.0.0.1:1/0"


def redis_cache(url, prefix):
    return {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "api-throttle": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            # Other users of this Redis are left alone: the test's keys are its own, and expire.
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }


def redis_reachable() -> bool:
    import redis

    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return False


@pytest.fixture
def fresh_warning(monkeypatch):
    # The once-a-minute warning: each test starts as if none had been logged yet.
    monkeypatch.setattr(keys, "_last_warning", 0.0)


def in_thread(function):
    """Run `function` in a thread of its own: Django gives each thread its own cache client."""
    outcome = {}

    def target():
        try:
            outcome["value"] = function()
        finally:
            caches.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    return outcome.get("value")


@pytest.mark.skipif(not redis_reachable(), reason=f"no Redis at {REDIS_URL}")
@pytest.mark.django_db(transaction=True)
def test_two_redis_cache_clients_share_one_key_count(client, make_key):
    row, key = make_key()
    with override_settings(
        CACHES=redis_cache(REDIS_URL, f"test-{uuid.uuid4().hex}"),
        API_THROTTLE_CACHE="api-throttle",
        API_THROTTLE_RATE=3,
        API_THROTTLE_WINDOW=60,
    ):
        first = in_thread(lambda: caches["api-throttle"])
        second = in_thread(lambda: caches["api-throttle"])
        assert first is not second and first._cache is not second._cache

        # Two requests counted through one client, as if by one server process...
        in_thread(lambda: (keys.throttle(row), keys.throttle(row)))
        # ...and the third through another client: the count is the same one.
        in_thread(lambda: keys.throttle(row))
        response = Api(client, key).get("/products")
        assert_problem(response, 429, "rate_limited")
        assert 1 <= int(response["Retry-After"]) <= 60
        in_thread(lambda: caches["api-throttle"].delete_many(_throttle_keys(row)))


def _throttle_keys(row):
    import time

    slot = int(time.time() // 60)
    return [f"api-throttle:{row.pk}:{s}" for s in (slot - 1, slot, slot + 1)]


@pytest.mark.django_db
def test_throttle_fails_open_with_a_warning_when_redis_is_unreachable(
    client, make_key, caplog, fresh_warning
):
    _, key = make_key()
    api = Api(client, key)
    with (
        override_settings(
            CACHES=redis_cache(UNREACHABLE_URL, "test"),
            API_THROTTLE_CACHE="api-throttle",
            API_THROTTLE_RATE=1,
        ),
        caplog.at_level(logging.WARNING, logger="shop.api"),
    ):
        responses = [api.get("/products") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    warnings = [r for r in caplog.records if "not throttled" in r.getMessage()]
    # Said once, not once a request; and the key itself is never in the log.
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert "api-throttle" in warnings[0].getMessage()
    assert key not in caplog.text


@pytest.mark.django_db
def test_placing_an_order_goes_through_when_redis_is_unreachable(client, make_key, customer, fresh_warning):
    _, key = make_key()
    product = ProductFactory(stock=5)
    with override_settings(CACHES=redis_cache(UNREACHABLE_URL, "test"), API_THROTTLE_CACHE="api-throttle"):
        response = Api(client, key).post(
            "/orders",
            {"customer_id": customer.pk, "lines": [{"sku": product.sku, "quantity": 1}]},
            headers={"Idempotency-Key": "unthrottled-1"},
        )
    assert response.status_code == 201, response.content
