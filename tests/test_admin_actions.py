"""The staff screens at work: stock received and adjusted, orders shipped, delivered and cancelled,
payments refunded and notes added, from an object's page and from a selection on the list.

Each goes through its service with the staff member as the actor; what the service refuses is
reported per object and changes nothing, while the rest goes ahead. The pages listing a selection
cost the same number of queries for 5 objects as for 50.
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Product, Stock, StockMovement
from orders import services as order_services
from orders.models import Order, OrderEvent, Shipment
from payments.models import Payment
from tests.admin_support import (
    CUSTOMER_SERVICE,
    INVENTORY,
    MANAGER,
    SHIPPING,
    admin_url,
    confirm_action,
    log_in,
    messages_of,
    paid_order,
    place_order,
    start_action,
)
from tests.factories import OrderLineFactory, ProductFactory

pytestmark = pytest.mark.django_db

FEW, MANY = 5, 50


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def stock_of(product) -> tuple[int, int]:
    stock = Stock.objects.get(pk=product.pk)
    return stock.on_hand, stock.allocated


def queries_for(request) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = request()
    assert response.status_code == 200
    return len(queries)


# Receiving and adjusting stock of one product


def test_receiving_stock_from_the_product_page_adds_it_with_a_ledger_row_by_the_clerk(client):
    clerk = log_in(client, INVENTORY)
    product = ProductFactory(stock=4)
    url = admin_url(Product, "receive_stock", product.pk)

    page = client.get(url)
    response = client.post(url, {"quantity": "6", "note": "PO 1234"})

    assert page.status_code == 200
    assert response.status_code == 302
    assert response.url == admin_url(Product, "change", product.pk)
    assert stock_of(product) == (10, 0)
    movement = product.movements.get()
    assert (movement.kind, movement.on_hand_delta, movement.actor, movement.note) == (
        StockMovement.Kind.RECEIPT,
        6,
        clerk,
        "PO 1234",
    )
    assert any("10 on hand" in message for message in messages_of(response))


def test_adjusting_stock_from_the_product_page_records_the_reason(client):
    clerk = log_in(client, INVENTORY)
    product = ProductFactory(stock=10)

    response = client.post(
        admin_url(Product, "adjust_stock", product.pk),
        {"delta": "-3", "reason": "damaged", "note": "Dropped"},
    )

    assert response.status_code == 302
    assert stock_of(product) == (7, 0)
    movement = product.movements.get()
    assert (movement.kind, movement.reason, movement.on_hand_delta, movement.actor) == (
        StockMovement.Kind.ADJUSTMENT,
        StockMovement.Reason.DAMAGED,
        -3,
        clerk,
    )


def test_adjusting_below_allocated_shows_the_services_message_and_changes_nothing(client):
    log_in(client, INVENTORY)
    product = ProductFactory(name="Kettle", sku="KET-1", stock=5, stock__allocated=4)

    response = client.post(admin_url(Product, "adjust_stock", product.pk), {"delta": "-3", "reason": "lost"})

    assert response.status_code == 200
    assert messages_of(response) == [
        "Cannot adjust Kettle (KET-1) by -3: 5 on hand, 4 allocated to open orders, so on hand "
        "cannot go below 4."
    ]
    assert stock_of(product) == (5, 4)
    assert not product.movements.exists()


def test_receiving_zero_shows_the_services_message_and_changes_nothing(client):
    log_in(client, INVENTORY)
    product = ProductFactory(stock=5)

    response = client.post(admin_url(Product, "receive_stock", product.pk), {"quantity": "0"})

    assert response.status_code == 200
    assert messages_of(response) == ["The quantity must be at least 1, not 0."]
    assert stock_of(product) == (5, 0)


def test_a_quantity_that_is_not_a_number_is_a_form_error(client):
    log_in(client, INVENTORY)
    product = ProductFactory(stock=5)

    response = client.post(admin_url(Product, "receive_stock", product.pk), {"quantity": "many"})

    assert response.status_code == 200
    assert response.context["form"].errors["quantity"]
    assert stock_of(product) == (5, 0)


def test_receiving_stock_for_a_product_without_a_stock_row_creates_it(client):
    log_in(client, INVENTORY)
    product = ProductFactory()
    Stock.objects.filter(pk=product.pk).delete()

    page = client.get(admin_url(Product, "receive_stock", product.pk))
    response = client.post(admin_url(Product, "receive_stock", product.pk), {"quantity": "2"})

    assert "no stock recorded yet" in page.content.decode()
    assert response.status_code == 302
    assert stock_of(product) == (2, 0)


def test_stock_page_for_a_missing_product_is_not_found(client):
    log_in(client, INVENTORY)

    assert client.get(admin_url(Product, "receive_stock", 999999)).status_code == 404


# Receiving and adjusting the stock of a selection


def test_bulk_receive_asks_per_product_and_records_each_with_the_clerk(client):
    clerk = log_in(client, INVENTORY)
    products = [ProductFactory(stock=1) for _ in range(3)]

    page = start_action(client, Product, "receive_stock_selected", products)
    response = confirm_action(
        client,
        page,
        rows={p.pk: {"quantity": str(i + 1), "note": f"box {i}"} for i, p in enumerate(products)},
    )

    assert page.status_code == 200
    assert [p.pk for p in page.context["objects"]] == [p.pk for p in sorted(products, key=lambda p: p.name)]
    assert response.status_code == 302
    assert messages_of(response) == ["Received stock for 3 products."]
    for i, product in enumerate(products):
        assert stock_of(product) == (1 + i + 1, 0)
        movement = product.movements.get()
        assert (movement.on_hand_delta, movement.actor, movement.note) == (i + 1, clerk, f"box {i}")


def test_bulk_adjust_reports_the_product_it_cannot_adjust_and_adjusts_the_others(client):
    clerk = log_in(client, INVENTORY)
    fine = ProductFactory(name="A fine", stock=10)
    held = ProductFactory(name="B held", sku="HELD-1", stock=5, stock__allocated=5)
    also_fine = ProductFactory(name="C fine", stock=3)

    page = start_action(client, Product, "adjust_stock_selected", [fine, held, also_fine])
    response = confirm_action(
        client,
        page,
        rows={
            fine.pk: {"delta": "-2", "reason": "count"},
            held.pk: {"delta": "-1", "reason": "damaged"},
            also_fine.pk: {"delta": "4", "reason": "found"},
        },
    )

    assert response.status_code == 302
    assert messages_of(response) == [
        "Cannot adjust B held (HELD-1) by -1: 5 on hand, 5 allocated to open orders, so on hand "
        "cannot go below 5.",
        "Adjusted the stock of 2 products.",
    ]
    assert stock_of(fine) == (8, 0)
    assert stock_of(held) == (5, 5)
    assert stock_of(also_fine) == (7, 0)
    assert not held.movements.exists()
    assert set(StockMovement.objects.values_list("actor", flat=True)) == {clerk.pk}


def test_bulk_adjust_with_a_missing_reason_shows_the_page_again_and_changes_nothing(client):
    log_in(client, INVENTORY)
    products = [ProductFactory(stock=5) for _ in range(2)]

    page = start_action(client, Product, "adjust_stock_selected", products)
    response = confirm_action(
        client, page, rows={products[0].pk: {"delta": "1", "reason": "count"}, products[1].pk: {"delta": "1"}}
    )

    assert response.status_code == 200
    assert response.context["formset"].errors[1]["reason"]
    assert not StockMovement.objects.exists()


def test_bulk_page_refuses_answers_that_no_longer_match_the_selection(client):
    log_in(client, INVENTORY)
    products = [ProductFactory(stock=5) for _ in range(2)]
    page = start_action(client, Product, "receive_stock_selected", products)

    response = confirm_action(
        client,
        page,
        rows={
            products[0].pk: {"quantity": "1", "pk": str(products[1].pk)},
            products[1].pk: {"quantity": "1"},
        },
    )

    assert response.status_code == 200
    assert "The selection changed" in str(response.context["formset"].non_form_errors())
    assert not StockMovement.objects.exists()


@pytest.mark.parametrize("action", ["receive_stock_selected", "adjust_stock_selected"])
def test_bulk_stock_page_costs_the_same_queries_for_5_or_50_products(client, action):
    log_in(client, INVENTORY)
    products = [ProductFactory(stock=3) for _ in range(FEW)]
    start_action(client, Product, action, products)
    few = queries_for(lambda: start_action(client, Product, action, products))

    products += [ProductFactory(stock=3) for _ in range(MANY - FEW)]
    many = queries_for(lambda: start_action(client, Product, action, products))

    assert many == few


def test_out_of_stock_includes_products_without_a_stock_row_and_in_stock_is_above_threshold(client):
    never_stocked = ProductFactory(name="never")
    Stock.objects.filter(pk=never_stocked.pk).delete()
    empty = ProductFactory(name="empty", stock=0)
    ProductFactory(name="low", stock=3, stock__threshold=5)
    plenty = ProductFactory(name="plenty", stock=30, stock__threshold=5)

    assert set(Product.objects.out_of_stock()) == {never_stocked, empty}
    assert set(Product.objects.in_stock()) == {plenty}
    log_in(client, INVENTORY)
    listed = client.get(admin_url(Product, "changelist"), {"stock_level": "out"}).context["cl"].result_list
    assert set(listed) == {never_stocked, empty}


# Shipping


def _ship_rows(orders, carrier="UPS", prefix="1ZTRACK"):
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
        assert (shipment.carrier, shipment.tracking_number) == ("UPS", f"1ZTRACK{order.pk}")
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
        placed.pk: "Placed: cannot be shipped.",
        shipped.pk: "Shipped: cannot be shipped.",
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


def test_ship_page_takes_another_carrier_by_name(client):
    log_in(client, SHIPPING)
    order = paid_order(ProductFactory(stock=5))

    page = start_action(client, Order, "mark_shipped", [order])
    confirm_action(
        client,
        page,
        rows={order.pk: {"carrier": "Other", "other_carrier": "La Poste", "tracking_number": "LP1"}},
    )

    assert Shipment.objects.get(order=order).carrier == "La Poste"


def test_a_paid_order_left_without_tracking_number_is_reported_and_not_shipped(client):
    log_in(client, SHIPPING)
    product = ProductFactory(stock=5)
    first, second = paid_order(product), paid_order(product)

    page = start_action(client, Order, "mark_shipped", [first, second])
    response = confirm_action(
        client,
        page,
        rows={first.pk: {"carrier": "UPS", "tracking_number": "1Z1"}, second.pk: {"carrier": "UPS"}},
    )

    assert messages_of(response) == [
        f"{second.number}: Enter both the carrier and the tracking number to ship an order.",
        "1 order shipped.",
    ]
    second.refresh_from_db()
    assert second.status == Order.Status.PAID


def test_shipping_one_order_from_its_page(client):
    clerk = log_in(client, SHIPPING)
    order = paid_order(ProductFactory(stock=5))
    url = admin_url(Order, "ship", order.pk)

    page = client.get(url)
    response = client.post(url, {"carrier": "FedEx", "tracking_number": "FX123"})

    assert page.status_code == 200
    assert response.status_code == 302
    assert messages_of(response) == [f"Order {order.number} shipped."]
    shipment = Shipment.objects.get(order=order)
    assert (shipment.carrier, shipment.tracking_number) == ("FedEx", "FX123")
    assert order.events.get(kind=OrderEvent.Kind.SHIPPED).actor == clerk


def test_shipping_a_placed_order_from_its_page_shows_why_not(client):
    log_in(client, SHIPPING)
    order = place_order(ProductFactory(stock=5))

    response = client.post(admin_url(Order, "ship", order.pk), {"carrier": "UPS", "tracking_number": "1Z"})

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


# Refunds


def test_refunding_part_of_a_payment_from_its_page(client):
    manager = log_in(client, MANAGER)
    order = paid_order(ProductFactory(stock=4, price=Decimal("40.00")))
    payment = order.payments.get()
    url = admin_url(Payment, "refund", payment.pk)

    page = client.get(url)
    response = client.post(url, {"amount": "15.00", "reason": "Scratched lid"})

    assert page.context["form"]["amount"].value() == payment.amount
    assert response.status_code == 302
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("15.00")
    assert payment.status == Payment.Status.CAPTURED
    event = order.events.get(kind=OrderEvent.Kind.REFUNDED)
    assert event.actor == manager
    assert "Scratched lid" in event.message
    assert messages_of(response) == [
        f"Refunded 15.00 USD of order {order.number}'s payment; "
        f"{payment.amount - Decimal('15.00')} USD is left to refund."
    ]
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_refunding_more_than_is_left_shows_the_services_message_and_changes_nothing(client):
    log_in(client, MANAGER)
    order = paid_order(ProductFactory(stock=4, price=Decimal("10.00")))
    payment = order.payments.get()

    response = client.post(admin_url(Payment, "refund", payment.pk), {"amount": "500.00"})

    assert response.status_code == 200
    assert messages_of(response) == [
        f"A refund must be between 0.01 and {payment.amount} USD, not 500.00 USD."
    ]
    payment.refresh_from_db()
    assert payment.refunded_amount == 0


def test_refunding_with_an_empty_amount_refunds_everything_left(client):
    log_in(client, MANAGER)
    order = paid_order(ProductFactory(stock=4))
    payment = order.payments.get()

    client.post(admin_url(Payment, "refund", payment.pk), {"amount": ""})

    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert payment.refunded_amount == payment.amount
