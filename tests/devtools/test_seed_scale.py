"""`manage.py seed_scale`: realistic data at scale that keeps every rule the services keep."""

import datetime
from collections import Counter, defaultdict
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count

from catalog.models import Product, ProductType, Stock, StockMovement
from catalog.services import product_create
from customers.models import Address, Customer
from orders.carriers import STANDARD_CARRIERS
from orders.models import (
    OPEN_STATUSES,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Return,
    ReturnLine,
    Shipment,
    ShipmentLine,
)
from orders.services import order_deliver, order_number_for, order_place, order_ship
from payments.models import Payment, PaymentMethod
from payments.services import payment_capture
from shop.backoffice.integrity import find_violations
from shop.core.validators import contains_card_number
from shop.devtools import scale
from shop.devtools.scale import SeedRefused, digest, seed_scale
from tests.factories import AddressFactory, CustomerFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 27, tzinfo=datetime.UTC)
# 300 orders over 30 days: enough recent ones that every status turns up.
SMALL = {"customers": 50, "products": 30, "orders": 300, "days": 30, "now": NOW, "seed": 1}

S = OrderStatus
EVENTS = {
    S.PLACED: ["placed"],
    S.PAID: ["placed", "payment_captured", "paid"],
}
# After payment: a "shipped" per parcel, a "delivered" per delivery, a "refunded" and a
# "returned" per return.
FULFILLED = (S.PARTIALLY_SHIPPED, S.SHIPPED, S.DELIVERED, S.PARTIALLY_RETURNED, S.RETURNED)


def seed(**overrides) -> scale.SeedReport:
    return seed_scale(**{**SMALL, "check": True, **overrides})


def seeded_digest(**overrides) -> str:
    """Seed, hash every seeded table, then roll the seed back."""
    with transaction.atomic():
        seed(**overrides)
        result = digest()
        transaction.set_rollback(True)
    return result


def writers() -> list[str]:
    return ["copy", "insert", "orm"] if connection.vendor == "postgresql" else ["insert", "orm"]


def test_small_run_has_every_status_and_keeps_every_rule():
    report = seed()

    assert find_violations() == []
    assert report.violations == []
    # Every status of trading history; drafts are staff's unfinished work, which a seed does not make.
    assert set(Order.objects.values_list("status", flat=True)) == set(S.values) - {S.DRAFT}
    assert Customer.objects.count() == 50
    assert Product.objects.count() == 30
    assert Order.objects.count() == 300
    assert report.created["orders.Order"] == 300
    assert report.rows == sum(report.created.values()) > 300
    # Mostly delivered; the open orders are the last days' ones.
    statuses = Counter(Order.objects.values_list("status", flat=True))
    assert statuses[S.DELIVERED] > 150
    oldest_open = Order.objects.filter(status__in=[S.PLACED, S.PAID]).order_by("created_at").first()
    assert oldest_open.created_at > NOW - datetime.timedelta(days=4)
    # Some orders were cancelled after payment, or all their goods came back: refunded in full.
    refunded = Payment.objects.filter(status=Payment.Status.REFUNDED)
    assert refunded.filter(order__status=S.CANCELLED).exists()
    assert all(
        p.refunded_amount == p.amount and p.order.status in (S.CANCELLED, S.RETURNED) for p in refunded
    )
    # Returns were refunded in part: what came back.
    assert Payment.objects.filter(status=Payment.Status.CAPTURED, refunded_amount__gt=0).exists()


