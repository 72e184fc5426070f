from django.contrib import admin
from django.core.exceptions import ObjectDoesNotExist
from django.utils.html import format_html_join

from orders.models import Order, OrderEvent, OrderLine, Shipment
from payments.admin import PaymentInline
from shop.admin_tools import (
    ChangedFieldsOnlyFormSet,
    ReadOnlyAdminMixin,
    ReadOnlyInlineMixin,
    change_link,
    save_changed_fields,
)
from shop.money import format_money

SHIPPING_FIELDS = [
    "shipping_name",
    "shipping_line1",
    "shipping_line2",
    "shipping_city",
    "shipping_state",
    "shipping_postal_code",
    "shipping_country",
    "shipping_phone",
]


def _shipment(order: Order) -> Shipment | None:
    """The order's shipment as loaded by select_related("shipment"); None when not shipped."""
    try:
        return order.shipment
    except ObjectDoesNotExist:
        return None


class CustomerOrderInline(ReadOnlyInlineMixin, admin.TabularInline):
    """The customer page's orders."""

    model = Order
    fk_name = "customer"
    fields = ["order_number", "status", "total_display", "created_at"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]

    @admin.display(description="order")
    def order_number(self, obj):
        return change_link(Order, obj.pk, obj)

    @admin.display(description="total")
    def total_display(self, obj):
        return format_money(obj.total, obj.currency)


