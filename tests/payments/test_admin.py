"""The payments' staff screens: payment methods (one default per customer, a card needs its
expiry, only the masked label shown) and payments refunded from their page, through the service
with the staff member as the actor."""

from decimal import Decimal

import pytest

from orders.models import Order, OrderEvent
from payments.models import Payment, PaymentMethod
from tests.admin_support import MANAGER, admin_url, form_data, log_in, messages_of, page_errors, paid_order
from tests.factories import CustomerFactory, PaymentMethodFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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


# Refunds


def test_refunding_part_of_a_payment_from_its_page(client):
    manager = log_in(client, MANAGER)
    order = paid_order(ProductFactory(stock=4, price=Decimal("40.00")))
    payment = order.payments.get()
    url = admin_url(Payment, "refund", payment.pk)

    page = client.get(url)
    response = client.post(url, {"amount": "15.00", "reason": "Scratched lid"})

    assert page.context["form"]["amount"].value() == payment.amount
    assert response.status_code == 302
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("15.00")
    assert payment.status == Payment.Status.CAPTURED
    event = order.events.get(kind=OrderEvent.Kind.REFUNDED)
    assert event.actor == manager
    assert "Scratched lid" in event.message
    assert messages_of(response) == [
        f"Refunded 15.00 USD of order {order.number}'s payment; "
        f"{payment.amount - Decimal('15.00')} USD is left to refund."
    ]
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_refunding_more_than_is_left_shows_the_services_message_and_changes_nothing(client):
    log_in(client, MANAGER)
    order = paid_order(ProductFactory(stock=4, price=Decimal("10.00")))
    payment = order.payments.get()

    response = client.post(admin_url(Payment, "refund", payment.pk), {"amount": "500.00"})

    assert response.status_code == 200
    assert messages_of(response) == [
        f"A refund must be between 0.01 and {payment.amount} USD, not 500.00 USD."
    ]
    payment.refresh_from_db()
    assert payment.refunded_amount == 0


def test_refunding_with_an_empty_amount_refunds_everything_left(client):
    log_in(client, MANAGER)
    order = paid_order(ProductFactory(stock=4))
    payment = order.payments.get()

    client.post(admin_url(Payment, "refund", payment.pk), {"amount": ""})

    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert payment.refunded_amount == payment.amount
