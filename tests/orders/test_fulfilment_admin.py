"""Fulfilment and returns on the staff screens: part of an order shipped from its page and then
the rest, one shipment of two delivered on a past date, units taken back (restocked and refunded,
or written off), packing slips for a shipment and for a selection, and the carriers' table.

Every step goes through its service: what a form or the service refuses is shown on the page and
changes nothing, whatever was typed; a wrong id is a 404, a role without the permission a 403.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape

from catalog.models import StockMovement
from orders import services as order_services
from orders.models import Carrier, Order, OrderEvent, Return, Shipment
from tests.admin_support import (
    CUSTOMER_SERVICE,
    INVENTORY,
    SHIPPING,
    admin_url,
    log_in,
    messages_of,
    paid_order,
    queries_for,
    start_action,
    stock_of,
)
from tests.factories import CarrierFactory, ProductFactory

pytestmark = pytest.mark.django_db

FEW, MANY = 5, 20
FORMULA = '=HYPERLINK("http://x")'


def _local(moment: datetime.datetime) -> str:
    """A moment as a datetime-local input posts it."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def _shipped_order(product, quantity: int = 3, *, tracking_number: str = "1ZRET", **kwargs):
    order = paid_order(product, quantity=quantity, **kwargs)
    order_services.order_ship(order=order, carrier="ups", tracking_number=tracking_number)
    order.refresh_from_db()
    return order


def _ship_part(order, line, quantity, tracking_number):
    """A shipment of `quantity` units of one line, made by the service."""
    return order_services.order_ship(
        order=order, carrier="ups", tracking_number=tracking_number, lines=[(line, quantity)]
    )


# Shipping from the order's page


def test_shipping_part_of_an_order_from_its_page_then_the_rest(client):
    clerk = log_in(client, SHIPPING)
    product = ProductFactory(stock=10)
    order = paid_order(product, quantity=3)
    line = order.lines.get()
    url = admin_url(Order, "ship", order.pk)

    page = client.get(url)
    first = client.post(url, {"carrier": "ups", "tracking_number": "1ZPART1", f"line_{line.pk}": "1"})

    # The page offers every unit that remains.
    assert page.status_code == 200
    assert page.context["form"][f"line_{line.pk}"].value() == 3
    assert first.status_code == 302
    assert messages_of(first) == [f"Order {order.number}: 1 unit(s) shipped; the rest is still to ship."]
    order.refresh_from_db()
    line.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_SHIPPED
    assert (line.quantity_shipped, line.quantity_to_ship) == (1, 2)
    # 1 left the shelf; 2 still allocated to the order.
    assert stock_of(product) == (9, 2)

    rest_page = client.get(url)
    second = client.post(url, {"carrier": "ups", "tracking_number": "1ZPART2", f"line_{line.pk}": "2"})

    assert rest_page.context["form"][f"line_{line.pk}"].value() == 2
    assert messages_of(second) == [f"Order {order.number} shipped (2 unit(s) in this shipment)."]
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    assert stock_of(product) == (7, 0)
    shipments = Shipment.objects.filter(order=order).order_by("tracking_number")
    assert [(s.tracking_number, [sl.quantity for sl in s.lines.all()]) for s in shipments] == [
        ("1ZPART1", [1]),
        ("1ZPART2", [2]),
    ]
    sales = StockMovement.objects.filter(order_number=order.number, kind=StockMovement.Kind.SALE)
    assert sorted(sales.values_list("on_hand_delta", flat=True)) == [-2, -1]
    assert set(sales.values_list("actor", flat=True)) == {clerk.pk}
    assert order.events.filter(kind=OrderEvent.Kind.SHIPPED).count() == 2


@pytest.mark.parametrize("quantity", ["4", str(10**20), "abc", "-1", "1.5"])
def test_shipping_more_than_remains_or_not_a_number_shows_the_error_and_ships_nothing(client, quantity):
    log_in(client, SHIPPING)
    product = ProductFactory(stock=10)
    order = paid_order(product, quantity=3)
    line = order.lines.get()

    response = client.post(
        admin_url(Order, "ship", order.pk),
        {"carrier": "ups", "tracking_number": "1ZOVER", f"line_{line.pk}": quantity},
    )

    assert response.status_code == 200
    errors = response.context["form"].errors[f"line_{line.pk}"]
    assert errors
    html = response.content.decode()
    for error in errors:
        assert escape(error) in html
    assert not Shipment.objects.filter(order=order).exists()
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert stock_of(product) == (10, 3)


