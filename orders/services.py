"""Writes to orders: place, ship, deliver, cancel, delete; and what touches orders and payments
together (the order side of a payment, a customer's erasure). Each runs in one transaction,
writes its OrderEvent and stock ledger rows in that transaction, and announces only after commit.
"""

import datetime
import logging
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, IntegerField, Q
from django.db.models.functions import Cast
from django.utils import timezone

from catalog import services as catalog_services
from catalog.exceptions import InvalidQuantity, ProductInactive
from catalog.models import Product
from catalog.selectors import products_by_sku, products_for_order
from customers.models import Address, Customer
from customers.selectors import CUSTOMER_FIELDS, default_shipping_address, lock_customer_with_default_address
from customers.services import customer_erase_personal_data
from orders.exceptions import (
    AddressNotOwned,
    CurrencyMismatch,
    CustomerHasOpenOrders,
    EditBelowPaid,
    EmptyOrder,
    InvalidReturn,
    InvalidShipment,
    InvalidTransition,
    MissingShippingAddress,
    NotADraft,
    OrderError,
    OrderNotEditable,
    OrderTooLarge,
    PartiallyShippedNotCancelled,
    UnknownCustomer,
    UnknownSku,
)
from orders.models import (
    Carrier,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Return,
    ReturnLine,
    Shipment,
    ShipmentLine,
)
from payments import services as payment_services
from payments.models import Payment, PaymentMethod
from shop.core.db import atomic_with_retry, first_raw, insert_row, insert_rows, sql_select, update_row
from shop.core.money import default_currency, quantize
from shop.core.privacy import REMOVED, erase_emails
from shop.core.validators import MAX_AMOUNT, MAX_QUANTITY, normalize_sku

logger = logging.getLogger("shop.orders")

NUMBER_PREFIX = "SO-"


def order_number_for(pk: int) -> str:
    """The human-facing order number, derived from the primary key (unique without Max()+1)."""
    return f"{NUMBER_PREFIX}{pk:06d}"


def shipping_cost_for(subtotal: Decimal) -> Decimal:
    """Flat-rate shipping, free from a threshold (both from settings)."""
    if subtotal >= Decimal(settings.SHOP_FREE_SHIPPING_OVER):
        return Decimal("0.00")
    return quantize(settings.SHOP_SHIPPING_FLAT_RATE)


# The most of one product an order may ask for, and the largest amount an order may come to
# (shop.core.validators' bounds, which the CHECK constraints also hold): refused here, with the
# names, rather than by the database.
MAX_LINE_QUANTITY = MAX_QUANTITY
MAX_ORDER_AMOUNT = MAX_AMOUNT


def _merge_lines(lines: Iterable[tuple[Product, int]], *, allow_zero: bool = False) -> dict[int, int]:
    """Product id -> quantity, the same product twice added up.

    With `allow_zero` (a whole new set of lines for a draft or an edit) a quantity of 0 means
    "no such line" and an empty result is allowed; the caller decides whether it may be empty.
    """
    quantities: dict[int, int] = {}
    names: dict[int, str] = {}
    lowest = 0 if allow_zero else 1
    for product, quantity in lines:
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < lowest:
            raise InvalidQuantity(
                f"The quantity for {product.name} ({product.sku}) must be a whole number of at "
                f"least {lowest}, not {quantity!r}."
            )
        quantities[product.pk] = quantities.get(product.pk, 0) + quantity
        names[product.pk] = f"{product.name} ({product.sku})"
    for pk, quantity in quantities.items():
        if quantity > MAX_LINE_QUANTITY:
            raise InvalidQuantity(
                f"The quantity for {names[pk]} must be at most {MAX_LINE_QUANTITY:,}, not {quantity:,}."
            )
    quantities = {pk: quantity for pk, quantity in quantities.items() if quantity}
    if not quantities and not allow_zero:
        raise EmptyOrder("An order needs at least one line.")
    return quantities


def _no_default_address(customer: Customer) -> MissingShippingAddress:
    return MissingShippingAddress(
        f"{customer.full_name} has no default shipping address; choose one for the order."
    )


def _shipping_address_for(customer: Customer, shipping_address: Address | None) -> Address:
    """The address an order ships to: the given one (the customer's own) or their default."""
    if shipping_address is None:
        shipping_address = default_shipping_address(customer_id=customer.pk)
        if shipping_address is None:
            raise _no_default_address(customer)
    elif shipping_address.customer_id != customer.pk:
        raise AddressNotOwned(
            f"The address {shipping_address.one_line()} belongs to another customer, "
            f"not {customer.full_name}."
        )
    return shipping_address


def _current_products(quantities: Iterable[int]) -> dict[int, Product]:
    """The products as they are now (prices, active flags), all in the store's currency."""
    products = products_for_order(ids=quantities)
    gone = sorted(set(quantities) - set(products))
    if gone:
        raise OrderError(f"These products no longer exist: {', '.join(f'#{pk}' for pk in gone)}.")
    return _in_store_currency(products)


def _in_store_currency(products: dict[int, Product]) -> dict[int, Product]:
    currency = default_currency()
    wrong_currency = [p for p in products.values() if p.currency != currency]
    if wrong_currency:
        names = ", ".join(f"{p.name} ({p.currency})" for p in wrong_currency)
        raise CurrencyMismatch(f"These products are not priced in {currency}: {names}.")
    return products


def _line_at_current_price(product: Product, quantity: int) -> OrderLine:
    return OrderLine(
        product=product,
        product_name=product.name,
        sku=product.sku,
        unit_price=product.price,
        quantity=quantity,
        line_total=quantize(product.price * quantity),
    )


def _check_amount(total: Decimal) -> None:
    if total > MAX_ORDER_AMOUNT:
        raise OrderTooLarge(
            f"The order would come to {total:,} {default_currency()}, more than the "
            f"{MAX_ORDER_AMOUNT:,} an order can hold; lower the quantities."
        )


