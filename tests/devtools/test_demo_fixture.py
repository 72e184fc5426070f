"""The demo fixture (`manage.py loaddata demo`) and its generator (`manage.py build_demo_fixture`)."""

import datetime
import json
import re
from collections import defaultdict
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from catalog.exceptions import InsufficientStock
from catalog.models import Product, ProductType, Stock, StockMovement
from customers.models import Address, Customer
from orders.carriers import STANDARD_CARRIERS
from orders.models import (
    OPEN_STATUSES,
    Carrier,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Return,
    ReturnLine,
    Shipment,
    ShipmentLine,
)
from orders.services import order_place
from payments.models import Payment, PaymentMethod
from payments.services import order_amount_paid, payment_capture
from shop.backoffice.integrity import find_violations
from shop.core.validators import contains_card_number

pytestmark = pytest.mark.django_db

FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "demo.json"
DEMO_NOW = datetime.datetime(2026, 11, 20, tzinfo=datetime.UTC)

# The seed's customers, exactly: (first, last, street, city, state, zip, phone as stored, email).
SEED_CUSTOMERS = [
    ("John", "Doe", "123 Elm St", "New York", "NY", "10001", "+15551234567", "john.doe@example.com"),
    ("Jane", "Smith", "456 Oak St", "Los Angeles", "CA", "90001", "+15559876543", "jane.smith@example.com"),
    ("Emily", "Clark", "789 Pine St", "Chicago", "IL", "60601", "+15554567890", "emily.clark@example.com"),
]

Kind = StockMovement.Kind


@pytest.fixture
def demo(db):
    call_command("loaddata", "demo", verbosity=0)


def dump() -> str:
    out = StringIO()
    call_command("dumpdata", "customers", "catalog", "orders", "payments", indent=2, stdout=out)
    return out.getvalue()


def open_quantities() -> dict[int, int]:
    """What open orders hold: for each line, what was ordered and not yet shipped."""
    held = defaultdict(int)
    for line in OrderLine.objects.filter(order__status__in=OPEN_STATUSES):
        held[line.product_id] += line.quantity - line.quantity_shipped
    return held


# The statuses in which everything ordered has been shipped.
WHOLLY_SHIPPED = (
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.PARTIALLY_RETURNED,
    OrderStatus.RETURNED,
)


# --- loading ---------------------------------------------------------------------------------


def test_loads_on_an_empty_migrated_database():
    assert not Customer.objects.exists()
    assert not Order.objects.exists()
    call_command("loaddata", "demo", verbosity=0)
    assert Customer.objects.count() >= 12
    assert Order.objects.count() >= 12


def test_loading_twice_changes_nothing(demo):
    before = dump()
    call_command("loaddata", "demo", verbosity=0)
    assert dump() == before


# --- customers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "street", "city", "state", "zip_code", "phone", "email"), SEED_CUSTOMERS
)
def test_seed_customers_exactly_as_the_seed_gives_them(
    demo, first, last, street, city, state, zip_code, phone, email
):
    customer = Customer.objects.get(email=email)
    assert (customer.first_name, customer.last_name) == (first, last)
    assert customer.phone.as_e164 == phone
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(Customer._meta.db_table)
        cursor.execute(f"SELECT phone FROM {table} WHERE email = %s", [email])
        assert cursor.fetchone()[0] == phone  # stored normalised (E.164), not "555-123-4567"
    assert {o.shipping_phone for o in customer.orders.all()} == {phone}
    address = customer.addresses.get(is_default_shipping=True)
    assert address.is_default_billing
    assert (address.line1, address.line2, address.city, address.state, address.postal_code) == (
        street,
        "",
        city,
        state,
        zip_code,
    )
    assert address.country.code == "US"


def test_every_customer_has_one_default_address_and_payment_method(demo):
    customers = list(Customer.objects.all())
    assert len(customers) >= 12
    assert len({a.city for a in Address.objects.all()}) >= 8
    for customer in customers:
        assert customer.addresses.filter(is_default_shipping=True, is_default_billing=True).count() == 1
        assert customer.payment_methods.filter(is_default=True).count() == 1
    second = Address.objects.filter(is_default_shipping=False, is_default_billing=False)
    assert 1 <= second.count() <= 2


