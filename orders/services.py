"""Writes to orders: place, ship, deliver, cancel, delete; and what touches orders and payments
together (the order side of a payment, a customer's erasure). Each runs in one transaction,
writes its OrderEvent and stock ledger rows in that transaction, and announces only after commit.
"""

import logging
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog import services as catalog_services
from catalog.exceptions import InvalidQuantity
from catalog.models import Product
from catalog.selectors import products_for_order
from customers.models import Address, Customer
from customers.selectors import default_shipping_address
from customers.services import customer_erase_personal_data
from orders.exceptions import (
    AddressNotOwned,
    CurrencyMismatch,
    EmptyOrder,
    InvalidShipment,
    InvalidTransition,
    MissingShippingAddress,
    OrderError,
)
from orders.models import Order, OrderEvent, OrderLine, OrderStatus, Shipment
from payments import services as payment_services
from payments.models import Payment, PaymentMethod
from shop.core.db import atomic_with_retry, insert_rows
from shop.core.money import default_currency, quantize
from shop.core.privacy import REMOVED, erase_emails

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


def _merge_lines(lines: Iterable[tuple[Product, int]]) -> dict[int, int]:
    quantities: dict[int, int] = {}
    for product, quantity in lines:
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise InvalidQuantity(
                f"The quantity for {product.name} ({product.sku}) must be a whole number of at "
                f"least 1, not {quantity!r}."
            )
        quantities[product.pk] = quantities.get(product.pk, 0) + quantity
    if not quantities:
        raise EmptyOrder("An order needs at least one line.")
    return quantities


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
    return OrderEvent.objects.create(
        order=order,
        kind=kind,
        actor_id=getattr(actor, "pk", None),
        message=message,
        from_status=from_status,
        to_status=to_status,
    )


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
    AddressNotOwned, MissingShippingAddress, PaymentMethodNotOwned or CurrencyMismatch and then
    changes nothing.
    """
    quantities = _merge_lines(lines)
    if shipping_address is None:
        shipping_address = default_shipping_address(customer_id=customer.pk)
        if shipping_address is None:
            raise MissingShippingAddress(
                f"{customer.full_name} has no default shipping address; choose one for the order."
            )
    elif shipping_address.customer_id != customer.pk:
        raise AddressNotOwned(
            f"The address {shipping_address.one_line()} belongs to another customer, "
            f"not {customer.full_name}."
        )
    if payment_method is not None:
        payment_services.check_payment_method(payment_method, customer)

    # Current prices and active flags, not whatever the caller's instances remember.
    products = products_for_order(ids=quantities)
    currency = default_currency()
    wrong_currency = [p for p in products.values() if p.currency != currency]
    if wrong_currency:
        names = ", ".join(f"{p.name} ({p.currency})" for p in wrong_currency)
        raise CurrencyMismatch(f"These products are not priced in {currency}: {names}.")

    order_lines = []
    for pk in sorted(quantities):
        product = products[pk]
        quantity = quantities[pk]
        order_lines.append(
            OrderLine(
                product=product,
                product_name=product.name,
                sku=product.sku,
                unit_price=product.price,
                quantity=quantity,
                line_total=quantize(product.price * quantity),
            )
        )
    subtotal = quantize(sum((line.line_total for line in order_lines), Decimal("0")))
    shipping = shipping_cost_for(subtotal) if shipping_cost is None else quantize(shipping_cost)

    order = Order(
        customer=customer,
        currency=currency,
        subtotal=subtotal,
        shipping_cost=shipping,
        total=subtotal + shipping,
        payment_method=payment_method,
        payment_method_label=payment_method.label if payment_method else "",
    )
    _snapshot_address(order, shipping_address, customer)
    order.save()
    order.number = order_number_for(order.pk)
    Order.objects.filter(pk=order.pk).update(number=order.number)

    for line in order_lines:
        line.order = order
    insert_rows(order_lines)
    record_event(
        order,
        OrderEvent.Kind.PLACED,
        actor=actor,
        to_status=OrderStatus.PLACED,
        message=f"{len(order_lines)} line(s), total {order.total} {order.currency}.",
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


def _allocated_quantities(order: Order) -> dict[int, int]:
    return dict(order.lines.values_list("product_id", "quantity"))


@atomic_with_retry
def order_ship(*, order: Order, carrier: str, tracking_number: str, actor=None) -> Shipment:
    """Hand a paid order to the carrier: its allocation leaves stock (on hand and allocated fall)."""
    carrier = (carrier or "").strip()
    tracking_number = (tracking_number or "").strip()
    if not carrier or not tracking_number:
        raise InvalidShipment("Enter both the carrier and the tracking number to ship an order.")
    locked = lock_order(order)
    if not locked.can_transition(OrderStatus.SHIPPED):
        raise InvalidTransition(locked, OrderStatus.SHIPPED)
    catalog_services.stock_consume(
        quantities=_allocated_quantities(locked), order_number=locked.number, actor=actor
    )
    shipment = Shipment.objects.create(
        order=locked, carrier=carrier, tracking_number=tracking_number, shipped_at=timezone.now()
    )
    order_transition(
        locked,
        OrderStatus.SHIPPED,
        kind=OrderEvent.Kind.SHIPPED,
        actor=actor,
        message=f"{carrier} {tracking_number}",
    )
    _sync(order, locked)
    number = locked.number
    transaction.on_commit(lambda: logger.info("order shipped: %s", number))
    return shipment


@atomic_with_retry
def order_deliver(*, order: Order, actor=None) -> Order:
    """Record that the shipment arrived."""
    locked = lock_order(order)
    if not locked.can_transition(OrderStatus.DELIVERED):
        raise InvalidTransition(locked, OrderStatus.DELIVERED)
    now = timezone.now()
    Shipment.objects.filter(order=locked).update(status=Shipment.Status.DELIVERED, delivered_at=now)
    order_transition(locked, OrderStatus.DELIVERED, kind=OrderEvent.Kind.DELIVERED, actor=actor)
    _sync(order, locked)
    return locked


@atomic_with_retry
def order_cancel(*, order: Order, actor=None, reason: str = "") -> Order:
    """Cancel an open order: its allocation goes back to stock, captured payments are refunded."""
    locked = lock_order(order)
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
        order_id__in=list(open_orders)
    ).values_list("order_id", "product_id", "quantity"):
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

    Name, email and phone are replaced; saved addresses and payment methods are deleted; the
    customer's orders keep their lines, totals and payments for accounting, with the shipping
    snapshot (name, street, postal code, phone) and any email in payment labels scrubbed. Each
    order's timeline records that it happened and who did it. This layer sees customers, orders
    and payments; each app erases its own rows.
    """
    now = timezone.now()
    locked = customer_erase_personal_data(customer=customer, now=now)
    payment_services.payments_erase_personal_data(customer=locked)
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
