"""Writes to payments: capture and refund. The order's row is locked first, then the payment's,
in every service, so concurrent captures and refunds queue instead of double-counting."""

import logging
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from orders.exceptions import InvalidTransition
from orders.models import Order, OrderEvent, OrderStatus
from orders.services import check_payment_method, lock_order, order_transition, record_event
from payments.exceptions import InvalidAmount, RefundNotAllowed
from payments.models import Payment, PaymentMethod
from shop.core.db import atomic_with_retry
from shop.core.money import quantize

logger = logging.getLogger("shop.payments")


def order_amount_paid(order: Order) -> Decimal:
    """Captured minus refunded, over the order's payments."""
    totals = order.payments.filter(status__in=[Payment.Status.CAPTURED, Payment.Status.REFUNDED]).aggregate(
        captured=Sum("amount"), refunded=Sum("refunded_amount")
    )
    return (totals["captured"] or Decimal("0")) - (totals["refunded"] or Decimal("0"))


@atomic_with_retry
def payment_capture(
    *,
    order: Order,
    method: PaymentMethod | None = None,
    amount=None,
    reference: str = "",
    actor=None,
) -> Payment:
    """Record money captured for a placed order; the order becomes paid once fully paid.

    `amount` defaults to what is still owed; more than that is refused. `method` defaults to the
    order's payment method and must belong to the order's customer.
    """
    locked = lock_order(order)
    if locked.status != OrderStatus.PLACED:
        raise InvalidTransition(locked, OrderStatus.PAID)
    outstanding = locked.total - order_amount_paid(locked)
    amount = outstanding if amount is None else quantize(amount)
    if amount <= 0:
        raise InvalidAmount(f"A payment must be a positive amount, not {amount} {locked.currency}.")
    if amount > outstanding:
        raise InvalidAmount(
            f"Order {locked.number} has {outstanding} {locked.currency} left to pay; "
            f"{amount} {locked.currency} is more than that."
        )
    if method is None and locked.payment_method_id:
        method = locked.payment_method
    if method is not None:
        check_payment_method(method, locked.customer)
    payment = Payment(
        order=locked,
        method=method,
        method_label=method.label if method else "Manual payment",
        amount=amount,
        currency=locked.currency,
        status=Payment.Status.CAPTURED,
        reference=reference,
    )
    payment.full_clean(exclude=["order", "method"])
    payment.save()
    record_event(
        locked,
        OrderEvent.Kind.PAYMENT_CAPTURED,
        actor=actor,
        message=f"{amount} {locked.currency} captured ({payment.method_label}) {reference}".strip(),
    )
    if amount == outstanding:
        locked.paid_at = timezone.now()
        order_transition(locked, OrderStatus.PAID, kind=OrderEvent.Kind.PAID, actor=actor, fields=["paid_at"])
    if order is not locked:
        order.refresh_from_db()
    number, label = locked.number, str(payment.amount)
    transaction.on_commit(lambda: logger.info("payment captured: %s %s", number, label))
    return payment


@atomic_with_retry
def payment_refund(*, payment: Payment, amount=None, actor=None, reason: str = "") -> Payment:
    """Refund all (default) or part of a captured payment; never more than is left of it."""
    lock_order(payment.order)
    locked = Payment.objects.select_for_update().get(pk=payment.pk)
    if locked.status not in (Payment.Status.CAPTURED,):
        raise RefundNotAllowed(
            f"This payment is {locked.get_status_display().lower()}; only a captured payment can be refunded."
        )
    refundable = locked.amount - locked.refunded_amount
    amount = refundable if amount is None else quantize(amount)
    if amount <= 0 or amount > refundable:
        raise InvalidAmount(
            f"A refund must be between 0.01 and {refundable} {locked.currency}, "
            f"not {amount} {locked.currency}."
        )
    fully = amount == refundable
    # Set the new figure computed under the row lock (not F() + amount: SQLite would add floats).
    Payment.objects.filter(pk=locked.pk).update(
        refunded_amount=locked.refunded_amount + amount,
        status=Payment.Status.REFUNDED if fully else Payment.Status.CAPTURED,
    )
    message = f"{amount} {locked.currency} refunded ({locked.method_label})."
    if reason:
        message = f"{message} {reason}"
    record_event(locked.order, OrderEvent.Kind.REFUNDED, actor=actor, message=message)
    locked.refresh_from_db()
    if payment is not locked:
        payment.refresh_from_db()
    number = locked.order.number
    transaction.on_commit(lambda: logger.info("payment refunded: %s %s", number, amount))
    return locked
