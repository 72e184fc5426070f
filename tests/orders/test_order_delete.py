import pytest

from catalog.models import StockMovement
from orders.exceptions import OpenOrdersNotDeleted
from orders.models import Order, OrderEvent, OrderLine, Shipment
from orders.services import order_place, order_ship, orders_delete
from payments.models import Payment
from payments.services import payment_capture
from shop.backoffice.integrity import find_violations
from tests.catalog.support import stock_of
from tests.factories import UserFactory


@pytest.fixture
def open_order(customer, card, make_received_product):
    product = make_received_product(on_hand=5)
    order = order_place(customer=customer, lines=[(product, 3)], payment_method=card)
    payment_capture(order=order)
    return order, product


def _gone(order):
    return not (
        Order.objects.filter(pk=order.pk).exists()
        or OrderLine.objects.filter(order_id=order.pk).exists()
        or OrderEvent.objects.filter(order_id=order.pk).exists()
        or Payment.objects.filter(order_id=order.pk).exists()
        or Shipment.objects.filter(order_id=order.pk).exists()
    )


def test_deleting_an_open_order_releases_its_stock_with_a_ledger_row(open_order):
    order, product = open_order
    user = UserFactory()
    orders_delete(queryset=Order.objects.filter(pk=order.pk), actor=user)
    assert _gone(order)
    assert stock_of(product).allocated == 0
    release = StockMovement.objects.get(kind="release")
    assert (release.allocated_delta, release.order_number, release.actor) == (-3, order.number, user)
    assert find_violations() == []


def test_deleting_several_open_orders_releases_each_one(customer, make_received_product):
    product = make_received_product(on_hand=10)
    orders = [order_place(customer=customer, lines=[(product, 2)]) for _ in range(3)]
    orders_delete(queryset=Order.objects.filter(pk__in=[o.pk for o in orders[:2]]))
    assert stock_of(product).allocated == 2
    assert StockMovement.objects.filter(kind="release").count() == 2
    assert find_violations() == []


def test_deleting_a_shipped_order_moves_no_stock(open_order):
    order, product = open_order
    order_ship(order=order, carrier="UPS", tracking_number="1Z")
    before = (stock_of(product).on_hand, StockMovement.objects.count())
    Order.objects.filter(pk=order.pk).delete()
    assert _gone(order)
    assert (stock_of(product).on_hand, StockMovement.objects.count()) == before
    assert find_violations() == []


@pytest.mark.parametrize("how", ["queryset", "instance"])
def test_a_plain_delete_of_an_open_order_is_refused_and_changes_nothing(open_order, how):
    order, product = open_order
    before = (stock_of(product).allocated, StockMovement.objects.count())
    with pytest.raises(OpenOrdersNotDeleted, match=order.number):
        if how == "queryset":
            Order.objects.filter(pk=order.pk).delete()
        else:
            Order.objects.get(pk=order.pk).delete()
    assert Order.objects.filter(pk=order.pk).exists()
    assert (stock_of(product).allocated, StockMovement.objects.count()) == before
    assert find_violations() == []
