"""The admin pages `make bench` crawls (`bench.crawl`, generated from the admin registry), in the
suite: every page costs the same statements with a few rows as with many, on every backend. A
new model, filter, search field or staff operation is covered without being listed here; a
change that adds a query per row, or a page whose statements multiply as the tables grow, fails
here instead of showing up only in a benchmark run.

"A few rows" is the demo data; "many" adds seed_scale's customers, products and orders, enough
for every list to fill more than a page. The same URLs are asked both times.
"""

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.crawl import crawl_pages, fetch, role_user
from shop.backoffice.admin import CUSTOMER_PAGE_ORDERS
from shop.devtools.scale import seed_scale
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

MODELS = [model._meta.label_lower for model in admin.site._registry]
# No crawled page needs more: a list, its count, its filters' and drill-down's reads, the
# session and user, and for a search one statement per word and relation it crosses (the
# crawl's longest sample is an order event's message of nine words, through the order).
MAX_STATEMENTS = 20


def grow():
    """Many more rows of every kind than a list shows on a page."""
    seed_scale(customers=200, products=120, orders=260, check=False)


def statements(client, page) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = fetch(client, page)
    assert response.status_code == 200, (page.name, response.status_code)
    return len(queries)


@pytest.fixture(scope="module")
def measured(django_db_setup, django_db_blocker):
    """{page name: (model label, statements with few rows, with many)} for every crawled page.

    Measured once for the module, in a transaction rolled back at the end: the demo data, every
    page asked (after a first request that fills process-wide caches), then seed_scale's rows
    and every page asked again.
    """
    from django.contrib.auth import get_user_model
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        call_command("loaddata", "demo", verbosity=0)
        user = get_user_model().objects.create_superuser("crawler", "crawler@example.com", "x")
        clients = {"": Client()}
        clients[""].force_login(user)
        pages = crawl_pages(user)
        for page in pages:
            if page.user not in clients:
                clients[page.user] = Client()
                clients[page.user].force_login(role_user(page.user))
        few = {}
        for page in pages:
            fetch(clients[page.user], page)
            few[page.name] = statements(clients[page.user], page)
        grow()
        results = {
            page.name: (page.model, few[page.name], statements(clients[page.user], page)) for page in pages
        }
        transaction.set_rollback(True)
    return results


def test_crawl_covers_every_registered_model(measured):
    assert {model for model, _, _ in measured.values()} == {"", *MODELS}


@pytest.mark.parametrize("label", ["", *MODELS])
def test_crawled_pages_cost_the_same_statements_with_many_rows(measured, label):
    pages = {name: (few, many) for name, (model, few, many) in measured.items() if model == label}
    assert pages

    grew = {name: counts for name, counts in pages.items() if counts[0] != counts[1]}
    assert not grew, f"statements with few rows -> many: {grew}"
    over = {name: many for name, (_, many) in pages.items() if many > MAX_STATEMENTS}
    assert not over, over


@pytest.fixture
def demo(admin_user):
    call_command("loaddata", "demo", verbosity=0)
    return admin_user


def test_crawler_reaches_every_kind_of_page(demo):
    names = [page.name for page in crawl_pages(demo)]

    assert len(names) == len(set(names))
    for expected in [
        "orders.order list",
        "orders.order ?status=Paid",
        "orders.order by day",
        "orders.order search number",
        "orders.order search part of a word",
        "orders.order change page",
        "orders.order ship",
        "orders.order mark_shipped (selection)",
        "orders.order export page",
        "orders.shipment packing slip",
        "catalog.product ?stock level=Low stock",
        "customers.customer search email",
        "dashboard (Shipping staff)",
    ]:
        assert expected in names


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
