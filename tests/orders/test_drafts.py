"""Draft orders: staff's orders in the making. They hold no stock, take no money, and are placed
through the same path as order_place."""

from decimal import Decimal
from unittest import mock

import pytest
from django.db import transaction
from django.db.models import ProtectedError

from catalog import services as catalog_services
from catalog.exceptions import InsufficientStock, InvalidQuantity, ProductInactive
from catalog.models import Product, StockMovement
from orders.exceptions import AddressNotOwned, EmptyOrder, InvalidTransition, NotADraft, OrderError
from orders.models import OPEN_STATUSES, TRANSITIONS, Order, OrderEvent, OrderLine, OrderStatus
from orders.services import (
    customer_anonymize,
    order_cancel,
    order_draft_create,
    order_draft_delete,
    order_draft_place,
    order_draft_set_lines,
    order_place,
    order_ship,
    orders_delete,
)
from payments.exceptions import PaymentMethodNotOwned
from payments.services import payment_capture
from shop.backoffice import dashboard
from shop.backoffice.integrity import find_violations
from shop.core.exceptions import ShopError
from shop.core.validators import MAX_QUANTITY
from tests.catalog.support import stock_of
from tests.factories import AddressFactory, CustomerFactory, PaymentMethodFactory, UserFactory


@pytest.fixture
def lamp(make_received_product):
    return make_received_product(on_hand=10, price=Decimal("30.00"), name="Lamp")


@pytest.fixture
def mug(make_received_product):
    return make_received_product(on_hand=4, price=Decimal("12.50"), name="Mug")


def state_of(order: Order):
    """Everything a refused call must leave as it was."""
    order = Order.objects.get(pk=order.pk)
    return (
        {f.attname: getattr(order, f.attname) for f in Order._meta.concrete_fields},
        list(order.lines.values_list("id", "product_id", "unit_price", "quantity", "line_total")),
        list(order.events.values_list("id", "kind", "message")),
        StockMovement.objects.count(),
        list(Product.objects.order_by("pk").values_list("pk", "stock__on_hand", "stock__allocated")),
    )


def ledger_rows():
    return StockMovement.objects.exclude(kind=StockMovement.Kind.RECEIPT)


def test_the_draft_status_comes_before_placed():
    assert OrderStatus.DRAFT == "draft"
    assert TRANSITIONS[OrderStatus.DRAFT] == {OrderStatus.PLACED}
    assert OrderStatus.DRAFT not in OPEN_STATUSES
    assert OrderStatus.DRAFT not in dashboard.SALES_STATUSES


def test_create_gives_the_number_at_once_and_holds_nothing(customer):
    user = UserFactory()
    draft = order_draft_create(customer=customer, actor=user)
    assert draft.status == OrderStatus.DRAFT and draft.is_draft and not draft.is_open
    assert draft.number == f"SO-{draft.pk:06d}"
    assert (draft.subtotal, draft.shipping_cost, draft.total) == (0, 0, 0)
    assert not draft.lines.exists()
    event = draft.events.get()
    assert (event.kind, event.to_status, event.actor) == ("draft_created", "draft", user)
    # The same SO- sequence as placed orders.
    placed = order_place(customer=customer, lines=[(catalog_product(), 1)])
    assert placed.number == f"SO-{placed.pk:06d}" and placed.pk > draft.pk


def catalog_product():
    from tests.factories import ProductFactory

    return ProductFactory(stock=5)


def test_an_anonymized_customer_gets_no_draft(customer):
    customer_anonymize(customer=customer)
    with pytest.raises(OrderError, match="anonymized"):
        order_draft_create(customer=customer)
    assert not Order.objects.exists()


def test_set_lines_merges_removes_zeroes_and_prices_now_without_touching_stock(customer, lamp, mug):
    draft = order_draft_create(customer=customer)
    user = UserFactory()
    result = order_draft_set_lines(order=draft, lines=[(lamp, 1), (mug, 2), (lamp, 2)], actor=user)
    assert result.pk == draft.pk and draft.subtotal == Decimal("115.00")
    assert list(draft.lines.values_list("product_id", "quantity", "unit_price", "line_total")) == [
        (lamp.pk, 3, Decimal("30.00"), Decimal("90.00")),
        (mug.pk, 2, Decimal("12.50"), Decimal("25.00")),
    ]
    assert draft.shipping_cost == Decimal("0.00")  # over the free-shipping threshold
    assert draft.total == Decimal("115.00")
    assert draft.status == OrderStatus.DRAFT
    # A draft holds no stock: nothing allocated, no ledger row, and the integrity check agrees.
    assert stock_of(lamp).allocated == 0 and stock_of(mug).allocated == 0
    assert not ledger_rows().exists()
    assert find_violations() == []
    event = draft.events.get(kind="edited")
    assert event.actor == user and "3 × Lamp" in event.message

    # The whole new set: the lamp is dropped by a 0, the mug changes, prices are today's.
    Product.objects.filter(pk=mug.pk).update(price=Decimal("10.00"))
    order_draft_set_lines(order=draft, lines=[(lamp, 0), (mug, 1)])
    assert list(draft.lines.values_list("product_id", "quantity", "unit_price")) == [
        (mug.pk, 1, Decimal("10.00"))
    ]
    assert (draft.subtotal, draft.shipping_cost, draft.total) == (
        Decimal("10.00"),
        Decimal("7.50"),
        Decimal("17.50"),
    )
    # Empty is allowed for a draft (nothing charged for shipping then).
    order_draft_set_lines(order=draft, lines=[])
    assert not draft.lines.exists() and draft.total == 0
    assert not ledger_rows().exists() and find_violations() == []


