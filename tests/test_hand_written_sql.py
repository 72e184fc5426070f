"""The hand-written statements of order placement against the ORM statements they replace.

Each statement is run beside the ORM statement its docstring names, on the same rows (writes
inside a savepoint that is rolled back before the other one runs), and the results are compared
value by value, including each value's type (Decimal places, aware datetimes with their
microseconds, bools, nulls) and the order of the rows where the caller sees it.
"""

import datetime
import re
import threading
import time
import zoneinfo
from decimal import Decimal
from unittest import mock

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import Case, F, Value, When
from django.test.utils import CaptureQueriesContext

from catalog.models import Product, Stock, StockMovement
from catalog.selectors import products_for_order
from catalog.services import _select_stock_for_update, _update_stock_rows
from customers.models import Address, Customer
from customers.selectors import default_shipping_address, lock_customer_with_default_address
from orders.exceptions import OrderError, UnknownCustomer
from orders.models import Order, OrderLine
from orders.services import _lock_customer
from shop.core.db import insert_row, insert_rows, raw_instances, sql_select, update_row
from shop.core.validators import MAX_AMOUNT, MAX_QUANTITY
from tests.factories import (
    AddressFactory,
    CustomerFactory,
    OrderFactory,
    PaymentMethodFactory,
    ProductFactory,
    UserFactory,
)

# The bounds every stock, movement, line and money column keeps (CHECK constraints), well inside
# IntegerField's and MoneyField's own range on every backend.
INT_MAX = MAX_QUANTITY
MONEY_MAX = MAX_AMOUNT
# A leap-day second with microseconds, in UTC, for every `timezone.now()` the statements take.
FROZEN_NOW = datetime.datetime(2024, 2, 29, 23, 59, 59, 987654, tzinfo=datetime.UTC)
UNICODE = "Crème brûlée — 東京 🚀 Ωmega"

needs_row_locks = pytest.mark.skipif(
    "connection.vendor == 'sqlite'",
    reason="SQLite has no row locks (SELECT ... FOR UPDATE is not sent; the transaction locks the "
    "whole database instead): row locking is tested on PostgreSQL and MariaDB.",
)


def typed(value):
    """A value with its type: Decimal("1.0") != Decimal("1.00"), True != 1, UTC offset kept."""
    return type(value), repr(value)


def fields_of(obj, *, exclude=()):
    """Every concrete column of `obj` (deferred ones load on access), as `typed` values."""
    return {
        f.attname: typed(getattr(obj, f.attname))
        for f in obj._meta.concrete_fields
        if f.attname not in exclude
    }


def table_rows(model, *, after=None):
    """Every row of the model's table in pk order, as the ORM reads it and as the driver returns
    it; with `after`, only the rows whose pk is greater, without their pk (new rows compared)."""
    qn = connection.ops.quote_name
    pk = model._meta.pk.attname
    names = [f.attname for f in model._meta.concrete_fields]
    columns = ", ".join(qn(f.column) for f in model._meta.concrete_fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {qn(model._meta.db_table)} ORDER BY {qn(model._meta.pk.column)}"
        )
        raw = cursor.fetchall()
    objs = list(model.objects.order_by("pk"))
    if after is not None:
        at = names.index(pk)
        raw = [row[:at] + row[at + 1 :] for row in raw if row[at] > after]
        objs = [obj for obj in objs if obj.pk > after]
    orm = [fields_of(obj, exclude={pk} if after is not None else ()) for obj in objs]
    return orm, [tuple(typed(value) for value in row) for row in raw]


class _RolledBack(Exception):
    pass


def outcome(statement, read):
    """Run `statement` at FROZEN_NOW in a savepoint, `read` the result, roll everything back.

    Returns ("ok", what `read` returned) or ("error", the exception's class name), so a
    statement and its ORM twin can be compared when the database refuses them too.
    """
    result = None
    try:
        with transaction.atomic():
            with mock.patch("django.utils.timezone.now", return_value=FROZEN_NOW):
                statement()
            result = ("ok", read())
            raise _RolledBack
    except _RolledBack:
        return result
    except DatabaseError as error:
        return ("error", type(error).__name__)