def _snapshot_address(order: Order, address: Address, customer: Customer) -> None:
    order.shipping_name = customer.full_name
    order.shipping_line1 = address.line1
    order.shipping_line2 = address.line2
    order.shipping_city = address.city
    order.shipping_state = address.state
    order.shipping_postal_code = address.postal_code
    order.shipping_country = address.country
    order.shipping_phone = customer.phone.as_e164 if customer.phone else ""


def record_event(order: Order, kind: str, *, actor=None, message="", from_status="", to_status=""):
    """The order's history: one event, written in one hand-written INSERT (every placement and
    operation writes one; nothing listens for its save)."""
    event = OrderEvent(
        order=order,
        kind=kind,
        actor_id=getattr(actor, "pk", None),
        message=message,
        from_status=from_status,
        to_status=to_status,
    )
    insert_row(event)
    return event


def lock_order(order: Order) -> Order:
    """Lock the order's row for this transaction and return its current state."""
    return Order.objects.select_for_update().get(pk=order.pk)


def order_transition(
    order: Order, to_status: str, *, kind: str, actor=None, message: str = "", fields=()
) -> Order:
    """Move a locked order to `to_status` if TRANSITIONS allows it, with its event. In a transaction."""
    if not order.can_transition(to_status):
        raise InvalidTransition(order, to_status)
    from_status = order.status
    order.status = to_status
    order.save(update_fields=["status", "updated_at", *fields])
    record_event(order, kind, actor=actor, message=message, from_status=from_status, to_status=to_status)
    return order


def _sync(target: Order, source: Order) -> None:
    """Copy the saved state back onto the caller's instance, so it is not left stale."""
    if target is not source:
        target.refresh_from_db()


@atomic_with_retry
def order_place(
    *,
    customer: Customer,
    lines: Iterable[tuple[Product, int]],
    shipping_address: Address | None = None,
    payment_method: PaymentMethod | None = None,
    actor=None,
    shipping_cost=None,
) -> Order:
    """Place an order and allocate its stock, all or nothing.

    `lines` is an iterable of (product, quantity); the same product twice is merged. Raises
    InsufficientStock (naming every short product), ProductInactive, InvalidQuantity, EmptyOrder,
    UnknownCustomer, AddressNotOwned, MissingShippingAddress, PaymentMethodNotOwned or
    CurrencyMismatch and then changes nothing. The order returned carries `placed_lines`, its
    lines as written (without primary keys), in the order of their ids.
    """
    return _place_new(
        customer,
        _merge_lines(lines),
        shipping_address=shipping_address,
        payment_method=payment_method,
        actor=actor,
        shipping_cost=shipping_cost,
    )


@atomic_with_retry
def order_place_by_sku(
    *,
    customer: Customer,
    lines: Iterable[tuple[str, int]],
    shipping_address: Address | None = None,
    payment_method: PaymentMethod | None = None,
    actor=None,
) -> Order:
    """`order_place` for lines given as (SKU, quantity), as a storefront sends them.

    The products are read by SKU once, inside the placing transaction, and placed at those
    prices (what `order_place` re-reads by id after its caller looked the SKUs up). SKUs are
    normalized as the catalog stores them; unknown ones raise UnknownSku naming each, and then
    nothing changes. Every other refusal is `order_place`'s.
    """
    lines = [(normalize_sku(sku), quantity) for sku, quantity in lines]
    by_sku = products_by_sku(skus=[sku for sku, _ in lines])
    unknown = sorted({sku for sku, _ in lines if sku not in by_sku})
    if unknown:
        raise UnknownSku(unknown)
    return _place_new(
        customer,
        _merge_lines([(by_sku[sku], quantity) for sku, quantity in lines]),
        shipping_address=shipping_address,
        payment_method=payment_method,
        actor=actor,
        products=_in_store_currency({p.pk: p for p in by_sku.values()}),
    )


def _place_new(
    customer: Customer, quantities: dict[int, int], *, shipping_address: Address | None, **placing
) -> Order:
    """A new order for the customer, locked first (UnknownCustomer, anonymized), then `_place`.
    Without a chosen address, the lock also reads the customer's default one (one statement)."""
    if shipping_address is None:
        locked, shipping_address = lock_customer_with_default_address(customer_id=customer.pk)
        _check_lockable(locked, customer.pk)
        if shipping_address is None:
            raise _no_default_address(locked)
    else:
        locked = _lock_customer(customer)
    return _place(Order(customer=locked), quantities=quantities, shipping_address=shipping_address, **placing)


def _lock_customer(customer: Customer) -> Customer:
    """Lock the customer an order is taken for, refusing one anonymized.

    Every order is taken under this lock and customer_anonymize holds it while it checks for open
    orders, so an order placed at the moment its customer is anonymized either comes first (and
    the erasure is refused, naming it) or is refused itself. Lock order: customer, then the order,
    then stock rows.
    """
    # One raw statement (every placement runs it): select_for_update().get() spent more client
    # time building the query than the database took to lock the row.
    sql = sql_select(Customer, CUSTOMER_FIELDS, where=("pk",), for_update=True)
    locked = first_raw(Customer, sql, [customer.pk])
    _check_lockable(locked, customer.pk)
    return locked


def _check_lockable(locked: Customer | None, pk: int) -> None:
    if locked is None:
        raise UnknownCustomer(f"There is no customer #{pk}.")
    if locked.anonymized_at is not None:
        raise OrderError(f"Customer #{locked.pk} was anonymized; no order can be taken for them.")