def test_setting_the_same_lines_again_writes_nothing(customer, lamp):
    draft = order_draft_create(customer=customer)
    order_draft_set_lines(order=draft, lines=[(lamp, 2)])
    before = state_of(draft)
    order_draft_set_lines(order=draft, lines=[(lamp, 1), (lamp, 1)])
    assert state_of(draft) == before


@pytest.mark.parametrize("quantity", [-1, 1.5, True, "2", None, MAX_QUANTITY + 1])
def test_set_lines_refuses_bad_quantities_and_changes_nothing(customer, lamp, quantity):
    draft = order_draft_create(customer=customer)
    order_draft_set_lines(order=draft, lines=[(lamp, 1)])
    before = state_of(draft)
    with pytest.raises(InvalidQuantity):
        order_draft_set_lines(order=draft, lines=[(lamp, quantity)])
    assert state_of(draft) == before


def test_two_halves_over_the_bound_are_refused_too(customer, lamp):
    draft = order_draft_create(customer=customer)
    with pytest.raises(InvalidQuantity, match="at most"):
        order_draft_set_lines(order=draft, lines=[(lamp, MAX_QUANTITY), (lamp, 1)])


def test_a_huge_total_is_refused_with_a_message_not_by_the_database(customer, make_received_product):
    dear = make_received_product(on_hand=0, price=Decimal("99999999.99"))
    draft = order_draft_create(customer=customer)
    with pytest.raises(OrderError, match="more than"):
        order_draft_set_lines(order=draft, lines=[(dear, 1000)])
    assert not draft.lines.exists()


def test_set_lines_refuses_an_inactive_product(customer, lamp, mug):
    draft = order_draft_create(customer=customer)
    order_draft_set_lines(order=draft, lines=[(lamp, 1)])
    Product.objects.filter(pk=mug.pk).update(is_active=False)
    before = state_of(draft)
    with pytest.raises(ProductInactive, match="Mug"):
        order_draft_set_lines(order=draft, lines=[(lamp, 1), (mug, 1)])
    assert state_of(draft) == before


def test_draft_services_refuse_an_order_that_is_not_a_draft(customer, lamp):
    order = order_place(customer=customer, lines=[(lamp, 1)])
    before = state_of(order)
    for call in (
        lambda: order_draft_set_lines(order=order, lines=[(lamp, 2)]),
        lambda: order_draft_place(order=order),
        lambda: order_draft_delete(order=order),
    ):
        with pytest.raises(NotADraft, match=f"{order.number} is placed, not a draft"):
            call()
        assert state_of(order) == before
    assert issubclass(NotADraft, ShopError)


def test_place_allocates_exactly_once_through_the_placement_path(customer, card, lamp, mug):
    draft = order_draft_create(customer=customer)
    order_draft_set_lines(order=draft, lines=[(lamp, 2), (mug, 1)])
    created_at = draft.created_at
    user = UserFactory()
    with mock.patch.object(
        catalog_services, "stock_allocate", wraps=catalog_services.stock_allocate
    ) as allocate:
        placed = order_draft_place(order=draft, payment_method=card, actor=user)
    allocate.assert_called_once()
    assert placed.pk == draft.pk and placed.number == draft.number
    assert draft.status == OrderStatus.PLACED  # the caller's instance is brought up to date
    assert draft.created_at > created_at  # "placed at" is when it was placed
    assert (stock_of(lamp).allocated, stock_of(mug).allocated) == (2, 1)
    ledger = ledger_rows().filter(order_number=draft.number)
    assert sorted(ledger.values_list("kind", "product_id", "allocated_delta")) == sorted(
        [("allocation", lamp.pk, 2), ("allocation", mug.pk, 1)]
    )
    address = customer.addresses.get()
    assert draft.shipping_line1 == address.line1 and draft.shipping_name == customer.full_name
    assert draft.payment_method_label == card.label
    event = draft.events.get(kind="placed")
    assert (event.from_status, event.to_status, event.actor) == ("draft", "placed", user)
    assert "Price changed" not in event.message
    assert find_violations() == []
    # Placed now: it is an open order like any other, and cannot be placed again.
    assert Order.objects.open().filter(pk=draft.pk).exists()
    with pytest.raises(NotADraft):
        order_draft_place(order=draft)
    assert ledger.count() == 2