def test_payment_methods_hold_no_card_numbers(demo):
    cards = PaymentMethod.objects.filter(kind=PaymentMethod.Kind.CARD)
    paypal = PaymentMethod.objects.filter(kind=PaymentMethod.Kind.PAYPAL)
    assert cards.exists() and paypal.exists()
    for card in cards:
        assert card.brand and re.fullmatch(r"\d{4}", card.last4)
        assert card.exp_month and card.exp_year and card.holder_name
        assert card.gateway_token.startswith("tok_demo_")
    assert all(m.paypal_email for m in paypal)
    texts = [m.gateway_token for m in cards] + [m.holder_name for m in cards]
    texts += list(Payment.objects.values_list("reference", flat=True))
    assert not [text for text in texts if contains_card_number(text)]
    assert any(card.is_expired for card in cards)


# --- catalog and stock -----------------------------------------------------------------------


def test_catalog(demo):
    assert ProductType.objects.count() >= 4
    products = list(Product.objects.select_related("stock"))
    assert len(products) >= 24
    for product in products:
        assert isinstance(product.price, Decimal) and product.price > 0
        assert product.currency == "USD"
        assert product.sku and product.description
        assert product.stock is not None
    assert Product.objects.filter(is_active=False).count() >= 1
    assert ProductType.objects.filter(products__isnull=True).count() == 0


def test_some_products_low_on_stock_and_some_out(demo):
    stocks = list(Stock.objects.all())
    low = [s for s in stocks if s.is_low]
    assert len(low) >= 2
    assert all(0 < s.available <= s.low_stock_threshold for s in low)
    assert {s.pk for s in low} == set(Product.objects.low_stock().values_list("pk", flat=True))
    out = [s for s in stocks if s.available == 0]
    assert out
    assert any(s.on_hand == 0 for s in out)


def test_the_shops_integrity_rules_hold(demo):
    assert find_violations() == []


def test_allocated_is_what_open_orders_hold(demo):
    held = open_quantities()
    for stock in Stock.objects.all():
        assert stock.allocated == held.get(stock.pk, 0), stock


def test_stock_equals_the_sum_of_its_ledger(demo):
    sums = defaultdict(lambda: [0, 0])
    for product_id, on_hand, allocated in StockMovement.objects.values_list(
        "product_id", "on_hand_delta", "allocated_delta"
    ):
        sums[product_id][0] += on_hand
        sums[product_id][1] += allocated
    for stock in Stock.objects.all():
        assert [stock.on_hand, stock.allocated] == sums[stock.pk], stock


