"""Editing a placed order: the difference in stock is allocated or released in one transaction,
with ledger rows, recomputed totals and an `edited` event; anything else is refused unchanged."""

from decimal import Decimal

import pytest
from django.db import close_old_connections

from catalog.exceptions import InsufficientStock, InvalidQuantity, ProductInactive
from catalog.models import Product, Stock, StockMovement
from catalog.services import product_create
from orders.exceptions import AddressNotOwned, EditBelowPaid, EmptyOrder, OrderNotEditable
from orders.models import Order, OrderStatus
from orders.services import (
    order_cancel,
    order_deliver,
    order_draft_create,
    order_draft_place,
    order_draft_set_lines,
    order_edit,
    order_place,
    order_ship,
)
from payments.exceptions import InvalidAmount
from payments.services import payment_capture
from shop.backoffice.integrity import find_violations
from shop.core.exceptions import ShopError
from tests.catalog.support import stock_of
from tests.factories import AddressFactory, CustomerFactory, ProductTypeFactory, UserFactory
from tests.orders.test_drafts import state_of
from tests.test_concurrency import _customer, run_concurrently, workers_for


@pytest.fixture
def lamp(make_received_product):
    return make_received_product(on_hand=10, price=Decimal("30.00"), name="Lamp", sku="LAMP-1")


@pytest.fixture
def mug(make_received_product):
    return make_received_product(on_hand=6, price=Decimal("12.50"), name="Mug", sku="MUG-1")


@pytest.fixture
def vase(make_received_product):
    return make_received_product(on_hand=3, price=Decimal("9.99"), name="Vase", sku="VASE-1")


@pytest.fixture
def order(customer, card, lamp, mug):
    return order_place(customer=customer, lines=[(lamp, 2), (mug, 1)], payment_method=card)


def edits(order):
    """(kind, product, allocated change) of the ledger rows the edits wrote for this order."""
    return sorted(
        StockMovement.objects.filter(order_number=order.number)
        .exclude(note="")
        .values_list("kind", "product_id", "allocated_delta")
    )


def allocated(*products):
    return tuple(stock_of(p).allocated for p in products)


def test_edit_up_allocates_the_difference(order, lamp, mug):
    user = UserFactory()
    result = order_edit(order=order, lines=[(lamp, 5), (mug, 1)], actor=user, reason="Phoned: 3 more")
    assert result.pk == order.pk and order.status == OrderStatus.PLACED
    assert allocated(lamp, mug) == (5, 1)
    assert edits(order) == [("allocation", lamp.pk, 3)]
    row = StockMovement.objects.get(order_number=order.number, kind="allocation", allocated_delta=3)
    assert row.actor == user and "Phoned: 3 more" in row.note
    assert list(order.lines.values_list("product_id", "quantity", "line_total")) == [
        (lamp.pk, 5, Decimal("150.00")),
        (mug.pk, 1, Decimal("12.50")),
    ]
    assert (order.subtotal, order.shipping_cost, order.total) == (
        Decimal("162.50"),
        Decimal("0.00"),
        Decimal("162.50"),
    )
    event = order.events.get(kind="edited")
    assert event.actor == user
    assert "Lamp (LAMP-1): 2 → 5" in event.message and "Mug (MUG-1): 1 (unchanged)" in event.message
    assert "Total 80.00 → 162.50 USD (shipping 7.50 → 0.00)." in event.message
    assert event.message.endswith("Reason: Phoned: 3 more")
    assert find_violations() == []


def test_edit_down_releases_the_difference_and_recomputes_shipping(order, lamp, mug):
    order_edit(order=order, lines=[(lamp, 5), (mug, 1)])
    order_edit(order=order, lines=[(lamp, 1), (mug, 1)])
    assert allocated(lamp, mug) == (1, 1)
    assert edits(order) == [("allocation", lamp.pk, 3), ("release", lamp.pk, -4)]
    assert (order.subtotal, order.shipping_cost, order.total) == (
        Decimal("42.50"),
        Decimal("7.50"),
        Decimal("50.00"),
    )
    assert "(shipping 0.00 → 7.50)" in order.events.filter(kind="edited").last().message
    assert find_violations() == []


