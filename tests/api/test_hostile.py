"""Whatever a client sends, the answer is a problem or a success, never a 500."""

import pytest

from catalog.models import Stock
from orders.models import Order
from tests.api.conftest import assert_problem
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_cancel_without_a_body(api, customer, client):
    ProductFactory(stock=3, sku="C-1")
    number = api.post(
        "/orders",
        {"customer_id": customer.pk, "lines": [{"sku": "C-1", "quantity": 1}]},
        {"Idempotency-Key": "x"},
    ).json()["number"]
    form = client.post(f"/api/v1/orders/{number}/cancel", {"reason": "x"}, headers=api.headers())
    assert_problem(form, 415, "unsupported_media_type")
    response = client.post(
        f"/api/v1/orders/{number}/cancel", data="", content_type="application/json", headers=api.headers()
    )
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


@pytest.mark.parametrize(
    "path",
    [
        "/products/" + "A" * 5000,
        "/products/%00",
        "/orders/" + "9" * 500,
        "/orders/%F0%9F%92%A5",
        "/customers/-1",
    ],
)
def test_odd_paths_are_problems(api, path):
    response = api.get(path)
    assert response.status_code in (404, 422) and response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    "body",
    [
        "null",
        "[]",
        '"text"',
        "1e400",
        '{"customer_id": 1e400, "lines": []}',
        '{"customer_id": "1", "lines": [{"sku": null, "quantity": 1}]}',
        '{"customer_id": 1, "lines": [{"sku": "A", "quantity": 1.5}]}',
        '{"customer_id": 1, "lines": ' + "[" * 5000 + "]" * 5000 + "}",
    ],
)
def test_odd_order_bodies_are_problems(api, body):
    response = api.post("/orders", body, {"Idempotency-Key": "odd"})
    assert response.status_code in (400, 422), response.content
    assert response["Content-Type"] == "application/problem+json"


def test_nul_characters_in_a_body_are_422_on_every_database(api, customer):
    body = {"first_name": "A\u0000", "last_name": "B", "email": "a@example.com"}
    assert_problem(api.post("/customers", body), 422, "validation_error")
    line = {"customer_id": customer.pk, "lines": [{"sku": "A\u0000", "quantity": 1}]}
    assert_problem(api.post("/orders", line, {"Idempotency-Key": "nul"}), 422, "validation_error")


def test_anonymized_customer_cannot_be_changed(api, customer):
    from orders.services import customer_anonymize

    customer_anonymize(customer=customer)
    assert_problem(api.patch(f"/customers/{customer.pk}", {"first_name": "X"}), 422, "already_anonymized")


@pytest.mark.parametrize("customer_id", [0, -1, 2**63 - 1, 2**63, 10**20, "1e3", None, True])
def test_an_order_for_an_impossible_customer_is_a_problem_and_changes_nothing(api, customer_id):
    """The placement's customer lock (which also reads the default address) is never asked for
    an id the database cannot hold, and an unknown one is refused by name."""
    ProductFactory(stock=3, sku="C-1")
    response = api.post(
        "/orders",
        {"customer_id": customer_id, "lines": [{"sku": "C-1", "quantity": 1}]},
        {"Idempotency-Key": f"impossible-{customer_id}"},
    )
    assert response.status_code == 422, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert not Order.objects.exists() and Stock.objects.get().allocated == 0
