import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.exceptions import InsufficientStock, InvalidQuantity, ProductInactive
from catalog.models import StockMovement
from orders.exceptions import (
    AddressNotOwned,
    EmptyOrder,
    InvalidShipment,
    InvalidTransition,
    MissingShippingAddress,
    OrderError,
)
from orders.models import Order, OrderEvent, OrderLine
from orders.services import order_cancel, order_deliver, order_place, order_ship
from payments.exceptions import PaymentMethodNotOwned
from payments.services import payment_capture
from tests.catalog.support import stock_of
from tests.factories import AddressFactory, CustomerFactory, PaymentMethodFactory, UserFactory


def _nothing_written():
    return (
        not Order.objects.exists()
        and not OrderLine.objects.exists()
        and not OrderEvent.objects.exists()
        and not StockMovement.objects.exclude(kind="receipt").exists()
    )


def test_place_allocates_stock_snapshots_address_and_records_history(customer, card, make_product):
    lamp = make_product(on_hand=10, price=Decimal("30.00"))
    mug = make_product(on_hand=4, price=Decimal("12.50"))
    user = UserFactory()
    order = order_place(
        customer=customer, lines=[(lamp, 1), (mug, 2), (lamp, 1)], payment_method=card, actor=user
    )
    assert order.number.startswith("SO-")
    assert order.status == Order.Status.PLACED
    assert list(order.lines.values_list("product_id", "quantity", "line_total")) == [
        (lamp.pk, 2, Decimal("60.00")),
        (mug.pk, 2, Decimal("25.00")),
    ]
    assert order.subtotal == Decimal("85.00")
    assert order.total == order.subtotal + order.shipping_cost
    assert stock_of(lamp).allocated == 2 and stock_of(lamp).on_hand == 10
    assert stock_of(mug).allocated == 2
    address = customer.addresses.get()
    assert order.shipping_line1 == address.line1
    assert order.shipping_name == customer.full_name
    assert order.payment_method_label == card.label
    event = order.events.get()
    assert (event.kind, event.to_status, event.actor) == ("placed", "placed", user)
    ledger = StockMovement.objects.filter(order_number=order.number, kind="allocation")
    assert sorted(ledger.values_list("product_id", "allocated_delta")) == [(lamp.pk, 2), (mug.pk, 2)]


def test_address_edit_never_rewrites_an_old_order(customer, make_product):
    order = order_place(customer=customer, lines=[(make_product(), 1)])
    address = customer.addresses.get()
    address.line1 = "999 New Street"
    address.save()
    order.refresh_from_db()
    assert order.shipping_line1 != "999 New Street"


def test_line_keeps_price_as_charged(customer, make_product):
    product = make_product(price=Decimal("10.00"))
    order = order_place(customer=customer, lines=[(product, 1)])
    product.price = Decimal("99.00")
    product.save()
    assert order.lines.get().unit_price == Decimal("10.00")


def test_insufficient_stock_names_every_short_product_and_changes_nothing(customer, make_product):
    ok = make_product(on_hand=10, name="Plenty")
    short1 = make_product(on_hand=1, name="Scarce Widget", sku="SCARCE-1")
    short2 = make_product(on_hand=0, name="Gone Gadget", sku="GONE-1")
    with pytest.raises(InsufficientStock) as excinfo:
        order_place(customer=customer, lines=[(ok, 2), (short1, 3), (short2, 1)])
    message = str(excinfo.value)
    assert "Scarce Widget (SCARCE-1): requested 3, available 1" in message
    assert "Gone Gadget (GONE-1): requested 1, available 0" in message
    assert "Plenty" not in message
    assert [(p.pk, r, a) for p, r, a in excinfo.value.shortages] == [
        (short1.pk, 3, 1),
        (short2.pk, 1, 0),
    ]
    assert _nothing_written()
    assert stock_of(ok).allocated == 0


def test_merged_lines_are_checked_together(customer, make_product):
    product = make_product(on_hand=3)
    with pytest.raises(InsufficientStock):
        order_place(customer=customer, lines=[(product, 2), (product, 2)])
    assert _nothing_written()


@pytest.mark.parametrize("quantity", [0, -1, 2.5, None])
def test_quantity_below_one_is_refused(customer, make_product, quantity):
    with pytest.raises(InvalidQuantity):
        order_place(customer=customer, lines=[(make_product(), quantity)])
    assert _nothing_written()


