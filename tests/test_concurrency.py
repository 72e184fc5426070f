"""Real threads, real transactions: what happens when requests race for the same rows.

Every worker thread uses its own database connection; the tests run with transaction=True so
each service call commits for real, as in production.
"""

import threading
import time
from collections import Counter
from decimal import Decimal

import pytest
from django.db import OperationalError, close_old_connections, connection, transaction

from catalog.exceptions import InsufficientStock
from catalog.models import Stock, StockMovement
from catalog.services import product_create
from orders.exceptions import InvalidReturn, InvalidShipment, InvalidTransition, PartiallyShippedNotCancelled
from orders.models import Order, OrderLine, Return, Shipment
from orders.services import order_cancel, order_place, order_return, order_ship
from payments.models import Payment
from payments.services import payment_capture
from shop.backoffice.integrity import find_violations
from shop.core.db import atomic_with_retry
from shop.core.exceptions import TransactionConflict
from tests.factories import AddressFactory, CustomerFactory, PaymentMethodFactory, ProductTypeFactory

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

needs_row_locks = pytest.mark.skipif(
    "connection.vendor == 'sqlite'",
    reason="SQLite has no row locks (SELECT ... FOR UPDATE is a no-op): writers queue on the "
    "database lock instead; the row-lock behaviour is tested on PostgreSQL and MariaDB.",
)


