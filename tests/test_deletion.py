"""What deleting a customer, an order, a product or a payment method takes with it, and what it keeps."""

import pytest
from django.db.models import ProtectedError

from catalog.models import Product, Stock, StockMovement
from customers.models import Address, Customer
from orders.models import Order, OrderEvent, OrderLine, Shipment
from payments.models import Payment, PaymentMethod
from tests.factories import (
    AddressFactory,
    CustomerFactory,
    OrderEventFactory,
    OrderFactory,
    OrderLineFactory,
    PaymentFactory,
    PaymentMethodFactory,
    PayPalMethodFactory,
    ProductFactory,
    ShipmentFactory,
    StockMovementFactory,
)

pytestmark = pytest.mark.django_db


def customer_with_addresses_and_methods() -> Customer:
    customer = CustomerFactory()
    AddressFactory(customer=customer, is_default_shipping=True, is_default_billing=True)
    AddressFactory(customer=customer)
    PaymentMethodFactory(customer=customer, is_default=True)
    PayPalMethodFactory(customer=customer)
    return customer


def full_order(**fields) -> Order:
    """An order with two lines, a shipment, an event and a payment."""
    order = OrderFactory(status=Order.Status.SHIPPED, **fields)
    OrderLineFactory.create_batch(2, order=order)
    ShipmentFactory(order=order)
    OrderEventFactory(order=order)
    PaymentFactory(order=order)
    return order


class TestDeletingACustomer:
    def test_customer_without_orders_takes_addresses_and_payment_methods_along(self):
        customer = customer_with_addresses_and_methods()
        bystander = customer_with_addresses_and_methods()

        customer.delete()

        assert not Customer.objects.filter(pk=customer.pk).exists()
        assert not Address.objects.filter(customer_id=customer.pk).exists()
        assert not PaymentMethod.objects.filter(customer_id=customer.pk).exists()
        assert bystander.addresses.count() == 2
        assert bystander.payment_methods.count() == 2

    def test_customer_with_orders_is_protected_and_nothing_is_deleted(self):
        customer = customer_with_addresses_and_methods()
        order = full_order(customer=customer)
        methods = set(customer.payment_methods.values_list("pk", flat=True))
        payment = order.payments.get()

        with pytest.raises(ProtectedError):
            customer.delete()

        assert Customer.objects.filter(pk=customer.pk).exists()
        assert customer.addresses.count() == 2
        assert set(customer.payment_methods.values_list("pk", flat=True)) == methods
        assert Order.objects.filter(pk=order.pk).exists()
        assert order.lines.count() == 2
        payment.refresh_from_db()
        assert payment.method_id in methods

    def test_customer_with_orders_is_protected_from_a_queryset_delete(self):
        customer = customer_with_addresses_and_methods()
        OrderFactory(customer=customer)

        with pytest.raises(ProtectedError):
            Customer.objects.filter(pk=customer.pk).delete()

        assert customer.addresses.count() == 2
        assert customer.payment_methods.count() == 2


class TestDeletingAnOrder:
    def test_order_takes_its_lines_shipment_events_and_payments_along(self):
        order = full_order()
        other = full_order()
        product_ids = list(order.lines.values_list("product_id", flat=True))

        order.delete()

        assert not Order.objects.filter(pk=order.pk).exists()
        assert not OrderLine.objects.filter(order_id=order.pk).exists()
        assert not Shipment.objects.filter(order_id=order.pk).exists()
        assert not OrderEvent.objects.filter(order_id=order.pk).exists()
        assert not Payment.objects.filter(order_id=order.pk).exists()
        # The order's customer, products and the other order are untouched.
        assert Customer.objects.filter(pk=order.customer_id).exists()
        assert Product.objects.filter(pk__in=product_ids).count() == 2
        assert other.lines.count() == 2
        assert Shipment.objects.filter(order=other).exists()
        assert other.events.count() == 1
        assert other.payments.count() == 1

    def test_payment_method_used_by_a_deleted_order_is_kept(self):
        order = full_order()
        method = order.payments.get().method

        order.delete()

        assert PaymentMethod.objects.filter(pk=method.pk).exists()


class TestDeletingAProduct:
    def test_product_that_was_ordered_is_protected(self):
        line = OrderLineFactory()
        product = line.product

        with pytest.raises(ProtectedError):
            product.delete()

        assert Product.objects.filter(pk=product.pk).exists()
        assert Stock.objects.filter(product=product).exists()
        assert OrderLine.objects.filter(pk=line.pk).exists()

    def test_product_stays_protected_after_its_order_is_cancelled(self):
        line = OrderLineFactory(order__status=Order.Status.CANCELLED)

        with pytest.raises(ProtectedError):
            Product.objects.filter(pk=line.product_id).delete()

        assert Product.objects.filter(pk=line.product_id).exists()

    def test_product_never_ordered_can_be_deleted_with_its_stock_and_ledger(self):
        product = ProductFactory(stock=10)
        StockMovementFactory(product=product)

        product.delete()

        assert not Product.objects.filter(pk=product.pk).exists()
        assert not Stock.objects.filter(product_id=product.pk).exists()
        assert not StockMovement.objects.filter(product_id=product.pk).exists()


class TestDeletingAPaymentMethod:
    def test_payments_and_orders_keep_how_they_were_paid(self):
        customer = CustomerFactory()
        method = PaymentMethodFactory(customer=customer)
        label = method.label
        order = OrderFactory(customer=customer, payment_method=method, payment_method_label=label)
        payment = PaymentFactory(order=order, method=method, method_label=label)

        method.delete()

        payment.refresh_from_db()
        order.refresh_from_db()
        assert payment.method is None
        assert payment.method_label == label
        assert order.payment_method is None
        assert order.payment_method_label == label
        assert Order.objects.filter(pk=order.pk).exists()
