"""The admin: every registered model's pages render for a superuser, changelists and change pages
cost the same number of queries however many rows they show, and the admin keeps the shop's rules
(read-only ledgers and orders, one default per customer, stock created with the product)."""

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import Product, ProductType, Stock, StockMovement
from customers.models import Address, Customer
from orders.models import Order, OrderEvent, OrderLine, Shipment
from payments.models import Payment, PaymentMethod
from shop.backoffice.admin import CUSTOMER_PAGE_ORDERS
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
    ProductTypeFactory,
    ShipmentFactory,
    StockMovementFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SHOP_APPS = {"customers", "catalog", "orders", "payments"}
MORE_ROWS = 50


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Rows get real staff actors; hashing each one's password the slow, safe way costs seconds."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_order():
    """An order with a payment label; every other one shipped, so the list meets both cases."""
    order = OrderFactory(payment_method_label="Visa •••• 4242 exp 12/2030")
    if order.pk % 2:
        ShipmentFactory(order=order)
    return order


# One row of each registered model, built with every relation its admin columns show.
MAKERS = {
    Customer: lambda: OrderFactory().customer,
    Address: lambda: AddressFactory(is_default_shipping=True),
    ProductType: lambda: ProductFactory().product_type,
    Product: lambda: ProductFactory(stock=10),
    Stock: lambda: ProductFactory(stock=3).stock,
    StockMovement: lambda: StockMovementFactory(actor=UserFactory(), order_number="TEST-1"),
    Order: make_order,
    OrderLine: lambda: OrderLineFactory(),
    Shipment: lambda: ShipmentFactory(),
    OrderEvent: lambda: OrderEventFactory(actor=UserFactory()),
    PaymentMethod: lambda: PaymentMethodFactory(),
    Payment: lambda: PaymentFactory(),
}
ADDABLE = {Customer, Address, ProductType, Product, PaymentMethod}
SERVICE_WRITTEN = [StockMovement, Payment, OrderLine, OrderEvent]


