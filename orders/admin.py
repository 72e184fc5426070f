from django.contrib import admin
from django.contrib.admin.utils import display_for_value
from django.core.exceptions import ObjectDoesNotExist
from django.utils.html import format_html_join

from catalog.models import Product
from customers.models import Customer
from orders import services
from orders.exceptions import InvalidTransition
from orders.forms import CancelOrderForm, DeliverOrderForm, OrderNoteForm, ShipOrderForm
from orders.models import Order, OrderEvent, OrderLine, OrderStatus, Shipment
from orders.resources import OrderResource
from orders.selectors import order_search
from payments.admin import PaymentInline, can_see_payment_methods
from shop.core.admin_import_export import ExportMixin
from shop.core.admin_operations import StaffOperation, StaffOperationsMixin
from shop.core.admin_perf import LIST_PER_PAGE, EstimatedCountPaginator, with_indexed_dates
from shop.core.admin_tools import (
    ActionPermissionMixin,
    ChangedFieldsOnlyFormSet,
    ReadOnlyAdminMixin,
    ReadOnlyInlineMixin,
    ServiceRowAdminMixin,
    can_open,
    change_link,
    save_changed_fields,
)
from shop.core.money import format_money

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


def _ship(*, order: Order, carrier: str, tracking_number: str, actor=None):
    if not (carrier.strip() or tracking_number.strip()) and not order.can_transition(OrderStatus.SHIPPED):
        # A row left empty because the page said this order cannot be shipped: its status is
        # what to report, not the missing carrier the service would name first.
        raise InvalidTransition(order, OrderStatus.SHIPPED)
    return services.order_ship(order=order, carrier=carrier, tracking_number=tracking_number, actor=actor)


def _unless_it_can(to_status: str, done: str):
    """Why an order cannot take the step to `to_status` now ("" if it can): a warning on the
    pages; the service decides."""

    def blocked(order: Order) -> str:
        if order.can_transition(to_status):
            return ""
        return f"{order.get_status_display()}: cannot be {done}."

    return blocked


def _orders_with_lines(orders):
    return orders.select_related("customer", "shipment").prefetch_related("lines")


ORDER_OPERATIONS = [
    StaffOperation(
        name="ship",
        title="Mark shipped",
        permission="orders.ship_order",
        service=_ship,
        form=ShipOrderForm,
        per_row=True,
        queryset=_orders_with_lines,
        blocked=_unless_it_can(OrderStatus.SHIPPED, "shipped"),
        cannot="be shipped in their current status",
        done="Order {obj} shipped.",
        action="mark_shipped",
        action_label="Mark selected orders shipped",
        done_many="{count} order{s} shipped.",
        back_label="Go back",
    ),
    StaffOperation(
        name="deliver",
        title="Mark delivered",
        permission="orders.deliver_order",
        service=services.order_deliver,
        form=DeliverOrderForm,
        queryset=_orders_with_lines,
        blocked=_unless_it_can(OrderStatus.DELIVERED, "delivered"),
        cannot="be delivered in their current status",
        done="Order {obj} delivered.",
        action="mark_delivered",
        action_label="Mark selected orders delivered",
        done_many="{count} order{s} delivered.",
        back_label="Go back",
    ),
    StaffOperation(
        name="cancel",
        title="Cancel order",
        permission="orders.cancel_order",
        service=services.order_cancel,
        form=CancelOrderForm,
        queryset=_orders_with_lines,
        blocked=_unless_it_can(OrderStatus.CANCELLED, "cancelled"),
        cannot="be cancelled in their current status",
        help="Its allocated stock goes back to stock, and payments captured for it are refunded in full.",
        done="Order {obj} cancelled.",
        action="cancel_selected",
        action_label="Cancel selected orders",
        action_title="Cancel orders",
        done_many="{count} order{s} cancelled.",
        # "Cancel" beside "Cancel order" would read as the same thing.
        back_label="Go back",
    ),
    StaffOperation(
        name="note",
        title="Add a note",
        permission="orders.add_orderevent",
        service=services.order_add_note,
        form=OrderNoteForm,
        on_object_page=True,
        submit_label="Add note",
        done="Note added to order {obj}.",
    ),
]


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

    def has_view_permission(self, request, obj=None):
        # Only for corrections: everyone else reads the shipment at the top of the order page.
        return self.has_change_permission(request, obj)


