"""The catalog's staff screens: product and stock pages cost the same number of queries however
many ledger rows they show and keep the shop's rules (stock created with the product, quantities
changed only by the services, an ordered product kept); stock received and adjusted from a
product's page and from a selection on the list, through the services with the staff member as
the actor, in the same number of queries for 5 products as for 50."""

import pytest
from django.contrib.auth.models import Group

from catalog.models import Product, Stock, StockMovement
from tests.admin_support import (
    INVENTORY,
    admin_url,
    confirm_action,
    count_queries,
    form_data,
    log_in,
    messages_of,
    page_errors,
    queries_for,
    start_action,
    stock_of,
)
from tests.factories import (
    OrderLineFactory,
    ProductFactory,
    ProductTypeFactory,
    StockMovementFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

FEW, MANY = 5, 50
MORE_ROWS = 50


# Product and stock pages


def test_product_page_query_count_does_not_grow_with_ledger_rows(admin_client, django_assert_num_queries):
    product = ProductFactory(stock=5)
    for _ in range(5):
        StockMovementFactory(product=product, actor=UserFactory())
    url = admin_url(Product, "change", product.pk)
    admin_client.get(url)
    few = count_queries(admin_client, url)

    for _ in range(MORE_ROWS):
        StockMovementFactory(product=product, actor=UserFactory())
    with django_assert_num_queries(few):
        response = admin_client.get(url)

    assert "Whole ledger for this product" in response.content.decode()


def test_adding_product_through_admin_creates_its_stock_row(admin_client):
    product_type = ProductTypeFactory()
    data = form_data(admin_client.get(admin_url(Product, "add")))
    data.update(
        name="Kettle",
        sku="KET-1",
        product_type=str(product_type.pk),
        price="24.50",
        currency="USD",
        is_active="on",
    )

    response = admin_client.post(admin_url(Product, "add"), data)

    assert response.status_code == 302
    stock = Stock.objects.get(product__sku="KET-1")
    assert (stock.on_hand, stock.allocated) == (0, 0)


def test_product_page_saves_the_threshold_but_never_stock_quantities(admin_client):
    product = ProductFactory(stock=7, stock__allocated=2)
    url = admin_url(Product, "change", product.pk)
    data = form_data(admin_client.get(url))
    data.update({"stock-0-low_stock_threshold": "9", "stock-0-on_hand": "999", "stock-0-allocated": "0"})

    response = admin_client.post(url, data)

    assert response.status_code == 302
    stock = Stock.objects.get(pk=product.pk)
    assert (stock.on_hand, stock.allocated, stock.low_stock_threshold) == (7, 2, 9)


def test_product_list_shows_price_with_currency_and_available_stock(admin_client):
    ProductFactory(name="Teapot", price="12.00", currency="EUR", stock=10, stock__allocated=4)

    response = admin_client.get(admin_url(Product, "changelist"))

    html = response.content.decode()
    assert "12.00 EUR" in html
    assert '<td class="field-available">6</td>' in html


@pytest.mark.parametrize(
    ("level", "expected"),
    [("out", {"empty", "all-allocated"}), ("low", {"low"}), ("in", {"plenty"})],
)
def test_stock_level_filter_on_products_and_stock(admin_client, level, expected):
    ProductFactory(name="empty", stock=0)
    ProductFactory(name="all-allocated", stock=4, stock__allocated=4)
    ProductFactory(name="low", stock=8, stock__allocated=4, stock__threshold=5)
    ProductFactory(name="plenty", stock=50, stock__allocated=4, stock__threshold=5)

    products = admin_client.get(admin_url(Product, "changelist"), {"stock_level": level})
    stock = admin_client.get(admin_url(Stock, "changelist"), {"stock_level": level})

    assert {p.name for p in products.context["cl"].result_list} == expected
    assert {s.product.name for s in stock.context["cl"].result_list} == expected


def test_negative_threshold_on_product_page_shows_error_and_saves_nothing(admin_client):
    product = ProductFactory(stock=7)
    url = admin_url(Product, "change", product.pk)
    data = form_data(admin_client.get(url))
    data["stock-0-low_stock_threshold"] = "-1"

    response = admin_client.post(url, data)

    assert response.status_code == 200
    expected = "The low-stock threshold must be a whole number from 0 to 1,000,000, not -1."
    assert expected in page_errors(response)
    assert Stock.objects.get(pk=product.pk).low_stock_threshold == 5


def test_stock_page_saves_the_threshold_only(admin_client):
    stock = ProductFactory(stock=7, stock__allocated=2).stock
    url = admin_url(Stock, "change", stock.pk)
    data = form_data(admin_client.get(url))
    data.update(low_stock_threshold="11", on_hand="999", allocated="0")

    response = admin_client.post(url, data)

    assert response.status_code == 302
    stock.refresh_from_db()
    assert (stock.on_hand, stock.allocated, stock.low_stock_threshold) == (7, 2, 11)


def test_store_manager_deletes_a_never_ordered_product_with_its_stock_and_ledger(client):
    manager = UserFactory()
    manager.groups.add(Group.objects.get(name="Store manager"))
    client.force_login(manager)
    product = ProductFactory(stock=4)
    StockMovementFactory(product=product)

    response = client.post(admin_url(Product, "delete", product.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Product.objects.filter(pk=product.pk).exists()
    assert not Stock.objects.filter(product_id=product.pk).exists()
    assert not StockMovement.objects.filter(product_id=product.pk).exists()


def test_ordered_product_shows_the_protected_page_and_is_kept(admin_client):
    line = OrderLineFactory()
    url = admin_url(Product, "delete", line.product_id)

    page = admin_client.get(url)
    confirm = admin_client.post(url, {"post": "yes"})

    assert page.context["title"] == "Cannot delete product"
    assert page.context["protected"]
    assert not page.context["perms_lacking"]
    assert confirm.status_code == 200
    assert Product.objects.filter(pk=line.product_id).exists()
    assert Stock.objects.filter(product_id=line.product_id).exists()


def test_stock_rows_cannot_be_added_or_deleted(admin_client):
    stock = ProductFactory(stock=3).stock

    assert admin_client.get(admin_url(Stock, "add")).status_code == 403
    assert admin_client.post(admin_url(Stock, "delete", stock.pk), {"post": "yes"}).status_code == 403
    assert Stock.objects.filter(pk=stock.pk).exists()


def test_ledger_search_finds_by_product_sku_and_order_number(admin_client):
    mine = StockMovementFactory(product=ProductFactory(sku="FIND-ME"), order_number="ORD-42")
    StockMovementFactory()
    url = admin_url(StockMovement, "changelist")

    for term in ["FIND-ME", "ORD-42"]:
        assert list(admin_client.get(url, {"q": term}).context["cl"].result_list) == [mine]


def test_ledger_filters_by_kind_and_reason(admin_client):
    receipt = StockMovementFactory(kind=StockMovement.Kind.RECEIPT)
    damaged = StockMovementFactory(
        kind=StockMovement.Kind.ADJUSTMENT, reason=StockMovement.Reason.DAMAGED, on_hand_delta=-1
    )
    url = admin_url(StockMovement, "changelist")

    assert list(admin_client.get(url, {"kind__exact": "receipt"}).context["cl"].result_list) == [receipt]
    assert list(admin_client.get(url, {"reason__exact": "damaged"}).context["cl"].result_list) == [damaged]


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


def test_receiving_zero_is_a_form_error_naming_the_range_and_changes_nothing(client):
    log_in(client, INVENTORY)
    product = ProductFactory(stock=5)

    response = client.post(admin_url(Product, "receive_stock", product.pk), {"quantity": "0"})

    assert response.status_code == 200
    assert response.context["form"].errors["quantity"] == [
        "The quantity must be a whole number from 1 to 1,000,000, not 0."
    ]
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
