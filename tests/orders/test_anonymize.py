import pytest

from customers.exceptions import AlreadyAnonymized
from orders.exceptions import CustomerHasOpenOrders
from orders.models import Order, OrderStatus
from orders.services import customer_anonymize, order_cancel, order_place, order_ship
from payments.models import Payment
from payments.services import payment_capture
from tests.factories import AddressFactory, CustomerFactory, PayPalMethodFactory, UserFactory


def test_anonymize_removes_personal_data_and_keeps_money_records(customer, make_product):
    paypal = PayPalMethodFactory(customer=customer, paypal_email="jane.private@example.com")
    order = order_place(customer=customer, lines=[(make_product(), 2)], payment_method=paypal)
    payment = payment_capture(order=order)
    order_ship(order=order, carrier="UPS", tracking_number="1ZANON")
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


# Open orders (placed or paid: not yet shipped or cancelled) would ship to "[removed]".


def _unchanged(customer, orders):
    customer.refresh_from_db()
    assert customer.anonymized_at is None and customer.first_name != "Anonymized"
    assert customer.addresses.exists() and customer.payment_methods.exists()
    for order in orders:
        order.refresh_from_db()
        assert order.shipping_name != "[removed]"
        assert not order.events.filter(message__contains="anonymized").exists()


@pytest.mark.parametrize("paid", [False, True], ids=["placed", "paid"])
def test_a_customer_with_an_open_order_is_not_anonymized_and_the_order_is_named(
    customer, card, make_product, paid
):
    order = order_place(customer=customer, lines=[(make_product(), 1)], payment_method=card)
    if paid:
        payment_capture(order=order)
    status = "paid" if paid else "placed"

    with pytest.raises(CustomerHasOpenOrders) as refused:
        customer_anonymize(customer=customer)

    assert str(refused.value) == (
        f"Customer #{customer.pk} has 1 open order not yet shipped or cancelled: {order.number} "
        f"({status}). Ship or cancel it first; nothing was changed."
    )
    assert refused.value.orders == [(order.number, status.capitalize())]
    _unchanged(customer, [order])


@pytest.mark.parametrize("finish", ["ship", "cancel"])
def test_once_the_open_orders_are_shipped_or_cancelled_the_customer_is_anonymized(
    customer, card, make_product, finish
):
    order = order_place(customer=customer, lines=[(make_product(), 1)], payment_method=card)
    payment_capture(order=order)
    with pytest.raises(CustomerHasOpenOrders):
        customer_anonymize(customer=customer)

    if finish == "ship":
        order_ship(order=order, carrier="UPS", tracking_number="1ZDONE")
    else:
        order_cancel(order=order, reason="Customer asked for erasure")
    customer_anonymize(customer=customer)

    customer.refresh_from_db()
    order.refresh_from_db()
    assert customer.anonymized_at is not None
    assert order.shipping_name == "[removed]"
    assert order.status == (OrderStatus.SHIPPED if finish == "ship" else OrderStatus.CANCELLED)


def test_many_open_orders_are_named_up_to_ten_and_counted(customer, make_product):
    product = make_product(on_hand=50)
    orders = [order_place(customer=customer, lines=[(product, 1)]) for _ in range(12)]
    cancelled = order_place(customer=customer, lines=[(product, 1)])
    order_cancel(order=cancelled)

    with pytest.raises(CustomerHasOpenOrders) as refused:
        customer_anonymize(customer=customer)

    message = str(refused.value)
    assert message.startswith(f"Customer #{customer.pk} has 12 open orders not yet shipped or cancelled: ")
    assert all(order.number in message for order in orders[:10])
    assert orders[10].number not in message and cancelled.number not in message
    assert "and 2 more. Ship or cancel them first; nothing was changed." in message
    assert Order.objects.filter(customer=customer, shipping_name="[removed]").count() == 0


def test_another_customers_open_orders_do_not_matter(customer, make_product):
    other = CustomerFactory()
    AddressFactory(customer=other, is_default_shipping=True)
    order_place(customer=other, lines=[(make_product(), 1)])

    customer_anonymize(customer=customer)

    customer.refresh_from_db()
    assert customer.anonymized_at is not None
