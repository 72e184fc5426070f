"""Transactions that survive concurrent writers.

`atomic_with_retry` runs a business operation in one transaction and, when the database gives up on
it because of a concurrent one (deadlock, serialization failure, lock wait timeout, SQLite busy), runs
it again from the start, a bounded number of times. Inside an outer transaction it does not retry:
the outer block is already doomed, so the error goes up to whoever owns it.
"""

import contextlib
import contextvars
import functools
import logging
import random
import time
from collections.abc import Iterable

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, OperationalError, connection, connections, transaction

from shop.core.exceptions import TransactionConflict

logger = logging.getLogger("shop.db")

# SQLSTATE 40001 serialization_failure, 40P01 deadlock_detected (PostgreSQL);
# MySQL/MariaDB 1213 deadlock, 1205 lock wait timeout.
_RETRYABLE_SQLSTATES = {"40001", "40P01"}
_RETRYABLE_MYSQL_CODES = {1213, 1205}


def is_retryable(error: DatabaseError) -> bool:
    cause = error.__cause__ or error
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if sqlstate in _RETRYABLE_SQLSTATES:
        return True
    args = getattr(cause, "args", ())
    if args and isinstance(args[0], int) and args[0] in _RETRYABLE_MYSQL_CODES:
        return True
    if connection.vendor == "sqlite" and isinstance(error, OperationalError):
        message = str(error).lower()
        return "locked" in message or "busy" in message
    return False


# Whether an operation called inside an outer transaction gets its own savepoint (no_savepoints).
_nested_savepoints = contextvars.ContextVar("nested_savepoints", default=True)


@contextlib.contextmanager
def no_savepoints():
    """Inside this block, an `atomic_with_retry` operation called in an outer transaction runs
    without its own savepoint: two statements fewer (SAVEPOINT, RELEASE) per operation, but a
    refusal it raises dooms the whole outer transaction, which can then only roll back. For a
    caller that rolls back on any refusal anyway (the storefront API's order placement)."""
    token = _nested_savepoints.set(False)
    try:
        yield
    finally:
        _nested_savepoints.reset(token)


def atomic_with_retry(func=None, *, attempts: int | None = None):
    """Decorator: run `func` in `transaction.atomic()`, retrying on concurrency failures."""

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if connection.in_atomic_block:
                with transaction.atomic(savepoint=_nested_savepoints.get()):
                    return fn(*args, **kwargs)
            tries = attempts or settings.SHOP_TRANSACTION_RETRIES
            for attempt in range(1, tries + 1):
                try:
                    with transaction.atomic():
                        return fn(*args, **kwargs)
                except DatabaseError as error:
                    if not is_retryable(error):
                        raise
                    if attempt == tries:
                        logger.warning("%s gave up after %d attempts: %s", fn.__name__, tries, error)
                        raise TransactionConflict(
                            "The database was busy with other changes to the same records and "
                            f"refused this one {tries} times. Nothing was changed; please try again."
                        ) from error
                    logger.info("%s retrying after %s (attempt %d)", fn.__name__, error, attempt)
                    time.sleep(random.uniform(0.005, 0.02) * attempt)
            raise AssertionError("unreachable")

        return wrapper

    return decorate(func) if func is not None else decorate


class _PreparingCursor:
    """The driver's cursor, each statement prepared on the server at its second run on the
    connection (psycopg's `execute(..., prepare=True)`): what `hot_cursor` gives on PostgreSQL.
    Not at the first: preparing costs a round trip of its own, which a connection that runs a
    statement once (a request with `CONN_MAX_AGE=0`) would only lose."""

    __slots__ = ("cursor", "seen")

    # Statements remembered a connection; past that many shapes (orders of every line count)
    # the memory starts again rather than grow.
    REMEMBERED = 1000

    def __init__(self, cursor, seen: set):
        self.cursor = cursor
        self.seen = seen

    def execute(self, sql, params=None):
        if sql in self.seen:
            return self.cursor.execute(sql, params, prepare=True)
        if len(self.seen) >= self.REMEMBERED:
            self.seen.clear()
        self.seen.add(sql)
        return self.cursor.execute(sql, params)

    def fetchone(self):
        return self.cursor.fetchone()

    def fetchall(self):
        return self.cursor.fetchall()

    @property
    def description(self):
        return self.cursor.description

    @property
    def rowcount(self):
        return self.cursor.rowcount