def test_shipping_what_another_shipment_took_meanwhile_is_refused(client):
    # The page was opened while 3 remained; meanwhile 2 shipped: the posted form is checked
    # against what remains now, and nothing more ships.
    log_in(client, SHIPPING)
    product = ProductFactory(stock=10)
    order = paid_order(product, quantity=3)
    line = order.lines.get()
    url = admin_url(Order, "ship", order.pk)
    client.get(url)
    _ship_part(order, line, 2, "1ZFIRST")

    response = client.post(url, {"carrier": "ups", "tracking_number": "1ZLATE", f"line_{line.pk}": "3"})

    assert response.status_code == 200
    assert response.context["form"].errors[f"line_{line.pk}"] == [
        f"The quantity of {line.sku} must be a whole number from 0 to 1, not 3."
    ]
    assert not Shipment.objects.filter(tracking_number="1ZLATE").exists()
    assert stock_of(product) == (8, 1)


def test_awaiting_shipment_lists_paid_and_partially_shipped_orders_and_a_status_replaces_it(client):
    log_in(client, SHIPPING)
    product = ProductFactory(stock=20)
    paid = paid_order(product, quantity=2)
    partly = paid_order(product, quantity=2)
    _ship_part(partly, partly.lines.get(), 1, "1ZHALF")
    shipped = _shipped_order(product, quantity=1)
    url = admin_url(Order, "changelist")

    awaiting = client.get(url, {"status__in": "paid,partially_shipped"})

    assert {o.pk for o in awaiting.context["cl"].result_list} == {paid.pk, partly.pk}
    status_filter = next(f for f in awaiting.context["cl"].filter_specs if f.title == "status")
    links = {choice["display"]: choice for choice in status_filter.choices(awaiting.context["cl"])}
    assert not links["All"]["selected"]
    assert "status__in" not in links["All"]["query_string"]
    assert links["Shipped"]["query_string"] == "?status__exact=shipped"
    chosen = client.get(url + links["Shipped"]["query_string"])
    assert [o.pk for o in chosen.context["cl"].result_list] == [shipped.pk]


# Delivering one shipment of several


def test_delivering_one_shipment_of_two_on_a_past_date_and_a_future_date_is_refused(client):
    log_in(client, SHIPPING)
    product = ProductFactory(stock=10)
    order = paid_order(product, quantity=2)
    line = order.lines.get()
    first = _ship_part(order, line, 1, "1ZDAY1")
    second = _ship_part(order, line, 1, "1ZDAY2")
    four_days_ago = timezone.now() - datetime.timedelta(days=4)
    Shipment.objects.filter(pk__in=[first.pk, second.pk]).update(shipped_at=four_days_ago)
    url = admin_url(Order, "deliver", order.pk)
    two_days_ago = timezone.now() - datetime.timedelta(days=2)

    page = client.get(url)
    offered = {s.pk for s in page.context["form"].fields["shipment"].queryset}
    future = client.post(
        url, {"shipment": first.pk, "delivered_at": _local(timezone.now() + datetime.timedelta(days=2))}
    )
    delivered = client.post(url, {"shipment": first.pk, "delivered_at": _local(two_days_ago)})

    assert page.status_code == 200
    assert offered == {first.pk, second.pk}
    assert future.status_code == 200
    assert messages_of(future) == ["A delivery cannot be in the future: nothing was changed."]
    assert delivered.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Shipment.Status.DELIVERED
    assert _local(first.delivered_at) == _local(two_days_ago)
    assert (second.status, second.delivered_at) == (Shipment.Status.IN_TRANSIT, None)
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED  # one parcel still on its way

    rest = client.post(url, {"shipment": "", "delivered_at": ""})

    assert rest.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED


def test_a_delivery_before_the_shipment_left_is_refused(client):
    log_in(client, SHIPPING)
    order = _shipped_order(ProductFactory(stock=5), quantity=1)
    shipment = order.shipments.get()

    response = client.post(
        admin_url(Order, "deliver", order.pk),
        {"shipment": shipment.pk, "delivered_at": _local(timezone.now() - datetime.timedelta(days=3))},
    )

    assert response.status_code == 200
    [message] = messages_of(response)
    assert message.startswith("That is before the shipment left")
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.IN_TRANSIT


