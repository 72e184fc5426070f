from django.contrib import admin

from payments.models import Payment, PaymentMethod
from shop.admin_tools import (
    OneDefaultPerCustomerForm,
    OneDefaultPerCustomerFormSet,
    ReadOnlyAdminMixin,
    ReadOnlyInlineMixin,
    change_link,
)
from shop.money import format_money

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


class PaymentMethodForm(OneDefaultPerCustomerForm):
    default_flags = PAYMENT_METHOD_DEFAULTS


class PaymentMethodFormSet(OneDefaultPerCustomerFormSet):
    default_flags = PAYMENT_METHOD_DEFAULTS


class PaymentMethodInline(admin.TabularInline):
    """The customer page's saved payment methods."""

    model = PaymentMethod
    formset = PaymentMethodFormSet
    fields = PAYMENT_METHOD_FIELDS
    extra = 0


class PaymentInline(ReadOnlyInlineMixin, admin.TabularInline):
    """The order page's payments, as recorded by the payment services."""

    model = Payment
    fields = ["created_at", "method_label", "amount_display", "refunded_display", "status", "reference"]
    readonly_fields = fields
    ordering = ["created_at", "id"]

    @admin.display(description="amount")
    def amount_display(self, obj):
        return format_money(obj.amount, obj.currency)

    @admin.display(description="refunded")
    def refunded_display(self, obj):
        return format_money(obj.refunded_amount, obj.currency)


@admin.register(PaymentMethod)
class PaymentMethodAdmin(admin.ModelAdmin):
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
    readonly_fields = ["created_at", "updated_at"]
    ordering = ["customer__last_name", "customer__first_name", "id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer")

    @admin.display(description="payment method", ordering="kind")
    def masked_label(self, obj):
        return obj.label

    @admin.display(description="expiry", ordering="exp_year")
    def expiry(self, obj):
        if obj.exp_month and obj.exp_year:
            return f"{obj.exp_month:02d}/{obj.exp_year}"
        return None

    @admin.display(description="expired", boolean=True)
    def is_expired(self, obj):
        return obj.is_expired


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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
