"""shop.backoffice.integrity on shipments and returns: each rule holds after the services' real
work, and each breach, made below the services, is named."""

from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F

from catalog.models import Stock, StockMovement
from catalog.services import stock_receive
from orders.models import Order, OrderLine, Return, ReturnLine, ShipmentLine
from orders.services import order_deliver, order_place, order_return, order_ship
from payments.services import payment_capture
from shop.backoffice.integrity import find_violations
from tests.factories import AddressFactory, CustomerFactory, PaymentMethodFactory, ProductFactory

pytestmark = pytest.mark.django_db

COUNTERS = "order_line_returned_le_shipped_le_ordered"


@pytest.fixture
def paid_order():
    """A paid order of `quantity` units of one product at 10.00 (10 on hand, ledger complete)."""

    def make(quantity=2):
        customer = CustomerFactory()
        AddressFactory(customer=customer, is_default_shipping=True)
        method = PaymentMethodFactory(customer=customer, is_default=True)
        product = ProductFactory(stock=0, price=Decimal("10.00"))
        stock_receive(product=product, quantity=10)
        order = order_place(customer=customer, lines=[(product, quantity)], payment_method=method)
        payment_capture(order=order)
        return order, order.lines.get(), product

    return make


def shipped(paid_order, quantity=2):
    order, line, product = paid_order(quantity)
    order_ship(order=order, carrier="ups", tracking_number="1Z")
    line.refresh_from_db()
    return order, line, product


def set_status(order, status):
    Order.objects.filter(pk=order.pk).update(status=status)


@contextmanager
def check_lifted(model, name):
    """Let rows break the CHECK constraint `name` (the test's transaction restores it)."""
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA ignore_check_constraints = ON")
        elif connection.vendor == "mysql":
            cursor.execute("SET SESSION check_constraint_checks = 0")
        else:  # PostgreSQL: DDL is transactional, rolled back with the test
            # The deferred foreign-key checks first: a table with pending ones is not altered.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {qn(model._meta.db_table)} DROP CONSTRAINT {qn(name)}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA ignore_check_constraints = OFF")
            elif connection.vendor == "mysql":
                cursor.execute("SET SESSION check_constraint_checks = 1")


def test_partial_shipments_deliveries_and_returns_keep_every_rule(paid_order):
    order, line, _ = paid_order(4)
    order_ship(order=order, carrier="ups", tracking_number="1ZA", lines=[(line, 1)])
    assert find_violations() == []
    order_deliver(order=order)
    order_ship(order=order, carrier="courier", tracking_number="")
    order_deliver(order=order)
    order_return(order=order, lines=[(line, 1)], refund_shipping=True)
    order_return(order=order, lines=[(line, 2)], restock=False, refund=False)
    assert order.status == Order.Status.PARTIALLY_RETURNED
    assert find_violations() == []
    order_return(order=order, lines=[(line, 1)])
    assert order.status == Order.Status.RETURNED
    assert find_violations() == []


def test_a_line_shipping_more_than_was_ordered_is_named(paid_order):
    order, line, _ = shipped(paid_order, 2)
    with check_lifted(OrderLine, COUNTERS):
        OrderLine.objects.filter(pk=line.pk).update(quantity_shipped=3)
        ShipmentLine.objects.filter(order_line=line).update(quantity=3)
        problems = find_violations()
    assert problems == [
        f"order {order.number}, {line.sku}: 2 ordered, 3 shipped, 0 returned "
        "(a line ships at most what was ordered and takes back at most what shipped)"
    ]


def test_a_line_taking_back_more_than_shipped_is_named(paid_order):
    order, line, _ = shipped(paid_order, 2)
    record = order_return(order=order, lines=[(line, 2)], refund=False)
    assert order.status == Order.Status.RETURNED
    with check_lifted(OrderLine, COUNTERS):
        OrderLine.objects.filter(pk=line.pk).update(quantity_returned=3)
        ReturnLine.objects.filter(return_record=record).update(quantity=3)
        problems = find_violations()
    assert problems == [
        f"order {order.number}, {line.sku}: 2 ordered, 2 shipped, 3 returned "
        "(a line ships at most what was ordered and takes back at most what shipped)"
    ]


def test_a_shipped_counter_other_than_its_shipment_lines_is_named(paid_order):
    order, line, _ = shipped(paid_order, 2)
    ShipmentLine.objects.filter(order_line=line).update(quantity=1)
    assert find_violations() == [
        f"order {order.number}, {line.sku}: 2 counted shipped but its shipments hold 1"
    ]


