from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse

from payments import services
from payments.forms import RefundPaymentForm
from payments.models import Payment, PaymentMethod
from shop.core.admin_perf import EstimatedCountPaginator
from shop.core.admin_tools import (
    ActionPermissionMixin,
    OneDefaultPerCustomerForm,
    OneDefaultPerCustomerFormSet,
    ReadOnlyAdminMixin,
    ReadOnlyInlineMixin,
    admin_page,
    change_link,
    log_message,
)
from shop.core.exceptions import ShopError
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


def can_see_payment_methods(request) -> bool:
    """Whether this user may see how orders were paid (masked method labels, payments)."""
    return request.user.has_perm("payments.view_payment") or request.user.has_perm(
        "payments.view_paymentmethod"
    )


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
    show_full_result_count = False
    paginator = EstimatedCountPaginator

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


@admin.register(Payment)
class PaymentAdmin(ActionPermissionMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
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
    show_full_result_count = False
    paginator = EstimatedCountPaginator
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

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order__customer", "method")

    def has_refund_permission(self, request, obj=None):
        return request.user.has_perm("payments.refund_payment")

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/refund/",
                self.admin_site.admin_view(self.refund_view),
                name="{}_{}_refund".format(*info),
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_refund"] = (
            obj is not None and self.has_refund_permission(request, obj) and obj.refundable_amount > 0
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def refund_view(self, request, object_id):
        """Refund all or part of one payment, through payments.services.payment_refund."""
        if not self.has_refund_permission(request):
            raise PermissionDenied
        payment = self.get_queryset(request).filter(pk=unquote(object_id)).first()
        if payment is None:
            raise Http404(f"No payment with the id {object_id!r}.")
        change_url = reverse(f"{self.admin_site.name}:payments_payment_change", args=[payment.pk])
        form = RefundPaymentForm(
            request.POST if request.method == "POST" else None,
            initial={"amount": payment.refundable_amount},
        )
        if form.is_bound and form.is_valid():
            refunded_before = payment.refunded_amount
            try:
                refunded = services.payment_refund(
                    payment=payment, actor=request.user, **form.service_kwargs()
                )
            except ShopError as error:
                messages.error(request, str(error))
            else:
                amount = refunded.refunded_amount - refunded_before
                self.log_change(
                    request,
                    refunded,
                    log_message(
                        "Refund", {"amount": format_money(amount, refunded.currency), **form.service_kwargs()}
                    ),
                )
                messages.success(
                    request,
                    f"Refunded {format_money(amount, refunded.currency)} of order {refunded.order}'s "
                    f"payment; {format_money(refunded.refundable_amount, refunded.currency)} is left "
                    "to refund.",
                )
                return redirect(change_url)
        return admin_page(
            self,
            request,
            "admin/payments/payment/refund.html",
            {
                "title": "Refund",
                "original": payment,
                "form": form,
                "submit_label": "Refund",
                "cancel_url": change_url,
            },
        )

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