def _place(
    order: Order,
    *,
    quantities: dict[int, int],
    shipping_address: Address | None,
    payment_method: PaymentMethod | None,
    actor,
    shipping_cost=None,
    note: str = "",
    products: dict[int, Product] | None = None,
) -> Order:
    """The one placement path, for a new order (unsaved `order`) and for a locked draft.

    Checks the address and payment method, prices every line at the products' current prices,
    writes the order, its lines and its `placed` event, and allocates the stock last. Inside
    the caller's transaction: any refusal (a shortage raises last) rolls all of it back.
    """
    customer = order.customer
    shipping_address = _shipping_address_for(customer, shipping_address)
    if payment_method is not None:
        payment_services.check_payment_method(payment_method, customer)

    # Current prices and active flags, not whatever the caller's instances remember (a draft's
    # placement has just read them, under its lock).
    if products is None:
        products = _current_products(quantities)
    order_lines = [_line_at_current_price(products[pk], quantities[pk]) for pk in sorted(quantities)]
    subtotal = quantize(sum((line.line_total for line in order_lines), Decimal("0")))
    shipping = shipping_cost_for(subtotal) if shipping_cost is None else quantize(shipping_cost)
    _check_amount(subtotal + shipping)

    from_status = "" if order.pk is None else order.status
    order.status = OrderStatus.PLACED
    order.currency = default_currency()
    order.subtotal = subtotal
    order.shipping_cost = shipping
    order.total = subtotal + shipping
    order.payment_method = payment_method
    order.payment_method_label = payment_method.label if payment_method else ""
    _snapshot_address(order, shipping_address, customer)
    if order.pk is None:
        insert_row(order)
        update_row(order, number=order_number_for(order.pk))
    else:
        # A draft: placed now (its "placed at" is this moment), its lines written afresh.
        order.created_at = timezone.now()
        order.save()
        OrderLine.objects.filter(order=order).delete()

    for line in order_lines:
        line.order = order
    insert_rows(order_lines)
    # The lines as written, in the order of their ids (no primary keys: nothing was read back),
    # for a caller that shows the order at once without reading it again (the storefront API).
    order.placed_lines = order_lines
    message = f"{len(order_lines)} line(s), total {order.total} {order.currency}."
    record_event(
        order,
        OrderEvent.Kind.PLACED,
        actor=actor,
        from_status=from_status,
        to_status=OrderStatus.PLACED,
        message=f"{message} {note}".strip(),
    )
    # Stock last: its rows are the ones every concurrent order queues on, so they are locked
    # as late as possible and held only through the stock UPDATE, the ledger rows and COMMIT.
    # A shortage raises here and the rows written above roll back with it.
    catalog_services.stock_allocate(
        quantities={products[pk]: q for pk, q in quantities.items()},
        order_number=order.number,
        actor=actor,
    )
    number = order.number
    transaction.on_commit(lambda: logger.info("order placed: %s", number))
    return order


# Drafts: staff's orders in the making. They hold no stock and take no money; their lines are
# priced at the products' current prices whenever they are set, and again when placed.


def _lock_still_there(order: Order) -> Order:
    """lock_order, refusing with a message an order deleted since the caller read it."""
    try:
        return lock_order(order)
    except Order.DoesNotExist:
        raise OrderError(f"Order {order} no longer exists (it was deleted). Nothing was changed.") from None


def _lock_draft(order: Order) -> Order:
    locked = _lock_still_there(order)
    if not locked.is_draft:
        raise NotADraft(
            f"Order {locked} is {locked.get_status_display().lower()}, not a draft. Nothing was changed."
        )
    return locked


def _lines_summary(lines) -> str:
    return "; ".join(f"{line.quantity} × {line.product_name} ({line.sku})" for line in lines) or "no lines"


@atomic_with_retry
def order_draft_create(*, customer: Customer, actor=None) -> Order:
    """Start a draft order for `customer`: no lines, no stock held, its SO- number already given."""
    customer = _lock_customer(customer)
    order = Order(customer=customer, status=OrderStatus.DRAFT, currency=default_currency())
    order.save()
    order.number = order_number_for(order.pk)
    Order.objects.filter(pk=order.pk).update(number=order.number)
    record_event(order, OrderEvent.Kind.DRAFT_CREATED, actor=actor, to_status=OrderStatus.DRAFT)
    return order


@atomic_with_retry
def order_draft_set_lines(*, order: Order, lines: Iterable[tuple[Product, int]], actor=None) -> Order:
    """Replace a draft's lines with `lines`, the whole new set of (product, quantity).

    The same product twice is merged, a quantity of 0 leaves the product out, an empty set
    leaves the draft empty. Every line is priced at its product's current price; subtotal,
    shipping and total follow. No stock moves. Raises NotADraft unless the order is a draft,
    InvalidQuantity, ProductInactive or CurrencyMismatch, and then changes nothing.
    """
    locked = _lock_draft(order)
    quantities = _merge_lines(lines, allow_zero=True)
    products = _current_products(quantities)
    inactive = [p for p in products.values() if not p.is_active]
    if inactive:
        names = ", ".join(f"{p.name} ({p.sku})" for p in inactive)
        raise ProductInactive(f"Not for sale (inactive): {names}.")
    before = list(locked.lines.all())
    new_lines = [_line_at_current_price(products[pk], quantities[pk]) for pk in sorted(quantities)]
    subtotal = quantize(sum((line.line_total for line in new_lines), Decimal("0")))
    shipping = shipping_cost_for(subtotal) if new_lines else Decimal("0.00")
    _check_amount(subtotal + shipping)
    unchanged = [(x.product_id, x.quantity, x.unit_price) for x in before] == [
        (x.product.pk, x.quantity, x.unit_price) for x in new_lines
    ]
    if unchanged and (locked.subtotal, locked.shipping_cost) == (subtotal, shipping):
        _sync(order, locked)
        return locked
    OrderLine.objects.filter(order=locked).delete()
    for line in new_lines:
        line.order = locked
    insert_rows(new_lines)
    locked.currency = default_currency()
    locked.subtotal = subtotal
    locked.shipping_cost = shipping
    locked.total = subtotal + shipping
    locked.save(update_fields=["currency", "subtotal", "shipping_cost", "total", "updated_at"])
    record_event(
        locked,
        OrderEvent.Kind.EDITED,
        actor=actor,
        message=f"Draft lines: {_lines_summary(before)} → {_lines_summary(new_lines)}. "
        f"Total {locked.total} {locked.currency}.",
    )
    _sync(order, locked)
    return locked