def test_adding_and_removing_lines(order, lamp, mug, vase):
    order_edit(order=order, lines=[(lamp, 2), (vase, 2)])  # the mug left out: removed
    assert allocated(lamp, mug, vase) == (2, 0, 2)
    assert edits(order) == sorted([("allocation", vase.pk, 2), ("release", mug.pk, -1)])
    assert list(order.lines.values_list("product_id", "quantity", "unit_price")) == [
        (lamp.pk, 2, Decimal("30.00")),
        (vase.pk, 2, Decimal("9.99")),
    ]
    message = order.events.get(kind="edited").message
    assert "Mug (MUG-1): 1 → 0 (removed)" in message
    assert "Vase (VASE-1): 0 → 2 (added at 9.99 USD each)" in message
    # A quantity of 0 removes too, and the same product twice is merged.
    order_edit(order=order, lines=[(lamp, 1), (lamp, 2), (vase, 0)])
    assert allocated(lamp, mug, vase) == (3, 0, 0)
    assert list(order.lines.values_list("product_id", "quantity")) == [(lamp.pk, 3)]
    assert find_violations() == []


def test_add_one_line_and_lower_another_in_one_edit(order, lamp, mug, vase):
    order_edit(order=order, lines=[(lamp, 1), (mug, 1), (vase, 1)])
    assert allocated(lamp, mug, vase) == (1, 1, 1)
    assert edits(order) == sorted([("allocation", vase.pk, 1), ("release", lamp.pk, -1)])
    assert order.subtotal == Decimal("52.49") and order.total == Decimal("59.99")
    assert find_violations() == []


def test_kept_lines_keep_their_price_and_added_ones_take_todays(order, lamp, mug, vase):
    Product.objects.filter(pk__in=[lamp.pk, vase.pk]).update(price=Decimal("50.00"))
    order_edit(order=order, lines=[(lamp, 3), (mug, 1), (vase, 1)])
    assert list(order.lines.values_list("product_id", "unit_price", "line_total")) == [
        (lamp.pk, Decimal("30.00"), Decimal("90.00")),
        (mug.pk, Decimal("12.50"), Decimal("12.50")),
        (vase.pk, Decimal("50.00"), Decimal("50.00")),
    ]


def test_an_edit_that_changes_nothing_writes_nothing(order, lamp, mug):
    before = state_of(order)
    order_edit(order=order, lines=[(mug, 1), (lamp, 1), (lamp, 1)])
    assert state_of(order) == before


@pytest.mark.parametrize("status", ["paid", "shipped", "delivered", "cancelled", "draft"])
def test_only_a_placed_order_can_be_edited(customer, order, lamp, mug, status):
    if status == "draft":
        order = order_draft_create(customer=customer)
        order_draft_set_lines(order=order, lines=[(lamp, 1)])
    if status in ("paid", "shipped", "delivered"):
        payment_capture(order=order)
    if status in ("shipped", "delivered"):
        order_ship(order=order, carrier="UPS", tracking_number="1Z999AA10123456784")
    if status == "delivered":
        order_deliver(order=order)
    if status == "cancelled":
        order_cancel(order=order)
    assert order.status == status
    before = state_of(order)
    with pytest.raises(OrderNotEditable, match=f"{order.number} cannot be edited") as excinfo:
        order_edit(order=order, lines=[(lamp, 1)])
    assert isinstance(excinfo.value, ShopError)
    assert state_of(order) == before


def test_more_than_is_available_is_refused_and_changes_nothing(order, lamp, mug, vase):
    before = state_of(order)
    with pytest.raises(InsufficientStock) as excinfo:
        order_edit(order=order, lines=[(lamp, 1), (mug, 7), (vase, 4)])
    # The order's own allocation counts as available to it: 6 mugs, 1 held by the order.
    assert "Mug (MUG-1): requested 6, available 5" in str(excinfo.value)
    assert "Vase (VASE-1): requested 4, available 3" in str(excinfo.value)
    assert state_of(order) == before


