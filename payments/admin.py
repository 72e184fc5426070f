from dataclasses import dataclass
from decimal import Decimal

from django.contrib import admin

from payments import services
from payments.forms import RefundPaymentForm
from payments.models import Payment, PaymentMethod
from shop.core.admin_operations import StaffOperation, StaffOperationsMixin
from shop.core.admin_tools import (
    ActionPermissionMixin,
    OneDefaultPerCustomerForm,
    OneDefaultPerCustomerFormSet,
    ReadOnlyAdminMixin,
    ReadOnlyInlineMixin,
    change_link,
)
from shop.core.admin_visibility import ALL_FIELDS, Restriction, restrict
from shop.core.money import format_money

PAYMENT_METHOD_DEFAULTS = {"is_default": "payment_method_one_default"}
PAYMENT_METHOD_FIELDS = [
    "kind",
    "brand",
    "last4",
    "exp_month",
    "exp_year",
    "holder_name",
    "gateway_token",
    "paypal_email",
    "is_default",
]
# What staff who may look at saved payment methods but not edit them see: the masked label.
MASKED_PAYMENT_METHOD_FIELDS = ["masked_label", "holder_name", "is_default", "is_expired"]


# Who sees what of payments (shop.core.admin_visibility): lists, pages, searches, filters and
# exports of every admin leave it out for everyone else.
#: How orders are paid: saved payment methods and the masked label an order was paid with.
PAYMENT_METHODS = Restriction("payment details", ("payments.view_payment", "payments.view_paymentmethod"))
#: Payments themselves: amounts captured and refunded, gateway references (store managers).
PAYMENTS = Restriction("payments", ("payments.view_payment",))
restrict(PaymentMethod, ALL_FIELDS, PAYMENT_METHODS)
restrict(Payment, ALL_FIELDS, PAYMENTS)


def can_see_payment_methods(request) -> bool:
    """Whether this user may see how orders were paid (masked method labels, payments)."""
    return PAYMENT_METHODS.visible_to(request.user)


def editable_payment_method_fields(request) -> list[str]:
    # The gateway token is a credential for charging the card: superusers only.
    return [f for f in PAYMENT_METHOD_FIELDS if f != "gateway_token" or request.user.is_superuser]


class MaskedPaymentMethodMixin:
    """The masked label of a payment method, and the fields a user may see of it."""

    @admin.display(description="payment method", ordering="kind")
    def masked_label(self, obj):
        return obj.label

    @admin.display(description="expired", boolean=True)
    def is_expired(self, obj):
        return obj.is_expired


class PaymentMethodForm(OneDefaultPerCustomerForm):
    default_flags = PAYMENT_METHOD_DEFAULTS


class PaymentMethodFormSet(OneDefaultPerCustomerFormSet):
    default_flags = PAYMENT_METHOD_DEFAULTS


class PaymentMethodInline(MaskedPaymentMethodMixin, admin.TabularInline):
    """The customer page's saved payment methods: masked for everyone who may not edit them."""

    model = PaymentMethod
    formset = PaymentMethodFormSet
    fields = PAYMENT_METHOD_FIELDS
    readonly_fields = ["masked_label", "is_expired"]
    extra = 0

    def get_fields(self, request, obj=None):
        if self.has_change_permission(request, obj) or self.has_add_permission(request, obj):
            return editable_payment_method_fields(request)
        return MASKED_PAYMENT_METHOD_FIELDS


class PaymentInline(ReadOnlyInlineMixin, admin.TabularInline):
    """The order page's payments, as recorded by the payment services."""

    model = Payment
    fields = ["created_at", "method_label", "amount_display", "refunded_display", "status", "reference"]
    readonly_fields = fields
    ordering = ["created_at", "id"]
    show_change_link = True  # the payment's page, where it can be refunded

    @admin.display(description="amount")
    def amount_display(self, obj):
        return format_money(obj.amount, obj.currency)

    @admin.display(description="refunded")
    def refunded_display(self, obj):
        return format_money(obj.refunded_amount, obj.currency)


