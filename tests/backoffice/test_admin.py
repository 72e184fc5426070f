"""The back office's admin site as a whole, and the customer page as it composes it.

Every registered model's pages render for a superuser, changelists cost the same number of
queries however many rows they show, and records only the services write are read-only. The
customer page (shop/backoffice/admin.py: the customers app's page with the customer's payment
methods and latest orders) costs the same number of queries however many it shows, keeps one
default payment method and address per customer, and a customer with orders cannot be deleted.
"""

import itertools
import re

import pytest
from django.contrib import admin
from django.urls import reverse

from catalog.models import Product, ProductType, Stock, StockMovement
from customers.models import Address, Customer
from orders.models import Carrier, Order, OrderEvent, OrderLine, Return, ReturnLine, Shipment
from payments.models import Payment, PaymentMethod
from shop.backoffice.admin import CUSTOMER_PAGE_ORDERS
from tests.admin_support import admin_url, count_queries, form_data, page_errors
from tests.factories import (
    AddressFactory,
    CarrierFactory,
    CustomerFactory,
    OrderEventFactory,
    OrderFactory,
    OrderLineFactory,
    PaymentFactory,
    PaymentMethodFactory,
    PayPalMethodFactory,
    ProductFactory,
    ShipmentFactory,
    StockMovementFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SHOP_APPS = {"customers", "catalog", "orders", "payments"}
MORE_ROWS = 50


def make_order():
    """An order with a payment label; every other one shipped, so the list meets both cases."""
    order = OrderFactory(payment_method_label="Visa •••• 4242 exp 12/2030")
    if order.pk % 2:
        ShipmentFactory(order=order)
    return order


@pytest.fixture(autouse=True)
def no_standard_carriers(db):
    """Lists here count the rows they show: the carrier table starts as empty as the others
    (shipments made here take UPS again through CarrierFactory)."""
    Carrier.objects.all().delete()


def make_return():
    """A return of one unit of a delivered order's line, with a restocked and a written-off line."""
    line = OrderLineFactory(quantity=2, order__status=Order.Status.PARTIALLY_RETURNED)
    other = OrderLineFactory(order=line.order)
    record = Return.objects.create(order=line.order, reason="Too small", refunded_amount="3.00")
    ReturnLine.objects.create(return_record=record, order_line=line, quantity=1)
    ReturnLine.objects.create(return_record=record, order_line=other, quantity=1, restocked=False)
    return record


CARRIER_CODES = itertools.count(1)


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
    Carrier: lambda: CarrierFactory(code=f"carrier-{next(CARRIER_CODES)}", tracking_url=""),
    Return: make_return,
    OrderEvent: lambda: OrderEventFactory(actor=UserFactory()),
    PaymentMethod: lambda: PaymentMethodFactory(),
    Payment: lambda: PaymentFactory(),
}
# Order: "Add order" is the order desk (pick or create the customer, then a draft's lines).
ADDABLE = {Customer, Address, ProductType, Product, PaymentMethod, Order, Carrier}
SERVICE_WRITTEN = [StockMovement, Payment, OrderLine, OrderEvent]


def model_id(model):
    return model.__name__


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


# The customer page, with payment methods and orders


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
