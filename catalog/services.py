"""Writes to the catalog and to stock. Every stock change writes its ledger row here.

Stock rows are locked with SELECT ... FOR UPDATE in primary-key order, re-checked, then updated,
so concurrent requests never oversell and never deadlock on each other's lock order.
"""

import functools
from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from catalog.exceptions import (
    CurrencyNotAllowed,
    InsufficientStock,
    InvalidPrice,
    InvalidQuantity,
    InvalidSku,
    InvalidThreshold,
    ProductInactive,
    QuantityOutOfRange,
    StockBelowAllocated,
    StockLimitExceeded,
)
from catalog.models import Product, ProductType, Stock, StockMovement
from shop.core.db import (
    atomic_with_retry,
    hot_cursor,
    insert_rows,
    insert_values,
    sql_columns,
    sql_placeholders,
    sql_select,
)
from shop.core.money import default_currency, store_currencies
from shop.core.validators import (
    MAX_AMOUNT,
    MAX_QUANTITY,
    bounded_amount,
    bounded_integer,
    normalize_sku,
)

Kind = StockMovement.Kind


def _check_quantity(quantity, *, allow_negative=False) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidQuantity(f"The quantity must be a whole number, not {quantity!r}.")
    if allow_negative:
        if quantity == 0:
            raise InvalidQuantity("An adjustment must change the stock: the change cannot be 0.")
        return bounded_integer(quantity, -MAX_QUANTITY, MAX_QUANTITY, QuantityOutOfRange, "The change")
    if quantity < 1:
        raise InvalidQuantity(f"The quantity must be at least 1, not {quantity}.")
    return bounded_integer(quantity, 1, MAX_QUANTITY, QuantityOutOfRange, "The quantity")


def _check_on_hand_limit(product: Product, stock: Stock, delta: int) -> None:
    """Refuse a change that would leave more on hand than a stock row may hold."""
    if stock.on_hand + delta > MAX_QUANTITY:
        raise StockLimitExceeded(
            f"Cannot add {delta:,} to {product.name} ({product.sku}): {stock.on_hand:,} on hand would "
            f"become {stock.on_hand + delta:,}, and stock on hand can be at most {MAX_QUANTITY:,}."
        )


def _check_threshold(threshold) -> int:
    return bounded_integer(threshold, 0, MAX_QUANTITY, InvalidThreshold, "The low-stock threshold")


def _product_values(*, sku=None, price=None, currency=None) -> dict:
    """The SKU normalized, the price and the currency checked (each only when given), with the
    catalog's named exceptions. The model's validation says the same to forms and imports."""
    values = {}
    if sku is not None:
        sku = normalize_sku(sku)
        max_length = Product._meta.get_field("sku").max_length
        if not sku or any(char.isspace() for char in sku) or len(sku) > max_length:
            raise InvalidSku(
                f"An SKU is required, has no spaces and at most {max_length} characters, not {sku!r}."
            )
        values["sku"] = sku
    if price is not None:
        values["price"] = bounded_amount(price, Decimal("0"), MAX_AMOUNT, InvalidPrice, "The price")
    if currency is not None:
        allowed = store_currencies()
        code = str(currency).strip().upper()
        if code not in allowed:
            raise CurrencyNotAllowed(
                f"Products are priced in {', '.join(allowed)}, the store's currency, not {currency!r}."
            )
        values["currency"] = code
    return values


def lock_stock(product_ids: Iterable[int]) -> dict[int, Stock]:
    """Lock the stock rows of these products in primary-key order; create missing rows first."""
    ids = sorted(set(product_ids))
    rows = _select_stock_for_update(ids)
    missing = [pk for pk in ids if pk not in rows]
    if missing:
        Stock.objects.bulk_create([Stock(product_id=pk) for pk in missing], ignore_conflicts=True)
        rows = _select_stock_for_update(ids)
    return rows


# The columns a locked stock row is read with (the others load on first access).
_LOCKED_FIELDS = ("product_id", "on_hand", "allocated", "low_stock_threshold")