def test_place_charges_todays_price_and_says_which_changed(customer, lamp, mug):
    draft = order_draft_create(customer=customer)
    order_draft_set_lines(order=draft, lines=[(lamp, 1), (mug, 2)])
    Product.objects.filter(pk=lamp.pk).update(price=Decimal("32.00"))
    order_draft_place(order=draft)
    assert list(draft.lines.values_list("product_id", "unit_price", "line_total")) == [
        (lamp.pk, Decimal("32.00"), Decimal("32.00")),
        (mug.pk, Decimal("12.50"), Decimal("25.00")),
    ]
    assert draft.subtotal == Decimal("57.00") and draft.total == Decimal("64.50")
    message = draft.events.get(kind="placed").message
    assert "Price changed since the line was added: Lamp" in message
    assert "30.00 → 32.00" in message and "Mug" not in message


def test_place_with_a_chosen_address(customer, lamp):
    other = AddressFactory(customer=customer, line1="9 Counter Lane")
    draft = order_draft_create(customer=customer)
    order_draft_set_lines(order=draft, lines=[(lamp, 1)])
    order_draft_place(order=draft, shipping_address=other)
    assert draft.shipping_line1 == "9 Counter Lane"


@pytest.mark.parametrize(
    "refusal",
    ["short", "inactive", "foreign_address", "foreign_method", "no_default_address", "empty"],
)
def test_a_refused_placement_leaves_the_draft_exactly_as_it_was(customer, lamp, mug, refusal):
    draft = order_draft_create(customer=customer)
    kwargs = {}
    order_draft_set_lines(order=draft, lines=[(lamp, 2), (mug, 4)])
    stranger = CustomerFactory()
    if refusal == "short":
        order_place(customer=customer, lines=[(mug, 3)])  # the mug ran out meanwhile
        expected = InsufficientStock
    elif refusal == "inactive":
        Product.objects.filter(pk=mug.pk).update(is_active=False)
        expected = ProductInactive
    elif refusal == "foreign_address":
        kwargs["shipping_address"] = AddressFactory(customer=stranger)
        expected = AddressNotOwned
    elif refusal == "foreign_method":
        kwargs["payment_method"] = PaymentMethodFactory(customer=stranger)
        expected = PaymentMethodNotOwned
    elif refusal == "no_default_address":
        customer.addresses.update(is_default_shipping=False)
        expected = OrderError
    else:
        order_draft_set_lines(order=draft, lines=[])
        expected = EmptyOrder
    # A price change too: the refusal must not keep the new price either.
    Product.objects.filter(pk=lamp.pk).update(price=Decimal("31.00"))
    before = state_of(draft)
    with pytest.raises(expected) as excinfo:
        order_draft_place(order=draft, **kwargs)
    assert state_of(draft) == before
    assert draft.status == OrderStatus.DRAFT
    if refusal == "short":
        assert "Mug" in str(excinfo.value) and "requested 4, available 1" in str(excinfo.value)
    assert find_violations() == []


def test_a_draft_takes_no_money_and_does_not_ship_or_cancel(customer, card, lamp):
    draft = order_draft_create(customer=customer)
    order_draft_set_lines(order=draft, lines=[(lamp, 1)])
    with pytest.raises(InvalidTransition):
        payment_capture(order=draft, method=card)
    with pytest.raises(InvalidTransition):
        order_cancel(order=draft)
    with pytest.raises(InvalidTransition):
        order_ship(order=draft, carrier="UPS", tracking_number="1Z1")
    assert not draft.payments.exists() and Order.objects.get(pk=draft.pk).status == "draft"


def test_drafts_are_not_awaiting_shipment_nor_sales(customer, lamp):
    draft = order_draft_create(customer=customer)
    order_draft_set_lines(order=draft, lines=[(lamp, 1)])
    assert not Order.objects.awaiting_shipment().exists()
    assert not Order.objects.open().exists()
    assert list(Order.objects.drafts()) == [draft] and not Order.objects.placed().exists()
    sales = dashboard.sales_by_day(with_revenue=True)
    assert sales.orders == 0 and sales.revenue == 0
    order_draft_place(order=draft)
    sales = dashboard.sales_by_day(with_revenue=True)
    assert sales.orders == 1 and sales.revenue == draft.total


