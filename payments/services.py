"""Writes to payments: capture, refund, and the payments' part of erasing a customer's data.

Payments are made for orders, yet this app imports nothing of orders (the apps import in one
direction: orders -> payments -> customers). What a payment needs of the order it pays for —
lock the order's row, check that it can take a payment, write the payment into the order's
history and status — is the `OrderSide` below, which the orders app provides
(`orders.services.ORDER_PAYMENTS`, connected by `orders.apps.OrdersConfig.ready`).

In every service the order's row is locked first, then the payment's, so concurrent captures
and refunds queue instead of double-counting.
"""

import logging
from decimal import Decimal, InvalidOperation
from typing import Protocol

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.db.models import Sum

from customers.models import Customer
from payments.exceptions import (
    InvalidAmount,
    InvalidPaymentDetails,
    PaymentMethodExpired,
    PaymentMethodNotOwned,
    RefundNotAllowed,
)
from payments.models import OfflineMethod, Payment, PaymentMethod
from shop.core.db import atomic_with_retry
from shop.core.money import quantize
from shop.core.privacy import erase_emails
from shop.core.validators import MAX_AMOUNT, bounded_amount, contains_card_number

logger = logging.getLogger("shop.payments")


class OrderSide(Protocol):
    """What the payment services do to the order a payment is for (provided by the orders app)."""

    def lock(self, order):
        """Lock the order's row for this transaction and return its current state."""

    def check_payable(self, order) -> None:
        """Raise a ShopError unless the (locked) order can take a payment now."""

    def captured(self, order, *, message: str, paid_in_full: bool, actor) -> None:
        """Write a captured payment into the order's history; mark it paid when paid in full."""

    def refunded(self, order, *, message: str, actor) -> None:
        """Write a refund into the order's history."""


_order_side: OrderSide | None = None


def connect_order_side(side: OrderSide) -> None:
    """Called once by the orders app when Django starts."""
    global _order_side
    _order_side = side


def _orders() -> OrderSide:
    if _order_side is None:
        raise ImproperlyConfigured("Payments are made for orders: add the orders app to INSTALLED_APPS.")
    return _order_side


def check_payment_method(method: PaymentMethod, customer: Customer) -> None:
    """Refuse a payment method that is not this customer's, or a card that has expired."""
    if method.customer_id != customer.pk:
        raise PaymentMethodNotOwned(
            f"The payment method {method.label} belongs to another customer, not {customer.full_name}."
        )
    if method.is_expired:
        raise PaymentMethodExpired(f"The card {method.label} has expired.")


def order_amount_paid(order) -> Decimal:
    """Captured minus refunded, over the order's payments."""
    totals = Payment.objects.filter(
        order_id=order.pk, status__in=[Payment.Status.CAPTURED, Payment.Status.REFUNDED]
    ).aggregate(captured=Sum("amount"), refunded=Sum("refunded_amount"))
    return (totals["captured"] or Decimal("0")) - (totals["refunded"] or Decimal("0"))


def _amount(value, currency: str) -> Decimal:
    """A typed or given amount as cents, refusing what is not a finite number."""
    try:
        amount = quantize(value)
    except (InvalidOperation, TypeError, ValueError) as error:
        raise InvalidAmount(f"{value!r} is not an amount in {currency}.") from error
    if not amount.is_finite():
        raise InvalidAmount(f"{value!r} is not an amount in {currency}.")
    return amount


@atomic_with_retry
def payment_capture(
    *,
    order,
    method: PaymentMethod | None = None,
    offline_method: str | None = None,
    amount=None,
    reference: str = "",
    actor=None,
) -> Payment:
    """Record money captured for a placed order; the order becomes paid once fully paid.

    How it was paid is one of: `method`, a saved payment method of the order's customer (by
    default the order's own, when neither is given); or `offline_method`, a
    `payments.models.OfflineMethod` value ("bank_transfer", "cash", "cheque", "card_terminal")
    for money staff received outside the gateway; never both. `amount` defaults to what is still
    owed; more than that is refused, and part payments add up until the order is paid in full.
    `reference` (a transfer's or cheque's number, a terminal slip...) is free text that the card
    number rules cover: one that looks like a card number is refused. Refusals raise a
    PaymentError (InvalidAmount, InvalidPaymentDetails, PaymentMethodNotOwned,
    PaymentMethodExpired) or the order's InvalidTransition, and change nothing.
    """
    if offline_method is not None and offline_method != "":
        if offline_method not in OfflineMethod.values:
            ways = ", ".join(OfflineMethod.values)
            raise InvalidPaymentDetails(f"Unknown way of paying {offline_method!r}; use one of: {ways}.")
        if method is not None:
            raise InvalidPaymentDetails(
                "A payment is made by a saved payment method or by an offline way, not both."
            )
    else:
        offline_method = ""
    reference = (reference or "").strip()
    orders = _orders()
    locked = orders.lock(order)
    orders.check_payable(locked)
    outstanding = locked.total - order_amount_paid(locked)
    amount = outstanding if amount is None else _amount(amount, locked.currency)
    if amount <= 0:
        raise InvalidAmount(f"A payment must be a positive amount, not {amount} {locked.currency}.")
    if amount > outstanding:
        raise InvalidAmount(
            f"Order {locked.number} has {outstanding} {locked.currency} left to pay; "
            f"{amount} {locked.currency} is more than that."
        )
    if offline_method:
        label = OfflineMethod(offline_method).label
    else:
        if method is None and locked.payment_method_id:
            method = locked.payment_method
        if method is not None:
            check_payment_method(method, locked.customer)
        label = method.label if method else "Manual payment"
    payment = Payment(
        order=locked,
        method=method,
        offline_method=offline_method,
        method_label=label,
        amount=amount,
        currency=locked.currency,
        status=Payment.Status.CAPTURED,
        reference=reference,
    )
    try:
        payment.full_clean(exclude=["order", "method"])
    except ValidationError as error:
        names = {"reference": "Reference", "method_label": "Payment method"}
        details = "; ".join(
            f"{names.get(field, field)}: {' '.join(messages)}"
            for field, messages in error.message_dict.items()
        )
        raise InvalidPaymentDetails(f"{details} Nothing was recorded.") from error
    payment.save()
    orders.captured(
        locked,
        message=f"{amount} {locked.currency} captured ({payment.method_label}) {reference}".strip(),
        paid_in_full=amount == outstanding,
        actor=actor,
    )
    if order is not locked:
        order.refresh_from_db()
    number, label = locked.number, str(payment.amount)
    transaction.on_commit(lambda: logger.info("payment captured: %s %s", number, label))
    return payment


