"""The payments' staff screens: payment methods (one default per customer, a card needs its
expiry, only the masked label shown) and payments refunded from their page, through the service
with the staff member as the actor."""

from decimal import Decimal

import pytest

from orders.models import Order, OrderEvent
from payments.models import Payment, PaymentMethod
from payments.services import payment_refund
from tests.admin_support import MANAGER, admin_url, form_data, log_in, messages_of, page_errors, paid_order
from tests.factories import CustomerFactory, PaymentMethodFactory, ProductFactory

pytestmark = pytest.mark.django_db


# Payment methods


def test_second_default_payment_method_shows_error_and_saves_nothing(admin_client):
    first = PaymentMethodFactory(is_default=True)
    data = form_data(admin_client.get(admin_url(PaymentMethod, "add")))
    data.update(
        customer=str(first.customer.pk),
        kind="paypal",
        paypal_email="pay@example.com",
        is_default="on",
    )

    response = admin_client.post(admin_url(PaymentMethod, "add"), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["is_default"] == [
        "This customer already has a default payment method."
    ]
    assert PaymentMethod.objects.count() == 1


def test_card_without_expiry_shows_the_constraint_message_and_saves_nothing(admin_client):
    customer = CustomerFactory()
    data = form_data(admin_client.get(admin_url(PaymentMethod, "add")))
    data.update(customer=str(customer.pk), kind="card", brand="visa", last4="4242")

    response = admin_client.post(admin_url(PaymentMethod, "add"), data)

    assert response.status_code == 200
    assert "a card needs a brand, the last four digits and an expiry date" in page_errors(response).lower()
    assert not PaymentMethod.objects.exists()


def test_payment_method_list_shows_the_masked_label(admin_client):
    PaymentMethodFactory(last4="4242", gateway_token="tok_secret_value")

    html = admin_client.get(admin_url(PaymentMethod, "changelist")).content.decode()

    assert "Visa •••• 4242" in html
    assert "tok_secret_value" not in html


# Refunds: the amount is typed (nothing filled in), then confirmed on a page of its own.


def _refund(client, payment, **data):
    return client.post(admin_url(Payment, "refund", payment.pk), data)


def test_the_refund_form_asks_for_the_amount_and_says_what_is_left(client):
    log_in(client, MANAGER)
    payment = paid_order(ProductFactory(stock=4, price=Decimal("40.00"))).payments.get()
    payment_refund(payment=payment, amount=Decimal("5.00"))

    page = client.get(admin_url(Payment, "refund", payment.pk))

    amount = page.context["form"]["amount"]
    assert amount.value() in (None, "")
    assert amount.help_text == f"At most {payment.amount - Decimal('5.00'):,.2f} USD is left to refund."
    assert 'name="amount"' in page.content.decode() and 'value="' not in _input(page, "amount")


def _input(page, name: str) -> str:
    html = page.content.decode()
    start = html.index(f'name="{name}"')
    return html[html.rindex("<", 0, start) : html.index(">", start)]


def test_refunding_part_of_a_payment_asks_to_confirm_then_refunds(client):
    manager = log_in(client, MANAGER)
    order = paid_order(ProductFactory(stock=4, price=Decimal("40.00")))
    payment = order.payments.get()

    confirmation = _refund(client, payment, amount="15.00", reason="Scratched lid")

    assert confirmation.status_code == 200
    assert confirmation.context["question"] == (
        f"Refund 15.00 USD of the {payment.amount:,.2f} USD payment for order {order.number} "
        f"({payment.method_label})? This cannot be undone."
    )
    html = confirmation.content.decode()
    assert 'value="Yes, refund"' in html and 'value="Change the amount"' in html
    payment.refresh_from_db()
    assert payment.refunded_amount == 0
    assert not order.events.filter(kind=OrderEvent.Kind.REFUNDED).exists()

    response = _refund(client, payment, amount="15.00", reason="Scratched lid", confirmed="yes")

    assert response.status_code == 302
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("15.00")
    assert payment.status == Payment.Status.CAPTURED
    event = order.events.get(kind=OrderEvent.Kind.REFUNDED)
    assert event.actor == manager
    assert "Scratched lid" in event.message
    assert messages_of(response) == [
        f"Refunded 15.00 USD of order {order.number}'s payment; "
        f"{payment.amount - Decimal('15.00'):,.2f} USD is left to refund."
    ]
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_the_confirmation_carries_what_was_typed_and_can_go_back_to_change_it(client):
    log_in(client, MANAGER)
    payment = paid_order(ProductFactory(stock=4, price=Decimal("40.00"))).payments.get()

    confirmation = _refund(client, payment, amount="12.34", reason="Late")
    back = _refund(client, payment, amount="12.34", reason="Late", confirmed="yes", _edit="Change the amount")

    assert 'type="hidden" name="amount" value="12.34"' in confirmation.content.decode()
    assert 'type="hidden" name="reason" value="Late"' in confirmation.content.decode()
    assert 'type="hidden" name="confirmed" value="yes"' in confirmation.content.decode()
    assert back.status_code == 200
    assert "question" not in back.context
    assert back.context["form"]["amount"].value() == "12.34"
    payment.refresh_from_db()
    assert payment.refunded_amount == 0


def test_refunding_everything_left_says_so_in_the_question(client):
    log_in(client, MANAGER)
    payment = paid_order(ProductFactory(stock=4, price=Decimal("10.00"))).payments.get()

    confirmation = _refund(client, payment, amount=str(payment.amount))
    _refund(client, payment, amount=str(payment.amount), confirmed="yes")

    assert "That is everything left to refund." in confirmation.context["question"]
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == (Payment.Status.REFUNDED, payment.amount)


@pytest.mark.parametrize("confirmed", ["", "yes"])
def test_an_empty_amount_is_a_form_error_and_refunds_nothing(client, confirmed):
    log_in(client, MANAGER)
    payment = paid_order(ProductFactory(stock=4)).payments.get()

    response = _refund(client, payment, amount="", confirmed=confirmed)

    assert response.status_code == 200
    assert response.context["form"].errors["amount"] == ["Enter the amount to refund."]
    assert "question" not in response.context
    payment.refresh_from_db()
    assert payment.refunded_amount == 0


def test_refunding_more_than_is_left_is_a_form_error_before_the_confirmation(client):
    log_in(client, MANAGER)
    payment = paid_order(ProductFactory(stock=4, price=Decimal("10.00"))).payments.get()

    response = _refund(client, payment, amount="500.00", confirmed="yes")

    assert response.status_code == 200
    assert response.context["form"].errors["amount"] == [
        f"Only {payment.amount:,.2f} USD is left to refund, not 500.00 USD."
    ]
    payment.refresh_from_db()
    assert payment.refunded_amount == 0


def test_a_refund_made_meanwhile_is_refused_on_confirmation(client):
    log_in(client, MANAGER)
    payment = paid_order(ProductFactory(stock=4, price=Decimal("10.00"))).payments.get()
    confirmation = _refund(client, payment, amount=str(payment.amount))
    assert confirmation.status_code == 200
    payment_refund(payment=payment, amount=Decimal("1.00"))  # someone else, meanwhile

    response = _refund(client, payment, amount=str(payment.amount), confirmed="yes")

    assert response.status_code == 200
    left = payment.amount - Decimal("1.00")
    assert response.context["form"].errors["amount"] == [
        f"Only {left:,.2f} USD is left to refund, not {payment.amount:,.2f} USD."
    ]
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("1.00")


@pytest.mark.parametrize("typed", ["abc", "-5", "0", "1e9", "99999999999999999999", "12.345", "=1+1"])
def test_malformed_refund_amounts_are_form_errors(client, typed):
    log_in(client, MANAGER)
    payment = paid_order(ProductFactory(stock=4)).payments.get()

    response = _refund(client, payment, amount=typed, confirmed="yes")

    assert response.status_code == 200
    assert response.context["form"].errors["amount"]
    payment.refresh_from_db()
    assert payment.refunded_amount == 0
