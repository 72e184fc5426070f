import pytest

from customers.exceptions import AlreadyAnonymized
from orders.services import customer_anonymize, order_place
from payments.models import Payment
from payments.services import payment_capture
from tests.factories import PayPalMethodFactory, UserFactory


def test_anonymize_removes_personal_data_and_keeps_money_records(customer, make_product):
    paypal = PayPalMethodFactory(customer=customer, paypal_email="jane.private@example.com")
    order = order_place(customer=customer, lines=[(make_product(), 2)], payment_method=paypal)
    payment = payment_capture(order=order)
    user = UserFactory()

    customer_anonymize(customer=customer, actor=user)

    customer.refresh_from_db()
    assert customer.first_name == "Anonymized"
    assert "example.com" not in customer.email
    assert not customer.phone
    assert customer.anonymized_at is not None
    assert not customer.addresses.exists()
    assert not customer.payment_methods.exists()
    order.refresh_from_db()
    assert order.total > 0 and order.lines.count() == 1
    assert order.shipping_name == "[removed]" and order.shipping_line1 == "[removed]"
    assert order.shipping_phone == "" and order.shipping_postal_code == ""
    assert "jane.private" not in order.payment_method_label
    payment = Payment.objects.get(pk=payment.pk)
    assert payment.amount == order.total
    assert "jane.private" not in payment.method_label
    assert not order.events.filter(message__contains="jane.private").exists()
    note = order.events.last()
    assert note.actor == user and "anonymized" in note.message


def test_anonymizing_twice_is_refused(customer):
    customer_anonymize(customer=customer)
    with pytest.raises(AlreadyAnonymized):
        customer_anonymize(customer=customer)