def test_a_returned_counter_other_than_its_return_lines_is_named(paid_order):
    order, line, _ = shipped(paid_order, 3)
    order_return(order=order, lines=[(line, 1)], refund=False)
    ReturnLine.objects.filter(order_line=line).delete()
    assert find_violations() == [
        f"order {order.number}, {line.sku}: 1 counted returned but its returns hold 0"
    ]


def test_allocated_other_than_ordered_less_shipped_is_named(paid_order):
    order, line, product = paid_order(3)
    order_ship(order=order, carrier="ups", tracking_number="1Z", lines=[(line, 1)])
    # As if the shipment had taken its unit off hand but left it allocated.
    Stock.objects.filter(pk=product.pk).update(allocated=F("allocated") + 1)
    StockMovement.objects.create(product=product, kind="allocation", allocated_delta=1)
    assert find_violations() == [f"product {product.pk}: allocated 3 but open orders hold 2"]


def test_a_restock_missing_from_the_ledger_is_named(paid_order):
    order, line, product = shipped(paid_order, 2)
    order_return(order=order, lines=[(line, 1)], refund=False)
    StockMovement.objects.filter(kind="return", order_number=order.number).delete()
    assert find_violations() == [f"product {product.pk}: on hand 9 but the ledger sums to 8"]


@pytest.mark.parametrize("status", ["shipped", "delivered"])
def test_a_shipped_or_delivered_order_with_units_never_shipped_is_named(paid_order, status):
    order, line, _ = shipped(paid_order, 2)
    if status == "delivered":
        order_deliver(order=order)
    OrderLine.objects.filter(pk=line.pk).update(quantity_shipped=1)
    ShipmentLine.objects.filter(order_line=line).update(quantity=1)
    assert find_violations() == [f"order {order.number}: {status}, yet some units were never shipped"]


def test_an_order_not_yet_shipped_with_shipped_units_is_named(paid_order):
    order, line, _ = paid_order(3)
    order_ship(order=order, carrier="ups", tracking_number="1Z", lines=[(line, 1)])
    set_status(order, "paid")
    assert find_violations() == [f"order {order.number}: paid, yet units were shipped"]


def test_a_partially_shipped_order_with_everything_shipped_is_named(paid_order):
    order, _, _ = shipped(paid_order, 2)
    set_status(order, "partially_shipped")
    assert find_violations() == [
        f"order {order.number}: partially shipped, yet either nothing or everything was shipped"
    ]


def test_a_delivered_order_with_a_shipment_in_transit_is_named(paid_order):
    order, _, _ = shipped(paid_order, 2)
    set_status(order, "delivered")
    assert find_violations() == [f"order {order.number}: delivered, yet a shipment is in transit"]


def test_a_returned_order_with_units_not_back_is_named(paid_order):
    order, line, _ = shipped(paid_order, 2)
    order_return(order=order, lines=[(line, 1)], refund=False)
    set_status(order, "returned")
    assert find_violations() == [f"order {order.number}: returned, yet some units did not come back"]


def test_a_partially_returned_order_with_nothing_back_is_named(paid_order):
    order, _, _ = shipped(paid_order, 2)
    set_status(order, "partially_returned")
    assert find_violations() == [
        f"order {order.number}: partially returned, yet either nothing or everything came back"
    ]


def test_returned_units_on_an_order_not_returned_are_named(paid_order):
    order, line, _ = shipped(paid_order, 2)
    order_deliver(order=order)
    order_return(order=order, lines=[(line, 1)], refund=False)
    set_status(order, "delivered")
    assert find_violations() == [f"order {order.number}: delivered, yet units were returned"]


def test_a_return_refunding_more_than_the_payments_were_is_named(paid_order):
    order, line, _ = shipped(paid_order, 2)
    record = order_return(order=order, lines=[(line, 1)])
    assert record.refunded_amount == Decimal("10.00")
    assert find_violations() == []
    Return.objects.filter(pk=record.pk).update(refunded_amount=Decimal("12.00"))
    assert find_violations() == [
        f"order {order.number}: its returns refunded 12.00, more than its payments were refunded (10.00)"
    ]


def test_check_integrity_names_the_broken_rules_and_fails(paid_order, capsys):
    order, _, _ = shipped(paid_order, 2)
    call_command("check_integrity")
    assert "All integrity rules hold." in capsys.readouterr().out
    set_status(order, "delivered")
    with pytest.raises(CommandError, match="1 problem"):
        call_command("check_integrity")
    assert f"order {order.number}: delivered, yet a shipment is in transit" in capsys.readouterr().err