def test_delete_a_draft(customer, lamp):
    draft = order_draft_create(customer=customer)
    order_draft_set_lines(order=draft, lines=[(lamp, 2)])
    order_draft_delete(order=draft, actor=UserFactory())
    assert not Order.objects.exists() and not OrderLine.objects.exists()
    assert not OrderEvent.objects.exists()
    assert stock_of(lamp).allocated == 0 and not ledger_rows().exists()
    assert find_violations() == []


def test_plain_deletes_and_orders_delete_take_drafts(customer, lamp):
    drafts = [order_draft_create(customer=customer) for _ in range(2)]
    for draft in drafts:
        order_draft_set_lines(order=draft, lines=[(lamp, 1)])
    placed = order_place(customer=customer, lines=[(lamp, 3)])
    # A plain delete of drafts is fine: they hold no stock.
    drafts[0].delete()
    # orders_delete with a draft and an open order: only the open order's stock goes back.
    orders_delete(queryset=Order.objects.all())
    assert not Order.objects.exists()
    assert stock_of(lamp).allocated == 0
    released = ledger_rows().filter(kind="release")
    assert list(released.values_list("order_number", "allocated_delta")) == [(placed.number, -3)]
    assert find_violations() == []


def test_anonymizing_a_customer_deletes_their_drafts_and_keeps_placed_orders(customer, lamp):
    draft = order_draft_create(customer=customer)
    order_draft_set_lines(order=draft, lines=[(lamp, 1)])
    placed = order_place(customer=customer, lines=[(lamp, 1)])
    order_cancel(order=placed)
    customer_anonymize(customer=customer)
    assert list(Order.objects.values_list("pk", flat=True)) == [placed.pk]
    assert find_violations() == []


def test_the_customer_of_a_draft_cannot_be_deleted_behind_its_back(customer):
    order_draft_create(customer=customer)
    with pytest.raises(ProtectedError), transaction.atomic():
        customer.delete()
    assert Order.objects.drafts().count() == 1


def test_the_integrity_check_knows_a_draft_holds_no_stock_and_no_money(customer, lamp):
    from tests.factories import PaymentFactory, StockMovementFactory

    draft = order_draft_create(customer=customer)
    order_draft_set_lines(order=draft, lines=[(lamp, 2)])
    assert find_violations() == []  # its lines are not counted as allocated
    PaymentFactory(order=draft, amount=Decimal("1.00"))
    StockMovementFactory(
        product=lamp, kind="allocation", on_hand_delta=0, allocated_delta=1, order_number=draft.number
    )
    problems = find_violations()
    assert f"order {draft.number}: a draft, yet it has payments" in problems
    assert f"order {draft.number}: a draft, yet it has stock ledger rows" in problems


def test_a_draft_deleted_meanwhile_is_refused_with_a_message(customer, lamp):
    draft = order_draft_create(customer=customer)
    Order.objects.filter(pk=draft.pk).delete()  # another staff member deleted it
    for call in (
        lambda: order_draft_set_lines(order=draft, lines=[(lamp, 1)]),
        lambda: order_draft_place(order=draft),
        lambda: order_draft_delete(order=draft),
    ):
        with pytest.raises(OrderError, match=f"{draft.number} no longer exists"):
            call()
    assert not ledger_rows().exists()


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_drafts_placed_while_the_storefront_sells_never_oversell_and_the_losers_stay_drafts():
    from django.db import close_old_connections

    from catalog.services import product_create
    from tests.factories import ProductTypeFactory
    from tests.test_concurrency import _customer, run_concurrently

    product = product_create(
        name="Racy draft", sku="DRAFT-RACE", product_type=ProductTypeFactory(), price="10.00", initial_stock=3
    )
    drafts = []
    for _ in range(3):
        draft = order_draft_create(customer=_customer())
        drafts.append(order_draft_set_lines(order=draft, lines=[(product, 1)]))
    buyers = [_customer() for _ in range(3)]

    def task(i):
        close_old_connections()
        if i < 3:
            return order_draft_place(order=Order.objects.get(pk=drafts[i].pk))
        return order_place(customer=buyers[i - 3], lines=[(product, 1)])

    ok, errors = run_concurrently(6, task)
    assert len(ok) == 3 and len(errors) == 3, errors
    assert all(isinstance(e, InsufficientStock) for e in errors), errors
    stock = stock_of(product)
    assert (stock.on_hand, stock.allocated) == (3, 3)
    still_drafts = Order.objects.drafts().filter(pk__in=[d.pk for d in drafts])
    placed_drafts = 3 - still_drafts.count()
    assert Order.objects.open().count() == 3
    for draft in still_drafts:  # a loser is exactly as it was: its line, no ledger rows
        assert list(draft.lines.values_list("quantity", flat=True)) == [1]
        assert not StockMovement.objects.filter(order_number=draft.number).exists()
    assert placed_drafts + sum(1 for o in ok if o.pk not in {d.pk for d in drafts}) == 3
    assert find_violations() == []