class hot_cursor:
    """A cursor for the hand-written statements of the hot path (every order placement's nine),
    used as `connection.cursor()` is.

    On PostgreSQL with prepared statements on (`PG_PREPARED_STATEMENTS`), inside a transaction,
    with nobody watching the statements (DEBUG's log, `assertNumQueries`, an `execute_wrapper`):
    the driver's own cursor, each statement prepared on the server the second time the connection
    runs it, and errors still raised as Django's (`wrap_database_errors`, so a deadlock is retried
    and a broken CHECK is an IntegrityError). Django's cursor wrapper costs about as much client
    CPU as the driver's own work on these one-row statements, and the ORM's statements are never
    prepared (each is planned for its own values: a generic plan made an admin list take seconds),
    while these, by primary keys, are the ones worth planning once (bench/README.md, placement).
    Otherwise, Django's cursor, which sends the same SQL. `db`: the default connection, if the
    caller has it at hand.
    """

    # A class rather than a generator-based context manager: it is entered nine times an order.
    __slots__ = ("db", "django_cursor", "driver_cursor")

    def __init__(self, db=None):
        self.db = db or connections[DEFAULT_DB_ALIAS]
        self.django_cursor = self.driver_cursor = None

    def __enter__(self):
        db = self.db
        raw = db.connection
        if (
            raw is None
            or not db.in_atomic_block
            or db.vendor != "postgresql"
            or db.queries_logged
            or db.execute_wrappers
            or db.settings_dict["OPTIONS"].get("server_side_binding") is not True
        ):
            self.django_cursor = db.cursor()
            return self.django_cursor.__enter__()
        db.validate_no_broken_transaction()
        try:
            self.driver_cursor = raw.cursor()
        except Exception as error:
            db.wrap_database_errors.__exit__(type(error), error, error.__traceback__)  # Django's error
            raise
        seen = db.__dict__.get("_shop_hot_statements")
        if seen is None or seen[0] is not raw:  # a new connection: nothing prepared on it yet
            seen = db.__dict__["_shop_hot_statements"] = (raw, set())
        return _PreparingCursor(self.driver_cursor, seen[1])

    def __exit__(self, exc_type, exc, traceback):
        if self.django_cursor is not None:
            return self.django_cursor.__exit__(exc_type, exc, traceback)
        try:
            self.driver_cursor.close()
        finally:
            if exc_type is not None:
                # A driver error leaves as Django's (it raises here), as from Django's cursor.
                self.db.wrap_database_errors.__exit__(exc_type, exc, traceback)
        return False


def sql_columns(model, names) -> str:
    """The quoted column list of these fields of `model` ("pk" for its primary key)."""
    meta = model._meta
    qn = connection.ops.quote_name
    return ", ".join(qn((meta.pk if name == "pk" else meta.get_field(name)).column) for name in names)


def sql_placeholders(count: int) -> str:
    """`%s, %s, ...`: one parameter placeholder per value."""
    return ", ".join(["%s"] * count)


def sql_select(
    model,
    columns,
    *,
    where=(),
    where_in: tuple[str, int] | None = None,
    order_by=(),
    for_update: bool = False,
) -> str:
    """A hand-written `SELECT columns FROM model's table`, for the statements of the hot path.

    `columns`, `where` and `order_by` are field names or attnames of `model` ("pk" for its
    primary key). Each field in `where` is compared with one parameter (`= %s`);
    `where_in=(field, count)` adds `field IN (%s, ...)` with `count` parameters; the conditions
    are joined with AND, and the caller passes `where`'s parameters first, then `where_in`'s.
    `order_by` sorts ascending, in that order. `for_update` appends `FOR UPDATE` where the
    database has row locks, as `select_for_update()` does (SQLite has none: the transaction
    locks the whole database). Built once per shape and database vendor, then reused.
    """
    return _sql_select(
        connection.vendor,
        model,
        tuple(columns),
        tuple(where),
        tuple(where_in) if where_in is not None else None,
        tuple(order_by),
        for_update,
    )