def test_empty_order_is_refused(customer):
    with pytest.raises(EmptyOrder):
        order_place(customer=customer, lines=[])


def test_inactive_product_is_refused(customer, make_product):
    product = make_product(is_active=False)
    with pytest.raises(ProductInactive):
        order_place(customer=customer, lines=[(product, 1)])
    assert _nothing_written()


def test_address_of_another_customer_is_refused(customer, make_product):
    other = AddressFactory(customer=CustomerFactory())
    with pytest.raises(AddressNotOwned):
        order_place(customer=customer, lines=[(make_product(), 1)], shipping_address=other)
    assert _nothing_written()


def test_payment_method_of_another_customer_is_refused(customer, make_product):
    other = PaymentMethodFactory()
    with pytest.raises(PaymentMethodNotOwned):
        order_place(customer=customer, lines=[(make_product(), 1)], payment_method=other)
    assert _nothing_written()


def test_customer_without_address_needs_one(make_product):
    with pytest.raises(MissingShippingAddress):
        order_place(customer=CustomerFactory(), lines=[(make_product(), 1)])
    assert _nothing_written()


def test_an_anonymized_customer_without_address_is_refused_as_anonymized(make_product):
    """The lock that reads the default address refuses the anonymized customer first."""
    gone = CustomerFactory(anonymized_at=timezone.now())
    with pytest.raises(OrderError, match="was anonymized"):
        order_place(customer=gone, lines=[(make_product(), 1)])
    assert _nothing_written()


def _statement_kinds(queries) -> list[str]:
    """Each statement as its verb and table: `SELECT customers_customer`, `INSERT orders_order`."""
    kinds = []
    for query in queries:
        sql = query["sql"].replace('"', "").replace("`", "")
        verb = sql.split()[0].upper()
        table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", sql, re.IGNORECASE).group(1)
        kinds.append(f"{verb} {table}")
    return kinds


@pytest.mark.parametrize("chosen_address", [False, True])
def test_a_placement_sends_these_statements(customer, make_product, chosen_address):
    """Every placement's statements, in order: the customer locked (with their default address,
    unless one is chosen), the products, the order, its number, its lines, its event, then the
    stock locked, updated and its ledger rows. One more is one more on every order."""
    first, second = make_product(on_hand=10), make_product(on_hand=10)
    address = customer.addresses.get(is_default_shipping=True) if chosen_address else None
    order_place(customer=customer, lines=[(first, 1)])  # per-process caches
    with CaptureQueriesContext(connection) as queries:
        order_place(customer=customer, lines=[(first, 1), (second, 2)], shipping_address=address)
    transaction_control = [
        q for q in queries.captured_queries if q["sql"].split()[0].upper() in ("SAVEPOINT", "RELEASE")
    ]
    statements = [q for q in queries.captured_queries if q not in transaction_control]
    assert _statement_kinds(statements) == [
        "SELECT customers_customer",
        "SELECT catalog_product",
        "INSERT orders_order",
        "UPDATE orders_order",
        "INSERT orders_orderline",
        "INSERT orders_orderevent",
        "SELECT catalog_stock",
        "UPDATE catalog_stock",
        "INSERT catalog_stockmovement",
    ]
    assert ("customers_address" in statements[0]["sql"]) is not chosen_address


def test_order_numbers_are_unique_and_increasing(customer, make_product):
    product = make_product(on_hand=10)
    numbers = [order_place(customer=customer, lines=[(product, 1)]).number for _ in range(3)]
    assert len(set(numbers)) == 3
    assert numbers == sorted(numbers)


def test_ship_consumes_allocation_and_records_shipment(customer, card, make_product):
    product = make_product(on_hand=5)
    order = order_place(customer=customer, lines=[(product, 2)], payment_method=card)
    payment_capture(order=order)
    shipment = order_ship(order=order, carrier="UPS", tracking_number="1Z999")
    assert order.status == Order.Status.SHIPPED
    assert (shipment.carrier.code, shipment.carrier.name, shipment.tracking_number, shipment.status) == (
        "ups",
        "UPS",
        "1Z999",
        "in_transit",
    )
    assert list(order.shipments.all()) == [shipment]
    line = order.lines.get()
    assert list(shipment.lines.values_list("order_line_id", "quantity")) == [(line.pk, 2)]
    assert (line.quantity_shipped, line.quantity_to_ship) == (2, 0)
    stock = stock_of(product)
    assert (stock.on_hand, stock.allocated) == (3, 0)
    sale = StockMovement.objects.get(kind="sale")
    assert (sale.on_hand_delta, sale.allocated_delta, sale.order_number) == (-2, -2, order.number)