@atomic_with_retry
def order_draft_place(
    *,
    order: Order,
    shipping_address: Address | None = None,
    payment_method: PaymentMethod | None = None,
    actor=None,
) -> Order:
    """Place a draft: the same checks and the same allocation as `order_place`, all or nothing.

    Prices are read again now, so a draft never charges a stale price; the `placed` event names
    every line whose price changed since it was added. `shipping_address` defaults to the
    customer's default one. Raises NotADraft, EmptyOrder, InsufficientStock, ProductInactive,
    MissingShippingAddress, AddressNotOwned, PaymentMethodNotOwned, PaymentMethodExpired or
    CurrencyMismatch, and then the draft is exactly as it was.
    """
    _lock_customer(order.customer)
    locked = _lock_draft(order)
    draft_lines = list(locked.lines.all())
    if not draft_lines:
        raise EmptyOrder(f"Draft {locked} has no lines: add at least one product before placing it.")
    quantities = {line.product_id: line.quantity for line in draft_lines}
    products = _current_products(quantities)
    changes = [
        f"{line.product_name} ({line.sku}) {line.unit_price} → {products[line.product_id].price}"
        for line in draft_lines
        if products[line.product_id].price != line.unit_price
    ]
    note = ""
    if changes:
        note = f"Price changed since the line was added: {'; '.join(changes)} {locked.currency}."
    _place(
        locked,
        quantities=quantities,
        shipping_address=shipping_address,
        payment_method=payment_method,
        actor=actor,
        note=note,
        products=products,
    )
    _sync(order, locked)
    return locked


@atomic_with_retry
def order_draft_delete(*, order: Order, actor=None) -> None:
    """Delete a draft with its lines and history. It holds no stock and no money: nothing to give back."""
    locked = _lock_draft(order)
    number = locked.number
    Order.objects.filter(pk=locked.pk).delete()
    user = getattr(actor, "pk", None)
    transaction.on_commit(lambda: logger.info("draft deleted: %s (by user #%s)", number, user))


_NOT_EDITABLE_BECAUSE = {
    OrderStatus.DRAFT: "it is a draft: change its lines in the draft instead",
    OrderStatus.PAID: "it is paid: cancel it (which refunds) and take a new order instead",
    OrderStatus.PARTIALLY_SHIPPED: "part of it has been shipped",
    OrderStatus.SHIPPED: "it has been shipped",
    OrderStatus.DELIVERED: "it has been delivered",
    OrderStatus.PARTIALLY_RETURNED: "it has been shipped and part of it returned",
    OrderStatus.RETURNED: "it has been shipped and returned",
    OrderStatus.CANCELLED: "it is cancelled",
}


@atomic_with_retry
def order_edit(
    *,
    order: Order,
    lines: Iterable[tuple[Product, int]],
    shipping_address: Address | None = None,
    actor=None,
    reason: str = "",
) -> Order:
    """Change a placed (not yet paid) order's lines, and its shipping address if one is given.

    `lines` is the whole new set of (product, quantity): the same product twice is merged, a
    quantity of 0 (or leaving a product out) removes its line. Lines kept keep the price they
    were placed at; added lines are priced at the product's current price. The difference
    from the current lines is allocated or released in this one transaction (every stock row
    touched is locked first, in key order), each change a ledger row with the order number;
    subtotal, shipping and total are recomputed, and an `edited` event records before → after
    for every line, the total, the reason and who did it. If the new total is exactly what was
    already paid, the order becomes paid.

    Raises OrderNotEditable (paid, shipped, delivered, cancelled, draft), InsufficientStock,
    ProductInactive (more of an inactive product), InvalidQuantity, EmptyOrder (cancel instead),
    AddressNotOwned, CurrencyMismatch or EditBelowPaid, and then changes nothing.
    """
    locked = _lock_still_there(order)
    if locked.status != OrderStatus.PLACED:
        raise OrderNotEditable(
            f"Order {locked} cannot be edited: {_NOT_EDITABLE_BECAUSE[locked.status]}. Nothing was changed."
        )
    quantities = _merge_lines(lines, allow_zero=True)
    if not quantities:
        raise EmptyOrder(
            f"Order {locked} needs at least one line; to take everything off it, cancel the order."
        )
    address = None
    if shipping_address is not None:
        address = _shipping_address_for(locked.customer, shipping_address)
    current = {line.product_id: line for line in locked.lines.all()}
    added = [pk for pk in quantities if pk not in current]
    products = _current_products(added) if added else {}

    new_lines: dict[int, OrderLine] = {}
    for pk in sorted(quantities):
        line = current.get(pk)
        if line is None:
            new_lines[pk] = _line_at_current_price(products[pk], quantities[pk])
        else:
            new_lines[pk] = OrderLine(
                pk=line.pk,
                product_id=pk,
                product_name=line.product_name,
                sku=line.sku,
                unit_price=line.unit_price,
                quantity=quantities[pk],
                line_total=quantize(line.unit_price * quantities[pk]),
            )
    deltas = {
        pk: quantities.get(pk, 0) - current[pk].quantity if pk in current else quantities[pk]
        for pk in set(current) | set(quantities)
    }
    deltas = {pk: delta for pk, delta in deltas.items() if delta}
    snapshot = None
    if address is not None:
        snapshot = Order(customer=locked.customer)
        _snapshot_address(snapshot, address, locked.customer)
        if snapshot.shipping_address_lines == locked.shipping_address_lines and (
            snapshot.shipping_phone == locked.shipping_phone
        ):
            snapshot = None
    if not deltas and snapshot is None:
        _sync(order, locked)
        return locked

    subtotal = quantize(sum((line.line_total for line in new_lines.values()), Decimal("0")))
    shipping = shipping_cost_for(subtotal)
    total = subtotal + shipping
    _check_amount(total)
    paid = quantize(payment_services.order_amount_paid(locked))
    if total < paid:
        raise EditBelowPaid(
            f"Order {locked} would come to {total} {locked.currency}, less than the {paid} "
            f"{locked.currency} already paid for it: refund the difference first. Nothing was changed."
        )

    if deltas:
        note = f"Order edited. {reason}".strip()[:500]
        # Every stock row this edit touches, locked at once in key order: no lock-order inversion
        # with a placement or another edit locking some of the same rows.
        catalog_services.lock_stock(deltas)
        more = {pk: delta for pk, delta in deltas.items() if delta > 0}
        if more:
            for_sale = {**products, **_current_products([pk for pk in more if pk not in products])}
            catalog_services.stock_allocate(
                quantities={for_sale[pk]: delta for pk, delta in more.items()},
                order_number=locked.number,
                actor=actor,
                note=note,
            )
        fewer = {pk: -delta for pk, delta in deltas.items() if delta < 0}
        if fewer:
            catalog_services.stock_release(
                quantities=fewer, order_number=locked.number, actor=actor, note=note
            )
        removed = [pk for pk in current if pk not in quantities]
        if removed:
            OrderLine.objects.filter(order=locked, product_id__in=removed).delete()
        changed = [
            line for pk, line in new_lines.items() if pk in current and line.quantity != current[pk].quantity
        ]
        if changed:  # one UPDATE for all of them, however many lines changed
            OrderLine.objects.bulk_update(changed, ["quantity", "line_total"])
        fresh = [line for pk, line in new_lines.items() if pk not in current]
        for line in fresh:
            line.order = locked
        insert_rows(fresh)

    before_total, before_shipping = locked.total, locked.shipping_cost
    before_address = "; ".join(locked.shipping_address_lines)
    locked.subtotal, locked.shipping_cost, locked.total = subtotal, shipping, total
    fields = ["subtotal", "shipping_cost", "total", "updated_at"]
    if snapshot is not None:
        _snapshot_address(locked, address, locked.customer)
        fields += [f.name for f in Order._meta.concrete_fields if f.name.startswith("shipping_")]
        fields.remove("shipping_cost")
    locked.save(update_fields=fields)

    changes = []
    for pk in sorted(set(current) | set(quantities), key=lambda pk: (pk not in current, pk)):
        line = new_lines.get(pk) or current[pk]
        label = f"{line.product_name} ({line.sku})"
        old, new = (current[pk].quantity if pk in current else 0), quantities.get(pk, 0)
        if old == new:
            changes.append(f"{label}: {old} (unchanged)")
        elif old == 0:
            changes.append(f"{label}: 0 → {new} (added at {line.unit_price} {locked.currency} each)")
        elif new == 0:
            changes.append(f"{label}: {old} → 0 (removed)")
        else:
            changes.append(f"{label}: {old} → {new}")
    message = "; ".join(changes) + "."
    message += f" Total {before_total} → {total} {locked.currency}"
    if before_shipping != shipping:
        message += f" (shipping {before_shipping} → {shipping})"
    message += "."
    if snapshot is not None:
        message += f" Shipping address: {before_address} → {'; '.join(locked.shipping_address_lines)}."
    if reason.strip():
        message += f" Reason: {reason.strip()}"
    record_event(locked, OrderEvent.Kind.EDITED, actor=actor, message=message)
    if paid > 0 and paid == total:
        locked.paid_at = timezone.now()
        order_transition(
            locked,
            OrderStatus.PAID,
            kind=OrderEvent.Kind.PAID,
            actor=actor,
            message="Paid in full at the edited total.",
            fields=["paid_at"],
        )
    _sync(order, locked)
    number = locked.number
    transaction.on_commit(lambda: logger.info("order edited: %s", number))
    return locked