@pytest.mark.parametrize("value", ["yesterday", "99999-01-01T00:00", "2026-13-45T25:61"])
def test_a_delivery_date_that_is_no_date_is_a_form_error(client, value):
    log_in(client, SHIPPING)
    order = _shipped_order(ProductFactory(stock=5), quantity=1)

    response = client.post(admin_url(Order, "deliver", order.pk), {"shipment": "", "delivered_at": value})

    assert response.status_code == 200
    assert response.context["form"].errors["delivered_at"]
    assert order.shipments.get().status == Shipment.Status.IN_TRANSIT


# Returns


def test_returning_one_unit_restocked_and_refunded(client):
    agent = log_in(client, CUSTOMER_SERVICE)
    product = ProductFactory(stock=10, price=Decimal("12.50"))
    order = _shipped_order(product, quantity=3)
    line = order.lines.get()
    url = admin_url(Order, "return_items", order.pk)
    assert stock_of(product) == (7, 0)

    page = client.get(url)
    response = client.post(
        url,
        {f"line_{line.pk}": "1", f"restock_{line.pk}": "on", "refund": "on", "reason": "Wrong size"},
    )

    assert page.status_code == 200
    assert response.status_code == 302
    record = Return.objects.get(order=order)
    assert messages_of(response) == [
        f"Return #{record.pk} of order {order.number}: 1 unit(s) taken back, 12.50 USD refunded."
    ]
    assert (record.refunded_amount, record.reason, record.actor) == (Decimal("12.50"), "Wrong size", agent)
    assert [(rl.quantity, rl.restocked) for rl in record.lines.all()] == [(1, True)]
    assert order.payments.get().refunded_amount == Decimal("12.50")
    assert stock_of(product) == (8, 0)
    movement = StockMovement.objects.get(order_number=order.number, on_hand_delta=1)
    assert movement.kind == "return"
    order.refresh_from_db()
    line.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_RETURNED
    assert line.quantity_returned == 1
    assert order.events.get(kind=OrderEvent.Kind.RETURNED).actor == agent
    # The order's page shows the return and its refund.
    order_page = client.get(admin_url(Order, "change", order.pk)).content.decode()
    assert f"#{record.pk}" in order_page and "12.50 USD" in order_page and "Wrong size" in order_page


def test_returning_a_damaged_unit_without_restock_or_refund_changes_no_stock(client):
    log_in(client, CUSTOMER_SERVICE)
    product = ProductFactory(stock=10)
    order = _shipped_order(product, quantity=2)
    line = order.lines.get()

    response = client.post(
        admin_url(Order, "return_items", order.pk), {f"line_{line.pk}": "1", "reason": "Broken"}
    )

    assert response.status_code == 302
    record = Return.objects.get(order=order)
    assert [(rl.quantity, rl.restocked) for rl in record.lines.all()] == [(1, False)]
    assert record.refunded_amount == 0
    assert order.payments.get().refunded_amount == 0
    assert stock_of(product) == (8, 0)
    assert not StockMovement.objects.filter(order_number=order.number, on_hand_delta__gt=0).exists()
    order.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_RETURNED


def test_returning_every_unit_makes_the_order_returned(client):
    log_in(client, CUSTOMER_SERVICE)
    product = ProductFactory(stock=10)
    order = _shipped_order(product, quantity=2)
    line = order.lines.get()

    client.post(
        admin_url(Order, "return_items", order.pk), {f"line_{line.pk}": "2", f"restock_{line.pk}": "on"}
    )

    order.refresh_from_db()
    assert order.status == Order.Status.RETURNED
    assert stock_of(product) == (10, 0)