def test_ship_needs_carrier_and_tracking(customer, card, make_product):
    order = order_place(customer=customer, lines=[(make_product(), 1)], payment_method=card)
    payment_capture(order=order)
    with pytest.raises(InvalidShipment):
        order_ship(order=order, carrier="UPS", tracking_number="  ")
    with pytest.raises(InvalidShipment):
        order_ship(order=order, carrier="  ", tracking_number="1Z999")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert not order.shipments.exists()
    assert not StockMovement.objects.filter(kind="sale").exists()


def test_unpaid_order_cannot_ship_and_nothing_changes(customer, make_product):
    product = make_product(on_hand=5)
    order = order_place(customer=customer, lines=[(product, 1)])
    with pytest.raises(InvalidTransition) as excinfo:
        order_ship(order=order, carrier="UPS", tracking_number="1Z")
    assert excinfo.value.current == "placed" and excinfo.value.requested == "shipped"
    assert "placed" in str(excinfo.value) and "shipped" in str(excinfo.value)
    assert stock_of(product).on_hand == 5
    assert not order.shipments.exists()


def test_deliver_marks_shipment_delivered(customer, card, make_product):
    order = order_place(customer=customer, lines=[(make_product(), 1)], payment_method=card)
    payment_capture(order=order)
    order_ship(order=order, carrier="USPS", tracking_number="9400")
    order_deliver(order=order)
    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED
    shipment = order.shipments.get()
    assert shipment.carrier.code == "usps"
    assert shipment.status == "delivered"
    assert shipment.delivered_at >= shipment.shipped_at
    kinds = list(order.events.values_list("kind", flat=True))
    assert kinds == ["placed", "payment_captured", "paid", "shipped", "delivered"]


def test_cancel_releases_allocated_stock(customer, make_product):
    product = make_product(on_hand=5)
    order = order_place(customer=customer, lines=[(product, 3)])
    order_cancel(order=order, reason="customer request")
    assert order.status == Order.Status.CANCELLED
    assert stock_of(product).allocated == 0
    release = StockMovement.objects.get(kind="release")
    assert (release.allocated_delta, release.order_number) == (-3, order.number)
    assert order.events.last().message == "customer request"


def test_cancel_paid_order_refunds_captured_payments(customer, card, make_product):
    product = make_product(on_hand=5)
    order = order_place(customer=customer, lines=[(product, 2)], payment_method=card)
    payment = payment_capture(order=order)
    order_cancel(order=order)
    payment.refresh_from_db()
    assert payment.status == "refunded"
    assert payment.refunded_amount == payment.amount
    assert stock_of(product).allocated == 0
    assert list(order.events.values_list("kind", flat=True))[-2:] == ["cancelled", "refunded"]


@pytest.mark.parametrize("final", ["shipped", "delivered", "cancelled"])
def test_closed_orders_cannot_be_cancelled(customer, card, make_product, final):
    product = make_product(on_hand=5)
    order = order_place(customer=customer, lines=[(product, 1)], payment_method=card)
    if final == "cancelled":
        order_cancel(order=order)
    else:
        payment_capture(order=order)
        order_ship(order=order, carrier="UPS", tracking_number="1Z")
        if final == "delivered":
            order_deliver(order=order)
    before = (stock_of(product).on_hand, stock_of(product).allocated, order.events.count())
    with pytest.raises(InvalidTransition):
        order_cancel(order=order)
    after = (stock_of(product).on_hand, stock_of(product).allocated, order.events.count())
    assert before == after


def test_stale_instance_cannot_ship_twice(customer, card, make_product):
    product = make_product(on_hand=5)
    order = order_place(customer=customer, lines=[(product, 1)], payment_method=card)
    payment_capture(order=order)
    stale = Order.objects.get(pk=order.pk)
    order_ship(order=order, carrier="UPS", tracking_number="A")
    with pytest.raises(InvalidTransition):
        order_ship(order=stale, carrier="UPS", tracking_number="B")
    assert order.shipments.get().tracking_number == "A"
    assert stock_of(product).on_hand == 4