def _select_stock_for_update(ids: list[int]) -> dict[int, Stock]:
    """`Stock.objects.select_for_update().filter(pk__in=ids).order_by("pk")`, as one SQL string.

    Every order placement runs this while other orders queue on the same rows; the ORM spent
    three times the statement's own client time compiling it (bench/README.md, placement).
    Without row locks (SQLite) the whole database is already locked by the transaction.
    """
    if not ids:
        return {}
    sql = sql_select(Stock, _LOCKED_FIELDS, where_in=("pk", len(ids)), order_by=["pk"], for_update=True)
    db = connections[DEFAULT_DB_ALIAS]
    with hot_cursor(db) as cursor:
        cursor.execute(sql, ids)
        found = cursor.fetchall()
    return {row[0]: Stock.from_db(db.alias, _LOCKED_FIELDS, row) for row in found}


def _update_stock_rows(changes: Mapping[int, tuple[int, int]]) -> None:
    """One UPDATE for all changed rows: each column plus a CASE on the product id.

    Written as SQL rather than `update(Case(When(...)))`: Django compiles every When on every
    call, which cost more client CPU than the rest of order placement's stock work together
    (bench/README.md, placement). Plain standard SQL, the same on PostgreSQL, MariaDB and
    SQLite; the stock CHECK constraints still refuse a result that breaks a rule.
    """
    db = connections[DEFAULT_DB_ALIAS]
    changed = tuple(index for index in (0, 1) if any(delta[index] for delta in changes.values()))
    params = []
    for index in changed:
        for pk, delta in changes.items():
            params += [pk, delta[index]]
    params.append(db.ops.adapt_datetimefield_value(timezone.now()))
    with hot_cursor(db) as cursor:
        cursor.execute(_update_stock_sql(db.vendor, changed, len(changes)), [*params, *changes])


@functools.lru_cache(maxsize=64)
def _update_stock_sql(vendor: str, changed: tuple[int, ...], count: int) -> str:
    """`_update_stock_rows`' statement for `count` rows and the changed columns (0: on hand,
    1: allocated), built once per shape and database vendor."""
    qn = connection.ops.quote_name
    key = qn(Stock._meta.pk.column)
    whens = " ".join(["WHEN %s THEN %s"] * count)
    assignments = []
    for index in changed:
        column = sql_columns(Stock, [("on_hand", "allocated")[index]])
        assignments.append(f"{column} = {column} + CASE {key} {whens} ELSE 0 END")
    assignments.append(f"{sql_columns(Stock, ['updated_at'])} = %s")
    return (
        f"UPDATE {qn(Stock._meta.db_table)} SET {', '.join(assignments)} "
        f"WHERE {key} IN ({sql_placeholders(count)})"
    )


def _apply(
    changes: Mapping[int, tuple[int, int]],
    *,
    kind: str,
    order_number: str = "",
    actor=None,
    note: str = "",
    reason: str = "",
) -> None:
    """Update several stock rows in one statement and write one ledger row per product.

    `changes` maps product id to (on-hand change, allocated change). The rows must already be
    locked by the caller; the database's checks refuse any result that breaks a stock rule.
    """
    changes = {pk: delta for pk, delta in changes.items() if delta != (0, 0)}
    if not changes:
        return
    _update_stock_rows(changes)
    actor_id = getattr(actor, "pk", None)
    insert_rows(
        [
            StockMovement(
                product_id=pk,
                kind=kind,
                reason=reason,
                on_hand_delta=on_hand,
                allocated_delta=allocated,
                order_number=order_number,
                actor_id=actor_id,
                note=note[:500],
            )
            for pk, (on_hand, allocated) in sorted(changes.items())
        ]
    )


@transaction.atomic
def product_create(
    *,
    name: str,
    sku: str,
    product_type: ProductType,
    price,
    currency: str | None = None,
    description: str = "",
    is_active: bool = True,
    low_stock_threshold: int = 5,
    initial_stock: int = 0,
    actor=None,
) -> Product:
    """Create a product with its stock row; initial stock is recorded as a receipt.

    The SKU is normalized (normalize_sku); a price beyond the bounds, a currency other than the
    store's, a threshold or initial stock beyond MAX_QUANTITY raise the catalog's named errors
    and create nothing. Other invalid fields (a name too long, an SKU taken) raise ValidationError.
    """
    values = _product_values(sku=sku, price=price, currency=currency or default_currency())
    low_stock_threshold = _check_threshold(low_stock_threshold)
    if initial_stock:
        _check_quantity(initial_stock)
    product = Product(
        name=name,
        product_type=product_type,
        description=description,
        is_active=is_active,
        **values,
    )
    product.full_clean()
    product.save()
    stock_initialize(product=product, low_stock_threshold=low_stock_threshold)
    if initial_stock:
        stock_receive(product=product, quantity=initial_stock, actor=actor, note="Initial stock")
    return product