# Their messages carry the amount, the card's label and the gateway's reference.
PAYMENT_EVENT_KINDS = frozenset({OrderEvent.Kind.PAYMENT_CAPTURED, OrderEvent.Kind.REFUNDED})


def can_see_payments(request) -> bool:
    return request.user.has_perm("payments.view_payment")


class PaymentEventsMaskedMixin:
    """Events keep their kind for everyone; payment events' messages only for staff who see payments."""

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if can_see_payments(request):
            return fields
        return ["message_without_payments" if field == "message" else field for field in fields]

    def get_list_display(self, request):
        columns = super().get_list_display(request)
        if can_see_payments(request):
            return columns
        return ["message_without_payments" if column == "message" else column for column in columns]

    @admin.display(description="message")
    def message_without_payments(self, obj):
        return "(payment details hidden)" if obj.kind in PAYMENT_EVENT_KINDS else obj.message


class OrderEventInline(PaymentEventsMaskedMixin, ReadOnlyInlineMixin, admin.TabularInline):
    """The order's timeline."""

    model = OrderEvent
    fields = ["created_at", "kind", "from_status", "to_status", "message", "actor_name"]
    readonly_fields = [*fields, "message_without_payments"]
    verbose_name_plural = "timeline"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    @admin.display(description="by")
    def actor_name(self, obj):
        return obj.actor.get_username() if obj.actor else "system"


# Columns no list column reads: not fetched for a list page. The customer's phone in particular
# is parsed into a phone number object for every row it is loaded for.
ORDER_LIST_DEFERRED = [
    "shipping_name",
    "shipping_line1",
    "shipping_line2",
    "shipping_city",
    "shipping_state",
    "shipping_postal_code",
    "shipping_country",
    "shipping_phone",
    "customer__phone",
]