class OrderLineInline(ReadOnlyInlineMixin, admin.TabularInline):
    """Lines as charged: name, SKU and price were copied when the order was placed."""

    model = OrderLine
    fields = ["product_name", "sku", "unit_price_display", "quantity", "line_total_display"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order")

    @admin.display(description="unit price")
    def unit_price_display(self, obj):
        return format_money(obj.unit_price, obj.order.currency)

    @admin.display(description="line total")
    def line_total_display(self, obj):
        return format_money(obj.line_total, obj.order.currency)


class ShipmentInline(admin.StackedInline):
    """Carrier and tracking number can be corrected; shipping and delivery go through services."""

    model = Shipment
    formset = ChangedFieldsOnlyFormSet
    fields = ["carrier", "tracking_number", "status", "shipped_at", "delivered_at"]
    readonly_fields = ["status", "shipped_at", "delivered_at"]
    can_delete = False
    extra = 0
    max_num = 1

    def has_add_permission(self, request, obj=None):
        return False


class OrderEventInline(ReadOnlyInlineMixin, admin.TabularInline):
    """The order's timeline."""

    model = OrderEvent
    fields = ["created_at", "kind", "from_status", "to_status", "message", "actor_name"]
    readonly_fields = fields
    verbose_name_plural = "timeline"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    @admin.display(description="by")
    def actor_name(self, obj):
        return obj.actor.get_username() if obj.actor else None


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Orders are placed, paid, shipped and cancelled by the order services, never edited here."""

    list_display = [
        "number",
        "customer_name",
        "status",
        "total_display",
        "created_at",
        "tracking_number",
        "payment_method_label",
    ]
    list_select_related = ["customer", "shipment"]
    list_filter = ["status", "currency"]
    date_hierarchy = "created_at"
    search_fields = [
        "number",
        "customer__email",
        "customer__first_name",
        "customer__last_name",
        "shipment__tracking_number",
    ]
    ordering = ["-created_at", "-id"]
    fieldsets = [
        (None, {"fields": ["number", "customer", "status", "created_at", "paid_at", "cancelled_at"]}),
        ("Amounts", {"fields": ["subtotal_display", "shipping_cost_display", "total_display"]}),
        ("Ships to", {"fields": ["shipping_address", "shipping_phone"]}),
        ("Paid with", {"fields": ["payment_method_label"]}),
    ]
    readonly_fields = [
        "number",
        "customer",
        "status",
        "created_at",
        "paid_at",
        "cancelled_at",
        "subtotal_display",
        "shipping_cost_display",
        "total_display",
        "shipping_address",
        "shipping_phone",
        "payment_method_label",
    ]
    inlines = [OrderLineInline, ShipmentInline, PaymentInline, OrderEventInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer", "shipment")

    def has_add_permission(self, request):
        # Orders are placed through orders.services.order_place (stock allocation, snapshots).
        return False

    def has_delete_permission(self, request, obj=None):
        # An open order holds allocated stock; deleting the row would never give it back.
        return False

    def save_model(self, request, obj, form, change):
        # Every order field is read-only here (only inlines such as the shipment are edited),
        # so there is nothing to write, and a full save could undo a concurrent status change.
        save_changed_fields(obj, form)

    @admin.display(description="customer", ordering="customer__last_name")
    def customer_name(self, obj):
        return obj.customer.full_name

    @admin.display(description="total", ordering="total")
    def total_display(self, obj):
        return format_money(obj.total, obj.currency)

    @admin.display(description="subtotal")
    def subtotal_display(self, obj):
        return format_money(obj.subtotal, obj.currency)

    @admin.display(description="shipping")
    def shipping_cost_display(self, obj):
        return format_money(obj.shipping_cost, obj.currency)

    @admin.display(description="tracking number", ordering="shipment__tracking_number")
    def tracking_number(self, obj):
        shipment = _shipment(obj)
        return shipment.tracking_number if shipment else None

    @admin.display(description="address")
    def shipping_address(self, obj):
        return format_html_join("", "{}<br>", ((line,) for line in obj.shipping_address_lines)) or None


@admin.register(OrderLine)
class OrderLineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Lines are written when the order is placed; shown here to find who bought a product."""

    list_display = [
        "order_link",
        "product_name",
        "sku",
        "unit_price_display",
        "quantity",
        "line_total_display",
    ]
    list_select_related = ["order"]
    search_fields = ["order__number", "sku", "product_name"]
    date_hierarchy = "order__created_at"
    ordering = ["-order__created_at", "order_id", "id"]
    fields = ["order", "product", "product_name", "sku", "unit_price", "quantity", "line_total"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order", "product")

    @admin.display(description="order", ordering="order__number")
    def order_link(self, obj):
        return change_link(Order, obj.order_id, obj.order)

    @admin.display(description="unit price", ordering="unit_price")
    def unit_price_display(self, obj):
        return format_money(obj.unit_price, obj.order.currency)

    @admin.display(description="line total", ordering="line_total")
    def line_total_display(self, obj):
        return format_money(obj.line_total, obj.order.currency)


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    """Shipments are created and delivered by the order services; carrier and tracking can be fixed."""

    list_display = ["tracking_number", "carrier", "order_link", "customer_name", "status", "shipped_at"]
    list_select_related = ["order__customer"]
    list_filter = ["status", "carrier"]
    search_fields = ["tracking_number", "order__number", "order__customer__email"]
    date_hierarchy = "shipped_at"
    ordering = ["-shipped_at", "-id"]
    fields = ["order", "carrier", "tracking_number", "status", "shipped_at", "delivered_at"]
    readonly_fields = ["order", "status", "shipped_at", "delivered_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order__customer")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        save_changed_fields(obj, form)

    @admin.display(description="order", ordering="order__number")
    def order_link(self, obj):
        return change_link(Order, obj.order_id, obj.order)

    @admin.display(description="customer", ordering="order__customer__last_name")
    def customer_name(self, obj):
        return obj.order.customer.full_name


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Order history, written by the service that made each change."""

    list_display = ["created_at", "order_link", "kind", "from_status", "to_status", "actor", "message"]
    list_select_related = ["order", "actor"]
    list_filter = ["kind", "created_at"]
    search_fields = ["order__number", "message"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    fields = ["order", "kind", "from_status", "to_status", "message", "actor", "created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order", "actor")

    @admin.display(description="order", ordering="order__number")
    def order_link(self, obj):
        return change_link(Order, obj.order_id, obj.order)