# What product_update may change: the rest (stock, history) has services of its own.
PRODUCT_FIELDS = ("name", "sku", "product_type", "price", "currency", "description", "is_active")


@transaction.atomic
def product_update(*, product: Product, actor=None, **changes) -> Product:
    """Change a product's own fields (those in PRODUCT_FIELDS given as keywords), with the
    checks product_create makes; only the given columns are written."""
    unknown = sorted(set(changes) - set(PRODUCT_FIELDS))
    if unknown:
        raise TypeError(f"product_update cannot change {', '.join(unknown)}.")
    changes.update(
        _product_values(sku=changes.get("sku"), price=changes.get("price"), currency=changes.get("currency"))
    )
    for name, value in changes.items():
        setattr(product, name, value)
    product.full_clean()
    if changes:
        product.save(update_fields=[*changes, "updated_at"])
    return product


def stock_initialize(*, product: Product, low_stock_threshold: int = 5) -> Stock:
    """Make sure the product has its stock row (with nothing on hand)."""
    low_stock_threshold = _check_threshold(low_stock_threshold)
    stock, _ = Stock.objects.get_or_create(
        product=product, defaults={"low_stock_threshold": low_stock_threshold}
    )
    return stock


@atomic_with_retry
def stock_receive(*, product: Product, quantity: int, actor=None, note: str = "") -> Stock:
    """Goods arrive: on hand goes up by `quantity`, with a receipt in the ledger."""
    _check_quantity(quantity)
    stock = lock_stock([product.pk])[product.pk]
    _check_on_hand_limit(product, stock, quantity)
    _apply({product.pk: (quantity, 0)}, kind=Kind.RECEIPT, actor=actor, note=note)
    return Stock.objects.get(pk=product.pk)


@atomic_with_retry
def stock_adjust(*, product: Product, delta: int, reason: str, actor=None, note: str = "") -> Stock:
    """Correct on hand by `delta` (a count, damage, a find...). Never below what is allocated."""
    _check_quantity(delta, allow_negative=True)
    if reason not in StockMovement.Reason.values:
        choices = ", ".join(StockMovement.Reason.values)
        raise InvalidQuantity(f"Unknown adjustment reason {reason!r}; use one of: {choices}.")
    stock = lock_stock([product.pk])[product.pk]
    refusal = stock_adjust_refusal(product=product, stock=stock, delta=delta)
    if refusal:
        raise StockBelowAllocated(refusal)
    _check_on_hand_limit(product, stock, delta)
    kind = Kind.RETURN if reason == StockMovement.Reason.RETURN else Kind.ADJUSTMENT
    _apply({product.pk: (delta, 0)}, kind=kind, reason=reason, actor=actor, note=note)
    return Stock.objects.get(pk=product.pk)


@atomic_with_retry
def stock_set_threshold(*, product: Product, threshold: int, actor=None) -> Stock:
    """Set the product's low-stock threshold (0 to MAX_QUANTITY); the caller logs who did it."""
    threshold = _check_threshold(threshold)
    lock_stock([product.pk])
    Stock.objects.filter(pk=product.pk).update(low_stock_threshold=threshold, updated_at=timezone.now())
    return Stock.objects.get(pk=product.pk)