def missing_id(model):
    return (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000


# --- _select_stock_for_update: Stock.objects.select_for_update().filter(pk__in=ids).order_by("pk")


def orm_select_stock(ids):
    return list(Stock.objects.select_for_update().filter(pk__in=ids).order_by("pk"))


@pytest.fixture
def stock_rows(db):
    """Stock rows at the edges of their CHECK constraints, and a product with no stock row."""
    products = [
        ProductFactory(stock=0, stock__allocated=0, stock__threshold=0),
        ProductFactory(stock=INT_MAX, stock__allocated=INT_MAX, stock__threshold=INT_MAX),
        ProductFactory(stock=7, stock__allocated=3),
        ProductFactory(stock=INT_MAX, stock__allocated=0, stock__threshold=1),
    ]
    rowless = ProductFactory()
    Stock.objects.filter(pk=rowless.pk).delete()
    return [p.pk for p in products], rowless.pk


@pytest.mark.parametrize("pick", ["all", "one", "with_missing", "only_missing", "unsorted"])
def test_select_stock_for_update_reads_what_the_orm_reads(stock_rows, pick):
    ids, rowless = stock_rows
    absent = missing_id(Product)
    chosen = {
        "all": sorted(ids),
        "one": [ids[1]],
        "with_missing": sorted([*ids, rowless, absent]),
        "only_missing": [rowless, absent],
        "unsorted": [ids[2], absent, ids[0], ids[3]],
    }[pick]

    with CaptureQueriesContext(connection) as queries:
        raw = _select_stock_for_update(chosen)
    assert len(queries) == 1
    orm = orm_select_stock(chosen)

    assert list(raw) == [s.pk for s in orm]  # same rows, in primary-key order
    for pk, stock in raw.items():
        assert pk == stock.pk
        assert stock._state.adding is False and stock._state.db == "default"
        assert stock.get_deferred_fields() == {"updated_at"}  # loads on first access
    assert [fields_of(s) for s in raw.values()] == [fields_of(s) for s in orm]


def test_select_stock_for_update_of_no_ids_sends_nothing(db):
    with CaptureQueriesContext(connection) as queries:
        assert _select_stock_for_update([]) == {}
    assert len(queries) == 0
    assert orm_select_stock([]) == []


def test_select_stock_for_update_locks_where_the_orm_locks(stock_rows):
    """FOR UPDATE is sent exactly when select_for_update() sends it (never on SQLite)."""
    ids, _ = stock_rows
    with CaptureQueriesContext(connection) as raw:
        _select_stock_for_update(ids)
    with CaptureQueriesContext(connection) as orm:
        orm_select_stock(ids)
    raw_sql, orm_sql = raw[0]["sql"], orm[0]["sql"]
    assert raw_sql.endswith(" FOR UPDATE") == orm_sql.endswith(" FOR UPDATE")
    assert raw_sql.endswith(" FOR UPDATE") == connection.features.has_select_for_update


def _in_other_connection(task):
    """Run task() in a thread (so on its own connection); return a handle to join and read."""
    box = {}

    def run():
        try:
            box["result"] = ("ok", task())
        except Exception as error:
            box["result"] = ("error", error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, box


def _try_lock_nowait(pk, model=Stock) -> bool:
    """True if another connection can lock this row (of stock) right now, False if it is locked."""

    def task():
        with transaction.atomic():
            list(model.objects.select_for_update(nowait=True).filter(pk=pk))

    thread, box = _in_other_connection(task)
    thread.join(timeout=30)
    assert not thread.is_alive()
    kind, value = box["result"]
    if kind == "error":
        assert isinstance(value, DatabaseError), value
        return False
    return True


@needs_row_locks
@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("statement", ["hand-written", "orm"])
def test_select_stock_for_update_locks_the_rows_it_reads_and_no_others(statement):
    locked = [ProductFactory(stock=5).pk, ProductFactory(stock=6).pk]
    free = ProductFactory(stock=7).pk
    lock = _select_stock_for_update if statement == "hand-written" else orm_select_stock
    with transaction.atomic():
        lock(sorted([*locked, missing_id(Product)]))
        assert [_try_lock_nowait(pk) for pk in locked] == [False, False]
        assert _try_lock_nowait(free) is True
    # Committed: the locks are gone.
    assert [_try_lock_nowait(pk) for pk in locked] == [True, True]


@needs_row_locks
@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_second_stock_select_waits_for_the_lock_then_reads_the_committed_row():
    """What placement relies on: a second locker queues, then sees the first one's update."""
    pk = ProductFactory(stock=10).pk
    connected = threading.Event()

    def task():
        connection.ensure_connection()
        connected.set()
        with transaction.atomic():
            return _select_stock_for_update([pk])[pk].on_hand

    with transaction.atomic():
        _select_stock_for_update([pk])
        thread, box = _in_other_connection(task)
        assert connected.wait(timeout=30)
        _update_stock_rows({pk: (5, 0)})
        time.sleep(0.5)
        assert thread.is_alive(), "the second SELECT ... FOR UPDATE did not wait for the lock"
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert box["result"] == ("ok", 15)


# --- _update_stock_rows: filter(pk__in=...).update(col=F(col) + Case(When(pk=..., then=delta)))


def orm_update_stock(changes):
    from django.utils import timezone

    columns = {}
    for index, field in enumerate(("on_hand", "allocated")):
        whens = [When(pk=pk, then=Value(delta[index])) for pk, delta in changes.items()]
        columns[field] = F(field) + Case(*whens, default=Value(0))
    Stock.objects.filter(pk__in=list(changes)).update(**columns, updated_at=timezone.now())


def stock_table():
    return table_rows(Stock)


@pytest.fixture
def update_rows(db):
    return [
        ProductFactory(stock=10, stock__allocated=4).pk,
        ProductFactory(stock=INT_MAX - 47, stock__allocated=0).pk,
        ProductFactory(stock=3, stock__allocated=3).pk,
        ProductFactory(stock=0, stock__allocated=0).pk,  # never in the changes: stays as it is
    ]


@pytest.mark.parametrize(
    "case",
    [
        "mixed",
        "on_hand_only",
        "allocated_only",
        "to_the_maximum",
        "down_to_zero",
        "with_missing_id",
        "only_missing_id",
        "breaks_allocated_within_on_hand",
        "breaks_on_hand_not_negative",
        "beyond_the_limit",
    ],
)
def test_update_stock_rows_writes_what_the_orm_update_writes(update_rows, case):
    a, big, full, _ = update_rows
    absent = missing_id(Product)
    changes = {
        "mixed": {a: (5, -2), full: (-0, -3), big: (1, 1)},
        "on_hand_only": {a: (-6, 0), big: (47, 0)},
        "allocated_only": {a: (0, 6), full: (0, -1)},
        "to_the_maximum": {big: (47, INT_MAX)},
        "down_to_zero": {full: (-3, -3), a: (-4, -4)},
        "with_missing_id": {absent: (9, 9), a: (1, 0)},
        "only_missing_id": {absent: (1, 1)},
        "breaks_allocated_within_on_hand": {a: (0, 7), full: (1, 0)},
        "breaks_on_hand_not_negative": {a: (-11, -4)},
        "beyond_the_limit": {big: (48, 0)},
    }[case]

    raw = outcome(lambda: _update_stock_rows(changes), stock_table)
    orm = outcome(lambda: orm_update_stock(changes), stock_table)
    assert raw == orm
    if case.startswith("breaks"):
        assert raw == ("error", "IntegrityError")
    if raw[0] == "ok":
        rows = {row["product_id"]: row for row in raw[1][0]}
        for pk in update_rows:
            stamped = rows[typed(pk)]["updated_at"] == typed(FROZEN_NOW)
            assert stamped == (pk in changes)


def test_update_stock_rows_is_one_statement(update_rows):
    with CaptureQueriesContext(connection) as queries:
        _update_stock_rows({pk: (1, 1) for pk in update_rows})
    assert len(queries) == 1


# --- products_for_order: Product.objects.in_bulk(ids)


@pytest.fixture
def products(db):
    """Names that sort apart from their ids (and two alike), prices at the field's limits."""
    return [
        ProductFactory(name="zebra", price=MONEY_MAX),
        ProductFactory(name=UNICODE, price=Decimal("0.00"), is_active=False, currency="EUR"),
        ProductFactory(name="apple", price=Decimal("0.01"), sku="S" * 64, description=""),
        ProductFactory(name="Mango", price=Decimal("10"), description=UNICODE * 10),
        ProductFactory(name="apple", price=Decimal("1.5")),
        ProductFactory(name="x" * 200, price=MONEY_MAX, currency="JPY"),
    ]


@pytest.mark.parametrize("pick", ["all", "one", "with_missing", "only_missing", "unsorted_duplicates"])
def test_products_for_order_reads_what_in_bulk_reads(products, pick):
    pks = [p.pk for p in products]
    absent = missing_id(Product)
    ids = {
        "all": pks,
        "one": [pks[1]],
        "with_missing": [*pks, absent],
        "only_missing": [absent, absent + 1],
        "unsorted_duplicates": [pks[4], pks[0], pks[4], absent, pks[2]],
    }[pick]

    with CaptureQueriesContext(connection) as queries:
        raw = products_for_order(ids=ids)
    assert len(queries) == 1
    orm = Product.objects.in_bulk(ids)

    assert list(raw) == list(orm)  # same keys in the same order (in_bulk follows the ordering)
    for product in raw.values():
        assert product._state.adding is False and product._state.db == "default"
        assert product.get_deferred_fields() == {"product_type_id", "description", "created_at", "updated_at"}
    assert [fields_of(p) for p in raw.values()] == [fields_of(p) for p in orm.values()]


def test_products_for_order_takes_the_ids_as_order_placement_passes_them(products):
    quantities = {products[3].pk: 2, products[0].pk: 1}  # a {product id: quantity} dict
    raw = products_for_order(ids=quantities)
    orm = Product.objects.in_bulk(quantities)
    assert list(raw) == list(orm)
    assert [fields_of(p) for p in raw.values()] == [fields_of(p) for p in orm.values()]


def test_products_for_order_of_no_ids_sends_nothing(db):
    with CaptureQueriesContext(connection) as queries:
        assert products_for_order(ids=[]) == {}
    assert len(queries) == 0
    assert Product.objects.in_bulk([]) == {}


# --- default_shipping_address: Address.objects.filter(customer_id=..., is_default_shipping=True).first()


def orm_default_shipping_address(customer_id):
    return Address.objects.filter(customer_id=customer_id, is_default_shipping=True).first()


@pytest.fixture
def addresses(customer):
    """`customer` (conftest) has a default shipping and billing address; these are around it."""
    AddressFactory(customer=customer, line1="2 Other Road")  # not a default
    blanks = CustomerFactory(first_name=UNICODE)
    AddressFactory(customer=blanks, line1="Ünter den Linden 1", is_default_billing=True)
    AddressFactory(
        customer=blanks,
        line1="x" * 200,
        line2="",
        city=UNICODE,
        state="",
        postal_code="9" * 20,
        country="DE",
        is_default_shipping=True,
    )
    billing_only = CustomerFactory()
    AddressFactory(customer=billing_only, is_default_billing=True)
    AddressFactory(customer=billing_only)
    no_addresses = CustomerFactory()
    return {
        "fixture": customer.pk,
        "blanks": blanks.pk,
        "billing_only": billing_only.pk,
        "no_addresses": no_addresses.pk,
        "missing": missing_id(Customer),
    }


@pytest.mark.parametrize("who", ["fixture", "blanks", "billing_only", "no_addresses", "missing"])
def test_default_shipping_address_reads_what_first_reads(addresses, who):
    customer_id = addresses[who]
    with CaptureQueriesContext(connection) as queries:
        raw = default_shipping_address(customer_id=customer_id)
    assert len(queries) == 1
    orm = orm_default_shipping_address(customer_id)

    if who in ("fixture", "blanks"):
        assert raw is not None and orm is not None
        assert raw._state.adding is False and raw._state.db == "default"
        assert raw.get_deferred_fields() == {
            "is_default_shipping",
            "is_default_billing",
            "default_shipping_key",
            "default_billing_key",
            "created_at",
            "updated_at",
        }
        assert fields_of(raw) == fields_of(orm)
        assert raw.country == orm.country and raw.country.code == orm.country.code
    else:
        assert raw is None and orm is None


# --- lock_customer_with_default_address: _lock_customer and default_shipping_address in one


@pytest.mark.parametrize("who", ["fixture", "blanks", "billing_only", "no_addresses", "missing"])
def test_lock_customer_with_default_address_reads_what_the_two_reads_read(addresses, who):
    customer_id = addresses[who]
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            customer, address = lock_customer_with_default_address(customer_id=customer_id)
        orm_customer = Customer.objects.select_for_update().filter(pk=customer_id).first()
    orm_address = orm_default_shipping_address(customer_id)
    assert len(queries) == 1
    lock = {"postgresql": " FOR UPDATE OF c", "mysql": " FOR UPDATE"}.get(connection.vendor, "")
    assert queries[0]["sql"].endswith(lock) and ("FOR UPDATE" in queries[0]["sql"]) == bool(lock)
    if who == "missing":
        assert (customer, address) == (None, None) and orm_customer is None
        return
    assert customer._state.adding is False and customer._state.db == "default"
    assert customer.get_deferred_fields() == {"email_key"}
    assert fields_of(customer, exclude={"email_key"}) == fields_of(orm_customer, exclude={"email_key"})
    assert customer.full_name == orm_customer.full_name and customer.phone == orm_customer.phone
    if orm_address is None:
        assert address is None
        return
    assert address._state.adding is False and address._state.db == "default"
    assert (
        address.get_deferred_fields()
        == default_shipping_address(customer_id=customer_id).get_deferred_fields()
    )
    assert fields_of(address) == fields_of(orm_address)
    assert address.country.code == orm_address.country.code


@needs_row_locks
@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_lock_customer_with_default_address_locks_the_customer_until_commit():
    customer, other = CustomerFactory(), CustomerFactory()
    address = AddressFactory(customer=customer, is_default_shipping=True)
    with transaction.atomic():
        locked, read = lock_customer_with_default_address(customer_id=customer.pk)
        assert (locked.pk, read.pk) == (customer.pk, address.pk)
        assert _try_lock_nowait(customer.pk, model=Customer) is False
        assert _try_lock_nowait(other.pk, model=Customer) is True
        # PostgreSQL locks only the customer (FOR UPDATE OF); MariaDB cannot name the table.
        assert _try_lock_nowait(address.pk, model=Address) is (connection.vendor == "postgresql")
    assert _try_lock_nowait(customer.pk, model=Customer) is True


# --- insert_rows: Model.objects.bulk_create(objs)


@pytest.fixture
def movement_objects(db):
    product, other = ProductFactory(), ProductFactory(name=UNICODE)
    user = UserFactory()

    def build():
        return [
            StockMovement(product_id=product.pk, kind=StockMovement.Kind.RECEIPT, on_hand_delta=INT_MAX),
            StockMovement(
                product_id=other.pk,
                kind=StockMovement.Kind.ADJUSTMENT,
                reason=StockMovement.Reason.DAMAGED,
                on_hand_delta=-INT_MAX,
                allocated_delta=0,
                order_number="9" * 32,
                actor_id=user.pk,
                note=UNICODE * 19,
            ),
            StockMovement(
                product_id=product.pk,
                kind=StockMovement.Kind.ALLOCATION,
                allocated_delta=1,
                order_number="",
                actor_id=None,
                note="",
            ),
        ]

    return build


@pytest.fixture
def line_objects(db):
    order = OrderFactory()
    cheap, dear, odd = ProductFactory(), ProductFactory(price=MONEY_MAX), ProductFactory(name=UNICODE)

    def build():
        return [
            OrderLine(
                order=order,
                product=dear,
                product_name="x" * 200,
                sku="S" * 64,
                unit_price=MONEY_MAX,
                quantity=1,
                line_total=MONEY_MAX,
            ),
            OrderLine(
                order=order,
                product=cheap,
                product_name="",
                sku="",
                unit_price=Decimal("0.00"),
                quantity=INT_MAX,
                line_total=Decimal("0.00"),
            ),
            OrderLine(
                order=order,
                product=odd,
                product_name=UNICODE,
                sku="ÜNI-1",
                unit_price=Decimal("0.33"),
                quantity=3,
                line_total=Decimal("0.99"),
            ),
        ]

    return build


@pytest.fixture
def address_objects(db):
    """Generated columns (left to the database), auto_now_add and auto_now, a CountryField."""
    customer, other = CustomerFactory(), CustomerFactory()

    def build():
        return [
            Address(
                customer=customer,
                line1=UNICODE,
                city="Zürich",
                postal_code="8001",
                country="CH",
                is_default_shipping=True,
            ),
            Address(
                customer=customer,
                line1="x" * 200,
                line2="y" * 200,
                city="c" * 100,
                state="s" * 100,
                postal_code="9" * 20,
                country="US",
                is_default_billing=True,
            ),
            Address(customer=other, line1="1 Main St", city="Springfield", postal_code="1", country="GB"),
        ]

    return build


@pytest.fixture
def customer_objects(db):
    """Nullable datetimes: NULL, and an aware non-UTC one with microseconds; a phone number."""
    kolkata = zoneinfo.ZoneInfo("Asia/Kolkata")

    def build():
        return [
            Customer(first_name=UNICODE, last_name="", email="MiXeD@Example.COM", phone="+12025550123"),
            Customer(
                first_name="a" * 100,
                last_name="b" * 100,
                email="anon@example.com",
                phone="",
                anonymized_at=datetime.datetime(2023, 12, 31, 23, 59, 59, 1, tzinfo=kolkata),
            ),
        ]

    return build


@pytest.mark.parametrize(
    "objects", ["movement_objects", "line_objects", "address_objects", "customer_objects"]
)
def test_insert_rows_writes_what_bulk_create_writes(request, objects):
    build = request.getfixturevalue(objects)
    model = build()[0]._meta.model

    def inserted_by(insert):
        before = model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        return outcome(lambda: insert(build()), lambda: table_rows(model, after=before))

    raw = inserted_by(insert_rows)
    orm = inserted_by(model.objects.bulk_create)
    assert raw[0] == "ok", raw
    assert raw == orm
    assert len(raw[1][0]) == len(build())


def test_insert_rows_is_one_statement_and_leaves_no_pk(movement_objects):
    objs = movement_objects()
    with CaptureQueriesContext(connection) as queries:
        insert_rows(objs)
    assert len(queries) == 1
    assert [obj.pk for obj in objs] == [None, None, None]
    with CaptureQueriesContext(connection) as queries:
        insert_rows([])
    assert len(queries) == 0


def test_insert_rows_refuses_what_bulk_create_refuses(movement_objects):
    """A row breaking a CHECK constraint: both statements fail the same way, nothing written."""
    broken = movement_objects()
    broken[1].on_hand_delta = broken[1].allocated_delta = 0  # movement_changes_something

    def read():
        return StockMovement.objects.count()

    assert outcome(lambda: insert_rows(broken), read) == ("error", "IntegrityError")
    broken = movement_objects()
    broken[1].on_hand_delta = broken[1].allocated_delta = 0
    assert outcome(lambda: StockMovement.objects.bulk_create(broken), read) == ("error", "IntegrityError")


# --- insert_row: obj.save() of a new instance; update_row: Model.objects.filter(pk=...).update()


@pytest.fixture
def order_objects(db):
    """Orders as order placement builds them: with and without a payment method, at the bounds."""
    customer = CustomerFactory(first_name=UNICODE)
    method = PaymentMethodFactory(customer=customer)

    def build():
        return [
            Order(
                customer=customer,
                currency="USD",
                subtotal=Decimal("0.01"),
                shipping_cost=Decimal("0.00"),
                total=Decimal("0.01"),
                shipping_name=UNICODE,
                shipping_line1="x" * 200,
                shipping_city=UNICODE,
                shipping_postal_code="9" * 20,
                shipping_country="DE",
                shipping_phone="+12025550123",
            ),
            Order(
                customer=customer,
                currency="USD",
                subtotal=MONEY_MAX - Decimal("5.00"),
                shipping_cost=Decimal("5.00"),
                total=MONEY_MAX,
                payment_method=method,
                payment_method_label=UNICODE,
                shipping_line1="1 Main St",
                shipping_city="Springfield",
                shipping_postal_code="62701",
                shipping_country="US",
            ),
        ]

    return build


@pytest.mark.parametrize("objects", ["order_objects", "customer_objects"])
def test_insert_row_writes_what_save_writes_and_sets_the_pk(request, objects):
    build = request.getfixturevalue(objects)
    model = build()[0]._meta.model

    def inserted_by(insert):
        before = model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

        def write():
            for obj in build():
                insert(obj)
                assert obj.pk > before and obj._state.adding is False and obj._state.db == "default"
                assert model.objects.filter(pk=obj.pk).exists()

        return outcome(write, lambda: table_rows(model, after=before))

    raw = inserted_by(insert_row)
    orm = inserted_by(lambda obj: obj.save())
    assert raw[0] == "ok", raw
    assert raw == orm
    assert len(raw[1][0]) == len(build())


def test_insert_row_is_one_statement_and_the_instance_saves_as_an_update_afterwards(order_objects):
    order = order_objects()[0]
    with CaptureQueriesContext(connection) as queries:
        insert_row(order)
    assert len(queries) == 1
    order.status = "paid"
    order.save()
    assert Order.objects.filter(status="paid").values_list("pk", flat=True)[::1] == [order.pk]
    assert Order.objects.count() == 1


def test_insert_row_refuses_what_save_refuses(order_objects):
    """A total above the CHECK constraint's bound: both fail the same way, nothing written."""

    def broken():
        order = order_objects()[1]
        order.total = order.subtotal = MONEY_MAX + 1
        return order

    def read():
        return Order.objects.count()

    assert outcome(lambda: insert_row(broken()), read) == ("error", "IntegrityError")
    assert outcome(lambda: broken().save(), read) == ("error", "IntegrityError")


@pytest.mark.parametrize(
    "values",
    [
        {"number": "SO-" + "9" * 29},
        {"number": None},
        {
            "shipping_name": UNICODE,
            "paid_at": datetime.datetime(
                2023, 12, 31, 23, 59, 59, 1, tzinfo=zoneinfo.ZoneInfo("Asia/Kolkata")
            ),
        },
        {"total": MONEY_MAX, "subtotal": MONEY_MAX, "shipping_cost": Decimal("0.00")},
    ],
)
def test_update_row_writes_what_update_writes(db, values):
    order, _other = OrderFactory(), OrderFactory()  # the other row must stay as it was

    raw = outcome(lambda: update_row(order, **values), lambda: table_rows(Order))
    orm = outcome(lambda: Order.objects.filter(pk=order.pk).update(**values), lambda: table_rows(Order))
    assert raw[0] == "ok", raw
    assert raw == orm
    assert all(getattr(order, name) == value for name, value in values.items())


def test_update_row_is_one_statement(db):
    order = OrderFactory()
    with CaptureQueriesContext(connection) as queries:
        update_row(order, number="SO-1")
    assert len(queries) == 1


# --- _lock_customer: Customer.objects.select_for_update().get(pk=...)


@pytest.mark.parametrize("phone", ["+12025550123", ""])
def test_lock_customer_reads_what_select_for_update_get_reads(db, phone):
    customer = CustomerFactory(
        first_name=UNICODE, last_name="b" * 100, email="MiXeD@Example.COM", phone=phone
    )
    with transaction.atomic():
        with CaptureQueriesContext(connection) as raw_queries:
            raw = _lock_customer(Customer(pk=customer.pk))
        with CaptureQueriesContext(connection) as orm_queries:
            orm = Customer.objects.select_for_update().get(pk=customer.pk)
    assert len(raw_queries) == 1
    raw_sql, orm_sql = raw_queries[0]["sql"], orm_queries[0]["sql"]
    assert raw_sql.endswith(" FOR UPDATE") == orm_sql.endswith(" FOR UPDATE")
    assert raw_sql.endswith(" FOR UPDATE") == connection.features.has_select_for_update
    assert raw._state.adding is False and raw._state.db == "default"
    assert raw.get_deferred_fields() == {"email_key"}
    assert fields_of(raw, exclude={"email_key"}) == fields_of(orm, exclude={"email_key"})
    assert raw.phone == orm.phone and raw.full_name == orm.full_name


def test_lock_customer_refuses_a_missing_or_anonymized_customer(db):
    with pytest.raises(UnknownCustomer, match=r"There is no customer #\d+"):
        _lock_customer(Customer(pk=missing_id(Customer)))
    gone = CustomerFactory(anonymized_at=FROZEN_NOW)
    with pytest.raises(OrderError, match="was anonymized"):
        _lock_customer(gone)


# --- raw_instances: what Model.objects.raw() gives, without its per-call setup


@pytest.mark.parametrize(
    ("model", "names"),
    [
        (Customer, ("pk", "first_name", "phone", "created_at", "anonymized_at", "email")),
        (Product, ("name", "pk", "price", "is_active", "currency")),  # the key not first
        (Order, tuple(f.name for f in Order._meta.concrete_fields if not f.generated)),
    ],
)
def test_raw_instances_give_what_raw_gives(db, model, names):
    customer = CustomerFactory(first_name=UNICODE, phone="+12025550123", anonymized_at=FROZEN_NOW)
    CustomerFactory(phone="")
    ProductFactory(price="1234567.89", is_active=False)
    ProductFactory(price="0.10")
    OrderFactory(customer=customer)
    sql = sql_select(model, names, order_by=("pk",))
    with CaptureQueriesContext(connection) as queries:
        ours = raw_instances(model, sql, [])
    theirs = list(model.objects.raw(sql, []))
    assert len(queries) == 1 and len(ours) == len(theirs) >= 1
    for a, b in zip(ours, theirs, strict=True):
        assert type(a) is model and a._state.adding is False and a._state.db == "default"
        assert a.get_deferred_fields() == b.get_deferred_fields()
        deferred = a.get_deferred_fields()
        assert fields_of(a, exclude=deferred) == fields_of(b, exclude=deferred)
    assert raw_instances(model, sql_select(model, names, where=("pk",)), [missing_id(model)]) == []


def test_raw_instances_refuse_columns_that_are_not_the_models_own_with_its_key(db):
    CustomerFactory()
    with pytest.raises(ValueError, match="must be its own fields"):
        raw_instances(Customer, sql_select(Customer, ("first_name",)), [])
    with pytest.raises(ValueError, match="must be its own fields"):
        raw_instances(Customer, f"SELECT id, 1 AS extra FROM {Customer._meta.db_table}", [])


# --- sql_select: the statements are those the hand-written f-strings sent before the helper


def test_sql_select_builds_the_statements_the_f_strings_built(db):
    q = connection.ops.quote_name
    for_update = " FOR UPDATE" if connection.features.has_select_for_update else ""
    stock = sql_select(
        Stock,
        ("product_id", "on_hand", "allocated", "low_stock_threshold"),
        where_in=("pk", 3),
        order_by=["pk"],
        for_update=True,
    )
    assert stock == (
        f"SELECT {q('product_id')}, {q('on_hand')}, {q('allocated')}, {q('low_stock_threshold')} "
        f"FROM {q('catalog_stock')} WHERE {q('product_id')} IN (%s, %s, %s) "
        f"ORDER BY {q('product_id')}{for_update}"
    )
    product = sql_select(Product, ("id", "name"), where_in=("pk", 1), order_by=("name", "id"))
    assert product == (
        f"SELECT {q('id')}, {q('name')} FROM {q('catalog_product')} WHERE {q('id')} IN (%s) "
        f"ORDER BY {q('name')}, {q('id')}"
    )
    address = sql_select(Address, ("id", "customer"), where=("customer", "is_default_shipping"))
    assert address == (
        f"SELECT {q('id')}, {q('customer_id')} FROM {q('customers_address')} "
        f"WHERE {q('customer_id')} = %s AND {q('is_default_shipping')} = %s"
    )
    both = sql_select(Address, ["pk"], where=["customer"], where_in=("country", 2))
    assert both == (
        f"SELECT {q('id')} FROM {q('customers_address')} "
        f"WHERE {q('customer_id')} = %s AND {q('country')} IN (%s, %s)"
    )
    assert sql_select(Address, ["pk"], for_update=True) == (
        f"SELECT {q('id')} FROM {q('customers_address')}{for_update}"
    )


# --- hot_cursor: the driver's cursor for these statements, where nobody watches them


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def _prepares() -> bool:
    return (
        connection.vendor == "postgresql"
        and connection.settings_dict["OPTIONS"].get("server_side_binding") is True
    )


def test_hot_cursor_is_the_drivers_own_only_where_nobody_watches_the_statements(db):
    """Inside a transaction on PostgreSQL (with prepared statements on), the driver's cursor;
    with the statements logged (assertNumQueries, DEBUG) or an execute wrapper installed, or on
    another database, Django's cursor, which logs and wraps them: the same SQL either way."""
    from shop.core.db import _PreparingCursor, hot_cursor

    with transaction.atomic(), hot_cursor() as cursor:
        cursor.execute("SELECT %s", [7])
        assert cursor.fetchone()[0] == 7
        assert isinstance(cursor, _PreparingCursor) == _prepares()

    with transaction.atomic(), CaptureQueriesContext(connection) as queries, hot_cursor() as cursor:
        cursor.execute("SELECT %s", [8])
        assert not isinstance(cursor, _PreparingCursor)
    assert len(queries) == 1

    seen = []

    def wrapper(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with transaction.atomic(), connection.execute_wrapper(wrapper), hot_cursor() as cursor:
        cursor.execute("SELECT %s", [9])
        assert not isinstance(cursor, _PreparingCursor)
    assert seen == ["SELECT %s"]

    options = {**connection.settings_dict["OPTIONS"], "server_side_binding": False}
    no_binding = mock.patch.dict(connection.settings_dict, {"OPTIONS": options})
    with no_binding, transaction.atomic(), hot_cursor() as cursor:
        assert not isinstance(cursor, _PreparingCursor)  # PG_PREPARED_STATEMENTS=0


@pytest.mark.django_db(transaction=True)
def test_hot_cursor_outside_a_transaction_is_djangos():
    from shop.core.db import _PreparingCursor, hot_cursor

    with hot_cursor() as cursor:
        cursor.execute("SELECT %s", [1])
        assert not isinstance(cursor, _PreparingCursor)


def test_hot_cursor_raises_djangos_errors_and_the_transaction_goes_on(db):
    """A CHECK broken through the driver's cursor is Django's IntegrityError (what the services
    and the retry decorator catch); after its savepoint rolls back the transaction goes on, and
    in a transaction already doomed nothing is sent (TransactionManagementError, as Django's)."""
    from django.db import IntegrityError
    from django.db.transaction import TransactionManagementError

    from shop.core.db import hot_cursor

    product = ProductFactory()
    table = connection.ops.quote_name(Stock._meta.db_table)
    with pytest.raises(IntegrityError), transaction.atomic(), hot_cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET on_hand = %s WHERE product_id = %s", [-1, product.pk])
    with transaction.atomic(), hot_cursor() as cursor:
        cursor.execute(f"SELECT on_hand FROM {table} WHERE product_id = %s", [product.pk])
        assert cursor.fetchone()[0] == Stock.objects.get(pk=product.pk).on_hand >= 0

    with transaction.atomic():
        transaction.set_rollback(True)
        with pytest.raises(TransactionManagementError), hot_cursor() as cursor:
            cursor.execute("SELECT 1")


@pytest.mark.skipif(
    "not _prepares()", reason="prepared statements: PostgreSQL with PG_PREPARED_STATEMENTS on"
)
def test_a_placement_prepares_its_statements_and_the_orms_are_never_prepared(db):
    """Every statement an order placement sends is prepared at its second run on a connection
    (planned once, by primary keys); an ORM statement run many times, as an admin list filtered
    by one value after another is, is never prepared, so PostgreSQL never gives it a generic plan
    made for no value in particular (the crawl's order events of kind "edited": 4.7 s against 22
    ms at 1M)."""
    from django.db import connections

    from orders.models import OrderEvent
    from orders.services import order_place

    customer = CustomerFactory()
    AddressFactory(customer=customer, is_default_shipping=True)
    products = [ProductFactory(stock=10) for _ in range(2)]
    sent = []

    def wrapper(execute, sql, params, many, context):
        if sql.split(" ")[0] not in ("SAVEPOINT", "RELEASE"):  # the test's own transaction
            sent.append(sql)
        return execute(sql, params, many, context)

    connections["default"].__dict__.pop("_shop_hot_statements", None)  # as on a new connection
    with connection.execute_wrapper(wrapper):  # Django's cursor: seen, not prepared
        order_place(customer=customer, lines=[(products[0], 1), (products[1], 1)])
    before = set(_prepared_statements())

    # Run once on this connection, as a request without persistent connections runs them: not
    # prepared (that would cost a round trip each for nothing); run again, prepared.
    order_place(customer=customer, lines=[(products[0], 1), (products[1], 1)])
    assert set(_prepared_statements()) == before
    order_place(customer=customer, lines=[(products[0], 1), (products[1], 1)])
    prepared = set(_prepared_statements()) - before
    assert len(sent) == len(prepared) == 9, (sent, prepared)
    assert {re.sub(r"\$\d+", "%s", statement) for statement in prepared} == set(sent)

    for kind in [*OrderEvent.Kind.values] * 3:
        list(OrderEvent.objects.filter(kind=kind).order_by("-created_at")[:10])
    assert set(_prepared_statements()) == before | prepared


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="ends the server's process of a connection")
@pytest.mark.django_db(transaction=True)
def test_a_connection_killed_under_the_hot_cursor_is_djangos_error_and_changes_nothing():
    """The database connection dies between two statements of a placement (a restart, a
    killed backend): the next hand-written statement raises Django's error, which the
    request's error handling knows (never the driver's own), and nothing of the order stays."""
    from django.db import Error as DjangoDatabaseError
    from django.db import connections

    from orders.services import order_place
    from shop.core.db import no_savepoints

    customer = CustomerFactory()
    AddressFactory(customer=customer, is_default_shipping=True)
    product = ProductFactory(stock=10)
    other = connections.create_connection("default")
    try:
        with pytest.raises(DjangoDatabaseError) as raised, transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid = cursor.fetchone()[0]
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            with no_savepoints():  # its first statement is then the customer's lock, not a SAVEPOINT
                order_place(customer=customer, lines=[(product, 1)])
        assert type(raised.value).__module__.startswith("django.db")
        assert "lock_customer_with_default_address" in "".join(str(frame.name) for frame in raised.traceback)
    finally:
        other.close()
        connection.close()
    assert not Order.objects.exists()
    assert Stock.objects.get(pk=product.pk).allocated == 0


def test_the_hot_cursor_remembers_a_bounded_number_of_statements(db):
    """A storefront can send orders of any number of lines, each a statement shape of its own:
    past REMEMBERED shapes a connection's memory of them starts again instead of growing."""
    from shop.core.db import _PreparingCursor

    class Driver:
        def __init__(self):
            self.sent = []

        def execute(self, sql, params, prepare=None):
            self.sent.append((sql, prepare))

    driver, seen = Driver(), set()
    cursor = _PreparingCursor(driver, seen)
    for n in range(_PreparingCursor.REMEMBERED):
        cursor.execute(f"SELECT {n}")
    assert len(seen) == _PreparingCursor.REMEMBERED
    cursor.execute("SELECT 0")  # seen: prepared
    cursor.execute("SELECT 'new'")  # one more shape: the memory starts again
    assert seen == {"SELECT 'new'"}
    cursor.execute("SELECT 0")  # forgotten: sent unprepared again
    assert driver.sent[-3:] == [("SELECT 0", True), ("SELECT 'new'", None), ("SELECT 0", None)]