def test_ledger_rows_are_the_ones_the_services_write(demo):
    assert not StockMovement.objects.filter(actor__isnull=False).exists()
    for order in Order.objects.prefetch_related("lines", "shipments__lines", "returns__lines"):
        rows = defaultdict(list)
        for row in StockMovement.objects.filter(order_number=order.number):
            rows[row.kind].append((row.product_id, row.on_hand_delta, row.allocated_delta, row.created_at))
        lines = {line.product_id: line.quantity for line in order.lines.all()}
        product_of = {line.pk: line.product_id for line in order.lines.all()}
        if order.status == OrderStatus.DRAFT:
            assert not rows, order.number  # a draft holds no stock
            continue
        assert sorted(rows[Kind.ALLOCATION]) == sorted((p, 0, q, order.created_at) for p, q in lines.items())
        expected_kinds = {Kind.ALLOCATION}
        # Each parcel takes its own units out of stock when it leaves.
        sales = [
            (product_of[item.order_line_id], -item.quantity, -item.quantity, shipment.shipped_at)
            for shipment in order.shipments.all()
            for item in shipment.lines.all()
        ]
        assert sorted(rows[Kind.SALE]) == sorted(sales), order.number
        if sales:
            expected_kinds.add(Kind.SALE)
        # Restocked returns come back on hand with the order's number; written-off units do not.
        restocked = [
            (product_of[item.order_line_id], item.quantity, 0, record.created_at)
            for record in order.returns.all()
            for item in record.lines.all()
            if item.restocked
        ]
        assert sorted(rows[Kind.RETURN]) == sorted(restocked), order.number
        if restocked:
            expected_kinds.add(Kind.RETURN)
        if order.status == OrderStatus.CANCELLED:
            assert sorted(rows[Kind.RELEASE]) == sorted(
                (p, 0, -q, order.cancelled_at) for p, q in lines.items()
            )
            expected_kinds.add(Kind.RELEASE)
        assert {kind for kind, found in rows.items() if found} == expected_kinds, order.number
    assert set(StockMovement.objects.filter(kind=Kind.RETURN).values_list("reason", flat=True)) == {
        StockMovement.Reason.RETURN
    }
    # Everything else in the ledger: receipts and adjustments, which never touch allocations.
    others = StockMovement.objects.filter(order_number="")
    assert set(others.values_list("kind", flat=True)) <= {Kind.RECEIPT, Kind.ADJUSTMENT}
    assert not others.exclude(allocated_delta=0).exists()
    assert others.filter(kind=Kind.RECEIPT).count() >= Product.objects.count()


# --- orders and payments ---------------------------------------------------------------------


def test_orders_cover_every_status(demo):
    assert Order.objects.count() >= 12
    counts = defaultdict(int)
    for status in Order.objects.values_list("status", flat=True):
        counts[status] += 1
    assert set(counts) == set(OrderStatus.values)
    assert all(counts[status] >= 2 for status in OrderStatus.values if status != "draft"), dict(counts)
    assert counts[OrderStatus.DRAFT] >= 1


def test_a_draft_with_lines_that_holds_no_stock(demo):
    draft = Order.objects.get(status=OrderStatus.DRAFT)
    assert draft.lines.exists() and not draft.payments.exists()
    assert not StockMovement.objects.filter(order_number=draft.number).exists()
    assert list(draft.events.values_list("kind", flat=True)) == ["draft_created", "edited"]


def test_a_part_paid_order_with_an_offline_payment(demo):
    part_paid = [
        order
        for order in Order.objects.filter(status=OrderStatus.PLACED)
        if 0 < order_amount_paid(order) < order.total
    ]
    assert len(part_paid) == 1
    payment = part_paid[0].payments.get()
    assert (payment.offline_method, payment.method, payment.method_label) == (
        Payment.Offline.BANK_TRANSFER,
        None,
        "Bank transfer",
    )
    assert payment.reference and not contains_card_number(payment.reference)
    # The rest can still be paid, and then the order is paid.
    payment_capture(order=part_paid[0], offline_method="bank_transfer", reference="TRF-REST")
    assert part_paid[0].status == OrderStatus.PAID


def test_order_numbers_follow_the_primary_key(demo):
    for order in Order.objects.all():
        assert order.number == f"SO-{order.pk:06d}"


def test_order_totals(demo):
    for order in Order.objects.prefetch_related("lines"):
        lines = list(order.lines.all())
        assert lines
        for line in lines:
            assert line.line_total == line.unit_price * line.quantity
        assert order.subtotal == sum(line.line_total for line in lines)
        assert order.total == order.subtotal + order.shipping_cost
        assert order.shipping_cost == (Decimal("0.00") if order.subtotal >= 100 else Decimal("7.50"))