@pytest.mark.parametrize(
    "lines, error",
    [("empty", EmptyOrder), ("zero", EmptyOrder), ("negative", InvalidQuantity), ("huge", InvalidQuantity)],
)
def test_bad_line_sets_are_refused_and_change_nothing(order, lamp, mug, lines, error):
    lines = {
        "empty": [],
        "zero": [(lamp, 0), (mug, 0)],
        "negative": [(lamp, -1)],
        "huge": [(lamp, 10**12)],
    }[lines]
    before = state_of(order)
    with pytest.raises(error):
        order_edit(order=order, lines=lines)
    assert state_of(order) == before


def test_more_of_an_inactive_product_is_refused_fewer_is_fine(order, lamp, mug):
    Product.objects.filter(pk=lamp.pk).update(is_active=False)
    before = state_of(order)
    with pytest.raises(ProductInactive):
        order_edit(order=order, lines=[(lamp, 3), (mug, 1)])
    assert state_of(order) == before
    order_edit(order=order, lines=[(lamp, 1), (mug, 1)])
    assert allocated(lamp) == (1,)


def test_changing_the_shipping_address(customer, order, lamp, mug):
    new = AddressFactory(customer=customer, line1="77 New Road")
    order_edit(order=order, lines=[(lamp, 2), (mug, 1)], shipping_address=new, reason="Moved")
    assert order.shipping_line1 == "77 New Road"
    assert "Shipping address:" in order.events.get(kind="edited").message
    assert allocated(lamp, mug) == (2, 1)
    before = state_of(order)
    with pytest.raises(AddressNotOwned):
        order_edit(
            order=order, lines=[(lamp, 3)], shipping_address=AddressFactory(customer=CustomerFactory())
        )
    assert state_of(order) == before


def test_a_part_paid_order_cannot_drop_below_what_was_paid(order, lamp, mug):
    payment_capture(order=order, offline_method="cash", amount=Decimal("50.00"))
    before = state_of(order)
    with pytest.raises(EditBelowPaid, match=r"50\.00 USD already paid"):
        order_edit(order=order, lines=[(mug, 1)])  # 12.50 + 7.50 shipping
    assert state_of(order) == before
    # Exactly what was paid: the order is paid in full, and moves on.
    order_edit(order=order, lines=[(lamp, 1), (mug, 1)])  # 42.50 + 7.50
    assert order.total == Decimal("50.00")
    assert order.status == OrderStatus.PAID and order.paid_at is not None
    assert list(order.events.values_list("kind", flat=True))[-2:] == ["edited", "paid"]
    assert find_violations() == []


def test_payment_owed_follows_the_edit(order, lamp, mug):
    payment_capture(order=order, offline_method="bank_transfer", amount=Decimal("20.00"))
    order_edit(order=order, lines=[(lamp, 4), (mug, 1)])  # 132.50, free shipping
    with pytest.raises(InvalidAmount, match=r"112\.50 USD left to pay"):
        payment_capture(order=order, offline_method="cash", amount=Decimal("200.00"))
    payment_capture(order=order, offline_method="cash")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


# Races: real threads and transactions, as in tests/test_concurrency.py.


def _racy_product(stock, sku):
    return product_create(
        name=f"Racy {sku}",
        sku=sku,
        product_type=ProductTypeFactory(),
        price=Decimal("10.00"),
        initial_stock=stock,
    )