def _allocated_quantities(order: Order) -> dict[int, int]:
    """What the order's lines hold allocated: for each product, ordered and not yet shipped."""
    held = {}
    for product_id, quantity, shipped in order.lines.values_list(
        "product_id", "quantity", "quantity_shipped"
    ):
        if quantity > shipped:
            held[product_id] = quantity - shipped
    return held


def resolve_carrier(carrier: Carrier | str) -> Carrier:
    """A Carrier, or an active one by code or name (any case); InvalidShipment if there is none."""
    if isinstance(carrier, Carrier):
        return carrier
    text = (carrier or "").strip()
    if not text:
        raise InvalidShipment("Choose the carrier to ship with.")
    matches = Carrier.objects.filter(Q(code__iexact=text) | Q(name__iexact=text), active=True)
    found = matches.filter(code__iexact=text).first() or matches.first()
    if found is None:
        offered = ", ".join(Carrier.objects.filter(active=True).values_list("name", flat=True))
        raise InvalidShipment(f"There is no active carrier {text!r}; the carriers are: {offered or 'none'}.")
    return found


def _quantities_by_line(order: Order, lines, *, error, what: str) -> dict[int, int]:
    """[(order_line or its id, quantity), ...] as {line id: quantity}, merged, each a whole
    number from 1 up, every line one of this order's. `error` is the exception to raise."""
    wanted: dict[int, int] = {}
    own = set(order.lines.values_list("pk", flat=True))
    for item in lines:
        line, quantity = item[0], item[1]
        line_id = getattr(line, "pk", line)
        if line_id not in own:
            raise error(f"That line is not on order {order}: nothing was {what}.")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= MAX_QUANTITY:
            raise error(f"Quantities are whole numbers from 0 to {MAX_QUANTITY:,}: nothing was {what}.")
        wanted[line_id] = wanted.get(line_id, 0) + quantity
    wanted = {line_id: quantity for line_id, quantity in wanted.items() if quantity}
    if not wanted:
        raise error(f"Choose at least one unit: nothing was {what}.")
    return wanted


def _line_summary(lines: dict[int, int], by_id: dict[int, OrderLine]) -> str:
    return ", ".join(f"{quantity} × {by_id[pk].sku}" for pk, quantity in sorted(lines.items()))