def stock_allocate(
    *, quantities: Mapping[Product, int], order_number: str, actor=None, note: str = ""
) -> None:
    """Reserve stock for an order, all or nothing. Call inside the order's transaction.

    Raises InsufficientStock naming every short product, ProductInactive for an inactive one.
    """
    inactive = [p for p in quantities if not p.is_active]
    if inactive:
        names = ", ".join(f"{p.name} ({p.sku})" for p in inactive)
        raise ProductInactive(f"Not for sale (inactive): {names}.")
    rows = lock_stock(p.pk for p in quantities)
    shortages = []
    for product in sorted(quantities, key=lambda p: p.pk):
        stock = rows[product.pk]
        if stock.available < quantities[product]:
            shortages.append((product, quantities[product], max(stock.available, 0)))
    if shortages:
        raise InsufficientStock(shortages)
    _apply(
        {p.pk: (0, q) for p, q in quantities.items()},
        kind=Kind.ALLOCATION,
        order_number=order_number,
        actor=actor,
        note=note,
    )


def stock_release(*, quantities: Mapping[int, int], order_number: str, actor=None, note: str = "") -> None:
    """Give back an open order's allocation (cancelled or deleted). Inside the order's transaction."""
    lock_stock(quantities)
    _apply(
        {pk: (0, -q) for pk, q in quantities.items()},
        kind=Kind.RELEASE,
        order_number=order_number,
        actor=actor,
        note=note,
    )


def stock_consume(*, quantities: Mapping[int, int], order_number: str, actor=None) -> None:
    """Goods leave with a shipment: on hand and allocated both go down. Inside the order's transaction."""
    lock_stock(quantities)
    _apply(
        {pk: (-q, -q) for pk, q in quantities.items()},
        kind=Kind.SALE,
        order_number=order_number,
        actor=actor,
    )


def stock_take_back(*, quantities: Mapping[int, int], order_number: str, actor=None, note: str = "") -> None:
    """Shipped goods came back and go on the shelf again: on hand rises, with ledger rows of
    kind and reason "return" carrying the order number. Inside the order's transaction."""
    rows = lock_stock(quantities)
    for pk, quantity in quantities.items():
        if rows[pk].on_hand + quantity > MAX_QUANTITY:
            raise StockLimitExceeded(f"On hand would be more than {MAX_QUANTITY:,}: nothing was returned.")
    _apply(
        {pk: (q, 0) for pk, q in quantities.items()},
        kind=Kind.RETURN,
        reason=StockMovement.Reason.RETURN,
        order_number=order_number,
        actor=actor,
        note=note,
    )


def stock_adjust_refusal(*, product: Product, stock: Stock, delta: int) -> str | None:
    """Why `stock_adjust` refuses to change this stock by `delta` (None: it does not)."""
    if _below_allocated(stock, delta):
        return (
            f"Cannot adjust {product.name} ({product.sku}) by {delta:+d}: {stock.on_hand} on hand, "
            f"{stock.allocated} allocated to open orders, so on hand cannot go below "
            f"{stock.allocated}."
        )
    return None


def _below_allocated(stock: Stock, delta: int) -> bool:
    return stock.on_hand + delta < stock.allocated


def lock_stock_many(product_ids: Iterable[int]) -> dict[int, Stock]:
    """`lock_stock` for any number of products (a stock count's 100,000), in primary-key order.

    PostgreSQL: one statement with the ids as one array parameter (`= ANY(%s)`), which costs a
    fraction of an `IN` list of 100,000 parameters to send and to plan. Elsewhere: `lock_stock`
    in batches of consecutive ids (as many as one statement takes: 999 on SQLite), so the rows
    are still locked in primary-key order.
    """
    ids = sorted(set(product_ids))
    if connection.vendor != "postgresql":
        batch = min(connection.features.max_query_params or 30_000, 30_000) - 1
        rows = {}
        for start in range(0, len(ids), batch):
            rows.update(lock_stock(ids[start : start + batch]))
        return rows
    rows = _select_stock_for_update_array(ids)
    missing = [pk for pk in ids if pk not in rows]
    if missing:
        Stock.objects.bulk_create([Stock(product_id=pk) for pk in missing], ignore_conflicts=True)
        rows.update(_select_stock_for_update_array(missing))
    return rows


def _select_stock_for_update_array(ids: list[int]) -> dict[int, Stock]:
    """`_select_stock_for_update` with the ids as one PostgreSQL array."""
    if not ids:
        return {}
    qn = connection.ops.quote_name
    key = qn(Stock._meta.pk.column)
    sql = (
        f"SELECT {sql_columns(Stock, _LOCKED_FIELDS)} FROM {qn(Stock._meta.db_table)} "
        f"WHERE {key} = ANY(%s) ORDER BY {key} FOR UPDATE"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [ids])
        found = cursor.fetchall()
    return {row[0]: Stock.from_db(connection.alias, _LOCKED_FIELDS, row) for row in found}


