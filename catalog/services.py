"""Writes to the catalog and to stock. Every stock change writes its ledger row here.

Stock rows are locked with SELECT ... FOR UPDATE in primary-key order, re-checked, then updated,
so concurrent requests never oversell and never deadlock on each other's lock order.
"""

from collections.abc import Iterable, Mapping

from django.db import transaction
from django.db.models import Case, F, IntegerField, Value, When

from catalog.exceptions import (
    InsufficientStock,
    InvalidQuantity,
    ProductInactive,
    StockBelowAllocated,
)
from catalog.models import Product, ProductType, Stock, StockMovement
from shop.db import atomic_with_retry
from shop.money import default_currency, quantize

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
    rows = {s.pk: s for s in Stock.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    missing = [pk for pk in ids if pk not in rows]
    if missing:
        Stock.objects.bulk_create([Stock(product_id=pk) for pk in missing], ignore_conflicts=True)
        rows = {s.pk: s for s in Stock.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    return rows


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
    on_hand_cases = [When(pk=pk, then=F("on_hand") + Value(d[0])) for pk, d in changes.items()]
    allocated_cases = [When(pk=pk, then=F("allocated") + Value(d[1])) for pk, d in changes.items()]
    update = {}
    if any(d[0] for d in changes.values()):
        update["on_hand"] = Case(*on_hand_cases, default=F("on_hand"), output_field=IntegerField())
    if any(d[1] for d in changes.values()):
        update["allocated"] = Case(*allocated_cases, default=F("allocated"), output_field=IntegerField())
    Stock.objects.filter(pk__in=list(changes)).update(**update)
    actor_id = getattr(actor, "pk", None)
    StockMovement.objects.bulk_create(
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