@atomic_with_retry
def order_ship(
    *, order: Order, carrier: Carrier | str, tracking_number: str, lines=None, actor=None
) -> Shipment:
    """Hand units of a paid order to the carrier: all that remain to ship (`lines` None), or
    `lines=[(order_line, quantity), ...]`. Each unit shipped leaves stock (on hand and
    allocated fall, ledger rows with the order number). The order becomes partially shipped
    while units remain, shipped when none do. InvalidShipment (nothing changed) for more than
    remains on a line, a line of another order, or a tracked carrier without a tracking number."""
    carrier = resolve_carrier(carrier)
    tracking_number = (tracking_number or "").strip()
    if carrier.tracked and not tracking_number:
        raise InvalidShipment(f"{carrier.name} shipments need a tracking number.")
    if len(tracking_number) > Shipment._meta.get_field("tracking_number").max_length:
        raise InvalidShipment("A tracking number has at most 100 characters.")
    locked = lock_order(order)
    if not locked.is_shippable:
        raise InvalidTransition(locked, OrderStatus.SHIPPED)
    by_id = {line.pk: line for line in locked.lines.all()}
    if lines is None:
        wanted = {pk: line.quantity_to_ship for pk, line in by_id.items() if line.quantity_to_ship}
    else:
        wanted = _quantities_by_line(locked, lines, error=InvalidShipment, what="shipped")
    over = [
        f"{by_id[pk].sku}: {quantity} asked, {by_id[pk].quantity_to_ship} left to ship"
        for pk, quantity in sorted(wanted.items())
        if quantity > by_id[pk].quantity_to_ship
    ]
    if over:
        raise InvalidShipment(
            f"More than remains to ship on order {locked} ({'; '.join(over)}): nothing was shipped."
        )
    catalog_services.stock_consume(
        quantities={by_id[pk].product_id: quantity for pk, quantity in wanted.items()},
        order_number=locked.number,
        actor=actor,
    )
    shipment = Shipment.objects.create(
        order=locked, carrier=carrier, tracking_number=tracking_number, shipped_at=timezone.now()
    )
    ShipmentLine.objects.bulk_create(
        ShipmentLine(shipment=shipment, order_line_id=pk, quantity=quantity)
        for pk, quantity in sorted(wanted.items())
    )
    for pk, quantity in wanted.items():
        OrderLine.objects.filter(pk=pk).update(quantity_shipped=by_id[pk].quantity_shipped + quantity)
    remaining = sum(line.quantity_to_ship for line in by_id.values()) - sum(wanted.values())
    message = f"{carrier.name} {tracking_number}".strip() + f": {_line_summary(wanted, by_id)}"
    status = OrderStatus.SHIPPED if remaining == 0 else OrderStatus.PARTIALLY_SHIPPED
    if status == locked.status:  # another part of a partially shipped order
        locked.save(update_fields=["updated_at"])
        record_event(locked, OrderEvent.Kind.SHIPPED, actor=actor, message=message)
    else:
        order_transition(locked, status, kind=OrderEvent.Kind.SHIPPED, actor=actor, message=message)
    _sync(order, locked)
    number = locked.number
    transaction.on_commit(lambda: logger.info("order shipped: %s (%s)", number, status))
    return shipment


@atomic_with_retry
def order_deliver(*, order: Order, shipment: Shipment | None = None, delivered_at=None, actor=None) -> Order:
    """Record that a shipment arrived (`shipment`), or every one still in transit (None), at
    `delivered_at` (default now; not in the future, not before it shipped). The order is
    delivered once it is wholly shipped and every shipment has arrived."""
    locked = lock_order(order)
    in_transit = Shipment.objects.select_for_update().filter(order=locked, status=Shipment.Status.IN_TRANSIT)
    if shipment is not None:
        if shipment.order_id != locked.pk:
            raise InvalidShipment(f"That shipment is not one of order {locked}'s: nothing was changed.")
        in_transit = in_transit.filter(pk=shipment.pk)
    targets = list(in_transit.order_by("pk"))
    if not targets:
        if shipment is not None:
            raise InvalidShipment(
                f"That shipment of order {locked} was already delivered: nothing was changed."
            )
        raise InvalidTransition(locked, OrderStatus.DELIVERED)
    now = timezone.now()
    when = now if delivered_at is None else delivered_at
    if isinstance(when, datetime.date) and not isinstance(when, datetime.datetime):
        # A day, not a moment: today and the day it shipped are allowed. Recorded at noon,
        # kept between the last of these shipments leaving and now.
        if when > timezone.localdate(now):
            raise InvalidShipment("A delivery cannot be in the future: nothing was changed.")
        early = [s for s in targets if when < timezone.localdate(s.shipped_at)]
        left = max(s.shipped_at for s in targets)
        when = min(max(timezone.make_aware(datetime.datetime.combine(when, datetime.time(12))), left), now)
    else:
        if timezone.is_naive(when):
            when = timezone.make_aware(when)
        if when > now:
            raise InvalidShipment("A delivery cannot be in the future: nothing was changed.")
        early = [s for s in targets if when < s.shipped_at]
    if early:
        shipped = timezone.localtime(early[0].shipped_at).strftime("%Y-%m-%d %H:%M")
        raise InvalidShipment(f"That is before the shipment left ({shipped}): nothing was changed.")
    Shipment.objects.filter(pk__in=[s.pk for s in targets]).update(
        status=Shipment.Status.DELIVERED, delivered_at=when
    )
    names = dict(Carrier.objects.filter(code__in={s.carrier_id for s in targets}).values_list("code", "name"))
    parcels = ", ".join(f"{names[s.carrier_id]} {s.tracking_number}".strip() for s in targets)
    message = f"{parcels} delivered {timezone.localtime(when):%Y-%m-%d %H:%M}"
    all_arrived = not Shipment.objects.filter(order=locked, status=Shipment.Status.IN_TRANSIT).exists()
    if locked.status == OrderStatus.SHIPPED and all_arrived:
        order_transition(
            locked, OrderStatus.DELIVERED, kind=OrderEvent.Kind.DELIVERED, actor=actor, message=message
        )
    else:
        locked.save(update_fields=["updated_at"])
        record_event(locked, OrderEvent.Kind.DELIVERED, actor=actor, message=message)
    _sync(order, locked)
    if shipment is not None:
        shipment.refresh_from_db()
    return locked