@atomic_with_retry
def payment_refund(*, payment: Payment, amount=None, actor=None, reason: str = "") -> Payment:
    """Refund all (default) or part of a captured payment; never more than is left of it."""
    orders = _orders()
    orders.lock(payment.order)
    locked = Payment.objects.select_for_update().get(pk=payment.pk)
    if locked.status not in (Payment.Status.CAPTURED,):
        raise RefundNotAllowed(
            f"This payment is {locked.get_status_display().lower()}; only a captured payment can be refunded."
        )
    refundable = locked.amount - locked.refunded_amount
    if amount is not None:  # within the shop's bounds before any arithmetic (shop.core.validators)
        amount = bounded_amount(amount, Decimal("0.01"), MAX_AMOUNT, InvalidAmount, "A refund")
    amount = refundable if amount is None else amount
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
    orders.refunded(locked.order, message=message, actor=actor)
    locked.refresh_from_db()
    if payment is not locked:
        payment.refresh_from_db()
    number = locked.order.number
    transaction.on_commit(lambda: logger.info("payment refunded: %s %s", number, amount))
    return locked


CARD_FIELDS = ("brand", "last4", "exp_month", "exp_year", "holder_name", "gateway_token", "is_default")


@transaction.atomic
def payment_method_create(
    *,
    customer: Customer,
    brand: str,
    last4: str,
    exp_month: int,
    exp_year: int,
    gateway_token: str,
    holder_name: str = "",
    is_default: bool = False,
    actor=None,
) -> PaymentMethod:
    """Save a card the payment gateway tokenized: brand, last 4 digits, expiry, holder and token.

    Anything that looks like a full card number, in any field, is refused with
    InvalidPaymentDetails and nothing is stored; so are an invalid brand, last 4 or expiry, and
    an expired card (PaymentMethodExpired). A new default takes over from the previous one.
    """
    method = PaymentMethod(
        customer=customer,
        kind=PaymentMethod.Kind.CARD,
        brand=brand or "",
        last4=last4 or "",
        exp_month=exp_month,
        exp_year=exp_year,
        holder_name=(holder_name or "").strip(),
        gateway_token=(gateway_token or "").strip(),
        is_default=bool(is_default),
    )
    errors = []
    for field in ("brand", "last4", "holder_name", "gateway_token"):
        if contains_card_number(str(getattr(method, field))):
            errors.append(
                {"field": field, "message": "This looks like a full card number; it is never stored."}
            )
    if not errors:
        try:
            method.full_clean(exclude=["customer"], validate_constraints=False)
        except ValidationError as error:
            errors = [
                {"field": field, "message": message}
                for field, messages in error.message_dict.items()
                for message in messages
            ]
    if not method.gateway_token and not errors:
        errors.append({"field": "gateway_token", "message": "The gateway's token is required."})
    if errors:
        listed = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise InvalidPaymentDetails(f"The card is not valid: {listed} Nothing was stored.", errors)
    if method.is_expired:
        raise PaymentMethodExpired(f"The card {method.label} has expired; nothing was stored.")
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if method.is_default:
        PaymentMethod.objects.filter(customer=locked, is_default=True).update(is_default=False)
    method.save()
    return method


def payments_erase_personal_data(*, customer: Customer) -> None:
    """Payments' part of anonymizing a customer, in the caller's transaction: their saved payment
    methods are deleted, and email addresses are dropped from the labels of their payments
    (a PayPal label names the account); amounts and references stay, for accounting."""
    PaymentMethod.objects.filter(customer=customer).delete()
    erase_emails(Payment.objects.filter(order__customer=customer), "method_label")
