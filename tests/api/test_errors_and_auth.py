"""Problems (RFC 9457) for every error; API keys, scopes, throttling and the request log."""

import json
import logging

import pytest
from django.core.management import call_command
from django.test import override_settings

from shop.api.keys import api_key_revoke, find_key
from shop.api.models import ApiKey
from tests.api.conftest import Api, assert_problem

pytestmark = pytest.mark.django_db


def test_missing_key_is_401(anonymous):
    assert_problem(anonymous.get("/products"), 401, "unauthenticated")


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer   ", "Token x"])
def test_malformed_authorization_is_401(client, header):
    response = client.get("/api/v1/products", headers={"Authorization": header})
    assert_problem(response, 401, "unauthenticated")


@pytest.mark.parametrize("key", ["nope", "shop_000000000000_x", "shop_" + "a" * 200, "shop_abc_def_ghi"])
def test_unknown_key_is_401(client, make_key, key):
    make_key()
    assert_problem(Api(client, key).get("/products"), 401, "invalid_api_key")


def test_a_key_differing_in_its_secret_is_401(client, make_key):
    _, key = make_key()
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert_problem(Api(client, tampered).get("/products"), 401, "invalid_api_key")


def test_revoked_key_is_401(client, make_key):
    row, key = make_key()
    assert Api(client, key).get("/products").status_code == 200
    api_key_revoke(api_key=row)
    assert_problem(Api(client, key).get("/products"), 401, "invalid_api_key")


def test_key_without_the_scope_is_403(client, make_key):
    _, key = make_key(scopes=["catalog:read"])
    api = Api(client, key)
    assert api.get("/products").status_code == 200
    body = assert_problem(api.post("/customers", {}), 403, "missing_scope")
    assert body["scope"] == "customers:write"
    assert_problem(api.get("/orders/SO-000001"), 403, "missing_scope")


def test_only_the_hash_is_stored_and_last_use_is_recorded(client, make_key):
    row, key = make_key()
    assert key not in json.dumps(list(ApiKey.objects.values()), default=str)
    assert row.last_used_at is None
    Api(client, key).get("/products")
    row.refresh_from_db()
    assert row.last_used_at is not None
    assert find_key(key) == row


def test_api_key_create_command_prints_the_key_once(capsys, db):
    call_command("api_key_create", "web shop", "--scopes", "catalog:read", "orders:write")
    key = capsys.readouterr().out.strip()
    row = ApiKey.objects.get(name="web shop")
    assert row.scopes == ["catalog:read", "orders:write"]
    assert find_key(key) == row and row.key_hash != key


@override_settings(API_THROTTLE_RATE=3, API_THROTTLE_WINDOW=60)
def test_throttling_per_key_answers_429_with_retry_after(client, make_key):
    _, first = make_key("first")
    _, second = make_key("second")
    for _ in range(3):
        assert Api(client, first).get("/products").status_code == 200
    response = Api(client, first).get("/products")
    assert_problem(response, 429, "rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert Api(client, second).get("/products").status_code == 200  # per key


def test_requests_are_logged_with_the_key_name_never_the_key(api, caplog):
    with caplog.at_level(logging.INFO, logger="shop.api"):
        api.get("/products/NOPE")
    records = [r for r in caplog.records if r.name == "shop.api"]
    assert records and records[-1].api_key == "storefront" and records[-1].status == 404
    assert records[-1].code == "product_not_found"
    assert all(api.key not in r.getMessage() and api.key not in str(r.__dict__) for r in records)


def test_json_log_line(api, caplog):
    from shop.core.logging import JsonFormatter

    with caplog.at_level(logging.INFO, logger="shop.api"):
        api.get("/products")
    line = json.loads(JsonFormatter().format([r for r in caplog.records if r.name == "shop.api"][-1]))
    assert line["api_key"] == "storefront" and line["status"] == 200 and line["method"] == "GET"


def test_unknown_path_and_method_are_problems(api):
    assert_problem(api.get("/nothing/here"), 404, "not_found")
    response = api.delete("/products")
    assert_problem(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET"


def test_malformed_json_is_400(api):
    assert_problem(api.post("/customers", "{not json"), 400, "malformed_json")


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"first_name": 3, "last_name": "x", "email": "a@b.c"},
        {"first_name": "a", "last_name": "x", "email": "a@b.c", "unknown": 1},
        {"first_name": "a" * 10_000, "last_name": "x", "email": "a@b.c"},
    ],
)
def test_wrong_types_unknown_fields_and_huge_values_are_422(api, body):
    problem = assert_problem(api.post("/customers", body), 422, "validation_error")
    assert problem["errors"]


def test_huge_numbers_are_422_not_500(api, customer):
    body = {"customer_id": 10**30, "lines": [{"sku": "X", "quantity": 10**30}]}
    assert_problem(api.post("/orders", body, headers={"Idempotency-Key": "k"}), 422, "validation_error")
    assert_problem(api.get(f"/customers/{10**30}"), 404, "customer_not_found")


def test_a_10_mb_body_is_refused_by_size(api):
    body = json.dumps({"first_name": "x" * (10 * 1024 * 1024), "last_name": "y", "email": "a@b.c"})
    assert_problem(api.post("/customers", body), 413, "body_too_large")


def test_an_unexpected_error_is_a_500_problem(api, monkeypatch):
    from shop.api import catalog

    monkeypatch.setattr(catalog, "product_out", lambda product: 1 / 0)
    from tests.factories import ProductFactory

    ProductFactory(stock=1)
    assert_problem(api.get("/products"), 500, "internal_error")