def model_id(model):
    return model.__name__


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def form_data(response) -> dict:
    """What a browser would post back, unchanged, for the admin form and inlines on this page."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for field in form:
            value = field.value()
            if isinstance(value, bool):
                if value:
                    data[field.html_name] = "on"
            else:
                data[field.html_name] = "" if value is None else str(value)
    return data


def page_errors(response) -> str:
    """Every error shown on an admin form page (fields, forms, inlines), as one string."""
    errors = [str(error) for error in response.context["errors"]]
    for inline in response.context["inline_admin_formsets"]:
        errors += [str(error) for error in inline.formset.non_form_errors()]
    return " ".join(errors)


# Every registered model


def test_every_registered_shop_model_is_covered_by_these_tests():
    registered = {model for model in admin.site._registry if model._meta.app_label in SHOP_APPS}
    assert registered == set(MAKERS)


@pytest.mark.parametrize("model", MAKERS, ids=model_id)
def test_changelist_query_count_does_not_grow_with_rows(admin_client, django_assert_num_queries, model):
    make = MAKERS[model]
    make()
    make()
    url = admin_url(model, "changelist")
    admin_client.get(url)  # warm process-wide caches (content types) before counting
    few = count_queries(admin_client, url)

    for _ in range(MORE_ROWS):
        make()
    with django_assert_num_queries(few):
        response = admin_client.get(url)

    assert response.status_code == 200
    # Every row on the page (a full page where the list shows fewer rows a page).
    cl = response.context["cl"]
    assert len(cl.result_list) == min(MORE_ROWS + 2, cl.list_per_page)


@pytest.mark.parametrize("model", MAKERS, ids=model_id)
def test_change_page_renders(admin_client, model):
    obj = MAKERS[model]()

    response = admin_client.get(admin_url(model, "change", obj.pk))

    assert response.status_code == 200


@pytest.mark.parametrize("model", MAKERS, ids=model_id)
def test_add_page_renders_where_adding_is_allowed_and_is_forbidden_elsewhere(admin_client, model):
    response = admin_client.get(admin_url(model, "add"))

    assert response.status_code == (200 if model in ADDABLE else 403)


@pytest.mark.parametrize("model", SERVICE_WRITTEN, ids=model_id)
def test_service_written_records_cannot_be_added_changed_or_deleted(admin_client, model):
    obj = MAKERS[model]()
    change_url = admin_url(model, "change", obj.pk)

    view = admin_client.get(change_url)
    post = admin_client.post(change_url, {})
    delete = admin_client.post(admin_url(model, "delete", obj.pk), {"post": "yes"})

    assert view.status_code == 200
    assert not view.context["has_change_permission"]
    assert post.status_code == 403
    assert delete.status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


# Change pages with inlines: no query per inline row


def test_customer_page_query_count_does_not_grow_with_addresses_payment_methods_and_orders(
    admin_client, django_assert_num_queries
):
    customer = CustomerFactory()

    def add_rows(count):
        for _ in range(count):
            AddressFactory(customer=customer)
            PaymentMethodFactory(customer=customer)
            PayPalMethodFactory(customer=customer)
            OrderFactory(customer=customer)

    add_rows(2)
    url = admin_url(Customer, "change", customer.pk)
    admin_client.get(url)
    few = count_queries(admin_client, url)

    add_rows(MORE_ROWS)
    with django_assert_num_queries(few):
        response = admin_client.get(url)

    formsets = {inline.formset.prefix: inline.formset for inline in response.context["inline_admin_formsets"]}
    assert len(formsets["addresses"].forms) == MORE_ROWS + 2
    assert len(formsets["payment_methods"].forms) == 2 * (MORE_ROWS + 2)
    # Orders are a table of the latest ones, linking to the rest (tests/test_bench_pages.py).
    assert "orders" not in formsets
    order_links = re.findall(r'href="/admin/orders/order/\d+/change/"', response.content.decode())
    assert len(order_links) == CUSTOMER_PAGE_ORDERS


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


# Customers and addresses


def test_deleting_customer_with_orders_shows_protected_page_and_deletes_nothing(admin_client):
    order = OrderFactory()
    customer = order.customer
    AddressFactory(customer=customer)
    url = admin_url(Customer, "delete", customer.pk)

    page = admin_client.get(url)
    confirm = admin_client.post(url, {"post": "yes"})

    assert page.status_code == 200
    assert page.context["title"] == "Cannot delete customer"
    assert page.context["protected"]
    assert not page.context["perms_lacking"]
    assert order.number in page.content.decode()
    assert confirm.status_code == 200
    assert confirm.context["protected"]
    assert Customer.objects.filter(pk=customer.pk).exists()
    assert customer.addresses.count() == 1
    assert Order.objects.filter(pk=order.pk).exists()


def test_deleting_customer_without_orders_removes_addresses_and_payment_methods(admin_client):
    customer = CustomerFactory()
    AddressFactory(customer=customer)
    PaymentMethodFactory(customer=customer)

    response = admin_client.post(admin_url(Customer, "delete", customer.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert not Address.objects.filter(customer_id=customer.pk).exists()
    assert not PaymentMethod.objects.filter(customer_id=customer.pk).exists()


def test_customer_search_finds_by_name_email_and_phone(admin_client):
    customer = CustomerFactory(first_name="Grace", last_name="Hopper", email="grace@navy.example")
    CustomerFactory(first_name="Alan", last_name="Turing", email="alan@example.com")
    url = admin_url(Customer, "changelist")

    shown_phone = str(customer.phone)  # national format, e.g. (202) 555-0123
    for term in ["Grace", "hopper", "navy.example", shown_phone, shown_phone[-8:], customer.phone.as_e164]:
        results = list(admin_client.get(url, {"q": term}).context["cl"].result_list)
        assert results == [customer], term


def test_second_customer_with_same_email_in_other_case_shows_error(admin_client):
    CustomerFactory(email="dup@example.com")
    data = form_data(admin_client.get(admin_url(Customer, "add")))
    data.update(first_name="Dup", last_name="Licate", email="DUP@example.com")

    response = admin_client.post(admin_url(Customer, "add"), data)

    assert response.status_code == 200
    assert "A customer with this email address already exists." in page_errors(response)
    assert Customer.objects.count() == 1


def test_generated_columns_are_never_form_fields(admin_client):
    address = AddressFactory()
    method = PaymentMethodFactory(customer=address.customer)
    pages = [
        admin_client.get(admin_url(Customer, "change", address.customer.pk)),
        admin_client.get(admin_url(Address, "change", address.pk)),
        admin_client.get(admin_url(Address, "add")),
        admin_client.get(admin_url(PaymentMethod, "change", method.pk)),
    ]

    for page in pages:
        html = page.content.decode()
        for generated in ["email_key", "default_shipping_key", "default_billing_key", "default_key"]:
            assert f'name="{generated}"' not in html
            assert f'-{generated}"' not in html


def test_second_default_shipping_address_on_add_form_shows_error_and_saves_nothing(admin_client):
    first = AddressFactory(is_default_shipping=True)
    data = form_data(admin_client.get(admin_url(Address, "add")))
    data.update(
        customer=str(first.customer.pk),
        line1="2 Second Street",
        city="Springfield",
        postal_code="62702",
        country="US",
        is_default_shipping="on",
    )

    response = admin_client.post(admin_url(Address, "add"), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["is_default_shipping"] == [
        "This customer already has a default shipping address."
    ]
    assert Address.objects.count() == 1


def test_default_shipping_address_of_another_customer_does_not_block_a_new_default(admin_client):
    AddressFactory(is_default_shipping=True)
    customer = CustomerFactory()
    data = form_data(admin_client.get(admin_url(Address, "add")))
    data.update(
        customer=str(customer.pk),
        line1="1 Own Street",
        city="Springfield",
        postal_code="62702",
        country="US",
        is_default_shipping="on",
    )

    response = admin_client.post(admin_url(Address, "add"), data)

    assert response.status_code == 302
    assert customer.addresses.get().is_default_shipping


def test_customer_page_refuses_two_default_billing_addresses_in_one_submit(admin_client):
    customer = CustomerFactory()
    AddressFactory(customer=customer, is_default_billing=True)
    AddressFactory(customer=customer)
    url = admin_url(Customer, "change", customer.pk)
    data = form_data(admin_client.get(url))
    data["addresses-1-is_default_billing"] = "on"

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "This customer already has a default billing address." in page_errors(response)
    assert customer.addresses.filter(is_default_billing=True).count() == 1


def test_customer_page_moves_the_default_address_to_an_earlier_row(admin_client):
    customer = CustomerFactory()
    OrderFactory(customer=customer)
    PaymentMethodFactory(customer=customer, is_default=True)
    earlier = AddressFactory(customer=customer)
    later = AddressFactory(customer=customer, is_default_shipping=True)
    url = admin_url(Customer, "change", customer.pk)
    data = form_data(admin_client.get(url))
    data["addresses-0-is_default_shipping"] = "on"
    del data["addresses-1-is_default_shipping"]

    response = admin_client.post(url, data)

    assert response.status_code == 302
    earlier.refresh_from_db()
    later.refresh_from_db()
    assert earlier.is_default_shipping
    assert not later.is_default_shipping


def test_second_default_payment_method_shows_error_and_saves_nothing(admin_client):
    first = PaymentMethodFactory(is_default=True)
    data = form_data(admin_client.get(admin_url(PaymentMethod, "add")))
    data.update(
        customer=str(first.customer.pk),
        kind="paypal",
        paypal_email="pay@example.com",
        is_default="on",
    )

    response = admin_client.post(admin_url(PaymentMethod, "add"), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["is_default"] == [
        "This customer already has a default payment method."
    ]
    assert PaymentMethod.objects.count() == 1


def test_customer_page_refuses_a_second_default_payment_method(admin_client):
    customer = CustomerFactory()
    PaymentMethodFactory(customer=customer, is_default=True)
    PayPalMethodFactory(customer=customer)
    url = admin_url(Customer, "change", customer.pk)
    data = form_data(admin_client.get(url))
    data["payment_methods-1-is_default"] = "on"

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "This customer already has a default payment method." in page_errors(response)
    assert customer.payment_methods.filter(is_default=True).count() == 1


def test_card_without_expiry_shows_the_constraint_message_and_saves_nothing(admin_client):
    customer = CustomerFactory()
    data = form_data(admin_client.get(admin_url(PaymentMethod, "add")))
    data.update(customer=str(customer.pk), kind="card", brand="visa", last4="4242")

    response = admin_client.post(admin_url(PaymentMethod, "add"), data)

    assert response.status_code == 200
    assert "a card needs a brand, the last four digits and an expiry date" in page_errors(response).lower()
    assert not PaymentMethod.objects.exists()


def test_customer_picker_on_address_and_payment_method_forms_searches_customers(admin_client):
    customer = CustomerFactory(last_name="Lovelace")
    CustomerFactory(last_name="Babbage")

    for model_name, app_label in [("address", "customers"), ("paymentmethod", "payments")]:
        response = admin_client.get(
            reverse("admin:autocomplete"),
            {"app_label": app_label, "model_name": model_name, "field_name": "customer", "term": "lovel"},
        )
        assert response.status_code == 200
        assert [r["id"] for r in response.json()["results"]] == [str(customer.pk)]


def test_payment_method_list_shows_the_masked_label(admin_client):
    PaymentMethodFactory(last4="4242", gateway_token="tok_secret_value")

    html = admin_client.get(admin_url(PaymentMethod, "changelist")).content.decode()

    assert "Visa •••• 4242" in html
    assert "tok_secret_value" not in html


# Catalog and stock


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
    assert "The low-stock threshold cannot be negative." in page_errors(response)
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


# Orders


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


def test_orders_cannot_be_added_in_the_admin(admin_client):
    # Orders are placed through order_place. Deleting one (allowed to those with
    # orders.delete_order) releases its stock: tests/test_admin_order_delete.py.
    assert admin_client.get(admin_url(Order, "add")).status_code == 403
    assert not Order.objects.exists()


def test_order_page_corrects_the_tracking_number_but_never_the_status_or_totals(admin_client):
    order = OrderFactory(status=Order.Status.SHIPPED, subtotal="10.00", total="10.00")
    ShipmentFactory(order=order, tracking_number="1ZTYPO")
    url = admin_url(Order, "change", order.pk)
    data = form_data(admin_client.get(url))
    data.update({"status": "cancelled", "total": "0.00", "shipment-0-tracking_number": "1ZFIXED"})

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