@admin.register(PaymentMethod)
class PaymentMethodAdmin(ActionPermissionMixin, MaskedPaymentMethodMixin, admin.ModelAdmin):
    form = PaymentMethodForm
    list_display = ["masked_label", "customer", "kind", "expiry", "is_expired", "is_default", "created_at"]
    list_select_related = ["customer"]
    list_filter = ["kind", "brand", "is_default"]
    search_fields = [
        "customer__email",
        "customer__first_name",
        "customer__last_name",
        "last4",
        "paypal_email",
    ]
    autocomplete_fields = ["customer"]
    fields = ["customer", *PAYMENT_METHOD_FIELDS, "created_at", "updated_at"]
    readonly_fields = ["masked_label", "is_expired", "created_at", "updated_at"]
    ordering = ["customer__last_name", "customer__first_name", "id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer")

    def get_fields(self, request, obj=None):
        if obj is not None and not self.has_change_permission(request, obj):
            return ["customer", *MASKED_PAYMENT_METHOD_FIELDS, "created_at", "updated_at"]
        return ["customer", *editable_payment_method_fields(request), "created_at", "updated_at"]

    @admin.display(description="expiry", ordering="exp_year")
    def expiry(self, obj):
        if obj.exp_month and obj.exp_year:
            return f"{obj.exp_month:02d}/{obj.exp_year}"
        return None


@dataclass(frozen=True)
class Refunded:
    payment: Payment
    amount: Decimal  # what this refund gave back


def _refund(*, payment: Payment, amount, actor=None, reason: str = "") -> Refunded:
    """payment_refund of the amount staff typed and confirmed, reporting how much it refunded."""
    before = payment.refunded_amount
    refunded = services.payment_refund(payment=payment, actor=actor, amount=amount, reason=reason)
    return Refunded(payment=refunded, amount=refunded.refunded_amount - before)


def _refund_done(payment: Payment, result: Refunded) -> str:
    refunded = result.payment
    return (
        f"Refunded {format_money(result.amount, refunded.currency)} of order {refunded.order}'s "
        f"payment; {format_money(refunded.refundable_amount, refunded.currency)} is left to refund."
    )


def _refund_question(payment: Payment, data: dict) -> str:
    amount = data["amount"]
    everything = " That is everything left to refund." if amount == payment.refundable_amount else ""
    return (
        f"Refund {format_money(amount, payment.currency)} of the "
        f"{format_money(payment.amount, payment.currency)} payment for order {payment.order} "
        f"({payment.method_label or 'no method'})?{everything} This cannot be undone."
    )


PAYMENT_OPERATIONS = [
    StaffOperation(
        name="refund",
        title="Refund",
        permission="payments.refund_payment",
        service=_refund,
        form=RefundPaymentForm,
        # Nothing filled in: the amount is typed, with what is left to refund as its help.
        form_kwargs=lambda payment: {"payment": payment},
        confirm=_refund_question,
        confirm_label="Yes, refund",
        confirm_edit_label="Change the amount",
        back_label="Cancel",
        blocked=lambda payment: "" if payment.refundable_amount > 0 else "Nothing is left to refund.",
        done=_refund_done,
        history_details=lambda result, details: {
            **details,
            "amount": format_money(result.amount, result.payment.currency),
        },
    ),
]


@admin.register(Payment)
class PaymentAdmin(StaffOperationsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Payments are recorded by the payment services; the admin only shows them."""

    list_display = [
        "created_at",
        "order_link",
        "customer_name",
        "amount_display",
        "refunded_display",
        "currency",
        "status",
        "method_label",
        "reference",
    ]
    list_select_related = ["order__customer"]
    list_filter = ["status", "currency", "created_at"]
    search_fields = ["order__number", "reference", "order__customer__email"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    fields = [
        "order",
        "method",
        "method_label",
        "amount",
        "refunded_amount",
        "currency",
        "status",
        "reference",
        "created_at",
        "updated_at",
    ]
    operations = PAYMENT_OPERATIONS

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order__customer", "method")

    @admin.display(description="order", ordering="order__number")
    def order_link(self, obj):
        return change_link(type(obj.order), obj.order_id, obj.order)

    @admin.display(description="customer", ordering="order__customer__last_name")
    def customer_name(self, obj):
        return obj.order.customer.full_name

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, obj):
        return format_money(obj.amount, obj.currency)

    @admin.display(description="refunded", ordering="refunded_amount")
    def refunded_display(self, obj):
        return format_money(obj.refunded_amount, obj.currency)