def test_partial_shipments_and_returns_come_in_realistic_shares():
    seed(orders=1500, days=60)
    shipped = Order.objects.filter(shipment__isnull=False).distinct()
    in_two = Order.objects.filter(pk__in=ShipmentLine.objects.values("shipment__order")).annotate(
        parcels=Count("shipment", distinct=True)
    )
    share = in_two.filter(parcels=2).count() / shipped.count()
    assert 0.02 < share < 0.1, share
    assert not in_two.filter(parcels__gt=2).exists()
    # Still waiting for the rest: their open units are held, the shipped ones are not.
    waiting = Order.objects.filter(status=S.PARTIALLY_SHIPPED)
    assert waiting.exists()
    for order in waiting:
        lines = list(order.lines.all())
        assert 0 < sum(line.quantity_shipped for line in lines) < sum(line.quantity for line in lines)
    delivered_or_back = Order.objects.filter(status__in=[S.DELIVERED, S.PARTIALLY_RETURNED, S.RETURNED])
    returns = Return.objects.count()
    assert 0.01 < returns / delivered_or_back.count() < 0.05
    assert ReturnLine.objects.filter(restocked=True).exists()
    assert ReturnLine.objects.filter(restocked=False).exists()  # written off as damaged


def test_every_order_has_the_rows_the_services_would_have_written():
    seed()
    events = defaultdict(list)
    for event in OrderEvent.objects.order_by("created_at", "pk"):
        events[event.order_id].append(event)
    lines = defaultdict(dict)
    line_rows = {}
    for line in OrderLine.objects.all():
        lines[line.order_id][line.product_id] = line.quantity
        line_rows[line.pk] = line
    ledger = defaultdict(lambda: defaultdict(lambda: defaultdict(lambda: [0, 0])))
    for number, kind, product_id, on_hand, allocated in StockMovement.objects.exclude(
        order_number=""
    ).values_list("order_number", "kind", "product_id", "on_hand_delta", "allocated_delta"):
        ledger[number][kind][product_id][0] += on_hand
        ledger[number][kind][product_id][1] += allocated
    payments = defaultdict(list)
    for payment in Payment.objects.all():
        payments[payment.order_id].append(payment)
    shipments = defaultdict(list)
    for shipment in Shipment.objects.select_related("carrier").prefetch_related("lines"):
        shipments[shipment.order_id].append(shipment)
    returns = defaultdict(list)
    for record in Return.objects.prefetch_related("lines"):
        returns[record.order_id].append(record)
    standard = {code for code, *_ in STANDARD_CARRIERS}

    for order in Order.objects.all():
        assert order.number == order_number_for(order.pk)
        assert order.created_at < NOW
        assert 1 <= len(lines[order.pk]) <= 5
        kinds = [e.kind for e in events[order.pk]]
        allocated = {pk: [0, q] for pk, q in lines[order.pk].items()}
        assert ledger[order.number]["allocation"] == allocated
        paid = order.paid_at is not None
        # The statuses the events step through end at the order's.
        status = ""
        for event in events[order.pk]:
            if event.to_status:
                assert event.from_status == status, order.number
                status = event.to_status
        assert status == order.status, order.number
        if order.status == S.CANCELLED:
            cancelled = ["cancelled", "refunded"] if paid else ["cancelled"]
            assert kinds == [*EVENTS[S.PAID][: 3 if paid else 1], *cancelled]
            released = {pk: [0, -q] for pk, q in lines[order.pk].items()}
            assert ledger[order.number]["release"] == released
        else:
            assert "release" not in ledger[order.number]
        if order.status in FULFILLED:
            assert kinds[:3] == EVENTS[S.PAID]
            later = Counter(kinds[3:])
            delivered = [s for s in shipments[order.pk] if s.status == Shipment.Status.DELIVERED]
            assert (
                later
                == Counter(
                    shipped=len(shipments[order.pk]),
                    delivered=len(delivered),
                    refunded=len(returns[order.pk]),
                    returned=len(returns[order.pk]),
                )
                - Counter()
            ), order.number
        elif order.status != S.CANCELLED:
            assert kinds == EVENTS[order.status]
        # Each parcel's units left stock when it did; the line counters are the parcels' sums.
        shipped = defaultdict(int)
        for shipment in shipments[order.pk]:
            assert shipment.shipped_at >= order.paid_at
            assert shipment.carrier_id in standard and shipment.tracking_number
            assert (shipment.delivered_at is not None) == (shipment.status == Shipment.Status.DELIVERED)
            assert shipment.lines.all(), shipment
            for item in shipment.lines.all():
                shipped[item.order_line_id] += item.quantity
        sold = defaultdict(int)
        for line_pk, quantity in shipped.items():
            sold[line_rows[line_pk].product_id] += quantity
        assert ledger[order.number].get("sale", {}) == {pk: [-q, -q] for pk, q in sold.items()}
        order_lines = [line for line in line_rows.values() if line.order_id == order.pk]
        assert {line.pk: line.quantity_shipped for line in order_lines if line.quantity_shipped} == dict(
            shipped
        )
        if order.status in (S.SHIPPED, S.DELIVERED, S.PARTIALLY_RETURNED, S.RETURNED):
            assert all(line.quantity_shipped == line.quantity for line in order_lines)
        elif order.status == S.PARTIALLY_SHIPPED:
            assert 0 < sum(shipped.values()) < sum(line.quantity for line in order_lines)
        else:
            assert not shipments[order.pk]
        # Returns: counters, restocked units back on hand with the order's number, refunds.
        returned = defaultdict(int)
        restocked = defaultdict(int)
        refunded = Decimal("0")
        for record in returns[order.pk]:
            assert record.created_at > max(s.delivered_at for s in shipments[order.pk])
            charged = Decimal("0")
            for item in record.lines.all():
                returned[item.order_line_id] += item.quantity
                charged += line_rows[item.order_line_id].unit_price * item.quantity
                if item.restocked:
                    restocked[line_rows[item.order_line_id].product_id] += item.quantity
            shipping = order.shipping_cost if record.refund_shipping else Decimal("0")
            assert record.refunded_amount == charged + shipping
            refunded += record.refunded_amount
        assert {line.pk: line.quantity_returned for line in order_lines if line.quantity_returned} == dict(
            returned
        )
        assert ledger[order.number].get("return", {}) == {pk: [q, 0] for pk, q in restocked.items()}
        if order.status == S.RETURNED:
            assert all(line.quantity_returned == line.quantity for line in order_lines)
        elif order.status == S.PARTIALLY_RETURNED:
            assert returned and any(line.quantity_returned < line.quantity for line in order_lines)
        else:
            assert not returns[order.pk]
        if paid:
            (payment,) = payments[order.pk]
            assert payment.amount == order.total
            assert payment.method_label == (order.payment_method_label or "Manual payment")
            if order.status == S.CANCELLED:
                assert (payment.status, payment.refunded_amount) == ("refunded", order.total)
            else:
                assert payment.refunded_amount == refunded
                assert payment.status == ("refunded" if refunded == order.total else "captured")
        else:
            assert payments[order.pk] == []
            assert order.status in (S.PLACED, S.CANCELLED)
    # Open orders hold what they have not shipped, and nothing else does.
    held = defaultdict(int)
    for line in line_rows.values():
        if Order.objects.get(pk=line.order_id).status in OPEN_STATUSES:
            held[line.product_id] += line.quantity - line.quantity_shipped
    assert {s.pk: s.allocated for s in Stock.objects.all() if s.allocated} == {
        pk: q for pk, q in held.items() if q
    }