@pytest.mark.parametrize("quantity", ["3", str(10**20), "abc", "0", ""])
def test_returning_more_than_shipped_or_nothing_is_an_error_and_changes_nothing(client, quantity):
    log_in(client, CUSTOMER_SERVICE)
    product = ProductFactory(stock=10)
    order = _shipped_order(product, quantity=2)
    line = order.lines.get()

    response = client.post(
        admin_url(Order, "return_items", order.pk),
        {f"line_{line.pk}": quantity, f"restock_{line.pk}": "on", "refund": "on"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Return.objects.exists()
    assert order.payments.get().refunded_amount == 0
    assert stock_of(product) == (8, 0)
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED


def test_a_return_for_a_paid_order_not_shipped_is_refused(client):
    log_in(client, CUSTOMER_SERVICE)
    order = paid_order(ProductFactory(stock=5))

    page = client.get(admin_url(Order, "return_items", order.pk))
    posted = client.post(admin_url(Order, "return_items", order.pk), {"reason": "x"})

    assert page.status_code == 200
    assert "only a shipped or delivered order" in page.content.decode()
    assert posted.status_code == 200
    assert not Return.objects.exists()


def test_a_formula_as_reason_and_tracking_number_is_shown_as_text(client):
    log_in(client, CUSTOMER_SERVICE)
    product = ProductFactory(stock=10)
    order = _shipped_order(product, quantity=2, tracking_number=FORMULA)
    line = order.lines.get()
    client.post(admin_url(Order, "return_items", order.pk), {f"line_{line.pk}": "1", "reason": FORMULA})

    pages = [
        client.get(admin_url(Order, "change", order.pk)),
        client.get(admin_url(Return, "changelist")),
        client.get(admin_url(Return, "change", Return.objects.get().pk)),
        client.get(admin_url(Order, "changelist")),
    ]

    for response in pages:
        assert response.status_code == 200
        html = response.content.decode()
        assert FORMULA not in html
        assert escape(FORMULA) in html
    # The tracking number goes into the carrier's link quoted, never as markup.
    assert Shipment.objects.get().tracking_link == (
        "https://www.ups.com/track?tracknum=%3DHYPERLINK%28%22http%3A%2F%2Fx%22%29"
    )


# Wrong ids and roles


@pytest.mark.parametrize(
    "url",
    [
        "/admin/orders/order/999999/return-items/",
        "/admin/orders/order/abc/return-items/",
        "/admin/orders/order/999999/ship/",
        "/admin/orders/order/99999999999999999999999/deliver/",
        "/admin/orders/shipment/abc/packing-slip/",
        "/admin/orders/shipment/999999/packing-slip/",
        "/admin/orders/shipment/99999999999999999999999/packing-slip/",
        "/admin/orders/shipment/-1/packing-slip/",
    ],
)
def test_a_wrong_id_is_not_found(admin_client, url):
    assert admin_client.get(url).status_code == 404
    assert admin_client.post(url, {"line_1": "1"}).status_code == 404


def test_inventory_staff_may_not_ship_return_or_print_packing_slips(client):
    product = ProductFactory(stock=10)
    paid = paid_order(product)
    shipped = _shipped_order(product, quantity=1)
    shipment = shipped.shipments.get()
    log_in(client, INVENTORY)
    line = paid.lines.get()

    urls = [
        (
            admin_url(Order, "ship", paid.pk),
            {"carrier": "ups", "tracking_number": "1Z", f"line_{line.pk}": "1"},
        ),
        (admin_url(Order, "return_items", shipped.pk), {f"line_{shipped.lines.get().pk}": "1"}),
        (admin_url(Shipment, "packing_slip", shipment.pk), {}),
    ]

    for url, data in urls:
        assert client.get(url).status_code == 403
        assert client.post(url, data).status_code == 403
    assert Shipment.objects.count() == 1
    assert not Return.objects.exists()


def test_shipping_staff_may_not_take_returns(client):
    log_in(client, SHIPPING)
    order = _shipped_order(ProductFactory(stock=5), quantity=1)

    response = client.post(admin_url(Order, "return_items", order.pk), {f"line_{order.lines.get().pk}": "1"})

    assert response.status_code == 403
    assert not Return.objects.exists()


# Packing slips


def test_a_shipments_packing_slip_shows_the_store_the_address_the_lines_and_the_order_number(
    client, settings
):
    settings.SHOP_STORE_NAME = "Harbour & Hill Goods"
    log_in(client, SHIPPING)
    first, second = ProductFactory(stock=10, sku="MUG-BLUE"), ProductFactory(stock=10, sku="TEA-TIN")
    order = paid_order(first, second, quantity=3)
    lines = {line.sku: line for line in order.lines.all()}
    shipment = order_services.order_ship(
        order=order,
        carrier="ups",
        tracking_number="1ZSLIP",
        lines=[(lines["MUG-BLUE"], 2), (lines["TEA-TIN"], 1)],
    )

    response = client.get(admin_url(Shipment, "packing_slip", shipment.pk))

    assert response.status_code == 200
    html = response.content.decode()
    assert escape("Harbour & Hill Goods") in html
    assert order.number in html
    for address_line in order.shipping_address_lines:
        assert escape(address_line) in html
    assert '<td class="sku">MUG-BLUE</td>' in html
    assert '<td class="sku">TEA-TIN</td>' in html
    slip = response.context["slips"][0]
    assert [(line.sku, line.quantity) for line in slip.lines] == [("MUG-BLUE", 2), ("TEA-TIN", 1)]
    assert '<td class="qty">2</td>' in html and '<td class="qty">1</td>' in html
    assert "1ZSLIP" in html
    # The order page's shipments link to it.
    order_page = client.get(admin_url(Order, "change", order.pk)).content.decode()
    assert admin_url(Shipment, "packing_slip", shipment.pk) in order_page


def test_printing_packing_slips_for_a_selection_costs_the_same_queries_for_5_or_20_orders(client):
    log_in(client, SHIPPING)
    product = ProductFactory(stock=1000)

    def more_orders(count):
        orders = [paid_order(product, quantity=2) for _ in range(count)]
        # Some shipped in part, so both kinds of slip are in the selection.
        for order in orders[::2]:
            _ship_part(order, order.lines.get(), 1, f"1ZSEL{order.pk}")
        return orders

    two = more_orders(2)
    response = start_action(client, Order, "print_packing_slips", two)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('<section class="slip">') == 2
    for order in two:
        assert order.number in html

    orders = more_orders(FEW)
    start_action(client, Order, "print_packing_slips", orders)
    few = queries_for(lambda: start_action(client, Order, "print_packing_slips", orders))
    orders += more_orders(MANY - FEW)
    many = queries_for(lambda: start_action(client, Order, "print_packing_slips", orders))

    assert many == few


# Carriers


@pytest.mark.parametrize(
    "pattern",
    [
        "javascript:alert(1)//{tracking_number}",
        "ftp://example.com/{tracking_number}",
        "//evil.example/{tracking_number}",
        " https://www.example.com/{tracking_number}",
    ],
)
def test_a_tracking_pattern_that_is_not_a_web_address_is_refused_by_the_database(pattern):
    with pytest.raises(IntegrityError), transaction.atomic():
        Carrier.objects.create(code="bad", name="Bad", tracking_url=pattern)

    # Never a link, even for a row that got past the database.
    carrier = Carrier(code="bad", name="Bad", tracking_url=pattern)
    assert carrier.tracking_link("1Z") == ""
    shipment = Shipment(pk=1, carrier=carrier, tracking_number="1ZNOLINK", shipped_at=timezone.now())
    html = render_to_string("admin/orders/order/shipments_summary.html", {"shipments": [(shipment, [])]})
    assert "1ZNOLINK" in html
    assert '<a href="javascript' not in html and "evil.example" not in html and "ftp:" not in html


def test_a_tracking_pattern_without_the_place_for_the_number_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        Carrier.objects.create(code="bad", name="Bad", tracking_url="https://www.example.com/track")


def test_the_carrier_form_refuses_a_pattern_that_is_not_a_web_address(admin_client):
    response = admin_client.post(
        admin_url(Carrier, "add"),
        {
            "name": "Bad",
            "code": "bad",
            "tracking_url": "javascript:alert(1)//{tracking_number}",
            "tracked": "on",
        },
    )

    assert response.status_code == 200
    assert "The tracking link pattern is a web address" in response.content.decode()
    assert not Carrier.objects.filter(code="bad").exists()


def test_deleting_a_carrier_with_shipments_is_refused_and_names_them(admin_client):
    carrier = CarrierFactory(code="dhl-local", name="DHL Local")
    order = paid_order(ProductFactory(stock=5))
    order_services.order_ship(order=order, carrier=carrier, tracking_number="JDLOCAL")
    url = admin_url(Carrier, "delete", carrier.pk)

    page = admin_client.get(url)
    posted = admin_client.post(url, {"post": "yes"})
    bulk = admin_client.post(
        admin_url(Carrier, "changelist"),
        {"action": "delete_selected", "_selected_action": [carrier.pk], "post": "yes"},
    )

    for response in [page, posted, bulk]:
        assert response.status_code == 200
        html = response.content.decode()
        assert "Cannot delete carrier" in html
        assert "dhl-local JDLOCAL" in html
    assert Carrier.objects.filter(pk=carrier.pk).exists()
    assert Shipment.objects.get(order=order).carrier_id == "dhl-local"


def test_an_unused_carrier_is_deleted(admin_client):
    carrier = CarrierFactory(code="gone", name="Gone")

    response = admin_client.post(admin_url(Carrier, "delete", carrier.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Carrier.objects.filter(pk="gone").exists()
