from decimal import Decimal

import pytest

from orders.exceptions import InvalidTransition
from orders.models import Order
from orders.services import order_cancel, order_place
from payments.exceptions import InvalidAmount, PaymentError, PaymentMethodNotOwned, RefundNotAllowed
from payments.models import Payment
from payments.services import payment_capture, payment_refund
from tests.factories import PaymentMethodFactory, PayPalMethodFactory


@pytest.fixture
def order(customer, card, make_product):
    product = make_product(on_hand=10, price=Decimal("40.00"))
    return order_place(customer=customer, lines=[(product, 1)], payment_method=card)


def test_full_capture_marks_order_paid(order):
    payment = payment_capture(order=order, reference="ch_1")
    assert payment.amount == order.total
    assert payment.status == Payment.Status.CAPTURED
    assert order.status == Order.Status.PAID and order.paid_at is not None
    assert payment.method_label.startswith("Visa ••••")


def test_partial_captures_pay_the_order_when_complete(order, customer):
    paypal = PayPalMethodFactory(customer=customer)
    payment_capture(order=order, amount=Decimal("20.00"), method=paypal)
    order.refresh_from_db()
    assert order.status == Order.Status.PLACED
    payment_capture(order=order)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert sum(p.amount for p in order.payments.all()) == order.total


def test_overpayment_is_refused(order):
    with pytest.raises(InvalidAmount):
        payment_capture(order=order, amount=order.total + Decimal("0.01"))
    with pytest.raises(InvalidAmount):
        payment_capture(order=order, amount=Decimal("0"))
    assert not order.payments.exists()


def test_capture_on_paid_order_is_an_invalid_transition(order):
    payment_capture(order=order)
    with pytest.raises(InvalidTransition):
        payment_capture(order=order, amount=Decimal("1.00"))
    assert order.payments.count() == 1


def test_capture_with_another_customers_method_is_refused(order):
    with pytest.raises(PaymentMethodNotOwned):
        payment_capture(order=order, method=PaymentMethodFactory())
    assert not order.payments.exists()


def test_partial_then_full_refund(order):
    payment = payment_capture(order=order)
    payment_refund(payment=payment, amount=Decimal("10.00"), reason="scratch")
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("10.00")
    assert payment.status == Payment.Status.CAPTURED
    payment_refund(payment=payment)
    payment.refresh_from_db()
    assert payment.refunded_amount == payment.amount
    assert payment.status == Payment.Status.REFUNDED
    messages = list(order.events.filter(kind="refunded").values_list("message", flat=True))
    assert "10.00 USD refunded" in messages[0] and "scratch" in messages[0]


def test_refund_never_exceeds_captured(order):
    payment = payment_capture(order=order)
    with pytest.raises(InvalidAmount):
        payment_refund(payment=payment, amount=payment.amount + Decimal("0.01"))
    payment_refund(payment=payment)
    with pytest.raises(RefundNotAllowed):
        payment_refund(payment=payment, amount=Decimal("0.01"))
    payment.refresh_from_db()
    assert payment.refunded_amount == payment.amount


def test_cancel_refunds_only_what_is_left(order):
    payment = payment_capture(order=order)
    payment_refund(payment=payment, amount=Decimal("5.00"))
    order_cancel(order=order)
    payment.refresh_from_db()
    assert payment.refunded_amount == payment.amount
    assert payment.status == Payment.Status.REFUNDED


def test_payment_errors_share_a_base():
    for error in (InvalidAmount, PaymentMethodNotOwned, RefundNotAllowed):
        assert issubclass(error, PaymentError)