@functools.lru_cache(maxsize=256)
def _sql_select(vendor, model, columns, where, where_in, order_by, for_update) -> str:
    conditions = [f"{sql_columns(model, [name])} = %s" for name in where]
    if where_in is not None:
        name, count = where_in
        conditions.append(f"{sql_columns(model, [name])} IN ({sql_placeholders(count)})")
    sql = f"SELECT {sql_columns(model, columns)} FROM {connection.ops.quote_name(model._meta.db_table)}"
    if conditions:
        sql += f" WHERE {' AND '.join(conditions)}"
    if order_by:
        sql += f" ORDER BY {sql_columns(model, order_by)}"
    if for_update and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    return sql


def insert_rows(objs) -> None:
    """INSERT unsaved instances of one model in one statement, reading nothing back.

    What `bulk_create` does for rows nobody reads again (ledger rows, order lines): each
    field's `pre_save` (times of `auto_now_add`) and `get_db_prep_save` (the backend's types)
    as the ORM's own INSERT, without its statement compiler, which took more client CPU than
    the statement took the database (bench/README.md, placement). The instances get no
    primary key; signals are not sent (as with `bulk_create`).
    """
    objs = list(objs)
    if not objs:
        return
    db = connections[DEFAULT_DB_ALIAS]
    fields, insert, row, _ = _insert_shape(db.vendor, type(objs[0]))
    params = [field.get_db_prep_save(field.pre_save(obj, True), db) for obj in objs for field in fields]
    with hot_cursor(db) as cursor:
        cursor.execute(f"{insert} VALUES {', '.join([row] * len(objs))}", params)


@functools.lru_cache(maxsize=64)
def _insert_shape(vendor: str, model):
    """(the fields an INSERT writes, `INSERT INTO table (columns)`, one row's placeholders, the
    quoted primary-key column) for `model`: built once per database vendor."""
    meta = model._meta
    fields = tuple(f for f in meta.local_concrete_fields if f is not meta.auto_field and not f.generated)
    qn = connection.ops.quote_name
    insert = f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)})"
    return fields, insert, f"({sql_placeholders(len(fields))})", qn(meta.pk.column)


def raw_instances(model, sql: str, params) -> list:
    """`list(model.objects.raw(sql, params))` for a hand-written read of the hot path (columns of
    `model`'s own fields, its primary key among them): the same instances, the same types (each
    column through the backend's and the field's converters, as RawQuerySet does), the fields not
    selected deferred, without RawQuerySet's setup on every call (its column mapping and model
    init order, which cost about as much client CPU as the statement; bench/README.md)."""
    db = connections[DEFAULT_DB_ALIAS]
    with hot_cursor(db) as cursor:
        cursor.execute(sql, params)
        columns = tuple(column[0] for column in cursor.description)
        rows = cursor.fetchall()
    return [row_instance(model, columns, row, db=db) for row in rows]


def row_instance(model, columns: tuple[str, ...], row, *, db=None):
    """One instance of `model` from a row of `columns` (its own fields' column names, its primary
    key among them), as `raw_instances` builds each: for a hand-written read whose row holds
    several models' columns side by side (pass each model its slice of the row). `db`: the
    connection the row came from (the default one)."""
    db = db or connections[DEFAULT_DB_ALIAS]
    names, positions, converters = _raw_shape(db, model, columns)
    values = [row[i] for i in positions]
    for index, functions, expression in converters:
        value = values[index]
        for function in functions:
            value = function(value, expression, db)
        values[index] = value
    return model.from_db(db.alias, names, values)