@atomic_with_retry
def order_return(
    *,
    order: Order,
    lines,
    restock: bool = True,
    refund: bool = True,
    refund_shipping: bool = False,
    reason: str = "",
    actor=None,
) -> Return:
    """Take back shipped units: `lines=[(order_line, quantity), ...]`, at most what each line
    shipped and has not had back (else InvalidReturn, nothing changed). A line may be given as
    (order_line, quantity, restock) to decide per line. Restocked units go back on hand with a
    ledger row whose reason is "return"; the others are written off (recorded on the return and
    in the order's history, stock unchanged). With `refund`, the lines' charged amounts (plus
    the shipping charge with `refund_shipping`, once per order) are refunded through the order's
    captured payments, oldest first, never more than is left of them; the Return keeps what was.
    """
    reason = (reason or "").strip()
    if len(reason) > Return._meta.get_field("reason").max_length:
        raise InvalidReturn("A return's reason has at most 500 characters: nothing was returned.")
    lines = list(lines or [])
    locked = lock_order(order)
    if not locked.is_returnable:
        raise InvalidReturn(
            f"Order {locked} is {locked.get_status_display().lower()}: only units of a shipped or delivered "
            "order can be returned. Nothing was changed."
        )
    wanted = _quantities_by_line(locked, lines, error=InvalidReturn, what="returned")
    restock_of: dict[int, bool] = {}
    for item in lines:
        line_id = getattr(item[0], "pk", item[0])
        restocked = bool(item[2]) if len(item) > 2 else bool(restock)
        if item[1] and restock_of.setdefault(line_id, restocked) != restocked:
            raise InvalidReturn(
                "A line is either restocked or written off in one return, not both: return the others "
                "separately. Nothing was returned."
            )
    by_id = {line.pk: line for line in locked.lines.all()}
    over = [
        f"{by_id[pk].sku}: {quantity} asked, {by_id[pk].quantity_returnable} shipped and not returned"
        for pk, quantity in sorted(wanted.items())
        if quantity > by_id[pk].quantity_returnable
    ]
    if over:
        raise InvalidReturn(
            f"More than can come back on order {locked} ({'; '.join(over)}): nothing was returned."
        )
    restocked = {by_id[pk].product_id: q for pk, q in wanted.items() if restock_of[pk]}
    if restocked:
        catalog_services.stock_take_back(
            quantities=restocked, order_number=locked.number, actor=actor, note=reason
        )
    # The shipping charge is refunded once per order, by the first return that asks for it.
    shipping_back = bool(
        refund and refund_shipping and not Return.objects.filter(order=locked, refund_shipping=True).exists()
    )
    record = Return.objects.create(
        order=locked,
        reason=reason,
        currency=locked.currency,
        refund_requested=bool(refund),
        refund_shipping=shipping_back,
        actor_id=getattr(actor, "pk", None),
    )
    ReturnLine.objects.bulk_create(
        ReturnLine(return_record=record, order_line_id=pk, quantity=quantity, restocked=restock_of[pk])
        for pk, quantity in sorted(wanted.items())
    )
    for pk, quantity in wanted.items():
        OrderLine.objects.filter(pk=pk).update(quantity_returned=by_id[pk].quantity_returned + quantity)
    if refund:
        amount = sum((by_id[pk].unit_price * quantity for pk, quantity in wanted.items()), Decimal("0"))
        if shipping_back:
            amount += locked.shipping_cost
        record.refunded_amount = _refund_across_payments(
            locked, quantize(amount), actor=actor, reason=f"Return #{record.pk}"
        )
        record.save(update_fields=["refunded_amount"])
    everything_back = all(
        line.quantity_returned + wanted.get(pk, 0) == line.quantity for pk, line in by_id.items()
    )
    written_off = {pk: q for pk, q in wanted.items() if not restock_of[pk]}
    parts = [f"Return #{record.pk}: {_line_summary(wanted, by_id)}"]
    if written_off:
        parts.append(f"written off (not restocked): {_line_summary(written_off, by_id)}")
    if refund:
        parts.append(f"refunded {record.refunded_amount} {locked.currency}")
    if reason:
        parts.append(reason)
    status = OrderStatus.RETURNED if everything_back else OrderStatus.PARTIALLY_RETURNED
    message = "; ".join(parts).rstrip(".") + "."
    if status == locked.status:
        locked.save(update_fields=["updated_at"])
        record_event(locked, OrderEvent.Kind.RETURNED, actor=actor, message=message)
    else:
        order_transition(locked, status, kind=OrderEvent.Kind.RETURNED, actor=actor, message=message)
    _sync(order, locked)
    number, pk = locked.number, record.pk
    transaction.on_commit(lambda: logger.info("order returned: %s (return #%s)", number, pk))
    return record


def _refund_across_payments(order: Order, amount: Decimal, *, actor, reason: str) -> Decimal:
    """Refund up to `amount` from the order's captured payments, oldest first, each at most what
    is left of it; return what was refunded."""
    refunded = Decimal("0")
    for payment in order.payments.filter(status=Payment.Status.CAPTURED).order_by("pk"):
        left = amount - refunded
        if left <= 0:
            break
        part = min(left, payment.amount - payment.refunded_amount)
        if part > 0:
            payment_services.payment_refund(payment=payment, amount=part, actor=actor, reason=reason)
            refunded += part
    return refunded


@atomic_with_retry
def order_cancel(*, order: Order, actor=None, reason: str = "") -> Order:
    """Cancel an open order: its allocation goes back to stock, captured payments are refunded."""
    locked = lock_order(order)
    if locked.status == OrderStatus.PARTIALLY_SHIPPED:
        raise PartiallyShippedNotCancelled(locked)
    if not locked.can_transition(OrderStatus.CANCELLED):
        raise InvalidTransition(locked, OrderStatus.CANCELLED)
    catalog_services.stock_release(
        quantities=_allocated_quantities(locked),
        order_number=locked.number,
        actor=actor,
        note=reason,
    )
    locked.cancelled_at = timezone.now()
    order_transition(
        locked,
        OrderStatus.CANCELLED,
        kind=OrderEvent.Kind.CANCELLED,
        actor=actor,
        message=reason,
        fields=["cancelled_at"],
    )
    refundable = locked.payments.filter(status=Payment.Status.CAPTURED).order_by("pk")
    for payment in refundable:
        payment_services.payment_refund(
            payment=payment, actor=actor, reason=f"Order cancelled. {reason}".strip()
        )
    _sync(order, locked)
    number = locked.number
    transaction.on_commit(lambda: logger.info("order cancelled: %s", number))
    return locked


