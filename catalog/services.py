"""Writes to the catalog and to stock. Every stock change writes its ledger row here.

Stock rows are locked with SELECT ... FOR UPDATE in primary-key order, re-checked, then updated,
so concurrent requests never oversell and never deadlock on each other's lock order.
"""

from collections.abc import Iterable, Mapping

from django.db import connection, transaction
from django.utils import timezone

from catalog.exceptions import (
    InsufficientStock,
    InvalidQuantity,
    ProductInactive,
    StockBelowAllocated,
)
from catalog.models import Product, ProductType, Stock, StockMovement
from shop.core.db import atomic_with_retry, insert_rows, sql_columns, sql_placeholders, sql_select
from shop.core.money import default_currency, quantize

Kind = StockMovement.Kind


def _check_quantity(quantity, *, allow_negative=False) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidQuantity(f"The quantity must be a whole number, not {quantity!r}.")
    if allow_negative:
        if quantity == 0:
            raise InvalidQuantity("An adjustment must change the stock: the change cannot be 0.")
    elif quantity < 1:
        raise InvalidQuantity(f"The quantity must be at least 1, not {quantity}.")
    return quantity


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
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)
        found = cursor.fetchall()
    return {row[0]: Stock.from_db(connection.alias, _LOCKED_FIELDS, row) for row in found}


def _update_stock_rows(changes: Mapping[int, tuple[int, int]]) -> None:
    """One UPDATE for all changed rows: each column plus a CASE on the product id.

    Written as SQL rather than `update(Case(When(...)))`: Django compiles every When on every
    call, which cost more client CPU than the rest of order placement's stock work together
    (bench/README.md, placement). Plain standard SQL, the same on PostgreSQL, MariaDB and
    SQLite; the stock CHECK constraints still refuse a result that breaks a rule.
    """
    qn = connection.ops.quote_name
    key = qn(Stock._meta.pk.column)
    assignments, params = [], []
    for index, field in enumerate(("on_hand", "allocated")):
        if not any(delta[index] for delta in changes.values()):
            continue
        column = sql_columns(Stock, [field])
        whens = " ".join(["WHEN %s THEN %s"] * len(changes))
        assignments.append(f"{column} = {column} + CASE {key} {whens} ELSE 0 END")
        for pk, delta in changes.items():
            params += [pk, delta[index]]
    assignments.append(f"{sql_columns(Stock, ['updated_at'])} = %s")
    params.append(connection.ops.adapt_datetimefield_value(timezone.now()))
    ids = sql_placeholders(len(changes))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {qn(Stock._meta.db_table)} SET {', '.join(assignments)} WHERE {key} IN ({ids})",
            [*params, *changes],
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
    """Create a product with its stock row; initial stock is recorded as a receipt."""
    product = Product(
        name=name,
        sku=sku,
        product_type=product_type,
        price=quantize(price),
        currency=currency or default_currency(),
        description=description,
        is_active=is_active,
    )
    product.full_clean()
    product.save()
    stock_initialize(product=product, low_stock_threshold=low_stock_threshold)
    if initial_stock:
        stock_receive(product=product, quantity=initial_stock, actor=actor, note="Initial stock")
    return product


def stock_initialize(*, product: Product, low_stock_threshold: int = 5) -> Stock:
    """Make sure the product has its stock row (with nothing on hand)."""
    stock, _ = Stock.objects.get_or_create(
        product=product, defaults={"low_stock_threshold": low_stock_threshold}
    )
    return stock


@atomic_with_retry
def stock_receive(*, product: Product, quantity: int, actor=None, note: str = "") -> Stock:
    """Goods arrive: on hand goes up by `quantity`, with a receipt in the ledger."""
    _check_quantity(quantity)
    lock_stock([product.pk])
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
    if stock.on_hand + delta < stock.allocated:
        raise StockBelowAllocated(
            f"Cannot adjust {product.name} ({product.sku}) by {delta:+d}: {stock.on_hand} on hand, "
            f"{stock.allocated} allocated to open orders, so on hand cannot go below "
            f"{stock.allocated}."
        )
    kind = Kind.RETURN if reason == StockMovement.Reason.RETURN else Kind.ADJUSTMENT
    _apply({product.pk: (delta, 0)}, kind=kind, reason=reason, actor=actor, note=note)
    return Stock.objects.get(pk=product.pk)


def stock_allocate(*, quantities: Mapping[Product, int], order_number: str, actor=None) -> None:
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