def test_payments(demo):
    for order in Order.objects.prefetch_related("payments"):
        payments = list(order.payments.all())
        captured = sum((p.amount for p in payments), Decimal("0"))
        refunded = sum((p.refunded_amount for p in payments), Decimal("0"))
        assert captured - refunded <= order.total
        assert order_amount_paid(order) == captured - refunded
        if order.status == OrderStatus.DRAFT:
            assert not payments  # a draft takes no money
        elif order.status == OrderStatus.PLACED:
            assert captured < order.total  # nothing, or a part payment
        elif order.status in (
            OrderStatus.PAID,
            OrderStatus.PARTIALLY_SHIPPED,
            OrderStatus.SHIPPED,
            OrderStatus.DELIVERED,
        ):
            assert captured == order.total
            assert refunded == 0
            assert order.paid_at is not None
        elif order.status in (OrderStatus.PARTIALLY_RETURNED, OrderStatus.RETURNED):
            # Paid in full, then refunded what came back, and no more.
            assert captured == order.total
            returned = sum((r.refunded_amount for r in order.returns.all()), Decimal("0"))
            assert refunded == returned > 0
            assert order.events.filter(kind=OrderEvent.Kind.REFUNDED).count() == order.returns.count()
        elif payments:  # cancelled after payment: refunded in full
            assert refunded == captured
            assert all(p.status == Payment.Status.REFUNDED for p in payments)
    kinds = set(Payment.objects.values_list("method__kind", flat=True))
    assert {PaymentMethod.Kind.CARD, PaymentMethod.Kind.PAYPAL} <= kinds
    cancelled_paid = Order.objects.filter(status=OrderStatus.CANCELLED, payments__isnull=False).distinct()
    assert cancelled_paid.exists()
    for order in cancelled_paid:
        assert order.events.filter(kind=OrderEvent.Kind.REFUNDED).exists()


def test_shipments(demo):
    standard = {name for _, name, _, _ in STANDARD_CARRIERS}
    for order in Order.objects.prefetch_related("lines", "shipments__lines", "shipments__carrier"):
        shipments = list(order.shipments.all())
        lines = list(order.lines.all())
        if order.status in WHOLLY_SHIPPED:
            assert shipments, order.number
            assert all(line.quantity_shipped == line.quantity for line in lines), order.number
        elif order.status == OrderStatus.PARTIALLY_SHIPPED:
            assert shipments, order.number
            assert 0 < sum(line.quantity_shipped for line in lines) < sum(line.quantity for line in lines)
        else:
            assert not shipments, order.number
            assert not any(line.quantity_shipped for line in lines), order.number
        # The counters are the sums of the shipment lines.
        shipped = defaultdict(int)
        for shipment in shipments:
            assert shipment.carrier.name in standard
            assert bool(shipment.tracking_number) == shipment.carrier.tracked, shipment
            assert shipment.lines.exists()
            for item in shipment.lines.all():
                shipped[item.order_line_id] += item.quantity
            assert (shipment.delivered_at is not None) == (shipment.status == Shipment.Status.DELIVERED)
        assert {line.pk: line.quantity_shipped for line in lines if line.quantity_shipped} == dict(shipped)
        if order.status in (OrderStatus.DELIVERED, OrderStatus.PARTIALLY_RETURNED, OrderStatus.RETURNED):
            assert all(s.status == Shipment.Status.DELIVERED for s in shipments), order.number
        if order.status in (OrderStatus.SHIPPED, OrderStatus.PARTIALLY_SHIPPED):
            assert any(s.status == Shipment.Status.IN_TRANSIT for s in shipments), order.number
    numbers = list(Shipment.objects.exclude(tracking_number="").values_list("tracking_number", flat=True))
    assert len(numbers) == len(set(numbers))
    assert {s.carrier_id for s in Shipment.objects.all()} >= {"ups", "usps", "fedex", "dhl", "courier"}


def test_returns(demo):
    for order in Order.objects.prefetch_related("lines", "returns__lines"):
        lines = list(order.lines.all())
        returned = defaultdict(int)
        for record in order.returns.all():
            assert record.currency == order.currency
            for item in record.lines.all():
                returned[item.order_line_id] += item.quantity
            charged = sum(
                (item.order_line.unit_price * item.quantity for item in record.lines.all()), Decimal("0")
            )
            shipping = order.shipping_cost if record.refund_shipping else Decimal("0")
            assert record.refunded_amount == (charged + shipping if record.refund_requested else 0)
        assert {line.pk: line.quantity_returned for line in lines if line.quantity_returned} == dict(returned)
        everything = all(line.quantity_returned == line.quantity for line in lines)
        if order.status == OrderStatus.RETURNED:
            assert everything, order.number
        elif order.status == OrderStatus.PARTIALLY_RETURNED:
            assert returned and not everything, order.number
        else:
            assert not returned, order.number
    assert ReturnLine.objects.filter(restocked=True).exists()
    assert ReturnLine.objects.filter(restocked=False).exists()


