"""Real threads and transactions through the API: idempotent twins, many buyers for few units."""

import json

import pytest
from django.db import close_old_connections
from django.test import Client

from catalog.models import Stock
from orders.models import Order
from shop.api.models import IdempotencyRecord
from shop.backoffice.integrity import find_violations
from tests.factories import AddressFactory, CustomerFactory
from tests.test_concurrency import _product, run_concurrently

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def _post(key, body, idempotency_key):
    close_old_connections()
    return Client().post(
        "/api/v1/orders",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idempotency_key},
    )


def _customer():
    customer = CustomerFactory()
    AddressFactory(customer=customer, is_default_shipping=True)
    return customer


def test_two_identical_idempotent_requests_at_once_place_one_order(make_key):
    _, key = make_key()
    product = _product(10, "TWIN-1")
    body = {"customer_id": _customer().pk, "lines": [{"sku": "TWIN-1", "quantity": 1}]}

    for round_ in range(3):
        ok, errors = run_concurrently(2, lambda i, key_=f"twin-{round_}": _post(key, body, key_))
        assert errors == []
        assert sorted(r.status_code for r in ok) == [201, 201], [r.content for r in ok]
        assert sorted(r.get("Idempotent-Replayed", "") for r in ok) == ["", "true"]
        assert ok[0].json()["number"] == ok[1].json()["number"]
    assert Order.objects.count() == 3
    assert IdempotencyRecord.objects.count() == 3
    assert Stock.objects.get(pk=product.pk).allocated == 3
    assert find_violations() == []


def test_twenty_api_clients_buying_five_units_never_oversell(make_key):
    keys = [make_key(f"client {i}")[1] for i in range(20)]
    product = _product(5, "HOT-API")
    customers = [_customer() for _ in range(20)]

    def buy(i):
        body = {"customer_id": customers[i].pk, "lines": [{"sku": "HOT-API", "quantity": 1}]}
        return _post(keys[i], body, f"buy-{i}")

    ok, errors = run_concurrently(20, buy)
    assert errors == []
    statuses = sorted(r.status_code for r in ok)
    assert statuses == [201] * 5 + [409] * 15, [r.content for r in ok if r.status_code not in (201, 409)]
    assert all(r.json()["code"] == "insufficient_stock" for r in ok if r.status_code == 409)
    assert Order.objects.count() == 5
    stock = Stock.objects.get(pk=product.pk)
    assert (stock.on_hand, stock.allocated) == (5, 5)
    assert find_violations() == []
