"""The orders' staff screens: the order list and page (search, columns, what may be corrected,
the same number of queries however many lines, events and payments they show), and orders
shipped, delivered, cancelled and noted from an order's page and from a selection on the list.

Each goes through its service with the staff member as the actor; what the service refuses is
reported per order and changes nothing, while the rest goes ahead. The pages listing a selection
cost the same number of queries for 5 orders as for 50.
"""

import pytest

from catalog.models import StockMovement
from orders import services as order_services
from orders.models import Order, OrderEvent, Shipment
from payments.models import Payment
from tests.admin_support import (
    CUSTOMER_SERVICE,
    MANAGER,
    SHIPPING,
    admin_url,
    confirm_action,
    count_queries,
    form_data,
    log_in,
    messages_of,
    paid_order,
    place_order,
    queries_for,
    start_action,
    stock_of,
)
from tests.factories import (
    CarrierFactory,
    CustomerFactory,
    OrderEventFactory,
    OrderFactory,
    OrderLineFactory,
    PaymentFactory,
    ProductFactory,
    ShipmentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

FEW, MANY = 5, 50
MORE_ROWS = 50


# The order list and page


def test_order_page_query_count_does_not_grow_with_lines_events_and_payments(
    admin_client, django_assert_num_queries
):
    order = OrderFactory(customer__first_name="Ada")
    ShipmentFactory(order=order)

    def add_rows(count):
        for _ in range(count):
            OrderLineFactory(order=order)
            OrderEventFactory(order=order, actor=UserFactory())
            PaymentFactory(order=order)

    add_rows(2)
    url = admin_url(Order, "change", order.pk)
    admin_client.get(url)
    few = count_queries(admin_client, url)

    add_rows(MORE_ROWS)
    with django_assert_num_queries(few):
        response = admin_client.get(url)

    formsets = {inline.formset.prefix: inline.formset for inline in response.context["inline_admin_formsets"]}
    assert len(formsets["lines"].forms) == MORE_ROWS + 2
    assert len(formsets["events"].forms) == MORE_ROWS + 2
    assert len(formsets["payments"].forms) == MORE_ROWS + 2


def test_order_search_finds_by_customer_email(admin_client):
    order = OrderFactory(customer=CustomerFactory(email="findme@example.com"))
    OrderFactory()

    response = admin_client.get(admin_url(Order, "changelist"), {"q": "findme@example"})

    assert list(response.context["cl"].result_list) == [order]


def test_order_search_finds_by_tracking_number(admin_client):
    shipment = ShipmentFactory(tracking_number="1ZTRACKME0001")
    ShipmentFactory()
    OrderFactory()

    response = admin_client.get(admin_url(Order, "changelist"), {"q": "1ZTRACKME"})

    assert list(response.context["cl"].result_list) == [shipment.order]


def test_order_list_shows_total_with_currency_tracking_number_and_payment_label(admin_client):
    order = OrderFactory(
        currency="EUR",
        subtotal="40.00",
        shipping_cost="5.00",
        total="45.00",
        payment_method_label="PayPal (a@b.c)",
    )
    ShipmentFactory(order=order, tracking_number="1ZSHOWN")

    html = admin_client.get(admin_url(Order, "changelist")).content.decode()

    assert "45.00 EUR" in html
    assert "1ZSHOWN" in html
    assert "PayPal (a@b.c)" in html


def test_orders_are_never_added_through_a_model_form(admin_client):
    # "Add order" is the order desk (tests/orders/test_order_desk_admin.py): a customer is chosen
    # and a draft started by order_draft_create; no model form writes an order's fields. Deleting
    # one (allowed to those with orders.delete_order) releases its stock:
    # tests/orders/test_admin_order_delete.py.
    page = admin_client.get(admin_url(Order, "add"))
    posted = admin_client.post(
        admin_url(Order, "add"), {"status": "paid", "total": "0.00", "number": "SO-999999"}
    )

    assert page.status_code == 200
    assert "adminform" not in page.context
    assert posted.status_code == 200
    assert not Order.objects.exists()


def test_order_page_corrects_the_tracking_number_but_never_the_status_or_totals(admin_client):
    order = OrderFactory(status=Order.Status.SHIPPED, subtotal="10.00", total="10.00")
    ShipmentFactory(order=order, tracking_number="1ZTYPO")
    url = admin_url(Order, "change", order.pk)
    data = form_data(admin_client.get(url))
    data.update({"status": "cancelled", "total": "0.00", "shipments-0-tracking_number": "1ZFIXED"})

    response = admin_client.post(url, data)

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    assert str(order.total) == "10.00"
    assert Shipment.objects.get(order=order).tracking_number == "1ZFIXED"


def test_order_page_shows_lines_as_charged_and_the_timeline(admin_client):
    line = OrderLineFactory(product_name="Old name", unit_price="3.00", quantity=2, line_total="6.00")
    line.order.currency = "EUR"
    line.order.save()
    OrderEventFactory(order=line.order, message="Left at the door")

    html = admin_client.get(admin_url(Order, "change", line.order.pk)).content.decode()

    assert "Old name" in html
    assert "6.00 EUR" in html
    assert "Left at the door" in html


# Shipping


def _ship_rows(orders, carrier="ups", prefix="1ZTRACK"):
    return {order.pk: {"carrier": carrier, "tracking_number": f"{prefix}{order.pk}"} for order in orders}


def test_bulk_mark_shipped_ships_paid_orders_and_reports_placed_ones(client):
    clerk = log_in(client, SHIPPING)
    product = ProductFactory(stock=20)
    paid = [paid_order(product, quantity=2) for _ in range(2)]
    placed = place_order(product, quantity=3)

    page = start_action(client, Order, "mark_shipped", [*paid, placed])
    response = confirm_action(client, page, rows=_ship_rows([*paid, placed]))

    assert response.status_code == 302
    assert messages_of(response) == [
        f"Order {placed.number} is placed; it cannot become shipped. Nothing was changed.",
        "2 orders shipped.",
    ]
    for order in paid:
        order.refresh_from_db()
        assert order.status == Order.Status.SHIPPED
        shipment = Shipment.objects.get(order=order)
        assert (shipment.carrier.name, shipment.tracking_number) == ("UPS", f"1ZTRACK{order.pk}")
        assert order.events.get(kind=OrderEvent.Kind.SHIPPED).actor == clerk
        assert set(
            StockMovement.objects.filter(order_number=order.number, kind="sale").values_list(
                "actor", flat=True
            )
        ) == {clerk.pk}
    placed.refresh_from_db()
    assert placed.status == Order.Status.PLACED
    assert not Shipment.objects.filter(order=placed).exists()
    assert not placed.events.filter(kind=OrderEvent.Kind.SHIPPED).exists()
    # 20 received; 2 x 2 shipped; 3 still allocated to the placed order.
    assert stock_of(product) == (16, 3)


def test_ship_page_flags_orders_that_cannot_be_shipped_and_an_empty_row_reports_why(client):
    log_in(client, SHIPPING)
    product = ProductFactory(stock=20)
    paid = paid_order(product)
    placed = place_order(product)
    shipped = paid_order(product)
    order_services.order_ship(order=shipped, carrier="DHL", tracking_number="JD01")

    page = start_action(client, Order, "mark_shipped", [paid, placed, shipped])
    blocked = {row["order"].pk: row["blocked"] for row in page.context["rows"]}
    response = confirm_action(client, page, rows=_ship_rows([paid]))

    assert blocked == {
        paid.pk: "",
        placed.pk: "Placed: nothing left to ship.",
        shipped.pk: "Shipped: nothing left to ship.",
    }
    html = page.content.decode()
    assert "2 of these orders cannot be shipped" in html
    for order in [paid, placed]:
        assert order.number in html
        assert order.shipping_address_lines[1] in html
    assert f"1 × {product.name} ({product.sku})" in html
    *refusals, summary = messages_of(response)
    assert sorted(refusals) == [
        f"Order {placed.number} is placed; it cannot become shipped. Nothing was changed.",
        f"Order {shipped.number} is shipped; it cannot become shipped. Nothing was changed.",
    ]
    assert summary == "1 order shipped."
    assert Shipment.objects.get(order=shipped).tracking_number == "JD01"


def test_ship_page_offers_the_active_carriers_and_an_untracked_one_needs_no_number(client):
    log_in(client, SHIPPING)
    product = ProductFactory(stock=5)
    order, other = paid_order(product), paid_order(product)
    CarrierFactory(code="la-poste", name="La Poste", tracking_url="", tracked=False)
    CarrierFactory(code="gone", name="Gone Express", active=False)

    page = start_action(client, Order, "mark_shipped", [order, other])
    html = page.content.decode()
    refused = confirm_action(
        client,
        page,
        rows={order.pk: {"carrier": "la-poste", "tracking_number": ""}, other.pk: {"carrier": "gone"}},
    )
    assert "La Poste" in html and "Gone Express" not in html
    # The inactive carrier is not a choice: the page comes back saying so, nothing shipped.
    assert refused.status_code == 200
    assert "Select a valid choice" in refused.content.decode()
    assert not Shipment.objects.exists()

    shipped = confirm_action(
        client,
        page,
        rows={order.pk: {"carrier": "la-poste", "tracking_number": ""}, other.pk: {"carrier": "ups"}},
    )

    assert messages_of(shipped) == [
        f"{other.number}: UPS shipments need a tracking number.",
        "1 order shipped.",
    ]
    assert Shipment.objects.get(order=order).carrier.name == "La Poste"
    assert not Shipment.objects.filter(order=other).exists()


def test_a_paid_order_left_without_tracking_number_is_reported_and_not_shipped(client):
    log_in(client, SHIPPING)
    product = ProductFactory(stock=5)
    first, second = paid_order(product), paid_order(product)

    page = start_action(client, Order, "mark_shipped", [first, second])
    response = confirm_action(
        client,
        page,
        rows={first.pk: {"carrier": "ups", "tracking_number": "1Z1"}, second.pk: {"carrier": "ups"}},
    )

    assert messages_of(response) == [
        f"{second.number}: UPS shipments need a tracking number.",
        "1 order shipped.",
    ]
    second.refresh_from_db()
    assert second.status == Order.Status.PAID


def test_shipping_one_order_from_its_page(client):
    clerk = log_in(client, SHIPPING)
    order = paid_order(ProductFactory(stock=5))
    url = admin_url(Order, "ship", order.pk)

    page = client.get(url)
    response = client.post(
        url, {"carrier": "fedex", "tracking_number": "FX123", f"line_{order.lines.get().pk}": 1}
    )

    assert page.status_code == 200
    assert response.status_code == 302
    assert messages_of(response) == [f"Order {order.number} shipped (1 unit(s) in this shipment)."]
    shipment = Shipment.objects.get(order=order)
    assert (shipment.carrier.name, shipment.tracking_number) == ("FedEx", "FX123")
    assert order.events.get(kind=OrderEvent.Kind.SHIPPED).actor == clerk


def test_shipping_a_placed_order_from_its_page_shows_why_not(client):
    log_in(client, SHIPPING)
    order = place_order(ProductFactory(stock=5))

    response = client.post(admin_url(Order, "ship", order.pk), {"carrier": "ups", "tracking_number": "1Z"})

    assert response.status_code == 200
    assert messages_of(response) == [
        f"Order {order.number} is placed; it cannot become shipped. Nothing was changed."
    ]
    assert not Shipment.objects.filter(order=order).exists()


def test_bulk_mark_delivered_delivers_shipped_orders_and_reports_the_rest(client):
    clerk = log_in(client, SHIPPING)
    product = ProductFactory(stock=10)
    shipped = paid_order(product)
    order_services.order_ship(order=shipped, carrier="UPS", tracking_number="1ZD")
    paid = paid_order(product)

    page = start_action(client, Order, "mark_delivered", [shipped, paid])
    response = confirm_action(client, page)

    assert "1ZD" in page.content.decode()
    assert messages_of(response) == [
        f"Order {paid.number} is paid; it cannot become delivered. Nothing was changed.",
        "1 order delivered.",
    ]
    shipped.refresh_from_db()
    assert shipped.status == Order.Status.DELIVERED
    assert Shipment.objects.get(order=shipped).delivered_at is not None
    assert shipped.events.get(kind=OrderEvent.Kind.DELIVERED).actor == clerk
    paid.refresh_from_db()
    assert paid.status == Order.Status.PAID


def test_marking_one_order_delivered_from_its_page(client):
    log_in(client, SHIPPING)
    order = paid_order(ProductFactory(stock=5))
    order_services.order_ship(order=order, carrier="UPS", tracking_number="1ZX")

    response = client.post(admin_url(Order, "deliver", order.pk))

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED


@pytest.mark.parametrize(
    ("role", "action"),
    [(SHIPPING, "mark_shipped"), (SHIPPING, "mark_delivered"), (CUSTOMER_SERVICE, "cancel_selected")],
)
def test_bulk_order_page_costs_the_same_queries_for_5_or_50_orders(client, role, action):
    log_in(client, role)
    product = ProductFactory(stock=1000)

    def more_orders(count):
        orders = []
        for _ in range(count):
            order = paid_order(product)
            OrderLineFactory(order=order)  # two lines each, to show a lines summary
            orders.append(order)
        return orders

    orders = more_orders(FEW)
    start_action(client, Order, action, orders)
    few = queries_for(lambda: start_action(client, Order, action, orders))

    orders += more_orders(MANY - FEW)
    many = queries_for(lambda: start_action(client, Order, action, orders))

    assert many == few


@pytest.mark.parametrize("view", ["ship", "deliver", "cancel", "note"])
def test_order_page_for_one_order_costs_the_same_queries_for_2_or_50_lines(client, view):
    log_in(client, MANAGER)
    order = paid_order(ProductFactory(stock=5))
    OrderLineFactory(order=order)
    url = admin_url(Order, view, order.pk)
    client.get(url)
    few = queries_for(lambda: client.get(url))

    for _ in range(48):
        OrderLineFactory(order=order)
    many = queries_for(lambda: client.get(url))

    assert many == few


@pytest.mark.parametrize("role", [SHIPPING, CUSTOMER_SERVICE, MANAGER])
def test_order_page_costs_the_same_queries_for_few_or_many_lines_and_events_for_each_role(client, role):
    log_in(client, role)
    order = paid_order(ProductFactory(stock=5))
    url = admin_url(Order, "change", order.pk)
    client.get(url)
    few = queries_for(lambda: client.get(url))

    for _ in range(MANY):
        OrderLineFactory(order=order)
        order_services.order_add_note(order=order, message="More")
    many = queries_for(lambda: client.get(url))

    assert many == few


# Cancelling


def test_cancelling_a_paid_order_from_the_list_refunds_it_and_releases_its_stock(client):
    agent = log_in(client, CUSTOMER_SERVICE)
    product = ProductFactory(stock=10)
    order = paid_order(product, quantity=3)
    assert stock_of(product) == (10, 3)

    page = start_action(client, Order, "cancel_selected", [order])
    response = confirm_action(client, page, reason="Customer changed their mind")

    assert page.status_code == 200
    assert response.status_code == 302
    assert messages_of(response) == ["1 order cancelled."]
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert stock_of(product) == (10, 0)
    payment = order.payments.get()
    assert payment.status == Payment.Status.REFUNDED
    assert payment.refunded_amount == payment.amount
    cancelled = order.events.get(kind=OrderEvent.Kind.CANCELLED)
    assert (cancelled.actor, cancelled.message) == (agent, "Customer changed their mind")
    assert order.events.get(kind=OrderEvent.Kind.REFUNDED).actor == agent
    release = StockMovement.objects.get(order_number=order.number, kind=StockMovement.Kind.RELEASE)
    assert (release.actor, release.allocated_delta, release.note) == (
        agent,
        -3,
        "Customer changed their mind",
    )


def test_cancelling_reports_shipped_orders_and_cancels_the_open_ones(client):
    log_in(client, CUSTOMER_SERVICE)
    product = ProductFactory(stock=10)
    shipped = paid_order(product)
    order_services.order_ship(order=shipped, carrier="UPS", tracking_number="1ZC")
    placed = place_order(product)

    page = start_action(client, Order, "cancel_selected", [shipped, placed])
    response = confirm_action(client, page, reason="")

    assert messages_of(response) == [
        f"Order {shipped.number} is shipped; it cannot become cancelled. Nothing was changed.",
        "1 order cancelled.",
    ]
    shipped.refresh_from_db()
    placed.refresh_from_db()
    assert (shipped.status, placed.status) == (Order.Status.SHIPPED, Order.Status.CANCELLED)


def test_cancelling_one_order_from_its_page(client):
    agent = log_in(client, CUSTOMER_SERVICE)
    product = ProductFactory(stock=4)
    order = place_order(product, quantity=2)

    response = client.post(admin_url(Order, "cancel", order.pk), {"reason": "Duplicate order"})

    assert response.status_code == 302
    assert messages_of(response) == [f"Order {order.number} cancelled."]
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert order.events.get(kind=OrderEvent.Kind.CANCELLED).actor == agent
    assert stock_of(product) == (4, 0)


# Notes


def test_adding_a_note_from_the_order_page_puts_it_on_the_timeline(client):
    agent = log_in(client, CUSTOMER_SERVICE)
    order = place_order(ProductFactory(stock=4))

    order_page = client.get(admin_url(Order, "change", order.pk)).content.decode()
    response = client.post(admin_url(Order, "note", order.pk), {"message": "Asked to leave at the door"})

    assert 'id="staff-note"' in order_page
    assert response.status_code == 302
    assert response.url == admin_url(Order, "change", order.pk)
    assert messages_of(response) == [f"Note added to order {order.number}."]
    note = order.events.get(kind=OrderEvent.Kind.NOTE)
    assert (note.message, note.actor) == ("Asked to leave at the door", agent)
    assert "Asked to leave at the door" in client.get(response.url).content.decode()


def test_an_empty_note_is_refused_with_the_services_message(client):
    log_in(client, CUSTOMER_SERVICE)
    order = place_order(ProductFactory(stock=4))

    response = client.post(admin_url(Order, "note", order.pk), {"message": "  "})

    assert response.status_code == 302
    assert messages_of(response) == ["A note needs some text."]
    assert not order.events.filter(kind=OrderEvent.Kind.NOTE).exists()
