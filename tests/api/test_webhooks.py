"""POST /payments/webhook: signed (HMAC-SHA256 over timestamp + body), fresh, once."""

import json
import time
from decimal import Decimal

import pytest
from django.test import override_settings

from orders.models import Order
from orders.services import order_place
from payments.models import Payment
from shop.api.models import WebhookEvent
from shop.api.webhooks import signature_header
from tests.api.conftest import assert_problem
from tests.factories import ProductFactory

pytestmark = [pytest.mark.django_db]

SECRET = "whsec_test_secret"


@pytest.fixture(autouse=True)
def _secret():
    with override_settings(SHOP_PAYMENT_WEBHOOK_SECRET=SECRET):
        yield


@pytest.fixture
def order(customer, card):
    return order_place(
        customer=customer, lines=[(ProductFactory(stock=5, price="10.00"), 2)], payment_method=card
    )


def event(order, kind="payment.captured", amount="27.50", event_id="evt_1", **data):
    return {
        "id": event_id,
        "type": kind,
        "data": {"order": order.number, "amount": amount, "currency": "USD", "reference": "ch_1", **data},
    }


def send(client, payload, *, secret=SECRET, timestamp=None, header=None):
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signature = header if header is not None else signature_header(secret, raw, timestamp)
    return client.post(
        "/api/v1/payments/webhook",
        data=raw,
        content_type="application/json",
        headers={"Shop-Signature": signature},
    )


def test_capture_then_refund(client, order):
    response = send(client, event(order))
    assert response.status_code == 200 and response.json()["status"] == "processed"
    order.refresh_from_db()
    assert order.status == "paid"
    payment = Payment.objects.get(order=order)
    assert payment.amount == Decimal("27.50") and payment.reference == "ch_1"
    refund = send(client, event(order, "payment.refunded", "5.00", "evt_2", reference="ch_1"))
    assert refund.status_code == 200
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("5.00")


def test_a_replayed_event_id_is_refused(client, order):
    send(client, event(order, amount="10.00"))
    assert_problem(send(client, event(order, amount="10.00")), 409, "webhook_replayed")
    assert Payment.objects.filter(order=order).count() == 1


@pytest.mark.parametrize("age", [301, -301])
def test_a_signature_older_or_newer_than_five_minutes_is_refused(client, order, age):
    assert_problem(send(client, event(order), timestamp=int(time.time()) - age), 401, "stale_signature")
    assert not Payment.objects.exists()


@pytest.mark.parametrize("header", ["", "t=abc,v1=00", "v1=00", "t=123", "garbage"])
def test_a_malformed_signature_header_is_refused(client, order, header):
    assert_problem(send(client, event(order), header=header or ""), 401, "invalid_signature")


def test_a_wrong_secret_or_a_changed_body_is_refused(client, order):
    assert_problem(send(client, event(order), secret="other"), 401, "invalid_signature")
    raw = json.dumps(event(order)).encode()
    header = signature_header(SECRET, raw)
    tampered = raw.replace(b"27.50", b"99.99")
    assert_problem(send(client, tampered, header=header), 401, "invalid_signature")
    assert not Payment.objects.exists() and not WebhookEvent.objects.exists()


def test_without_a_configured_secret_everything_is_refused(client, order):
    with override_settings(SHOP_PAYMENT_WEBHOOK_SECRET=""):
        assert_problem(send(client, event(order)), 401, "webhook_not_configured")


@pytest.mark.parametrize(
    ("payload_changes", "status", "code"),
    [
        ({"data": {"order": "SO-999999", "amount": "1.00", "currency": "USD"}}, 404, "order_not_found"),
        ({"amount": "1000.00"}, 422, "invalid_amount"),
        ({"amount": "0.00"}, 422, "invalid_amount"),
        ({"currency": "EUR"}, 422, "currency_mismatch"),
        ({"reference": "4242 4242 4242 4242"}, 422, "invalid_payment_details"),
        ({"type": "payment.exploded"}, 422, "validation_error"),
    ],
)
def test_unknown_order_or_amount_that_does_not_fit_changes_nothing(
    client, order, payload_changes, status, code
):
    payload = event(order)
    for key, value in payload_changes.items():
        if key in ("id", "type", "data"):
            payload[key] = value
        else:
            payload["data"][key] = value
    assert_problem(send(client, payload), status, code)
    order.refresh_from_db()
    assert order.status == "placed"
    assert not Payment.objects.exists() and not WebhookEvent.objects.exists()


def test_refund_more_than_captured_changes_nothing(client, order):
    send(client, event(order, amount="27.50"))
    assert_problem(send(client, event(order, "payment.refunded", "30.00", "evt_2")), 422, "invalid_amount")
    assert Payment.objects.get(order=order).refunded_amount == 0
    assert WebhookEvent.objects.count() == 1
    assert Order.objects.get(pk=order.pk).status == "paid"


def test_malformed_json_after_a_good_signature_is_422(client, order):
    assert_problem(send(client, b"{nope"), 422, "validation_error")
