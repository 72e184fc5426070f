"""Recording a payment staff received: by a saved method or an offline way (bank transfer, cash,
cheque, card terminal), in parts that add up; references obey the card-number rules."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from orders.exceptions import InvalidTransition
from orders.models import Order
from orders.services import order_cancel, order_draft_create, order_draft_set_lines, order_place
from payments.exceptions import InvalidAmount, InvalidPaymentDetails, PaymentError
from payments.models import OfflineMethod, Payment
from payments.services import order_amount_paid, payment_capture
from shop.backoffice.integrity import find_violations
from tests.factories import PaymentFactory, PaymentMethodFactory, ProductFactory, UserFactory


@pytest.fixture
def make_received_product(db):
    """A product whose stock arrived through stock_receive, so its ledger adds up."""
    from catalog.services import stock_receive

    def make(on_hand=10, **kwargs):
        product = ProductFactory(stock=0, **kwargs)
        stock_receive(product=product, quantity=on_hand)
        return product

    return make


@pytest.fixture
def order(customer, card, make_received_product):
    product = make_received_product(on_hand=10, price=Decimal("40.00"))
    return order_place(customer=customer, lines=[(product, 1)], payment_method=card)  # 47.50


def test_the_offline_ways():
    assert OfflineMethod.values == ["bank_transfer", "cash", "cheque", "card_terminal"]
    assert Payment.Offline is OfflineMethod


def test_a_bank_transfer_pays_the_order(order):
    user = UserFactory()
    payment = payment_capture(
        order=order, offline_method="bank_transfer", reference="TRF 2026-118", actor=user
    )
    assert payment.offline_method == OfflineMethod.BANK_TRANSFER
    assert payment.method is None  # not the order's saved card
    assert payment.method_label == "Bank transfer" and payment.reference == "TRF 2026-118"
    assert payment.amount == Decimal("47.50") and payment.status == Payment.Status.CAPTURED
    assert order.status == Order.Status.PAID and order.paid_at is not None
    events = list(order.events.values_list("kind", "actor", "message"))
    assert events[-2:] == [
        ("payment_captured", user.pk, "47.50 USD captured (Bank transfer) TRF 2026-118"),
        ("paid", user.pk, ""),
    ]
    assert find_violations() == []


@pytest.mark.parametrize("way", OfflineMethod.values)
def test_part_payments_add_up_until_paid(order, way):
    payment_capture(order=order, offline_method=way, amount=Decimal("20.00"), reference="part 1")
    order.refresh_from_db()
    assert order.status == Order.Status.PLACED
    assert order_amount_paid(order) == Decimal("20.00")
    payment_capture(order=order, offline_method="cash", amount="7.50")
    assert order.status == Order.Status.PLACED
    with pytest.raises(InvalidAmount, match=r"20\.00 USD left to pay"):
        payment_capture(order=order, offline_method="cash", amount=Decimal("20.01"))
    payment_capture(order=order, offline_method=way)  # the rest, by default
    assert order.status == Order.Status.PAID
    assert sorted(order.payments.values_list("amount", flat=True)) == [
        Decimal("7.50"),
        Decimal("20.00"),
        Decimal("20.00"),
    ]
    assert find_violations() == []


@pytest.mark.parametrize(
    "reference",
    ["4111111111111111", "4111 1111 1111 1111", "paid with 4111-1111-1111-1111 at the till"],
)
def test_a_reference_that_looks_like_a_card_number_is_refused(order, reference):
    with pytest.raises(InvalidPaymentDetails, match="card number") as excinfo:
        payment_capture(order=order, offline_method="card_terminal", reference=reference)
    assert "Reference" in str(excinfo.value)
    assert not Payment.objects.exists()
    assert Order.objects.get(pk=order.pk).status == Order.Status.PLACED
    assert list(order.events.values_list("kind", flat=True)) == ["placed"]


def test_a_too_long_reference_is_refused_not_a_database_error(order):
    with pytest.raises(InvalidPaymentDetails, match="Reference"):
        payment_capture(order=order, offline_method="cheque", reference="x" * 101)
    assert not Payment.objects.exists()


@pytest.mark.parametrize("amount", ["abc", "NaN", "Infinity", "1e400", None.__class__, object()])
def test_garbage_amounts_are_refused(order, amount):
    with pytest.raises(InvalidAmount):
        payment_capture(order=order, offline_method="cash", amount=amount)
    assert not Payment.objects.exists()


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-5"), Decimal("0.001")])
def test_nothing_or_less_is_refused(order, amount):
    with pytest.raises(InvalidAmount):
        payment_capture(order=order, offline_method="cash", amount=amount)


def test_one_way_of_paying_only(order, card):
    with pytest.raises(InvalidPaymentDetails, match="not both"):
        payment_capture(order=order, method=card, offline_method="cash")
    with pytest.raises(InvalidPaymentDetails, match="Unknown way of paying"):
        payment_capture(order=order, offline_method="bitcoin")
    assert not Payment.objects.exists()
    assert issubclass(InvalidPaymentDetails, PaymentError)


def test_the_database_refuses_a_payment_by_both_or_by_an_unknown_way(order, card):
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentFactory(order=order, method=card, offline_method="cash")
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentFactory(order=order, method=None, offline_method="barter")
    # Neither (older rows), and each one alone, are fine.
    PaymentFactory(order=order, method=None, method_label="Manual payment", amount=Decimal("1"))
    PaymentFactory(order=order, method=None, offline_method="cash", amount=Decimal("1"))
    PaymentFactory(order=order, method=card, amount=Decimal("1"))


def test_a_saved_method_still_works_and_defaults_to_the_orders(order, card, customer):
    other = PaymentMethodFactory(customer=customer)
    first = payment_capture(order=order, method=other, amount=Decimal("10.00"))
    second = payment_capture(order=order)
    assert (first.method, first.offline_method) == (other, "")
    assert (second.method, second.method_label) == (card, card.label)
    assert order.status == Order.Status.PAID


def test_a_draft_takes_no_payment(customer, make_received_product):
    draft = order_draft_create(customer=customer)
    order_draft_set_lines(order=draft, lines=[(make_received_product(on_hand=1), 1)])
    with pytest.raises(InvalidTransition):
        payment_capture(order=draft, offline_method="cash", amount=Decimal("1.00"))
    assert not Payment.objects.exists()


def test_cancelling_a_part_paid_order_refunds_the_offline_payment(order):
    payment = payment_capture(order=order, offline_method="cash", amount=Decimal("10.00"))
    order_cancel(order=order, reason="Changed their mind")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED and payment.refunded_amount == Decimal("10.00")
    assert "(Cash)" in order.events.get(kind="refunded").message
    assert find_violations() == []