def run_concurrently(workers: int, task):
    """Start `workers` threads that call task(i) at the same moment; return (ok, errors)."""
    barrier = threading.Barrier(workers)
    results: list[tuple[str, object]] = [None] * workers

    def run(i):
        try:
            barrier.wait(timeout=30)
            results[i] = ("ok", task(i))
        except Exception as error:
            results[i] = ("error", error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    ok = [value for kind, value in results if kind == "ok"]
    errors = [value for kind, value in results if kind == "error"]
    return ok, errors


def _customer():
    customer = CustomerFactory()
    AddressFactory(customer=customer, is_default_shipping=True)
    PaymentMethodFactory(customer=customer, is_default=True)
    return customer


def _product(stock: int, sku: str):
    return product_create(
        name=f"Racy {sku}",
        sku=sku,
        product_type=ProductTypeFactory(),
        price=Decimal("10.00"),
        initial_stock=stock,
    )


def workers_for(full: int) -> int:
    """The full count on PostgreSQL and MariaDB; a lighter run on SQLite, whose writers queue."""
    return full if connection.vendor != "sqlite" else max(4, full // 2)


def test_twenty_buyers_for_five_units_never_oversell():
    product = _product(5, "HOT-1")
    customers = [_customer() for _ in range(20)]

    def buy(i):
        close_old_connections()
        return order_place(customer=customers[i], lines=[(product, 1)])

    ok, errors = run_concurrently(20, buy)
    assert len(ok) == 5
    assert len(errors) == 15
    assert all(isinstance(e, InsufficientStock) for e in errors), errors
    assert Order.objects.count() == 5
    assert len({order.number for order in ok}) == 5
    stock = Stock.objects.get(pk=product.pk)
    assert (stock.on_hand, stock.allocated, stock.available) == (5, 5, 0)
    assert find_violations() == []


def test_opposite_line_order_never_deadlocks_and_orders_are_all_or_nothing():
    a = _product(30, "PAIR-A")
    b = _product(30, "PAIR-B")
    customers = [_customer() for _ in range(4)]
    workers = workers_for(16)

    def buy(i):
        placed = []
        for round_ in range(3):
            lines = [(a, 2), (b, 1)] if (i + round_) % 2 else [(b, 2), (a, 1)]
            try:
                placed.append(order_place(customer=customers[i % 4], lines=lines))
            except InsufficientStock:
                placed.append(None)
        return placed

    ok, errors = run_concurrently(workers, buy)
    assert errors == []
    orders = [order for batch in ok for order in batch if order is not None]
    # 30 of each, an order takes 2 of one and 1 of the other: at most 20 orders fit (10 of each
    # kind), and each product runs out only after 15 orders at the least. Which mix arrives
    # first decides the exact number, so between those bounds.
    requests = workers * 3
    assert min(requests, 15) <= len(orders) <= min(requests, 20)
    stock_a, stock_b = Stock.objects.get(pk=a.pk), Stock.objects.get(pk=b.pk)
    assert stock_a.allocated + stock_b.allocated == 3 * len(orders)
    for order in orders:
        assert sorted(order.lines.values_list("product_id", flat=True)) == sorted([a.pk, b.pk])
    assert len({order.number for order in orders}) == len(orders)
    assert find_violations() == []


def _paid_order(on_hand=5, sku="ONE-1"):
    product = _product(on_hand, sku)
    customer = _customer()
    order = order_place(
        customer=customer, lines=[(product, 2)], payment_method=customer.payment_methods.get()
    )
    payment_capture(order=order)
    return order, product


def test_two_cancels_of_one_order_happen_once():
    order, product = _paid_order()

    ok, errors = run_concurrently(2, lambda i: order_cancel(order=Order.objects.get(pk=order.pk)))
    assert len(ok) == 1
    assert len(errors) == 1 and isinstance(errors[0], InvalidTransition), errors
    assert StockMovement.objects.filter(kind="release", product=product).count() == 1
    assert Stock.objects.get(pk=product.pk).allocated == 0
    payment = order.payments.get()
    assert payment.refunded_amount == payment.amount
    assert order.events.filter(kind="refunded").count() == 1
    assert find_violations() == []


def test_two_shipments_of_one_order_happen_once_and_nothing_is_overwritten():
    order, product = _paid_order()

    def ship(i):
        return order_ship(order=Order.objects.get(pk=order.pk), carrier="UPS", tracking_number=f"TRACK-{i}")

    ok, errors = run_concurrently(2, ship)
    assert len(ok) == 1
    assert len(errors) == 1 and isinstance(errors[0], InvalidTransition), errors
    shipment = Shipment.objects.get(order=order)
    assert shipment.tracking_number == ok[0].tracking_number
    assert StockMovement.objects.filter(kind="sale", product=product).count() == 1
    stock = Stock.objects.get(pk=product.pk)
    assert (stock.on_hand, stock.allocated) == (3, 0)
    assert find_violations() == []


def _paid_two_line_order(sku):
    """A paid order of 4 of A and 1 of B (10.00 each, 10 on hand of each)."""
    a, b = _product(10, f"{sku}-A"), _product(10, f"{sku}-B")
    customer = _customer()
    order = order_place(
        customer=customer, lines=[(a, 4), (b, 1)], payment_method=customer.payment_methods.get()
    )
    payment_capture(order=order)
    return order, order.lines.get(product=a), order.lines.get(product=b), a, b


@pytest.mark.parametrize("rounds", [3])
def test_two_staff_shipping_the_same_remaining_units_ship_them_once(rounds):
    for round_ in range(rounds):
        order, line_a, _, a, b = _paid_two_line_order(f"SHIP-{round_}")
        order_ship(order=order, carrier="ups", tracking_number="FIRST", lines=[(line_a, 2)])

        def ship(i, order=order, line_a=line_a):
            return order_ship(
                order=Order.objects.get(pk=order.pk),
                carrier="ups",
                tracking_number=f"RACE-{i}",
                lines=[(OrderLine.objects.get(pk=line_a.pk), 2)],
            )

        ok, errors = run_concurrently(2, ship)
        assert len(ok) == 1, errors
        assert len(errors) == 1 and isinstance(errors[0], InvalidShipment), errors
        assert "0 left to ship" in str(errors[0])
        assert set(Shipment.objects.filter(order=order).values_list("tracking_number", flat=True)) == {
            "FIRST",
            ok[0].tracking_number,
        }
        line_a.refresh_from_db()
        assert (line_a.quantity_shipped, line_a.quantity_to_ship) == (4, 0)
        # Four units of A left stock, in two sale rows: nothing twice.
        sales = StockMovement.objects.filter(kind="sale", product=a)
        assert sorted(sales.values_list("on_hand_delta", flat=True)) == [-2, -2]
        stock_a, stock_b = Stock.objects.get(pk=a.pk), Stock.objects.get(pk=b.pk)
        assert (stock_a.on_hand, stock_a.allocated) == (6, 0)
        assert (stock_b.on_hand, stock_b.allocated) == (10, 1)
        assert Order.objects.get(pk=order.pk).status == Order.Status.PARTIALLY_SHIPPED
    assert find_violations() == []


@pytest.mark.parametrize("rounds", [3])
def test_two_returns_of_the_same_units_restock_and_refund_them_once(rounds):
    for round_ in range(rounds):
        order, line_a, _, a, _ = _paid_two_line_order(f"RETURN-{round_}")
        order_ship(order=order, carrier="ups", tracking_number="ALL")

        def take_back(i, order=order, line_a=line_a):
            return order_return(
                order=Order.objects.get(pk=order.pk),
                lines=[(OrderLine.objects.get(pk=line_a.pk), 3)],
                refund=True,
                reason=f"return {i}",
            )

        ok, errors = run_concurrently(2, take_back)
        assert len(ok) == 1, errors
        assert len(errors) == 1 and isinstance(errors[0], InvalidReturn), errors
        assert "3 asked, 1 shipped and not returned" in str(errors[0])
        assert list(Return.objects.filter(order=order).values_list("pk", flat=True)) == [ok[0].pk]
        line_a.refresh_from_db()
        assert line_a.quantity_returned == 3
        restocked = StockMovement.objects.filter(kind="return", product=a)
        assert list(restocked.values_list("on_hand_delta", "order_number")) == [(3, order.number)]
        assert Stock.objects.get(pk=a.pk).on_hand == 6 + 3
        payment = Payment.objects.get(order=order)
        assert payment.refunded_amount == Decimal("30.00") == ok[0].refunded_amount
        assert Order.objects.get(pk=order.pk).events.filter(kind="refunded").count() == 1
        assert Order.objects.get(pk=order.pk).status == Order.Status.PARTIALLY_RETURNED
    assert find_violations() == []


@pytest.mark.parametrize("rounds", [3])
def test_a_cancel_racing_a_partial_shipment_lets_only_one_happen(rounds):
    for round_ in range(rounds):
        order, line_a, _, a, _ = _paid_two_line_order(f"CANCEL-{round_}")

        def task(i, order=order, line_a=line_a):
            fresh = Order.objects.get(pk=order.pk)
            if i == 0:
                return order_cancel(order=fresh, reason="race")
            return order_ship(order=fresh, carrier="ups", tracking_number="1Z", lines=[(line_a, 1)])

        ok, errors = run_concurrently(2, task)
        assert len(ok) == 1 and len(errors) == 1, (ok, errors)
        status = Order.objects.get(pk=order.pk).status
        if status == Order.Status.CANCELLED:
            assert isinstance(errors[0], InvalidTransition)
            assert not Shipment.objects.filter(order=order).exists()
            assert Stock.objects.get(pk=a.pk).on_hand == 10
            payment = Payment.objects.get(order=order)
            assert payment.refunded_amount == payment.amount
        else:
            assert status == Order.Status.PARTIALLY_SHIPPED
            assert isinstance(errors[0], PartiallyShippedNotCancelled)
            assert Payment.objects.get(order=order).refunded_amount == 0
        assert Stock.objects.get(pk=a.pk).allocated == (0 if status == "cancelled" else 3)
    assert find_violations() == []


@needs_row_locks
def test_placement_waits_for_a_lock_held_on_the_stock_row():
    product = _product(1, "LOCKED-1")
    customer = _customer()
    locked = threading.Event()
    released_at = []

    def holder():
        with transaction.atomic():
            row = Stock.objects.select_for_update().get(pk=product.pk)
            locked.set()
            time.sleep(0.5)
            Stock.objects.filter(pk=row.pk).update(low_stock_threshold=1)
            released_at.append(time.monotonic())
        connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    assert locked.wait(10)
    order = order_place(customer=customer, lines=[(product, 1)])
    finished_at = time.monotonic()
    thread.join()
    assert finished_at >= released_at[0]
    assert order.lines.get().quantity == 1


def _deadlock_error():
    class Cause(Exception):
        sqlstate = "40P01"

    error = OperationalError("deadlock detected")
    error.__cause__ = Cause()
    return error


def test_retry_runs_the_operation_again_after_a_deadlock():
    calls = Counter()

    @atomic_with_retry(attempts=3)
    def flaky():
        calls["n"] += 1
        if calls["n"] < 3:
            raise _deadlock_error()
        return "done"

    assert flaky() == "done"
    assert calls["n"] == 3


def test_retry_gives_up_with_a_named_error():
    @atomic_with_retry(attempts=2)
    def always():
        raise _deadlock_error()

    with pytest.raises(TransactionConflict):
        always()


def test_other_database_errors_are_not_retried():
    calls = Counter()

    @atomic_with_retry(attempts=5)
    def broken():
        calls["n"] += 1
        raise OperationalError("no such table")

    with pytest.raises(OperationalError):
        broken()
    assert calls["n"] == 1


@needs_row_locks
@pytest.mark.parametrize("rounds", [6])
def test_an_order_placed_while_its_customer_is_anonymized_never_keeps_their_data(rounds):
    """Anonymize and order_place for the same customer at the same moment: either the order comes
    first (and the erasure is refused, naming it) or the erasure does (and the order is refused).
    Never an open order for an erased customer, never their name on a new order."""
    from orders.exceptions import CustomerHasOpenOrders, OrderError
    from orders.services import customer_anonymize

    product = _product(1000, "RACE-ANON")
    for _ in range(rounds):
        customer = _customer()

        def task(i, customer=customer):
            if i == 0:
                return customer_anonymize(customer=customer)
            return order_place(customer=customer, lines=[(product, 1)])

        ok, errors = run_concurrently(2, task)
        assert len(ok) == 1 and len(errors) == 1, (ok, errors)
        customer.refresh_from_db()
        if customer.anonymized_at is None:
            assert isinstance(errors[0], CustomerHasOpenOrders)
            assert Order.objects.filter(customer=customer).open().count() == 1
        else:
            assert isinstance(errors[0], OrderError) and "anonymized" in str(errors[0])
            assert not Order.objects.filter(customer=customer).exists()
    assert find_violations() == []