def test_the_demo_tells_the_fulfilment_story(demo):
    """One order shipped in two parts (both delivered), orders partly shipped and waiting for the
    rest, a delivered order with one unit back on the shelf and refunded, one with a damaged unit
    written off, and every event in the history saying so."""
    in_parts = [o for o in Order.objects.filter(status=OrderStatus.DELIVERED) if o.shipments.count() == 2]
    assert len(in_parts) == 1
    first, second = in_parts[0].shipments.order_by("shipped_at")
    assert first.carrier_id != second.carrier_id
    assert {i.order_line_id for i in first.lines.all()}.isdisjoint(
        i.order_line_id for i in second.lines.all()
    )
    assert second.shipped_at < first.delivered_at  # the second left before the first arrived
    assert in_parts[0].events.filter(kind=OrderEvent.Kind.DELIVERED).count() == 2

    waiting = Order.objects.filter(status=OrderStatus.PARTIALLY_SHIPPED)
    assert waiting.count() >= 2
    for order in waiting:
        assert any(line.quantity_to_ship for line in order.lines.all())
        assert Stock.objects.filter(
            pk__in=[line.product_id for line in order.lines.all() if line.quantity_to_ship], allocated__gt=0
        ).exists()
    assert waiting.filter(shipment__carrier__tracked=False).exists()  # by the local courier

    restocked = ReturnLine.objects.filter(restocked=True, quantity=1, return_record__order__lines__quantity=2)
    one_back = restocked.filter(return_record__order__status=OrderStatus.PARTIALLY_RETURNED).first()
    assert one_back is not None
    assert one_back.return_record.refunded_amount == one_back.order_line.unit_price
    assert StockMovement.objects.filter(
        kind=Kind.RETURN,
        order_number=one_back.return_record.order.number,
        product_id=one_back.order_line.product_id,
        on_hand_delta=1,
    ).exists()

    damaged = ReturnLine.objects.get(restocked=False)
    order = damaged.return_record.order
    assert order.status == OrderStatus.PARTIALLY_RETURNED
    assert damaged.return_record.refunded_amount == damaged.order_line.unit_price * damaged.quantity
    assert not StockMovement.objects.filter(order_number=order.number, kind=Kind.RETURN).exists()
    message = order.events.get(kind=OrderEvent.Kind.RETURNED).message
    assert "written off" in message and damaged.order_line.sku in message


def test_the_fixture_brings_its_carriers(tmp_path):
    """Loaded on a database whose carriers were edited or removed, every shipment still has its
    carrier: the fixture holds the carrier rows."""
    in_fixture = {row["pk"] for row in json.loads(FIXTURE.read_text()) if row["model"] == "orders.carrier"}
    assert in_fixture == {code for code, _, _, _ in STANDARD_CARRIERS}
    Carrier.objects.all().delete()
    call_command("loaddata", "demo", verbosity=0)
    assert set(Carrier.objects.values_list("code", flat=True)) == in_fixture
    assert not Shipment.objects.exclude(carrier__in=Carrier.objects.all()).exists()
    Carrier.objects.filter(code="ups").update(name="UPS Ground", tracking_url="")
    call_command("loaddata", "demo", verbosity=0)
    ups = Carrier.objects.get(code="ups")
    assert ups.name == "UPS" and ups.tracking_link("1Z1") == "https://www.ups.com/track?tracknum=1Z1"
    assert find_violations() == []
    assert ShipmentLine.objects.count() and Return.objects.count()


