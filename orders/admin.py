from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import display_for_value, unquote
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html_join

from catalog.models import Product
from customers.models import Customer
from orders import services
from orders.exceptions import InvalidTransition
from orders.forms import (
    CancelOrderForm,
    DeliverOrderForm,
    OrderNoteForm,
    ShipOrderForm,
    ShipOrderFormSet,
)
from orders.models import Order, OrderEvent, OrderLine, OrderStatus, Shipment
from orders.resources import OrderResource
from orders.selectors import order_search
from payments.admin import PaymentInline, can_see_payment_methods
from shop.core.admin_import_export import ExportMixin
from shop.core.admin_perf import LIST_PER_PAGE, EstimatedCountPaginator, with_indexed_dates
from shop.core.admin_tools import (
    ActionPermissionMixin,
    ChangedFieldsOnlyFormSet,
    ReadOnlyAdminMixin,
    ReadOnlyInlineMixin,
    ServiceRowAdminMixin,
    admin_page,
    can_open,
    change_link,
    log_message,
    refusal_message,
    save_changed_fields,
)
from shop.core.exceptions import ShopError
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


@dataclass(frozen=True)
class OrderOperation:
    """What staff do to an order through a service, from its page or on a selection of orders."""

    name: str  # in the URL, and the admin's permission method: has_<name>_permission
    title: str
    permission: str
    action: str  # the list's action for a selection of orders ("" if none)
    action_title: str
    form_class: type[forms.Form]
    service: Callable
    done: str  # "shipped": "Order SO-000001 shipped."
    to_status: str | None = None
    formset_class: type[forms.BaseFormSet] | None = None  # one form per order rather than one for all
    success: str = "Order {order} {done}."

    def blocked(self, order: Order) -> str:
        """Why the order cannot take this step now ("" if it can): a warning, the service decides."""
        if self.to_status is None or order.can_transition(self.to_status):
            return ""
        return f"{order.get_status_display()}: cannot be {self.done}."