def _order_of(product, quantity):
    customer = _customer()
    return order_place(customer=customer, lines=[(product, quantity)])


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_staff_editing_one_order_at_once_allocate_exactly_what_it_ends_with():
    product = _racy_product(20, "EDIT-1")
    other = _racy_product(20, "EDIT-2")
    order = _order_of(product, 1)
    workers = workers_for(8)

    def edit(i):
        close_old_connections()
        results = []
        for round_ in range(3):
            lines = [(product, 1 + (i + round_) % 6), (other, (i * round_) % 3)]
            results.append(order_edit(order=Order.objects.get(pk=order.pk), lines=lines))
        return results

    _, errors = run_concurrently(workers, edit)
    assert errors == []
    final = dict(Order.objects.get(pk=order.pk).lines.values_list("product_id", "quantity"))
    # Whatever edit came last, the stock holds exactly its lines: no edit counted twice.
    assert Stock.objects.get(pk=product.pk).allocated == final[product.pk]
    assert Stock.objects.get(pk=other.pk).allocated == final.get(other.pk, 0)
    moved = StockMovement.objects.filter(order_number=order.number).values_list(
        "product_id", "allocated_delta"
    )
    assert sum(delta for pk, delta in moved if pk == product.pk) == final[product.pk]
    assert sum(delta for pk, delta in moved if pk == other.pk) == final.get(other.pk, 0)
    assert find_violations() == []


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_editing_while_the_storefront_sells_the_last_unit_never_oversells():
    for attempt in range(3):
        product = _racy_product(3, f"LAST-{attempt}")
        order = _order_of(product, 2)  # one unit left
        buyers = [_customer() for _ in range(5)]

        def task(i, order=order, product=product, buyers=buyers):
            close_old_connections()
            if i == 0:
                return order_edit(order=Order.objects.get(pk=order.pk), lines=[(product, 3)])
            return order_place(customer=buyers[i - 1], lines=[(product, 1)])

        ok, errors = run_concurrently(6, task)
        assert len(ok) == 1, (ok, errors)
        assert all(isinstance(e, InsufficientStock) for e in errors), errors
        stock = Stock.objects.get(pk=product.pk)
        assert (stock.on_hand, stock.allocated) == (3, 3)
        quantity = Order.objects.get(pk=order.pk).lines.get().quantity
        sold = Order.objects.filter(lines__product=product).exclude(pk=order.pk).count()
        assert quantity + sold == 3
    assert find_violations() == []


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_edits_and_placements_over_the_same_rows_in_opposite_order_never_deadlock():
    a = _racy_product(200, "CROSS-A")
    b = _racy_product(200, "CROSS-B")
    orders = [order_place(customer=_customer(), lines=[(a, 1), (b, 1)]) for _ in range(4)]
    buyers = [_customer() for _ in range(4)]
    workers = workers_for(8)

    def task(i):
        close_old_connections()
        for round_ in range(3):
            if i % 2:
                # Up on one product, down on the other: allocation and release in one edit.
                up, down = (a, b) if round_ % 2 else (b, a)
                order = Order.objects.get(pk=orders[i // 2 % 4].pk)
                held = dict(order.lines.values_list("product_id", "quantity"))
                order_edit(order=order, lines=[(up, held.get(up.pk, 0) + 2), (down, 1)])
            else:
                lines = [(b, 1), (a, 1)] if round_ % 2 else [(a, 1), (b, 1)]
                order_place(customer=buyers[i // 2 % 4], lines=lines)
        return True

    ok, errors = run_concurrently(workers, task)
    assert errors == [] and len(ok) == workers
    assert find_violations() == []


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_an_edit_racing_a_payment_of_the_old_total_never_leaves_it_overpaid():
    product = _racy_product(10, "PAYRACE-1")
    for _ in range(3):
        order = _order_of(product, 3)  # 30.00 + 7.50

        def task(i, order=order):
            close_old_connections()
            fresh = Order.objects.get(pk=order.pk)
            if i == 0:
                return order_edit(order=fresh, lines=[(product, 1)])
            return payment_capture(order=fresh, offline_method="cash", amount=Decimal("37.50"))

        ok, errors = run_concurrently(2, task)
        assert len(ok) == 1, errors
        assert len(errors) == 1 and isinstance(errors[0], OrderNotEditable | InvalidAmount), errors
        order_cancel(order=Order.objects.get(pk=order.pk))
    assert find_violations() == []


def _statements(call) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)


def test_the_services_send_the_same_statements_for_one_line_and_for_many(
    customer, card, make_received_product
):
    """Pinned: an edit, a draft's lines and a draft's placement cost the same with 1 or 6 lines."""
    products = [make_received_product(on_hand=50, price=Decimal("3.00")) for _ in range(6)]
    counts = {}
    for n in (1, 6):
        chosen = products[:n]
        order = order_place(customer=customer, lines=[(p, 1) for p in chosen], payment_method=card)
        draft = order_draft_create(customer=customer)
        counts[n] = (
            _statements(lambda o=order, c=chosen: order_edit(order=o, lines=[(p, 3) for p in c])),
            _statements(lambda d=draft, c=chosen: order_draft_set_lines(order=d, lines=[(p, 1) for p in c])),
            _statements(lambda d=draft: order_draft_place(order=d, payment_method=card)),
        )
    assert counts[1] == counts[6], counts
    assert find_violations() == []
