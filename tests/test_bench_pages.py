"""The admin pages `make bench` times (`bench.admin_pages.pages`), in the suite: each costs the same
number of queries with a few rows as with many, within a fixed budget. A change that adds a query
per row, or a page whose statements multiply as the tables grow, fails here on every backend
instead of showing up only in a benchmark run."""

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.admin_pages import pages
from orders.models import Order
from shop.backoffice.admin import CUSTOMER_PAGE_ORDERS
from tests.factories import (
    AddressFactory,
    CarrierFactory,
    CustomerFactory,
    OrderEventFactory,
    OrderFactory,
    OrderLineFactory,
    PaymentFactory,
    ProductFactory,
    ShipmentFactory,
)

pytestmark = pytest.mark.django_db

# Statements per page for a superuser, session and user included: what the benchmark recorded
# at 10,000 and 1,000,000 orders on PostgreSQL (bench/README.md). SQLite and MariaDB count
# exactly where PostgreSQL estimates, which never needs more statements.
BUDGET = {
    "orders list": 7,
    "orders ?status=paid": 7,
    "orders search email": 8,
    "orders search number": 9,
    "orders search tracking": 9,
    "products ?stock_level=low": 8,
    "customer page": 8,
    "order page": 8,
}
SUBJECT_KEYS = ["order_pk", "order_number", "customer_pk", "customer_email", "tracking_number"]
PAGE_NAMES = [name for name, _, _ in pages(dict.fromkeys(SUBJECT_KEYS, ""))]
MORE = CUSTOMER_PAGE_ORDERS + 10  # past the customer page's limit of shown orders
NUMBERS = itertools.count(1)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def add_rows(customer, count: int) -> Order:
    """`count` orders of this customer in the states the pages show, and as many other rows."""
    last = None
    for n in range(count):
        AddressFactory(customer=CustomerFactory())
        ProductFactory(stock=3)  # 3 on hand, threshold 5: low stock
        status = Order.Status.PAID if n % 2 else Order.Status.SHIPPED
        # Numbers as order_place writes them, so that the number search takes its exact path.
        order = OrderFactory(customer=customer, status=status, number=f"SO-{next(NUMBERS):06d}")
        OrderLineFactory(order=order)
        OrderEventFactory(order=order)
        PaymentFactory(order=order)
        if status == Order.Status.SHIPPED:
            ShipmentFactory(order=order)
            if n % 4 == 0:  # shipped in two parts: no page may read shipments per order
                ShipmentFactory(order=order, carrier=CarrierFactory(code="dhl", name="DHL"))
            last = order
    return last


def statements(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def test_every_benchmarked_page_has_a_budget():
    assert set(PAGE_NAMES) == set(BUDGET)


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_benchmarked_page_costs_the_same_statements_with_many_rows(
    admin_client, django_assert_max_num_queries, name
):
    customer = CustomerFactory()
    AddressFactory(customer=customer, is_default_shipping=True)
    order = add_rows(customer, 3)
    subjects = {
        "order_pk": order.pk,
        "order_number": order.number,
        "customer_pk": customer.pk,
        "customer_email": customer.email,
        "tracking_number": order.shipments.order_by("pk").last().tracking_number,
    }
    path = {page: path for page, path, _ in pages(subjects)}[name]
    url = "/admin/" + path
    admin_client.get(url)  # warm process-wide caches (content types, permissions)
    few = statements(admin_client, url)

    add_rows(customer, MORE)
    with django_assert_max_num_queries(BUDGET[name]):
        many = statements(admin_client, url)

    assert many == few


def test_customer_page_shows_latest_orders_and_links_to_all(admin_client):
    customer = CustomerFactory()
    orders = [OrderFactory(customer=customer) for _ in range(CUSTOMER_PAGE_ORDERS + 5)]
    OrderFactory()  # someone else's

    response = admin_client.get(f"/admin/customers/customer/{customer.pk}/change/")

    page = response.content.decode()
    newest_first = sorted(orders, key=lambda o: (o.created_at, o.pk), reverse=True)
    shown = [o for o in newest_first if f'/admin/orders/order/{o.pk}/change/"' in page]
    assert shown == newest_first[:CUSTOMER_PAGE_ORDERS]
    positions = [page.index(o.number) for o in shown]
    assert positions == sorted(positions)  # newest first
    assert f"{CUSTOMER_PAGE_ORDERS + 5} orders" in page
    assert f"/admin/orders/order/?customer__id__exact={customer.pk}" in page

    listed = admin_client.get("/admin/orders/order/", {"customer__id__exact": customer.pk})

    assert listed.status_code == 200
    assert {o.pk for o in listed.context["cl"].result_list} == {o.pk for o in orders}


def test_customer_page_without_orders_says_so(admin_client):
    customer = CustomerFactory()

    response = admin_client.get(f"/admin/customers/customer/{customer.pk}/change/")

    assert "0 orders" in response.content.decode()
