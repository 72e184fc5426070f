"""Bounds on payment amounts (shop.core.validators.MAX_AMOUNT): the refund form names the range
for each hostile value, the services refuse them with InvalidAmount and change nothing, and the
database refuses an amount beyond the limit."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from orders.models import OrderEvent
from payments.exceptions import InvalidAmount
from payments.models import Payment
from payments.services import payment_capture, payment_refund
from shop.core.validators import MAX_AMOUNT
from tests.admin_support import MANAGER, admin_url, log_in, paid_order, place_order
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

HOSTILE = [
    "99999999999999999999",
    "2147483647",
    "3000000000",
    "9223372036854775807",
    "1e9",
    "-1",
    "1e3",
    "12abc",
]
REFUND_RANGE = "The refund must be an amount from 0.01 to 99,999,999.99"


def state():
    return (
        list(Payment.objects.order_by("pk").values_list("pk", "amount", "refunded_amount", "status")),
        OrderEvent.objects.count(),
    )


@pytest.mark.parametrize("typed", HOSTILE)
def test_the_refund_form_refuses_each_value_naming_the_range(client, typed):
    log_in(client, MANAGER)
    payment = paid_order(ProductFactory(stock=5, price=Decimal("40.00"))).payments.get()
    before = state()

    response = client.post(admin_url(Payment, "refund", payment.pk), {"amount": typed, "reason": ""})

    assert response.status_code == 200
    assert any(REFUND_RANGE in error for error in response.context["form"].errors["amount"])
    assert state() == before


def test_the_refund_input_tells_the_browser_its_bounds(client):
    log_in(client, MANAGER)
    payment = paid_order(ProductFactory(stock=5, price=Decimal("40.00"))).payments.get()
    html = str(client.get(admin_url(Payment, "refund", payment.pk)).context["form"]["amount"])
    assert 'type="number"' in html and 'min="0.01"' in html and 'max="' in html


@pytest.mark.parametrize(
    "amount",
    [
        10**20,
        9223372036854775807,
        Decimal("1e30"),
        "1e3",
        "12abc",
        1e9,
        2.5,
        Decimal("NaN"),
        Decimal("-1"),
        -1,
        Decimal("0.001"),
        True,
    ],
)
def test_refund_service_refuses_amounts_beyond_the_limit_or_not_amounts(amount):
    payment = paid_order(ProductFactory(stock=5, price=Decimal("40.00"))).payments.get()
    before = state()
    with pytest.raises(InvalidAmount):
        payment_refund(payment=payment, amount=amount)
    assert state() == before


@pytest.mark.parametrize("amount", [10**20, Decimal("1e30"), "12abc", 1e9, Decimal("NaN"), MAX_AMOUNT + 1])
def test_capture_service_refuses_amounts_beyond_the_limit_or_not_amounts(amount):
    order = place_order(ProductFactory(stock=5, price=Decimal("40.00")))
    before = state()
    with pytest.raises(InvalidAmount):
        payment_capture(order=order, amount=amount)
    assert state() == before


def test_the_database_refuses_a_payment_beyond_the_limit():
    payment = paid_order(ProductFactory(stock=5, price=Decimal("40.00"))).payments.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(amount=MAX_AMOUNT + Decimal("0.01"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(refunded_amount=MAX_AMOUNT + Decimal("0.01"))
    payment.refresh_from_db()
    assert payment.amount == Decimal("47.50")  # 40.00 and 7.50 shipping