@admin.register(Order)
class OrderAdmin(StaffOperationsMixin, ExportMixin, admin.ModelAdmin):
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
    # No currency filter: the store has one currency, and the filter's DISTINCT reads every order.
    list_filter = ["status"]
    date_hierarchy = "created_at"
    search_fields = [
        "number",
        "customer__email",
        "customer__first_name",
        "customer__last_name",
        "shipment__tracking_number",
    ]
    ordering = ["-created_at", "-id"]
    # A million orders: no full count, estimates for big lists, searches through indexes.
    show_full_result_count = False
    list_per_page = LIST_PER_PAGE
    paginator = EstimatedCountPaginator
    fieldsets = [
        (None, {"fields": ["number", "customer_link", "status", "created_at", "paid_at", "cancelled_at"]}),
        ("Shipment", {"fields": ["carrier", "tracking_number", "shipped_at", "delivered_at"]}),
        ("Ships to", {"fields": ["shipping_address", "shipping_phone"]}),
        ("Amounts", {"fields": ["subtotal_display", "shipping_cost_display", "total_display"]}),
        ("Paid with", {"fields": ["payment_method_label"]}),
    ]
    readonly_fields = [
        "number",
        "customer_link",
        "customer_name",
        "carrier",
        "tracking_number",
        "shipped_at",
        "delivered_at",
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
    operations = ORDER_OPERATIONS
    export_resource_classes = [OrderResource]
    # The order list's own template (its shortcut and the Export button), not import-export's.
    import_export_change_list_template = "admin/orders/order/change_list.html"

    def get_queryset(self, request):
        return with_indexed_dates(super().get_queryset(request).select_related("customer", "shipment"))

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        # The rows a list page shows, without the columns it does not show. Bulk actions and
        # exports get their own queryset and read everything; the history page pages LogEntries.
        if queryset.model is Order:
            queryset = queryset.defer(*ORDER_LIST_DEFERRED)
        return super().get_paginator(request, queryset, per_page, orphans, allow_empty_first_page)

    def get_search_results(self, request, queryset, search_term):
        return order_search(queryset, search_term), False

    def get_list_display(self, request):
        columns = super().get_list_display(request)
        if not can_see_payment_methods(request):
            columns = [c for c in columns if c != "payment_method_label"]
        return columns

    def get_fieldsets(self, request, obj=None):
        fieldsets = []
        for name, options in super().get_fieldsets(request, obj):
            fields = list(options["fields"])
            if name == "Shipment" and (obj is None or _shipment(obj) is None):
                continue
            if name == "Paid with" and not can_see_payment_methods(request):
                continue
            if "customer_link" in fields and not can_open(request, self, Customer):
                # Staff without the customer pages see the name, not a link to a page they cannot open.
                fields[fields.index("customer_link")] = "customer_name"
            fieldsets.append((name, {**options, "fields": fields}))
        return fieldsets

    def has_add_permission(self, request):
        # Orders are placed through orders.services.order_place (stock allocation, snapshots).
        return False

    def get_deleted_objects(self, objs, request):
        # Lines, shipment, events and payments belong to the order and go with it: whoever may
        # delete orders needs no separate right to delete those (no one edits them here).
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        if self.has_delete_permission(request):
            perms_needed = set()
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        # Open orders give their allocated stock back first, with the user as actor.
        services.orders_delete(queryset=Order.objects.filter(pk=obj.pk), actor=request.user)

    def delete_queryset(self, request, queryset):
        services.orders_delete(queryset=queryset, actor=request.user)

    def save_model(self, request, obj, form, change):
        # Every order field is read-only here (only inlines such as the shipment are edited),
        # so there is nothing to write, and a full save could undo a concurrent status change.
        save_changed_fields(obj, form)

    @admin.display(description="customer", ordering="customer__last_name")
    def customer_name(self, obj):
        return obj.customer.full_name

    @admin.display(description="customer")
    def customer_link(self, obj):
        return change_link(Customer, obj.customer_id, obj.customer)

    @admin.display(description="carrier")
    def carrier(self, obj):
        shipment = _shipment(obj)
        return shipment.carrier if shipment else None

    @admin.display(description="shipped at")
    def shipped_at(self, obj):
        shipment = _shipment(obj)
        # Readonly callables are shown as str(); format them like the admin formats fields.
        return display_for_value(shipment.shipped_at if shipment else None, self.get_empty_value_display())

    @admin.display(description="delivered at")
    def delivered_at(self, obj):
        shipment = _shipment(obj)
        return display_for_value(shipment.delivered_at if shipment else None, self.get_empty_value_display())

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
class OrderLineAdmin(ActionPermissionMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
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
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    fields = ["order", "product", "product_name", "sku", "unit_price", "quantity", "line_total"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order", "product")

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if can_open(request, self, Product):
            return fields
        # The line's own name and SKU say what was sold; no link to a product page they cannot open.
        return [field for field in fields if field != "product"]

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
class ShipmentAdmin(ServiceRowAdminMixin, ActionPermissionMixin, admin.ModelAdmin):
    """Shipments are created and delivered by the order services; carrier and tracking can be fixed."""

    list_display = ["tracking_number", "carrier", "order_link", "customer_name", "status", "shipped_at"]
    list_select_related = ["order__customer"]
    list_filter = ["status", "carrier"]
    search_fields = ["tracking_number", "order__number", "order__customer__email"]
    date_hierarchy = "shipped_at"
    ordering = ["-shipped_at", "-id"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    fields = ["order", "carrier", "tracking_number", "status", "shipped_at", "delivered_at"]
    readonly_fields = ["order", "status", "shipped_at", "delivered_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order__customer")

    @admin.display(description="order", ordering="order__number")
    def order_link(self, obj):
        return change_link(Order, obj.order_id, obj.order)

    @admin.display(description="customer", ordering="order__customer__last_name")
    def customer_name(self, obj):
        return obj.order.customer.full_name


@admin.register(OrderEvent)
class OrderEventAdmin(ActionPermissionMixin, PaymentEventsMaskedMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Order history, written by the service that made each change."""

    list_display = ["created_at", "order_link", "kind", "from_status", "to_status", "actor", "message"]
    list_select_related = ["order", "actor"]
    list_filter = ["kind", "created_at"]
    search_fields = ["order__number", "message"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    fields = ["order", "kind", "from_status", "to_status", "message", "actor_name", "created_at"]
    readonly_fields = ["actor_name", "message_without_payments"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order", "actor")

    @admin.display(description="by")
    def actor_name(self, obj):
        # The name, not a link: staff accounts' pages are for superusers only.
        return obj.actor.get_username() if obj.actor else "system"

    @admin.display(description="order", ordering="order__number")
    def order_link(self, obj):
        return change_link(Order, obj.order_id, obj.order)
