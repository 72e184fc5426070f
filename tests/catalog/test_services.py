import pytest

from catalog.exceptions import CatalogError, InvalidQuantity, StockBelowAllocated
from catalog.models import Stock, StockMovement
from catalog.selectors import stock_available
from catalog.services import product_create, stock_adjust, stock_receive
from orders.services import order_place
from shop.core.exceptions import ShopError
from tests.catalog.support import stock_of
from tests.factories import ProductTypeFactory, UserFactory


def test_receive_raises_on_hand_and_writes_a_receipt(make_product):
    product = make_product(on_hand=0)
    user = UserFactory()
    stock_receive(product=product, quantity=12, actor=user, note="PO 1001")
    assert stock_of(product).on_hand == 12
    movement = StockMovement.objects.get(product=product)
    assert (movement.kind, movement.on_hand_delta, movement.allocated_delta) == ("receipt", 12, 0)
    assert movement.actor == user
    assert movement.note == "PO 1001"


@pytest.mark.parametrize("quantity", [0, -3, 1.5, "4", True])
def test_receive_refuses_anything_but_a_positive_whole_number(make_product, quantity):
    product = make_product(on_hand=5)
    with pytest.raises(InvalidQuantity):
        stock_receive(product=product, quantity=quantity)
    assert stock_of(product).on_hand == 5
    assert not StockMovement.objects.exists()


def test_adjust_records_reason_and_kind(make_product):
    product = make_product(on_hand=10)
    stock_adjust(product=product, delta=-2, reason="damaged", note="dropped pallet")
    stock_adjust(product=product, delta=1, reason="return")
    assert stock_of(product).on_hand == 9
    kinds = list(StockMovement.objects.order_by("id").values_list("kind", "reason", "on_hand_delta"))
    assert kinds == [("adjustment", "damaged", -2), ("return", "return", 1)]


def test_adjust_cannot_take_on_hand_below_allocated(customer, make_product):
    product = make_product(on_hand=5)
    order_place(customer=customer, lines=[(product, 4)])
    with pytest.raises(StockBelowAllocated) as excinfo:
        stock_adjust(product=product, delta=-2, reason="count")
    assert "4 allocated" in str(excinfo.value)
    assert stock_of(product).on_hand == 5
    assert not StockMovement.objects.filter(kind="adjustment").exists()


def test_adjust_refuses_unknown_reason_and_zero(make_product):
    product = make_product(on_hand=5)
    with pytest.raises(CatalogError):
        stock_adjust(product=product, delta=-1, reason="because")
    with pytest.raises(InvalidQuantity):
        stock_adjust(product=product, delta=0, reason="count")
    assert stock_of(product).on_hand == 5


def test_stock_available_is_on_hand_minus_allocated(customer, make_product):
    product = make_product(on_hand=7)
    order_place(customer=customer, lines=[(product, 3)])
    assert stock_available(product=product) == 4


def test_product_create_makes_stock_row_and_records_initial_stock(db):
    product = product_create(
        name="Desk Lamp",
        sku="LAMP-1",
        product_type=ProductTypeFactory(),
        price="24.50",
        initial_stock=8,
        low_stock_threshold=3,
    )
    stock = Stock.objects.get(pk=product.pk)
    assert (stock.on_hand, stock.allocated, stock.low_stock_threshold) == (8, 0, 3)
    assert product.movements.get().kind == "receipt"


def test_catalog_errors_are_shop_errors():
    assert issubclass(CatalogError, ShopError)


def test_every_stock_change_stamps_the_row_with_its_time(make_product):
    import datetime as dt

    product = make_product(on_hand=5)
    long_ago = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    Stock.objects.filter(pk=product.pk).update(updated_at=long_ago)

    stock_receive(product=product, quantity=1)

    assert stock_of(product).updated_at > long_ago