def test_timestamps_are_believable(demo):
    start = DEMO_NOW - datetime.timedelta(weeks=8)
    for order in Order.objects.all():
        assert start <= order.created_at < DEMO_NOW
        shipments = list(Shipment.objects.filter(order=order))
        for shipment in [None, *shipments]:
            times = [order.created_at, order.paid_at]
            if shipment:
                times += [shipment.shipped_at, shipment.delivered_at]
            times = [x for x in times if x is not None]
            assert times == sorted(times) and len(set(times)) == len(times), order.number
        returned_at = {r.created_at for r in order.returns.all()}
        assert all(when > max(s.shipped_at for s in shipments) for when in returned_at), order.number
        if order.cancelled_at:
            assert order.cancelled_at > (order.paid_at or order.created_at)
        events = list(order.events.all())
        first = OrderEvent.Kind.DRAFT_CREATED if order.status == OrderStatus.DRAFT else OrderEvent.Kind.PLACED
        assert events[0].kind == first and events[0].created_at == order.created_at
        assert [e.created_at for e in events] == sorted(e.created_at for e in events)
        assert order.updated_at == events[-1].created_at
        kinds = [e.kind for e in events]
        assert kinds.count(OrderEvent.Kind.SHIPPED) == len(shipments), order.number
        assert kinds.count(OrderEvent.Kind.DELIVERED) == len({s.delivered_at for s in shipments} - {None})
        assert kinds.count(OrderEvent.Kind.RETURNED) == len(returned_at), order.number
        status = ""
        for event in events:  # the status chain holds together
            if event.to_status:
                assert event.from_status == status
                status = event.to_status
        assert status == order.status
        for event in events:
            if event.kind == OrderEvent.Kind.PAID:
                assert event.created_at == order.paid_at
            elif event.kind == OrderEvent.Kind.SHIPPED:
                assert event.created_at in {s.shipped_at for s in shipments}
            elif event.kind == OrderEvent.Kind.DELIVERED:
                assert event.created_at in {s.delivered_at for s in shipments}
            elif event.kind == OrderEvent.Kind.RETURNED:
                assert event.created_at in returned_at
            elif event.kind == OrderEvent.Kind.CANCELLED:
                assert event.created_at == order.cancelled_at
    for model, fields in [
        (Customer, ["created_at", "updated_at"]),
        (Address, ["created_at", "updated_at"]),
        (PaymentMethod, ["created_at", "updated_at"]),
        (Product, ["created_at", "updated_at"]),
        (Stock, ["updated_at"]),
        (StockMovement, ["created_at"]),
        (OrderEvent, ["created_at"]),
        (Payment, ["created_at", "updated_at"]),
        (Shipment, ["shipped_at", "delivered_at"]),
        (Return, ["created_at"]),
    ]:
        for name in fields:
            assert not model.objects.filter(**{f"{name}__gte": DEMO_NOW}).exists(), (model, name)
    assert not OrderEvent.objects.filter(actor__isnull=False).exists()


# --- the services on top of the demo data ----------------------------------------------------


def test_ordering_more_than_is_in_stock_is_refused(demo):
    product = Product.objects.low_stock().filter(is_active=True).order_by("pk").first()
    stock = Stock.objects.get(pk=product.pk)
    customer = Customer.objects.get(email="john.doe@example.com")
    orders_before = Order.objects.count()
    with pytest.raises(InsufficientStock) as caught:
        order_place(customer=customer, lines=[(product, stock.available + 1)])
    assert [s[0].pk for s in caught.value.shortages] == [product.pk]
    assert product.name in str(caught.value) and product.sku in str(caught.value)
    assert Order.objects.count() == orders_before
    stock.refresh_from_db()
    assert stock.allocated == open_quantities().get(product.pk, 0)