ORDER_OPERATIONS = {
    "ship": OrderOperation(
        name="ship",
        title="Mark shipped",
        permission="orders.ship_order",
        action="mark_shipped",
        action_title="Mark shipped",
        form_class=ShipOrderForm,
        formset_class=ShipOrderFormSet,
        service=_ship,
        done="shipped",
        to_status=OrderStatus.SHIPPED,
    ),
    "deliver": OrderOperation(
        name="deliver",
        title="Mark delivered",
        permission="orders.deliver_order",
        action="mark_delivered",
        action_title="Mark delivered",
        form_class=DeliverOrderForm,
        service=services.order_deliver,
        done="delivered",
        to_status=OrderStatus.DELIVERED,
    ),
    "cancel": OrderOperation(
        name="cancel",
        title="Cancel order",
        permission="orders.cancel_order",
        action="cancel_selected",
        action_title="Cancel orders",
        form_class=CancelOrderForm,
        service=services.order_cancel,
        done="cancelled",
        to_status=OrderStatus.CANCELLED,
    ),
    "note": OrderOperation(
        name="note",
        title="Add a note",
        permission="orders.add_orderevent",
        action="",
        action_title="",
        form_class=OrderNoteForm,
        service=services.order_add_note,
        done="noted",
        success="Note added to order {order}.",
    ),
}


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
class OrderAdmin(ActionPermissionMixin, ExportMixin, admin.ModelAdmin):
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
    actions = ["mark_shipped", "mark_delivered", "cancel_selected"]
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

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["order_tools"] = [
                (operation.title, self._operation_url(operation, obj))
                for operation in ORDER_OPERATIONS.values()
                if operation.to_status and self._may(request, operation) and not operation.blocked(obj)
            ]
            if self.has_note_permission(request):
                context["note_form"] = OrderNoteForm()
                context["note_url"] = self._operation_url(ORDER_OPERATIONS["note"], obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

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
        # Open orders give their allocated stock back first (orders_delete), with the user as actor.
        obj.delete(actor=request.user)

    def delete_queryset(self, request, queryset):
        queryset.delete(actor=request.user)

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

    # Shipping, delivering, cancelling and notes: one order from its page, or a selection on the list.

    def has_ship_permission(self, request, obj=None):
        return request.user.has_perm(ORDER_OPERATIONS["ship"].permission)

    def has_deliver_permission(self, request, obj=None):
        return request.user.has_perm(ORDER_OPERATIONS["deliver"].permission)

    def has_cancel_permission(self, request, obj=None):
        return request.user.has_perm(ORDER_OPERATIONS["cancel"].permission)

    def has_note_permission(self, request, obj=None):
        return request.user.has_perm(ORDER_OPERATIONS["note"].permission)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            *(
                path(
                    f"<path:object_id>/{name}/",
                    self.admin_site.admin_view(self._order_view),
                    {"operation": name},
                    name="{}_{}_{}".format(*info, name),
                )
                for name in ORDER_OPERATIONS
            ),
            *super().get_urls(),
        ]

    def _may(self, request, operation: OrderOperation) -> bool:
        return getattr(self, f"has_{operation.name}_permission")(request)

    def _operation_url(self, operation: OrderOperation, order: Order) -> str:
        return reverse(f"{self.admin_site.name}:orders_order_{operation.name}", args=[order.pk])

    @admin.action(description="Mark selected orders shipped", permissions=["ship"])
    def mark_shipped(self, request, queryset):
        return self._orders_action(request, queryset, ORDER_OPERATIONS["ship"])

    @admin.action(description="Mark selected orders delivered", permissions=["deliver"])
    def mark_delivered(self, request, queryset):
        return self._orders_action(request, queryset, ORDER_OPERATIONS["deliver"])

    @admin.action(description="Cancel selected orders", permissions=["cancel"])
    def cancel_selected(self, request, queryset):
        return self._orders_action(request, queryset, ORDER_OPERATIONS["cancel"])

    def _order_view(self, request, object_id, operation):
        operation = ORDER_OPERATIONS[operation]
        if not self._may(request, operation):
            raise PermissionDenied
        order = self.get_queryset(request).prefetch_related("lines").filter(pk=unquote(object_id)).first()
        if order is None:
            raise Http404(f"No order with the id {object_id!r}.")
        change_url = reverse(f"{self.admin_site.name}:orders_order_change", args=[order.pk])
        form = operation.form_class(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            try:
                operation.service(order=order, actor=request.user, **form.service_kwargs())
            except ShopError as error:
                messages.error(request, str(error))
            else:
                self.log_change(request, order, log_message(operation.title, form.service_kwargs()))
                messages.success(request, operation.success.format(order=order, done=operation.done))
                return redirect(change_url)
        if operation.to_status is None and request.method == "POST":
            # The note form lives on the order page; its refusal is shown there too.
            return redirect(change_url)
        return admin_page(
            self,
            request,
            "admin/orders/order/order_form.html",
            {
                "title": operation.title,
                "original": order,
                "operation": operation,
                "blocked": operation.blocked(order),
                "shipment": _shipment(order),
                "form": form,
                "submit_label": operation.title,
                "cancel_url": change_url,
            },
        )

    def _orders_action(self, request, queryset, operation: OrderOperation):
        """The page listing the selected orders (asking carrier and tracking per order, or a reason),
        then the service for each. An order the service refuses gets its own error message and
        stays as it was; the others go ahead."""
        orders = list(queryset.select_related("customer", "shipment").prefetch_related("lines"))
        data = request.POST if "apply" in request.POST else None
        if operation.formset_class:
            # Shipping asks per order; the other steps ask one thing (a reason) for all of them.
            form = None
            formset = operation.formset_class(data, objects=orders, prefix="rows")
            rows = formset.rows
            valid = formset.is_bound and formset.is_valid()
        else:
            formset = None
            form = operation.form_class(data)
            rows = [(order, form) for order in orders]
            valid = form.is_bound and form.is_valid()
        if valid:
            done = 0
            for order, order_form in rows:
                try:
                    operation.service(order=order, actor=request.user, **order_form.service_kwargs())
                except ShopError as error:
                    messages.error(request, refusal_message(order, error))
                else:
                    self.log_change(request, order, log_message(operation.title, order_form.service_kwargs()))
                    done += 1
            if done:
                messages.success(request, f"{done} order{'' if done == 1 else 's'} {operation.done}.")
            return None
        rows = [
            {"order": order, "form": order_form if formset else None, "blocked": operation.blocked(order)}
            for order, order_form in rows
        ]
        return admin_page(
            self,
            request,
            "admin/orders/order/orders_selected.html",
            {
                "title": f"{operation.action_title}: {len(orders)} order{'' if len(orders) == 1 else 's'}",
                "operation": operation,
                "rows": rows,
                "blocked_count": sum(1 for row in rows if row["blocked"]),
                "formset": formset,
                "form": form,
                "objects": orders,
                "action_name": operation.action,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "submit_label": operation.action_title,
                "cancel_url": request.get_full_path(),
            },
        )


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
