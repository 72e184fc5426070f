"""`stock_adjust_many`, the bulk `stock_adjust` a stock-count import writes with: one ledger row
per product (with its note and the actor), the same refusals, all or nothing."""

import pytest

from catalog.exceptions import InvalidQuantity, QuantityOutOfRange, StockBelowAllocated, StockLimitExceeded
from catalog.models import Stock, StockMovement
from catalog.services import lock_stock_many, stock_adjust_many
from shop.core.validators import MAX_QUANTITY
from tests.admin_support import place_order
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def on_hand(*products):
    return [Stock.objects.get(pk=p.pk).on_hand for p in products]


def test_each_change_is_applied_with_its_ledger_row_note_and_actor():
    clerk = UserFactory()
    cups, plates = ProductFactory(stock=10), ProductFactory(stock=5)

    stock_adjust_many(
        deltas={cups.pk: 2, plates.pk: -3}, notes={cups.pk: "Aisle 4"}, reason="count", actor=clerk
    )

    assert on_hand(cups, plates) == [12, 2]
    rows = {m.product_id: m for m in StockMovement.objects.filter(reason="count")}
    assert (rows[cups.pk].on_hand_delta, rows[cups.pk].note, rows[cups.pk].actor) == (2, "Aisle 4", clerk)
    assert (rows[plates.pk].on_hand_delta, rows[plates.pk].note, rows[plates.pk].kind) == (
        -3,
        "",
        "adjustment",
    )


def test_a_change_below_what_is_allocated_refuses_all_of_them_naming_the_product():
    cups, plates = ProductFactory(name="Cups", sku="CUP-1", stock=10), ProductFactory(stock=5)
    place_order(cups, quantity=4)

    with pytest.raises(StockBelowAllocated, match=r"Cups \(CUP-1\) by -7: 10 on hand, 4 allocated"):
        stock_adjust_many(deltas={cups.pk: -7, plates.pk: 1}, reason="count")

    assert on_hand(cups, plates) == [10, 5]
    assert not StockMovement.objects.filter(reason="count").exists()


@pytest.mark.parametrize(
    ("delta", "error"),
    [(0, InvalidQuantity), (MAX_QUANTITY + 1, QuantityOutOfRange), (MAX_QUANTITY, StockLimitExceeded)],
)
def test_a_change_out_of_bounds_refuses_all_of_them(delta, error):
    cups, plates = ProductFactory(stock=10), ProductFactory(stock=5)

    with pytest.raises(error):
        stock_adjust_many(deltas={cups.pk: 1, plates.pk: delta}, reason="count")

    assert on_hand(cups, plates) == [10, 5]


def test_an_unknown_reason_is_refused():
    cups = ProductFactory(stock=10)
    with pytest.raises(InvalidQuantity, match="Unknown adjustment reason"):
        stock_adjust_many(deltas={cups.pk: 1}, reason="whim")


def test_many_rows_are_locked_in_batches_and_all_changed():
    products = ProductFactory.create_batch(30, stock=1)

    assert sorted(lock_stock_many(p.pk for p in products)) == sorted(p.pk for p in products)
    stock_adjust_many(deltas={p.pk: 1 for p in products}, reason="count")
    assert set(on_hand(*products)) == {2}
