"""Fulfilment and returns through the services: partial and whole shipments, deliveries, carriers,
returns with and without restock and refund, and what cancelling and deleting do meanwhile."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Stock, StockMovement
from orders.exceptions import (
    CustomerHasOpenOrders,
    InvalidReturn,
    InvalidShipment,
    InvalidTransition,
    OrderNotEditable,
    PartiallyShippedNotCancelled,
)
from orders.models import Carrier, Order, OrderEvent, OrderLine, Return, ReturnLine, Shipment, ShipmentLine
from orders.services import (
    customer_anonymize,
    order_cancel,
    order_deliver,
    order_edit,
    order_place,
    order_return,
    order_ship,
    orders_delete,
    resolve_carrier,
)
from payments.models import Payment
from payments.services import payment_capture, payment_refund
from shop.backoffice.integrity import find_violations
from tests.catalog.support import stock_of
from tests.factories import CarrierFactory, OrderLineFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_order(customer, card, make_received_product):
    """order, [its lines], [their products]: placed for `quantities` of products at 10.00 each
    (on hand 10), with 7.50 shipping, captured in full (or in the `payments` given, oldest first)."""

    def make(*quantities, payments=None, on_hand=10):
        products = [make_received_product(on_hand=on_hand, price=Decimal("10.00")) for _ in quantities]
        order = order_place(
            customer=customer, lines=list(zip(products, quantities, strict=True)), payment_method=card
        )
        for amount in payments or [None]:
            payment_capture(order=order, amount=amount)
        order.refresh_from_db()
        assert order.status == Order.Status.PAID
        lines = [order.lines.get(product=product) for product in products]
        return order, lines, products

    return make


def shipped_order(paid_order, *quantities, **kwargs):
    order, lines, products = paid_order(*quantities, **kwargs)
    order_ship(order=order, carrier="ups", tracking_number="1ZALL")
    for line in lines:
        line.refresh_from_db()
    return order, lines, products


def snapshot():
    """Every row a refused shipment, delivery or return must leave as it was."""
    return (
        list(Stock.objects.order_by("pk").values_list("pk", "on_hand", "allocated")),
        StockMovement.objects.count(),
        list(Order.objects.order_by("pk").values_list("pk", "status", "updated_at")),
        list(OrderLine.objects.order_by("pk").values_list("pk", "quantity_shipped", "quantity_returned")),
        list(Shipment.objects.order_by("pk").values_list("pk", "status", "delivered_at")),
        ShipmentLine.objects.count(),
        Return.objects.count(),
        ReturnLine.objects.count(),
        OrderEvent.objects.count(),
        list(Payment.objects.order_by("pk").values_list("pk", "status", "refunded_amount")),
    )


def counters(*lines):
    return [
        OrderLine.objects.values_list("quantity_shipped", "quantity_returned").get(pk=x.pk) for x in lines
    ]


def on_hand_allocated(product):
    stock = stock_of(product)
    return stock.on_hand, stock.allocated


# Shipping


def test_ship_without_lines_ships_every_unit_in_one_shipment(paid_order):
    order, (lamp, mug), (p_lamp, p_mug) = paid_order(2, 3)
    user = UserFactory()
    shipment = order_ship(order=order, carrier="UPS", tracking_number="1Z999", actor=user)
    assert order.status == Order.Status.SHIPPED
    assert (shipment.carrier.code, shipment.tracking_number, shipment.status) == (
        "ups",
        "1Z999",
        "in_transit",
    )
    assert sorted(shipment.lines.values_list("order_line_id", "quantity")) == [(lamp.pk, 2), (mug.pk, 3)]
    assert counters(lamp, mug) == [(2, 0), (3, 0)]
    assert on_hand_allocated(p_lamp) == (8, 0) and on_hand_allocated(p_mug) == (7, 0)
    sales = StockMovement.objects.filter(kind="sale", order_number=order.number)
    assert sorted(sales.values_list("product_id", "on_hand_delta", "allocated_delta")) == [
        (p_lamp.pk, -2, -2),
        (p_mug.pk, -3, -3),
    ]
    event = order.events.get(kind="shipped")
    assert (event.from_status, event.to_status, event.actor) == ("paid", "shipped", user)
    assert "UPS 1Z999" in event.message and f"2 × {lamp.sku}" in event.message
    assert find_violations() == []


def test_shipping_part_then_the_rest_consumes_each_shipments_units_exactly(paid_order):
    order, (lamp, mug), (p_lamp, p_mug) = paid_order(4, 2)

    first = order_ship(order=order, carrier="ups", tracking_number="1ZA", lines=[(lamp, 1)])
    assert order.status == Order.Status.PARTIALLY_SHIPPED
    assert list(first.lines.values_list("order_line_id", "quantity")) == [(lamp.pk, 1)]
    assert counters(lamp, mug) == [(1, 0), (0, 0)]
    # The shipped unit left; the rest stays allocated to the order.
    assert on_hand_allocated(p_lamp) == (9, 3) and on_hand_allocated(p_mug) == (10, 2)
    assert find_violations() == []

    second = order_ship(order=order, carrier="ups", tracking_number="1ZB", lines=[(lamp, 2), (mug.pk, 2)])
    assert order.status == Order.Status.PARTIALLY_SHIPPED
    assert on_hand_allocated(p_lamp) == (7, 1) and on_hand_allocated(p_mug) == (8, 0)

    last = order_ship(order=order, carrier="ups", tracking_number="1ZC")
    assert order.status == Order.Status.SHIPPED
    assert list(last.lines.values_list("order_line_id", "quantity")) == [(lamp.pk, 1)]
    assert on_hand_allocated(p_lamp) == (6, 0) and on_hand_allocated(p_mug) == (8, 0)
    assert counters(lamp, mug) == [(4, 0), (2, 0)]
    assert list(order.shipments.order_by("pk")) == [first, second, last]
    sales = StockMovement.objects.filter(kind="sale", order_number=order.number).order_by("pk")
    assert list(sales.values_list("product_id", "on_hand_delta", "allocated_delta")) == [
        (p_lamp.pk, -1, -1),
        (p_lamp.pk, -2, -2),
        (p_mug.pk, -2, -2),
        (p_lamp.pk, -1, -1),
    ]
    statuses = list(order.events.filter(kind="shipped").values_list("from_status", "to_status"))
    assert statuses == [("paid", "partially_shipped"), ("", ""), ("partially_shipped", "shipped")]
    assert find_violations() == []


def test_the_same_line_twice_in_one_shipment_is_added_up(paid_order):
    order, (lamp,), (product,) = paid_order(3)
    shipment = order_ship(order=order, carrier="ups", tracking_number="1Z", lines=[(lamp, 1), (lamp, 1)])
    assert list(shipment.lines.values_list("quantity", flat=True)) == [2]
    assert on_hand_allocated(product) == (8, 1)


@pytest.mark.parametrize(
    "lines, message",
    [
        (lambda lamp, mug, other: [(lamp, 4)], "3 left to ship"),
        (lambda lamp, mug, other: [(mug, 1), (lamp, 2), (lamp, 2)], "4 asked, 3 left to ship"),
        (lambda lamp, mug, other: [(lamp, 1), (other, 1)], "not on order"),
        (lambda lamp, mug, other: [(lamp, 0)], "at least one unit"),
        (lambda lamp, mug, other: [], "at least one unit"),
        (lambda lamp, mug, other: [(lamp, -1)], "whole numbers"),
        (lambda lamp, mug, other: [(lamp, 1.5)], "whole numbers"),
        (lambda lamp, mug, other: [(lamp, True)], "whole numbers"),
    ],
)
def test_shipping_more_than_remains_or_no_units_is_refused_and_changes_nothing(paid_order, lines, message):
    order, (lamp, mug), _ = paid_order(4, 2)
    order_ship(order=order, carrier="ups", tracking_number="1ZA", lines=[(lamp, 1)])
    other = OrderLineFactory()
    before = snapshot()
    with pytest.raises(InvalidShipment) as excinfo:
        order_ship(order=order, carrier="ups", tracking_number="1ZB", lines=lines(lamp, mug, other))
    assert message in str(excinfo.value) and "nothing was shipped" in str(excinfo.value)
    assert snapshot() == before


def test_a_wholly_shipped_order_ships_nothing_more(paid_order):
    order, (lamp,), _ = shipped_order(paid_order, 2)
    before = snapshot()
    for lines in (None, [(lamp, 1)]):
        with pytest.raises(InvalidTransition):
            order_ship(order=order, carrier="ups", tracking_number="1ZX", lines=lines)
    assert snapshot() == before


def test_an_unpaid_order_is_not_shipped(customer, make_received_product):
    order = order_place(customer=customer, lines=[(make_received_product(), 1)])
    before = snapshot()
    with pytest.raises(InvalidTransition):
        order_ship(order=order, carrier="ups", tracking_number="1Z", lines=[(order.lines.get(), 1)])
    assert snapshot() == before


def test_an_untracked_carrier_ships_without_a_tracking_number_a_tracked_one_needs_one(paid_order):
    order, (lamp,), _ = paid_order(2)
    before = snapshot()
    with pytest.raises(InvalidShipment, match="UPS shipments need a tracking number"):
        order_ship(order=order, carrier="ups", tracking_number="  ", lines=[(lamp, 1)])
    assert snapshot() == before

    courier = Carrier.objects.get(code="courier")
    assert not courier.tracked
    shipment = order_ship(order=order, carrier=courier, tracking_number="", lines=[(lamp, 1)])
    assert (shipment.carrier, shipment.tracking_number, shipment.tracking_link) == (courier, "", "")
    assert "Local courier: 1 ×" in order.events.filter(kind="shipped").get().message


@pytest.mark.parametrize("given", ["ups", "UPS", "Ups", " ups "])
def test_a_carrier_is_found_by_code_or_name_in_any_case(given):
    assert resolve_carrier(given).code == "ups"


def test_a_carrier_by_name_links_its_tracking_numbers(paid_order):
    order, _, _ = paid_order(1)
    shipment = order_ship(order=order, carrier="Royal Mail", tracking_number="AB 12/3")
    assert shipment.carrier.code == "royal-mail"
    assert shipment.tracking_link.endswith("/tracking-results/AB%2012%2F3")


@pytest.mark.parametrize("given", ["", "  ", "Pony Express", None])
def test_an_unknown_carrier_is_refused_naming_the_carriers(paid_order, given):
    order, _, _ = paid_order(1)
    before = snapshot()
    with pytest.raises(InvalidShipment) as excinfo:
        order_ship(order=order, carrier=given, tracking_number="1Z")
    assert snapshot() == before
    if given and given.strip():
        assert "UPS" in str(excinfo.value) and "Local courier" in str(excinfo.value)


def test_an_inactive_carrier_is_not_offered_by_name():
    Carrier.objects.filter(code="dhl").update(active=False)
    with pytest.raises(InvalidShipment) as excinfo:
        resolve_carrier("DHL")
    assert "DHL" not in str(excinfo.value).split("carriers are:")[1]


def test_a_code_match_wins_over_another_carriers_name():
    CarrierFactory(code="parcel", name="Parcelforce")
    CarrierFactory(code="pf", name="parcel")
    assert resolve_carrier("parcel").code == "parcel"
    assert resolve_carrier("Parcelforce").code == "parcel"


# Delivering


def _shipped_in_two(paid_order):
    order, (lamp, mug), _products = paid_order(1, 1)
    first = order_ship(order=order, carrier="ups", tracking_number="1ZA", lines=[(lamp, 1)])
    second = order_ship(order=order, carrier="usps", tracking_number="9400", lines=[(mug, 1)])
    return order, first, second


def test_an_order_is_delivered_only_when_every_shipment_is(paid_order):
    order, first, second = _shipped_in_two(paid_order)
    assert order.status == Order.Status.SHIPPED

    order_deliver(order=order, shipment=first)
    assert order.status == Order.Status.SHIPPED
    assert first.status == Shipment.Status.DELIVERED  # the caller's instance too
    second.refresh_from_db()
    assert (second.status, second.delivered_at) == (Shipment.Status.IN_TRANSIT, None)
    assert order.events.filter(kind="delivered", to_status="").count() == 1

    order_deliver(order=order, shipment=second)
    assert order.status == Order.Status.DELIVERED
    event = order.events.filter(kind="delivered").last()
    assert (event.from_status, event.to_status) == ("shipped", "delivered")
    assert find_violations() == []


def test_deliver_without_a_shipment_delivers_all_in_transit(paid_order):
    order, _first, _second = _shipped_in_two(paid_order)
    order_deliver(order=order)
    assert order.status == Order.Status.DELIVERED
    assert set(order.shipments.values_list("status", flat=True)) == {"delivered"}
    assert "UPS 1ZA, USPS 9400 delivered" in order.events.filter(kind="delivered").get().message


def test_deliveries_while_partially_shipped_keep_it_partially_shipped_until_the_rest_arrives(paid_order):
    order, (lamp, _mug), _ = paid_order(1, 1)
    order_ship(order=order, carrier="ups", tracking_number="1ZA", lines=[(lamp, 1)])
    order_deliver(order=order)
    assert order.status == Order.Status.PARTIALLY_SHIPPED
    last = order_ship(order=order, carrier="ups", tracking_number="1ZB")
    assert order.status == Order.Status.SHIPPED
    order_deliver(order=order, shipment=last)
    assert order.status == Order.Status.DELIVERED


def test_a_delivery_date_in_the_past_is_recorded(paid_order):
    order, first, second = _shipped_in_two(paid_order)
    three_days_ago = timezone.now() - datetime.timedelta(days=3)
    Shipment.objects.filter(order=order).update(shipped_at=three_days_ago)
    yesterday = timezone.now() - datetime.timedelta(days=1)

    order_deliver(order=order, shipment=first, delivered_at=yesterday)
    first.refresh_from_db()
    assert first.delivered_at == yesterday

    # A naive moment is taken in the shop's time zone; a date as that day.
    naive = timezone.make_naive(three_days_ago + datetime.timedelta(hours=1))
    order_deliver(order=order, shipment=second, delivered_at=naive)
    second.refresh_from_db()
    assert second.delivered_at == timezone.make_aware(naive)
    assert order.status == Order.Status.DELIVERED


def test_a_delivery_date_is_a_day_from_when_it_shipped_up_to_today(paid_order):
    order, first, second = _shipped_in_two(paid_order)
    today = timezone.localdate()
    order_deliver(order=order, shipment=first, delivered_at=today)
    first.refresh_from_db()
    assert first.shipped_at <= first.delivered_at <= timezone.now()
    assert timezone.localdate(first.delivered_at) == today

    Shipment.objects.filter(pk=second.pk).update(shipped_at=timezone.now() - datetime.timedelta(days=5))
    day = today - datetime.timedelta(days=2)
    order_deliver(order=order, shipment=second, delivered_at=day)
    second.refresh_from_db()
    assert timezone.localtime(second.delivered_at) == timezone.make_aware(
        datetime.datetime.combine(day, datetime.time(12))
    )


@pytest.mark.parametrize(
    "delivered_at, message",
    [
        (lambda: timezone.now() + datetime.timedelta(minutes=5), "cannot be in the future"),
        (lambda: timezone.localdate() + datetime.timedelta(days=1), "cannot be in the future"),
        (lambda: timezone.now() - datetime.timedelta(days=1), "before the shipment left"),
        (lambda: timezone.localdate() - datetime.timedelta(days=1), "before the shipment left"),
    ],
)
def test_a_delivery_in_the_future_or_before_shipping_is_refused(paid_order, delivered_at, message):
    order, first, _ = _shipped_in_two(paid_order)
    before = snapshot()
    with pytest.raises(InvalidShipment, match=message):
        order_deliver(order=order, shipment=first, delivered_at=delivered_at())
    with pytest.raises(InvalidShipment, match=message):
        order_deliver(order=order, delivered_at=delivered_at())
    assert snapshot() == before


def test_an_order_not_shipped_is_not_delivered(paid_order):
    order, _, _ = paid_order(1)
    before = snapshot()
    with pytest.raises(InvalidTransition) as excinfo:
        order_deliver(order=order)
    assert excinfo.value.requested == "delivered"
    assert snapshot() == before


def test_a_shipment_delivered_already_or_of_another_order_is_refused(paid_order):
    order, first, _ = _shipped_in_two(paid_order)
    order_deliver(order=order, shipment=first)
    other, _, _ = paid_order(1)
    before = snapshot()
    with pytest.raises(InvalidShipment, match="already delivered"):
        order_deliver(order=order, shipment=first)
    with pytest.raises(InvalidShipment, match="not one of order"):
        order_deliver(order=other, shipment=first)
    assert snapshot() == before


# Cancelling, editing, deleting, anonymizing a partially shipped order


def test_a_partially_shipped_order_is_not_cancelled_and_says_what_to_do(paid_order):
    order, (lamp,), _ = paid_order(3)
    order_ship(order=order, carrier="ups", tracking_number="1Z", lines=[(lamp, 1)])
    before = snapshot()
    with pytest.raises(PartiallyShippedNotCancelled) as excinfo:
        order_cancel(order=order, reason="customer changed their mind")
    message = str(excinfo.value)
    assert order.number in message
    assert "ship the remaining units" in message and "Return items" in message
    assert snapshot() == before


def test_a_partially_shipped_order_is_not_edited(paid_order):
    order, (lamp,), (product,) = paid_order(3)
    order_ship(order=order, carrier="ups", tracking_number="1Z", lines=[(lamp, 1)])
    before = snapshot()
    with pytest.raises(OrderNotEditable, match="part of it has been shipped"):
        order_edit(order=order, lines=[(product, 1)])
    assert snapshot() == before


@pytest.mark.parametrize(
    "status_after, message",
    [("returned", "shipped and returned"), ("partially_returned", "part of it returned")],
)
def test_a_returned_order_is_not_edited(paid_order, status_after, message):
    order, (lamp,), (product,) = shipped_order(paid_order, 2)
    order_return(order=order, lines=[(lamp, 2 if status_after == "returned" else 1)])
    assert order.status == status_after
    with pytest.raises(OrderNotEditable, match=message):
        order_edit(order=order, lines=[(product, 1)])


def test_deleting_a_partially_shipped_order_releases_only_its_unshipped_units(paid_order):
    order, (lamp, mug), (p_lamp, p_mug) = paid_order(4, 2)
    order_ship(order=order, carrier="ups", tracking_number="1Z", lines=[(lamp, 3), (mug, 2)])
    assert on_hand_allocated(p_lamp) == (7, 1) and on_hand_allocated(p_mug) == (8, 0)

    orders_delete(queryset=Order.objects.filter(pk=order.pk))
    assert not Order.objects.filter(pk=order.pk).exists()
    assert not Shipment.objects.exists() and not ShipmentLine.objects.exists()
    assert on_hand_allocated(p_lamp) == (7, 0) and on_hand_allocated(p_mug) == (8, 0)
    releases = StockMovement.objects.filter(kind="release", order_number=order.number)
    assert list(releases.values_list("product_id", "allocated_delta")) == [(p_lamp.pk, -1)]
    assert find_violations() == []


def test_a_customer_with_a_partially_shipped_order_is_not_anonymized(paid_order, customer):
    order, (lamp,), _ = paid_order(2)
    order_ship(order=order, carrier="ups", tracking_number="1Z", lines=[(lamp, 1)])
    with pytest.raises(CustomerHasOpenOrders, match=order.number):
        customer_anonymize(customer=customer)


def test_anonymizing_scrubs_emails_from_return_reasons(paid_order, customer):
    order, (lamp,), _ = shipped_order(paid_order, 2)
    record = order_return(order=order, lines=[(lamp, 1)], reason=f"Wrong size, says {customer.email}")
    customer_anonymize(customer=customer)
    record.refresh_from_db()
    assert record.reason == "Wrong size, says [removed]"
    assert "@" not in order.events.get(kind="returned").message


# Returns


def test_a_restocked_return_puts_the_units_back_on_hand_with_return_ledger_rows(paid_order):
    order, (lamp, mug), (p_lamp, p_mug) = shipped_order(paid_order, 3, 1)
    user = UserFactory()
    record = order_return(order=order, lines=[(lamp, 2)], refund=False, reason="Did not fit", actor=user)
    assert (record.order, record.reason, record.actor, record.refunded_amount) == (
        order,
        "Did not fit",
        user,
        Decimal("0.00"),
    )
    assert list(record.lines.values_list("order_line_id", "quantity", "restocked")) == [(lamp.pk, 2, True)]
    assert counters(lamp, mug) == [(3, 2), (1, 0)]
    assert on_hand_allocated(p_lamp) == (9, 0) and on_hand_allocated(p_mug) == (9, 0)
    movement = StockMovement.objects.get(kind="return")
    assert (movement.product_id, movement.reason, movement.order_number, movement.on_hand_delta) == (
        p_lamp.pk,
        "return",
        order.number,
        2,
    )
    assert (movement.allocated_delta, movement.note, movement.actor) == (0, "Did not fit", user)
    assert find_violations() == []


def test_a_return_not_restocked_is_written_off_without_a_stock_change(paid_order):
    order, (lamp,), (product,) = shipped_order(paid_order, 2)
    before = (on_hand_allocated(product), StockMovement.objects.count())
    record = order_return(order=order, lines=[(lamp, 1)], restock=False, refund=False, reason="Broken")
    assert (on_hand_allocated(product), StockMovement.objects.count()) == before
    assert record.lines.get().restocked is False
    message = order.events.get(kind="returned").message
    assert f"written off (not restocked): 1 × {lamp.sku}" in message and "Broken" in message
    assert counters(lamp) == [(2, 1)]
    assert find_violations() == []


def test_restock_is_decided_per_line(paid_order):
    order, (lamp, mug), (p_lamp, p_mug) = shipped_order(paid_order, 2, 2)
    record = order_return(order=order, lines=[(lamp, 1, True), (mug, 2, False)], restock=False, refund=False)
    assert sorted(record.lines.values_list("order_line_id", "restocked")) == [
        (lamp.pk, True),
        (mug.pk, False),
    ]
    assert on_hand_allocated(p_lamp) == (9, 0) and on_hand_allocated(p_mug) == (8, 0)
    assert list(StockMovement.objects.filter(kind="return").values_list("product_id", "on_hand_delta")) == [
        (p_lamp.pk, 1)
    ]
    message = order.events.get(kind="returned").message
    assert f"written off (not restocked): 2 × {mug.sku}" in message and lamp.sku not in message.split(";")[1]


def test_one_line_restocked_and_written_off_in_one_return_is_refused(paid_order):
    order, (lamp,), _ = shipped_order(paid_order, 2)
    before = snapshot()
    with pytest.raises(InvalidReturn, match="either restocked or written off"):
        order_return(order=order, lines=[(lamp, 1, True), (lamp, 1, False)])
    assert snapshot() == before


@pytest.mark.parametrize(
    "lines, message",
    [
        (lambda lamp, mug, other: [(lamp, 3)], "3 asked, 2 shipped and not returned"),
        (lambda lamp, mug, other: [(mug, 1), (lamp, 1), (lamp, 2)], "3 asked, 2 shipped and not returned"),
        (lambda lamp, mug, other: [(other, 1)], "not on order"),
        (lambda lamp, mug, other: [(lamp, 0)], "at least one unit"),
        (lambda lamp, mug, other: [], "at least one unit"),
        (lambda lamp, mug, other: [(lamp, -1)], "whole numbers"),
    ],
)
def test_returning_more_than_was_shipped_and_not_returned_is_refused_and_changes_nothing(
    paid_order, lines, message
):
    order, (lamp, mug), _ = shipped_order(paid_order, 3, 1)
    order_return(order=order, lines=[(lamp, 1)])
    other = OrderLineFactory()
    before = snapshot()
    with pytest.raises(InvalidReturn) as excinfo:
        order_return(order=order, lines=lines(lamp, mug, other))
    assert message in str(excinfo.value) and "nothing was returned" in str(excinfo.value)
    assert snapshot() == before


@pytest.mark.parametrize("shipped", [0, 1])
def test_an_order_not_wholly_shipped_takes_nothing_back(paid_order, shipped):
    order, (lamp,), _ = paid_order(2)
    if shipped:
        order_ship(order=order, carrier="ups", tracking_number="1Z", lines=[(lamp, shipped)])
    before = snapshot()
    with pytest.raises(InvalidReturn, match="only units of a shipped or delivered order"):
        order_return(order=order, lines=[(lamp, 1)])
    assert snapshot() == before


def test_returns_make_the_order_partially_returned_then_returned_with_returned_events(paid_order):
    order, (lamp, mug), _ = shipped_order(paid_order, 2, 1)
    order_deliver(order=order)
    order_return(order=order, lines=[(lamp, 1)], refund=False)
    assert order.status == Order.Status.PARTIALLY_RETURNED
    order_return(order=order, lines=[(mug, 1)], refund=False)
    assert order.status == Order.Status.PARTIALLY_RETURNED
    order_return(order=order, lines=[(lamp, 1)], refund=False)
    assert order.status == Order.Status.RETURNED
    events = order.events.filter(kind="returned").order_by("pk")
    assert list(events.values_list("from_status", "to_status")) == [
        ("delivered", "partially_returned"),
        ("", ""),
        ("partially_returned", "returned"),
    ]
    assert [r.pk for r in order.returns.order_by("pk")] == [
        int(m.split(":")[0].removeprefix("Return #")) for m in events.values_list("message", flat=True)
    ]
    with pytest.raises(InvalidReturn, match="is returned"):
        order_return(order=order, lines=[(lamp, 1)])
    assert find_violations() == []


def test_a_shipment_still_in_transit_can_come_back_and_arrive_later(paid_order):
    order, (lamp,), _ = shipped_order(paid_order, 2)
    order_return(order=order, lines=[(lamp, 1)], refund=False)
    order_deliver(order=order)
    assert order.status == Order.Status.PARTIALLY_RETURNED
    assert find_violations() == []


def test_a_refunded_return_refunds_unit_price_times_quantity(paid_order):
    order, (lamp, _mug), _ = shipped_order(paid_order, 3, 1)
    payment = order.payments.get()
    assert payment.amount == Decimal("47.50")
    record = order_return(order=order, lines=[(lamp, 2)])
    payment.refresh_from_db()
    assert record.refunded_amount == Decimal("20.00")
    assert (payment.refunded_amount, payment.status) == (Decimal("20.00"), "captured")
    refunded = order.events.filter(kind="refunded").get()
    assert f"Return #{record.pk}" in refunded.message
    assert "refunded 20.00 USD" in order.events.get(kind="returned").message
    assert find_violations() == []


def test_shipping_is_refunded_once_with_the_first_return_asking_for_it(paid_order):
    order, (lamp, mug), _ = shipped_order(paid_order, 2, 1)
    first = order_return(order=order, lines=[(lamp, 1)], refund_shipping=True)
    second = order_return(order=order, lines=[(lamp, 1)], refund_shipping=True)
    third = order_return(order=order, lines=[(mug, 1)], refund_shipping=False)
    assert [first.refunded_amount, second.refunded_amount, third.refunded_amount] == [
        Decimal("17.50"),
        Decimal("10.00"),
        Decimal("10.00"),
    ]
    assert [first.refund_shipping, second.refund_shipping] == [True, False]
    payment = order.payments.get()
    assert (payment.refunded_amount, payment.status) == (Decimal("37.50"), "refunded")


def test_shipping_is_not_refunded_without_a_refund(paid_order):
    order, (lamp,), _ = shipped_order(paid_order, 2)
    record = order_return(order=order, lines=[(lamp, 1)], refund=False, refund_shipping=True)
    assert (record.refund_requested, record.refund_shipping, record.refunded_amount) == (
        False,
        False,
        Decimal("0.00"),
    )
    assert order.payments.get().refunded_amount == Decimal("0.00")
    # The shipping charge is still there for a later refunded return.
    assert order_return(order=order, lines=[(lamp, 1)], refund_shipping=True).refunded_amount == Decimal(
        "17.50"
    )


def test_a_refund_goes_across_captured_payments_oldest_first(paid_order):
    order, (lamp,), _ = shipped_order(paid_order, 5, payments=[Decimal("15.00"), Decimal("42.50")])
    older, newer = order.payments.order_by("pk")
    record = order_return(order=order, lines=[(lamp, 2)])
    older.refresh_from_db()
    newer.refresh_from_db()
    assert record.refunded_amount == Decimal("20.00")
    assert (older.refunded_amount, older.status) == (Decimal("15.00"), "refunded")
    assert (newer.refunded_amount, newer.status) == (Decimal("5.00"), "captured")
    assert order.events.filter(kind="refunded").count() == 2


def test_a_refund_is_never_more_than_captured_less_refunded(paid_order):
    order, (lamp,), _ = shipped_order(paid_order, 3)
    payment = order.payments.get()
    payment_refund(payment=payment, amount=Decimal("30.00"), reason="goodwill")
    record = order_return(order=order, lines=[(lamp, 3)], refund_shipping=True)
    payment.refresh_from_db()
    assert record.refunded_amount == Decimal("7.50")
    assert (payment.refunded_amount, payment.status) == (payment.amount, "refunded")
    assert "refunded 7.50 USD" in order.events.get(kind="returned").message
    # Nothing left to refund: the return is still taken back, refunding 0.
    assert find_violations() == []


def test_a_return_without_refund_changes_no_payment(paid_order):
    order, (lamp,), _ = shipped_order(paid_order, 2)
    payment = order.payments.get()
    record = order_return(order=order, lines=[(lamp, 2)], refund=False)
    payment.refresh_from_db()
    assert (record.refund_requested, record.refunded_amount) == (False, Decimal("0.00"))
    assert (payment.refunded_amount, payment.status) == (Decimal("0.00"), "captured")
    assert not order.events.filter(kind="refunded").exists()
    assert "refunded" not in order.events.get(kind="returned").message


def test_a_reason_too_long_is_refused(paid_order):
    order, (lamp,), _ = shipped_order(paid_order, 1)
    before = snapshot()
    with pytest.raises(InvalidReturn, match="at most 500"):
        order_return(order=order, lines=[(lamp, 1)], reason="x" * 501)
    assert snapshot() == before