@atomic_with_retry
def stock_adjust_many(
    *,
    deltas: Mapping[int, int],
    reason: str,
    actor=None,
    notes: Mapping[int, str] | None = None,
    locked: Mapping[int, Stock] | None = None,
) -> None:
    """`stock_adjust` for many products at once (a stock count): product id -> change, each
    with its ledger row (and its note), all or nothing. The rows are locked in primary-key order
    and checked as `stock_adjust` checks one; any refusal raises StockBelowAllocated naming the
    refused products, and nothing is changed. The rows and the ledger are written with one
    statement each for all products, not five round trips per product.

    `locked`: the stock rows as the caller locked them (`lock_stock_many`) earlier in the same
    transaction, so that a caller that had to read them under lock (an import checking its
    rows) does not lock 100,000 rows twice."""
    if not deltas:
        return
    for delta in deltas.values():
        _check_quantity(delta, allow_negative=True)
    if reason not in StockMovement.Reason.values:
        choices = ", ".join(StockMovement.Reason.values)
        raise InvalidQuantity(f"Unknown adjustment reason {reason!r}; use one of: {choices}.")
    if locked is not None and connection.in_atomic_block and set(deltas) <= set(locked):
        rows = locked
    else:
        rows = lock_stock_many(deltas)
    refused = [pk for pk in sorted(deltas) if _below_allocated(rows[pk], deltas[pk])]
    if refused:
        products = Product.objects.only("name", "sku").in_bulk(refused[:20])
        shown = " ".join(
            stock_adjust_refusal(product=products[pk], stock=rows[pk], delta=deltas[pk])
            for pk in refused[:20]
        )
        more = f" And {len(refused) - 20} more." if len(refused) > 20 else ""
        raise StockBelowAllocated(shown + more)
    over = [pk for pk in sorted(deltas) if rows[pk].on_hand + deltas[pk] > MAX_QUANTITY]
    if over:
        product = Product.objects.only("name", "sku").get(pk=over[0])
        _check_on_hand_limit(product, rows[over[0]], deltas[over[0]])
    kind = Kind.RETURN if reason == StockMovement.Reason.RETURN else Kind.ADJUSTMENT
    notes = notes or {}
    actor_id = getattr(actor, "pk", None)
    ids = sorted(deltas)
    _add_to_on_hand({pk: deltas[pk] for pk in ids})
    created_at = StockMovement._meta.get_field("created_at").get_db_prep_save(timezone.now(), connection)
    insert_values(
        StockMovement,
        [
            "product",
            "kind",
            "reason",
            "on_hand_delta",
            "allocated_delta",
            "order_number",
            "actor",
            "note",
            "created_at",
        ],
        ((pk, kind, reason, deltas[pk], 0, "", actor_id, notes.get(pk, "")[:500], created_at) for pk in ids),
    )


def _add_to_on_hand(deltas: dict[int, int]) -> None:
    """Add each product's change to its on hand: one statement for all of them.

    PostgreSQL: one UPDATE joined to the changes sent as two arrays. Elsewhere: one single-row
    UPDATE sent with `executemany`. (`_update_stock_rows`' CASE grows with the rows it names;
    this does not.) The stock CHECK constraints still refuse a result that breaks a rule.
    """
    qn = connection.ops.quote_name
    table, key = qn(Stock._meta.db_table), qn(Stock._meta.pk.column)
    on_hand, updated_at = sql_columns(Stock, ["on_hand"]), sql_columns(Stock, ["updated_at"])
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} SET {on_hand} = {table}.{on_hand} + change.delta, {updated_at} = %s "
                f"FROM unnest(%s::integer[], %s::integer[]) AS change(pk, delta) "
                f"WHERE {table}.{key} = change.pk",
                [now, list(deltas), list(deltas.values())],
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET {on_hand} = {on_hand} + %s, {updated_at} = %s WHERE {key} = %s",
                [(delta, now, pk) for pk, delta in deltas.items()],
            )
