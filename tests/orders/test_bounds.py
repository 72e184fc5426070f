"""Bounds on orders (shop.core.validators: MAX_QUANTITY per line, MAX_AMOUNT per order): the
order service refuses a quantity or a total beyond them and changes nothing, and the database
refuses such lines and orders. (The order screens' own quantity inputs are tested with them.)"""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from catalog.exceptions import InvalidQuantity
from catalog.models import Stock, StockMovement
from orders.exceptions import OrderError
from orders.models import Order, OrderLine
from orders.services import order_place
from shop.core.validators import MAX_AMOUNT, MAX_QUANTITY
from tests.admin_support import place_order
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def state():
    return (
        Order.objects.count(),
        OrderLine.objects.count(),
        list(Stock.objects.order_by("pk").values_list("on_hand", "allocated")),
        StockMovement.objects.count(),
    )


@pytest.mark.parametrize(
    "quantity",
    [10**20, 9223372036854775807, 3_000_000_000, 2147483647, MAX_QUANTITY + 1, -1, 0, 1e9, "1e3", "12abc"],
)
def test_order_place_refuses_a_quantity_beyond_the_limit_or_not_whole(customer, quantity):
    product = ProductFactory(stock=5)
    before = state()
    with pytest.raises(InvalidQuantity):
        order_place(customer=customer, lines=[(product, quantity)])
    assert state() == before


def test_the_same_product_twice_cannot_add_up_beyond_the_limit(customer):
    product = ProductFactory(stock=5)
    before = state()
    with pytest.raises(InvalidQuantity, match="1,000,000"):
        order_place(customer=customer, lines=[(product, MAX_QUANTITY), (product, 1)])
    assert state() == before


def test_order_place_refuses_a_total_beyond_the_limit(customer):
    product = ProductFactory(stock=5, price=MAX_AMOUNT)
    before = state()
    with pytest.raises(OrderError, match=r"99,999,999\.99"):
        order_place(customer=customer, lines=[(product, 2)])
    assert state() == before


def refused_by_database(callable_):
    with pytest.raises(IntegrityError), transaction.atomic():
        callable_()


def test_the_database_refuses_lines_and_orders_beyond_the_limits(customer):
    order = place_order(ProductFactory(stock=5, price=Decimal("10.00")), customer=customer)
    line = order.lines.get()
    lines = OrderLine.objects.filter(pk=line.pk)
    refused_by_database(lambda: lines.update(quantity=MAX_QUANTITY + 1, line_total=Decimal("10000010.00")))
    refused_by_database(lambda: lines.update(unit_price=MAX_AMOUNT + 1, line_total=MAX_AMOUNT + 1))
    orders = Order.objects.filter(pk=order.pk)
    big = MAX_AMOUNT + Decimal("0.01")
    refused_by_database(lambda: orders.update(subtotal=big, shipping_cost=0, total=big))
    refused_by_database(lambda: orders.update(shipping_cost=big, subtotal=0, total=big))
    order.refresh_from_db()
    assert (order.subtotal, order.total) == (Decimal("10.00"), Decimal("17.50"))
