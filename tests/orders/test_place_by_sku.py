"""order_place_by_sku: a storefront's lines as (SKU, quantity), the products read once."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.exceptions import InsufficientStock
from catalog.models import Stock
from orders.exceptions import UnknownSku
from orders.models import Order, OrderEvent
from orders.services import order_place, order_place_by_sku
from tests.factories import AddressFactory, CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    customer = CustomerFactory()
    AddressFactory(customer=customer, is_default_shipping=True)
    return customer


def test_places_at_the_current_prices_with_skus_normalized_and_merged(customer):
    hub = ProductFactory(sku="EL-HUB-7", price="12.50", stock=10)
    cable = ProductFactory(sku="EL-CAB-1", price="3.00", stock=10)
    order = order_place_by_sku(customer=customer, lines=[(" el-hub-7 ", 1), ("EL-CAB-1", 2), ("el-hub-7", 1)])
    assert [(line.sku, line.quantity, str(line.unit_price)) for line in order.lines.order_by("sku")] == [
        ("EL-CAB-1", 2, "3.00"),
        ("EL-HUB-7", 2, "12.50"),
    ]
    assert order.subtotal == Decimal("31.00")
    assert Stock.objects.get(pk=hub.pk).allocated == 2 and Stock.objects.get(pk=cable.pk).allocated == 2
    assert OrderEvent.objects.filter(order=order, kind="placed").count() == 1


def test_unknown_skus_are_named_and_nothing_changes(customer):
    ProductFactory(sku="EL-HUB-7", stock=10)
    with pytest.raises(UnknownSku) as refused:
        order_place_by_sku(customer=customer, lines=[("el-hub-7", 1), ("nope-2", 1), ("NOPE-1", 3)])
    assert refused.value.skus == ["NOPE-1", "NOPE-2"]
    assert "NOPE-1, NOPE-2" in refused.value.message
    assert not Order.objects.exists() and Stock.objects.get().allocated == 0


def test_the_other_refusals_are_order_places(customer):
    ProductFactory(sku="EL-HUB-7", stock=1)
    with pytest.raises(InsufficientStock):
        order_place_by_sku(customer=customer, lines=[("EL-HUB-7", 2)])
    assert not Order.objects.exists()


def test_sends_the_same_statements_as_order_place(customer):
    """The SKUs are resolved by the read that prices the lines: no statement more than placing
    the same products by instance."""
    products = [ProductFactory(sku=f"EL-{n}", stock=10) for n in range(3)]
    order_place(customer=customer, lines=[(products[0], 1)])  # per-process caches
    with CaptureQueriesContext(connection) as by_instance:
        order_place(customer=customer, lines=[(p, 1) for p in products])
    with CaptureQueriesContext(connection) as by_sku:
        order_place_by_sku(customer=customer, lines=[(p.sku, 1) for p in products])
    assert len(by_sku.captured_queries) == len(by_instance.captured_queries)