def test_customers_have_one_default_address_and_method_and_no_card_numbers():
    seed()
    for customer in Customer.objects.prefetch_related("addresses", "payment_methods"):
        addresses = list(customer.addresses.all())
        assert sum(a.is_default_shipping for a in addresses) == 1
        assert sum(a.is_default_billing for a in addresses) == 1
        assert sum(m.is_default for m in customer.payment_methods.all()) == 1
    labels = {m.pk: m.label for m in PaymentMethod.objects.all()}
    for method_id, label in Order.objects.exclude(payment_method=None).values_list(
        "payment_method_id", "payment_method_label"
    ):
        assert labels[method_id] == label
    texts = [
        *PaymentMethod.objects.values_list("gateway_token", flat=True),
        *PaymentMethod.objects.values_list("holder_name", flat=True),
        *Payment.objects.values_list("reference", flat=True),
        *Shipment.objects.values_list("tracking_number", flat=True),
        *OrderEvent.objects.values_list("message", flat=True),
    ]
    assert not [text for text in texts if contains_card_number(text)]


def test_same_seed_gives_the_same_rows():
    first = seeded_digest()
    assert seeded_digest() == first
    assert seeded_digest(seed=2) != first


@pytest.mark.parametrize("method", ["insert", "orm"])
def test_every_writer_writes_the_same_rows(method):
    reference = seeded_digest(method="copy" if connection.vendor == "postgresql" else "insert")
    assert seeded_digest(method=method) == reference