def test_a_new_order_gets_the_next_number(demo):
    customer = Customer.objects.get(email="jane.smith@example.com")
    methods = customer.payment_methods.order_by("-is_default", "pk")
    method = next((m for m in methods if not m.is_expired), None)  # None once her cards expire
    product = Product.objects.get(sku="SP-BTL-32")
    numbers = set(Order.objects.values_list("number", flat=True))
    last_pk = Order.objects.order_by("-pk").values_list("pk", flat=True).first()

    order = order_place(customer=customer, lines=[(product, 2)], payment_method=method)

    assert re.fullmatch(r"SO-\d{6}", order.number)
    assert order.number not in numbers
    assert order.pk > last_pk
    assert order.shipping_line1 == "456 Oak St"
    payment_capture(order=order)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Stock.objects.get(pk=product.pk).allocated == open_quantities()[product.pk]


# --- the generator ---------------------------------------------------------------------------


def test_generator_refuses_a_database_it_did_not_create(monkeypatch, tmp_path):
    monkeypatch.setenv("SHOP_DEMO_FIXTURE_BUILD_DB", str(tmp_path / "elsewhere.sqlite3"))
    with pytest.raises(CommandError, match="not that throwaway SQLite file"):
        call_command("build_demo_fixture", output=str(tmp_path / "demo.json"), verbosity=0)
    assert not (tmp_path / "demo.json").exists()


@pytest.mark.slow
def test_generator_reproduces_the_committed_fixture(tmp_path):
    """Runs the generator (in its own throwaway SQLite database): fixtures/demo.json is up to date."""
    output = tmp_path / "demo.json"
    call_command("build_demo_fixture", output=str(output), verbosity=0)
    assert output.read_text(encoding="utf-8") == FIXTURE.read_text(encoding="utf-8")


