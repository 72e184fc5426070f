"""The import and export buttons of shop.core.admin_import_export, across every list that has
them (orders, products, stock): who may use which, the buttons shown only to them, and an export
costing the same number of queries for 10 rows as for 60."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Product, Stock
from orders.models import Order
from tests.admin_support import (
    CUSTOMER_SERVICE,
    INVENTORY,
    MANAGER,
    SHIPPING,
    admin_url,
    csv_rows,
    export,
    log_in,
)
from tests.factories import OrderFactory, ProductFactory, ShipmentFactory

pytestmark = pytest.mark.django_db


def _orders(count):
    for number in range(count):
        order = OrderFactory()
        if number % 2:
            ShipmentFactory(order=order)


def _products(count):
    ProductFactory.create_batch(count, stock=4)


@pytest.mark.parametrize(("model", "make"), [(Order, _orders), (Product, _products), (Stock, _products)])
def test_export_costs_the_same_queries_for_10_or_60_rows(client, model, make):
    log_in(client, MANAGER)
    counts = []
    for total in (10, 60):
        make(total - model.objects.count())
        with CaptureQueriesContext(connection) as queries:
            rows = csv_rows(export(client, model))
        assert len(rows) == total
        counts.append(len(queries))

    assert counts[0] == counts[1]


# Who may import and export


@pytest.mark.parametrize(
    ("role", "model", "view", "status"),
    [
        (SHIPPING, Product, "import", 403),
        (SHIPPING, Product, "export", 403),
        (SHIPPING, Stock, "import", 403),
        (SHIPPING, Stock, "export", 403),
        (SHIPPING, Order, "export", 200),
        (CUSTOMER_SERVICE, Product, "export", 403),
        (CUSTOMER_SERVICE, Order, "export", 200),
        (INVENTORY, Product, "import", 200),
        (INVENTORY, Stock, "import", 200),
        (INVENTORY, Order, "export", 403),
    ],
)
def test_import_and_export_pages_answer_by_role(client, role, model, view, status):
    log_in(client, role)

    assert client.get(admin_url(model, view)).status_code == status


def test_import_and_export_buttons_show_only_for_staff_who_may_use_them(client):
    log_in(client, INVENTORY)
    stock_list = client.get(admin_url(Stock, "changelist")).content.decode()

    log_in(client, SHIPPING)
    order_list = client.get(admin_url(Order, "changelist")).content.decode()

    assert admin_url(Stock, "import") in stock_list and admin_url(Stock, "export") in stock_list
    assert admin_url(Order, "export") in order_list
    assert "Awaiting shipment" in order_list
    assert "/import/" not in order_list