def test_a_bigger_target_adds_only_the_missing_rows_and_keeps_every_rule():
    seed(orders=200)
    before = list(Order.objects.order_by("pk").values_list("pk", "number", "status", "total"))
    available_before = {s.pk: s.available for s in Stock.objects.all()}

    report = seed(customers=60, products=35, orders=300)

    assert find_violations() == []
    assert (Customer.objects.count(), Product.objects.count(), Order.objects.count()) == (60, 35, 300)
    assert report.created["orders.Order"] == 100
    assert report.created["customers.Customer"] == 10
    assert list(Order.objects.order_by("pk").values_list("pk", "number", "status", "total")[:200]) == before
    # The new orders took stock, and what they took was received again: availability is unchanged.
    assert {pk: Stock.objects.get(pk=pk).available for pk in available_before} == available_before
    assert seed(orders=300).rows == 0


def test_seeds_on_top_of_the_demo_data():
    call_command("loaddata", "demo", verbosity=0)
    demo_orders = list(Order.objects.order_by("pk").values_list("pk", "status", "total"))

    seed(customers=len(demo_orders) + 40, orders=len(demo_orders) + 200)

    assert find_violations() == []
    assert list(Order.objects.order_by("pk").values_list("pk", "status", "total")[: len(demo_orders)]) == (
        demo_orders
    )


def test_the_shop_carries_on_after_a_seed():
    seed()
    customer = CustomerFactory()
    address = AddressFactory(customer=customer, is_default_shipping=True)
    product = product_create(
        name="Late Arrival",
        sku="LATE-1",
        product_type=ProductType.objects.first(),
        price="9.99",
        initial_stock=5,
    )
    # Both a new product and a seeded one with stock to spare.
    seeded = Product.objects.filter(stock__on_hand__gt=10, is_active=True).order_by("pk").first()
    last_order = Order.objects.order_by("-pk").first().pk

    order = order_place(customer=customer, lines=[(product, 2), (seeded, 1)], shipping_address=address)
    payment_capture(order=order)
    order_ship(order=order, carrier="UPS", tracking_number="1Z999AA10123456784")
    order_deliver(order=order)

    # Past the seeded ids without colliding. Not necessarily +1: InnoDB never hands back
    # auto-increment values that earlier rolled-back test transactions consumed.
    assert order.pk > last_order
    if connection.vendor != "mysql":
        assert order.pk == last_order + 1
    assert order.number == order_number_for(order.pk)
    assert customer.pk > 50
    assert find_violations() == []


def test_a_broken_rule_saves_nothing(monkeypatch):
    monkeypatch.setattr(scale, "find_violations", lambda: ["product 1: something is off"])
    with pytest.raises(SeedRefused, match="something is off"):
        seed()
    assert not Order.objects.exists()
    assert not Customer.objects.exists()
    assert not Address.objects.exists()


@pytest.mark.skipif(connection.vendor == "postgresql", reason="COPY is the default here")
def test_copy_is_refused_off_postgresql():
    with pytest.raises(SeedRefused, match="PostgreSQL only"):
        seed(method="copy")


def test_command_reports_rows_and_rate():
    out = StringIO()
    call_command(
        "seed_scale",
        "--customers=20",
        "--products=10",
        "--orders=50",
        "--days=20",
        "--now=2026-11-27",
        "--no-progress",
        stdout=out,
    )
    text = out.getvalue()
    assert "orders.Order" in text
    assert "rows/s" in text
    assert "All integrity rules hold" in text
    assert Order.objects.count() == 50