@atomic_with_retry
def orders_delete(*, queryset, actor=None):
    """Delete orders with everything that belongs to them (lines, shipment, events, payments).

    Open orders still hold allocated stock: it is released first, in the same transaction, with
    a ledger row per product that keeps the order number.
    """
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    if not ids:
        return 0, {}
    locked = list(
        Order.objects.select_for_update().filter(pk__in=ids).order_by("pk").only("pk", "number", "status")
    )
    open_orders = {order.pk: order for order in locked if order.is_open}
    held: dict[int, dict[int, int]] = {}
    for order_id, product_id, quantity in OrderLine.objects.filter(
        order_id__in=list(open_orders), quantity__gt=F("quantity_shipped")
    ).values_list("order_id", "product_id", Cast(F("quantity") - F("quantity_shipped"), IntegerField())):
        held.setdefault(order_id, {})[product_id] = quantity
    # All stock rows at once, in key order, before any release: no lock-order inversions.
    catalog_services.lock_stock(pid for quantities in held.values() for pid in quantities)
    for order_id, quantities in sorted(held.items()):
        catalog_services.stock_release(
            quantities=quantities,
            order_number=open_orders[order_id].number,
            actor=actor,
            note="Order deleted",
        )
    result = Order.objects.filter(pk__in=ids).delete_released()
    numbers = [order.number for order in locked]
    transaction.on_commit(lambda: logger.info("orders deleted: %s", ", ".join(map(str, numbers))))
    return result


@transaction.atomic
def order_add_note(*, order: Order, message: str, actor=None) -> OrderEvent:
    """A staff note on the order's timeline."""
    message = (message or "").strip()
    if not message:
        raise OrderError("A note needs some text.")
    return record_event(order, OrderEvent.Kind.NOTE, actor=actor, message=message)


class OrderPayments:
    """The order side of a payment (payments.services.OrderSide): the payment services call it
    to lock the order, check it can be paid, and write payments into its history and status."""

    def lock(self, order: Order) -> Order:
        return lock_order(order)

    def check_payable(self, order: Order) -> None:
        if order.status != OrderStatus.PLACED:
            raise InvalidTransition(order, OrderStatus.PAID)

    def captured(self, order: Order, *, message: str, paid_in_full: bool, actor) -> None:
        record_event(order, OrderEvent.Kind.PAYMENT_CAPTURED, actor=actor, message=message)
        if paid_in_full:
            order.paid_at = timezone.now()
            order_transition(
                order, OrderStatus.PAID, kind=OrderEvent.Kind.PAID, actor=actor, fields=["paid_at"]
            )

    def refunded(self, order: Order, *, message: str, actor) -> None:
        record_event(order, OrderEvent.Kind.REFUNDED, actor=actor, message=message)


ORDER_PAYMENTS = OrderPayments()


@atomic_with_retry
def customer_anonymize(*, customer: Customer, actor=None) -> Customer:
    """Erase a customer's personal data in one transaction, keeping orders and payments.

    Refused (CustomerHasOpenOrders, naming them) while orders of theirs are open (placed, paid or
    partially shipped: units still to ship): those would ship to "[removed]".

    Name, email and phone are replaced; saved addresses and payment methods are deleted; the
    customer's orders keep their lines, totals and payments for accounting, with the shipping
    snapshot (name, street, postal code, phone) and any email in payment labels, history and
    return reasons scrubbed; their draft orders are deleted (a draft holds no stock and no money:
    nothing to keep). Each order's timeline records that it happened and who did it. This layer
    sees customers, orders and payments; each app erases its own rows.
    """
    now = timezone.now()
    locked = customer_erase_personal_data(customer=customer, now=now)
    # Under the customer's lock: open orders would ship to "[removed]". Raising rolls back the
    # erasure above with everything else.
    open_orders = list(
        Order.objects.filter(customer=locked)
        .open()
        .order_by("created_at", "id")
        .values_list("number", "status")
    )
    if open_orders:
        raise CustomerHasOpenOrders(
            locked, [(number, OrderStatus(status).label) for number, status in open_orders]
        )
    payment_services.payments_erase_personal_data(customer=locked)
    # Drafts are not orders yet (no stock, no money, nothing to account for): they go.
    Order.objects.filter(customer=locked, status=OrderStatus.DRAFT).delete()
    orders = Order.objects.filter(customer=locked)
    orders.update(
        shipping_name=REMOVED,
        shipping_line1=REMOVED,
        shipping_line2="",
        shipping_postal_code="",
        shipping_phone="",
        updated_at=now,
    )
    order_ids = list(orders.values_list("pk", flat=True))
    # Labels and messages may carry a PayPal email: keep the words, drop the address.
    erase_emails(Order.objects.filter(pk__in=order_ids), "payment_method_label")
    erase_emails(OrderEvent.objects.filter(order_id__in=order_ids), "message")
    erase_emails(Return.objects.filter(order_id__in=order_ids), "reason")
    OrderEvent.objects.bulk_create(
        [
            OrderEvent(
                order_id=pk,
                kind=OrderEvent.Kind.NOTE,
                message="Customer's personal data anonymized; order kept for accounting.",
                actor_id=getattr(actor, "pk", None),
            )
            for pk in order_ids
        ]
    )
    customer_id = locked.pk
    transaction.on_commit(lambda: logger.info("customer anonymized: #%s", customer_id))
    if customer is not locked:
        customer.refresh_from_db()
    return locked