def _raw_shape(db, model, columns: tuple[str, ...]):
    """(attnames in the model's field order, their column positions, converters by attname
    index) for these selected columns: built once per model and column list on each connection
    (the converters are the connection's own)."""
    shapes = db.__dict__.setdefault("_shop_raw_shapes", {})
    key = (model, columns)
    if key not in shapes:
        fields = [f for f in model._meta.concrete_fields if f.column in columns]
        if len(fields) != len(columns) or model._meta.pk not in fields:
            raise ValueError(f"{model.__name__}: raw columns {columns} must be its own fields, with its key.")
        converters = []
        for index, field in enumerate(fields):
            expression = field.get_col(model._meta.db_table)
            functions = db.ops.get_db_converters(expression) + expression.get_db_converters(db)
            if functions:
                converters.append((index, functions, expression))
        shapes[key] = (
            tuple(f.attname for f in fields),
            tuple(columns.index(f.column) for f in fields),
            tuple(converters),
        )
    return shapes[key]


def first_raw(model, sql: str, params):
    """The first instance `raw_instances` gives, or None: a hand-written single-row read (a lock,
    a lookup by a unique key) as `.filter(...).first()` would give it."""
    found = raw_instances(model, sql, params)
    return found[0] if found else None


def insert_row(obj) -> None:
    """`insert_rows` for one new instance that is read on: it gets its primary key (RETURNING,
    or the backend's last insert id) and counts as saved. What `obj.save()` does for a row with
    no signal receivers and no database-computed fields, without the ORM's statement compiler:
    every order placement writes one (bench/README.md, placement)."""
    db = connections[DEFAULT_DB_ALIAS]
    fields, insert, row, pk_column = _insert_shape(db.vendor, type(obj))
    params = [field.get_db_prep_save(field.pre_save(obj, True), db) for field in fields]
    with hot_cursor(db) as cursor:
        if db.features.can_return_columns_from_insert:
            cursor.execute(f"{insert} VALUES {row} RETURNING {pk_column}", params)
            pk = cursor.fetchone()[0]
        else:
            cursor.execute(f"{insert} VALUES {row}", params)
            pk = db.ops.last_insert_id(cursor, obj._meta.db_table, obj._meta.pk.column)
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = db.alias


def update_row(obj, **values) -> None:
    """UPDATE these columns of `obj`'s row (by primary key) and set them on `obj`, in one
    statement without the ORM's compiler: for the hot path's single-row writes (an order's number
    right after its INSERT), as `insert_rows` is for its INSERTs. No signals, no `auto_now`."""
    db = connections[DEFAULT_DB_ALIAS]
    fields, sql = _update_shape(db.vendor, type(obj), tuple(values))
    params = [f.get_db_prep_save(values[f.name], db) for f in fields]
    with hot_cursor(db) as cursor:
        cursor.execute(sql, [*params, obj.pk])
    for name, value in values.items():
        setattr(obj, name, value)


@functools.lru_cache(maxsize=64)
def _update_shape(vendor: str, model, names: tuple[str, ...]):
    """(the fields, `UPDATE table SET ... WHERE pk = %s`) for `update_row`: once per vendor."""
    meta = model._meta
    qn = connection.ops.quote_name
    fields = tuple(meta.get_field(name) for name in names)
    assignments = ", ".join(f"{qn(f.column)} = %s" for f in fields)
    return fields, f"UPDATE {qn(meta.db_table)} SET {assignments} WHERE {qn(meta.pk.column)} = %s"


def insert_many(objs) -> None:
    """`insert_rows` for any number of rows (an import's thousands), reading nothing back."""
    objs = list(objs)
    if not objs:
        return
    meta = objs[0]._meta
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field and not f.generated]
    insert_values(
        type(objs[0]),
        [f.name for f in fields],
        ([field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields] for obj in objs),
    )


def insert_values(model, fields: list[str], rows: Iterable) -> None:
    """INSERT rows of values for these fields, values as the database takes them (plain ints and
    strings are; a datetime through its field's `get_db_prep_save`), for any number of rows.

    PostgreSQL: one COPY FROM STDIN, about ten times faster than multi-row INSERTs (it bypasses
    Django's cursor wrappers, so query counters do not see it). Elsewhere: one single-row INSERT
    sent with `executemany` (mysqlclient rewrites it into multi-row INSERTs), which has no limit
    on parameters.
    """
    qn = connection.ops.quote_name
    columns = sql_columns(model, fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {qn(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = sql_placeholders(len(fields))
            cursor.executemany(
                f"INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES ({placeholders})", list(rows)
            )