def _months(month: int, year: int, moved: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + moved
    return index % 12 + 1, index // 12


@pytest.mark.slow
def test_generator_builds_the_same_story_for_another_day(tmp_path):
    """`--today` moves every time by the same number of days and every card expiry (and the texts
    that show it) by the same number of months; nothing else changes. The day is in the past, so
    the cards, moved back, have expired by the real date: the build judges them on its own day."""
    today = datetime.date(2024, 1, 10)
    days = today - DEMO_NOW.date()
    months = (today.year - DEMO_NOW.year) * 12 + today.month - DEMO_NOW.month
    output = tmp_path / "demo.json"
    call_command("build_demo_fixture", "--today", today.isoformat(), output=str(output), verbosity=0)
    built = json.loads(output.read_text(encoding="utf-8"))
    committed = json.loads(FIXTURE.read_text(encoding="utf-8"))
    now = datetime.datetime.combine(today, datetime.time(), tzinfo=datetime.UTC)

    def label(text: str) -> str:
        def moved(match):
            month, year = _months(int(match[1]), int(match[2]), months)
            return f"exp {month:02d}/{year}"

        def moved_day(match):  # a delivery's date in its history entry
            return (datetime.datetime.fromisoformat(match[0]) + days).strftime("%Y-%m-%d %H:%M")

        text = re.sub(r"exp (\d\d)/(\d{4})", moved, text)
        return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", moved_day, text)

    assert [(o["model"], o["pk"]) for o in built] == [(o["model"], o["pk"]) for o in committed]
    moved_times = 0
    for new, old in zip(built, committed, strict=True):
        assert new["fields"].keys() == old["fields"].keys()
        if old["model"] == "payments.paymentmethod" and old["fields"]["exp_month"]:
            month, year = _months(old["fields"]["exp_month"], old["fields"]["exp_year"], months)
            old["fields"]["exp_month"], old["fields"]["exp_year"] = month, year
        for name, value in old["fields"].items():
            if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", value):
                when = datetime.datetime.fromisoformat(new["fields"][name])
                assert when == datetime.datetime.fromisoformat(value) + days, (old["model"], name)
                assert when < now
                moved_times += 1
            elif isinstance(value, str):  # labels and event messages show a card's expiry
                assert new["fields"][name] == label(value), (old["model"], old["pk"], name)
            else:
                assert new["fields"][name] == value, (old["model"], old["pk"], name)
    assert moved_times > 300


def test_generator_refuses_a_malformed_day(tmp_path):
    with pytest.raises(CommandError, match="is not a day"):
        call_command("build_demo_fixture", "--today", "20-11-2026", output=str(tmp_path / "demo.json"))
    assert not (tmp_path / "demo.json").exists()


# --- `manage.py demo_load` (what `make run` and `make demo` run) -----------------------------


def demo_load(*args):
    out = StringIO()
    call_command("demo_load", *args, stdout=out)
    return out.getvalue()


def test_demo_load_then_staff_work_then_demo_load_again_undoes_nothing(db):
    from orders.services import customer_anonymize, order_ship

    assert "Demo data loaded" in demo_load("--fixture", str(FIXTURE))
    paid = Order.objects.filter(status=OrderStatus.PAID).order_by("pk").first()
    order_ship(order=paid, carrier="UPS", tracking_number="1Z-AFTER-DEMO")
    erased = Customer.objects.filter(orders__status=OrderStatus.DELIVERED).order_by("pk").first()
    customer_anonymize(customer=erased)
    stock = Stock.objects.order_by("pk").first()
    before = dump()

    message = demo_load("--fixture", str(FIXTURE))

    assert "already loaded" in message and "not loaded again" in message
    assert dump() == before
    paid.refresh_from_db()
    erased.refresh_from_db()
    assert paid.status == OrderStatus.SHIPPED and erased.first_name == "Anonymized"
    assert Stock.objects.get(pk=stock.pk).on_hand == stock.on_hand
    assert find_violations() == []


def test_demo_load_refuses_a_database_with_other_data_and_changes_nothing(db):
    from tests.factories import CustomerFactory

    CustomerFactory(email="someone@shop.example")
    with pytest.raises(CommandError, match=r"holds a shop's data .*--force"):
        demo_load("--fixture", str(FIXTURE))
    assert Customer.objects.count() == 1 and not Order.objects.exists()
    assert "Demo data loaded" in demo_load("--fixture", str(FIXTURE), "--force")
    in_fixture = [row for row in json.loads(FIXTURE.read_text()) if row["model"] == "orders.order"]
    assert Order.objects.count() == len(in_fixture) >= 22


def test_demo_load_dates_the_demo_up_to_the_moment_it_is_loaded(db):
    from shop.backoffice.dashboard import sales_by_day

    before = datetime.datetime.now(datetime.UTC)
    demo_load()
    today = before.date()
    latest = Order.objects.placed().order_by("-created_at").first().created_at
    assert latest.astimezone(datetime.UTC).date() == today and latest < datetime.datetime.now(datetime.UTC)
    newest = max(
        OrderEvent.objects.order_by("-created_at").first().created_at,
        StockMovement.objects.order_by("-created_at").first().created_at,
        Payment.objects.order_by("-created_at").first().created_at,
    )
    assert newest.astimezone(datetime.UTC).date() == today and newest < datetime.datetime.now(datetime.UTC)
    sales = sales_by_day(with_revenue=True)
    assert sales.today.orders > 0  # the dashboard's today has something to show
    assert sales.orders > sales.today.orders  # and so have its 30 days
    assert find_violations() == []


def test_the_last_day_is_squeezed_in_order_before_the_moment(tmp_path):
    from shop.devtools.management.commands.build_demo_fixture import DemoCalendar

    moment = datetime.datetime(2027, 3, 4, 0, 30, tzinfo=datetime.UTC)
    calendar = DemoCalendar.up_to(moment)
    assert calendar.now == moment and calendar.today == datetime.date(2027, 3, 5)
    last_day = ["2026-11-19 00:01", "2026-11-19 12:00", "2026-11-19 23:12", "2026-11-19 23:59"]
    times = [calendar.at(text) for text in last_day]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert all(datetime.datetime(2027, 3, 4, tzinfo=datetime.UTC) <= t < moment for t in times)
    # The days before keep their time of day, whole days earlier.
    assert calendar.at("2026-11-18 23:12") == datetime.datetime(2027, 3, 3, 23, 12, tzinfo=datetime.UTC)
