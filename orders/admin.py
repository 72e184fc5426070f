from decimal import Decimal, InvalidOperation

from django.contrib import admin, messages
from django.contrib.admin.utils import display_for_value, unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from catalog.models import Product
from customers.models import Customer
from orders import packing, services
from orders.exceptions import InvalidTransition, PartiallyShippedNotCancelled
from orders.forms import (
    CancelOrderForm,
    DeliverOrderForm,
    NewAddressForm,
    NewCustomerForm,
    OrderLinesForm,
    OrderNoteForm,
    RecordPaymentForm,
    ReturnItemsForm,
    ShipOrderForm,
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
from orders.resources import OrderResource
from orders.selectors import (
    DESK_RESULTS,
    desk_customer_search,
    desk_product_search,
    desk_search_term,
    order_search,
)
from payments import services as payment_services
from payments.admin import PAYMENT_METHODS, PAYMENTS, PaymentInline
from payments.models import OfflineMethod
from shop.core.admin_import_export import ExportMixin
from shop.core.admin_operations import StaffOperation, StaffOperationsMixin
from shop.core.admin_perf import with_indexed_dates
from shop.core.admin_tools import (
    ActionPermissionMixin,
    ChangedFieldsOnlyFormSet,
    ProtectedFirstMixin,
    ReadOnlyAdminMixin,
    ReadOnlyInlineMixin,
    ServiceRowAdminMixin,
    admin_page,
    can_open,
    change_link,
    save_changed_fields,
)
from shop.core.admin_visibility import RestrictedFieldsMixin, restrict
from shop.core.db import atomic_with_retry
from shop.core.exceptions import ShopError
from shop.core.money import default_currency, format_money
from shop.core.validators import MAX_AMOUNT

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


def _ship(*, order: Order, carrier, tracking_number: str, lines=None, actor=None):
    if carrier is None and not tracking_number.strip() and not order.is_shippable:
        # A row left empty because the page said this order cannot be shipped: its status is
        # what to report, not the missing carrier the service would name first.
        raise InvalidTransition(order, OrderStatus.SHIPPED)
    return services.order_ship(
        order=order, carrier=carrier or "", tracking_number=tracking_number, lines=lines, actor=actor
    )


def _shipped_done(order: Order, shipment: Shipment) -> str:
    order.refresh_from_db(fields=["status"])
    units = sum(line.quantity for line in shipment.lines.all())
    if order.status == OrderStatus.PARTIALLY_SHIPPED:
        return f"Order {order}: {units} unit(s) shipped; the rest is still to ship."
    return f"Order {order} shipped ({units} unit(s) in this shipment)."


def _returned_done(order: Order, record) -> str:
    units = sum(line.quantity for line in record.lines.all())
    refunded = format_money(record.refunded_amount, record.currency)
    return f"Return #{record.pk} of order {order}: {units} unit(s) taken back, {refunded} refunded."


def _cancel_blocked(order: Order) -> str:
    if order.status == OrderStatus.PARTIALLY_SHIPPED:
        return str(PartiallyShippedNotCancelled(order))
    return _unless_it_can(OrderStatus.CANCELLED, "cancelled")(order)


def _ship_blocked(order: Order) -> str:
    return "" if order.is_shippable else f"{order.get_status_display()}: nothing left to ship."


def _deliver_blocked(order: Order) -> str:
    if order.status in IN_TRANSIT_STATUSES:
        return ""
    return f"{order.get_status_display()}: no shipment of this order is in transit."


def _return_blocked(order: Order) -> str:
    if order.is_returnable:
        return ""
    return f"{order.get_status_display()}: only a shipped or delivered order's units can be returned."


def _order_form_kwargs(order: Order) -> dict:
    return {"order": order}


MAX_PACKING_SLIPS = 200  # slips one request prints (a page of orders is 100)

# Orders that shipped something (their page lists the shipments) and that had units back.
SHIPPED_ONCE_STATUSES = frozenset(
    {
        OrderStatus.PARTIALLY_SHIPPED,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
        OrderStatus.PARTIALLY_RETURNED,
        OrderStatus.RETURNED,
    }
)
RETURNED_STATUSES = frozenset({OrderStatus.PARTIALLY_RETURNED, OrderStatus.RETURNED})

# Orders that may have a shipment in transit (the deliver screen's).
IN_TRANSIT_STATUSES = (
    OrderStatus.PARTIALLY_SHIPPED,
    OrderStatus.SHIPPED,
    OrderStatus.PARTIALLY_RETURNED,
    OrderStatus.RETURNED,
)


def _unless_it_can(to_status: str, done: str):
    """Why an order cannot take the step to `to_status` now ("" if it can): a warning on the
    pages; the service decides."""

    def blocked(order: Order) -> str:
        if order.can_transition(to_status):
            return ""
        return f"{order.get_status_display()}: cannot be {done}."

    return blocked


def _orders_with_lines(orders):
    return orders.select_related("customer").prefetch_related("lines", "shipments__carrier")


# The order desk: drafts taken by staff, edits of placed orders, payments received offline.

DESK_PERMISSION = "orders.add_order"  # take orders: start, fill, place and discard drafts
EDIT_PERMISSION = "orders.change_order"  # edit a placed order's lines and address
PAYMENT_PERMISSION = "payments.add_payment"  # record money received for an order


def _only_when(status: str, what: str):
    def blocked(order: Order) -> str:
        if order.status == status:
            return ""
        return f"{order.get_status_display()}: {what}."

    return blocked


def _save_draft(*, order: Order, lines, shipping_address=None, payment_method=None, actor=None) -> Order:
    """The draft's lines as the editor shows them (address and payment are chosen at placement)."""
    return services.order_draft_set_lines(order=order, lines=lines, actor=actor)


@atomic_with_retry
def _place_draft(*, order: Order, lines, shipping_address=None, payment_method=None, actor=None) -> Order:
    """The editor's lines, then the placement, in one transaction: a refused placement leaves the
    draft exactly as it was (the page still shows what was typed)."""
    services.order_draft_set_lines(order=order, lines=lines, actor=actor)
    return services.order_draft_place(
        order=order, shipping_address=shipping_address, payment_method=payment_method, actor=actor
    )


def _record_payment(*, order: Order, amount, reference="", method=None, offline_method=None, actor=None):
    return payment_services.payment_capture(
        order=order,
        method=method,
        offline_method=offline_method,
        amount=amount,
        reference=reference,
        actor=actor,
    )


def _still_owed(order: Order) -> Decimal:
    return order.total - payment_services.order_amount_paid(order)


def _placed_done(order: Order, placed: Order) -> str:
    return (
        f"Order {placed.number} placed for {placed.customer.full_name}: "
        f"{format_money(placed.total, placed.currency)} ({placed.lines.count()} line(s)); "
        "its stock is allocated."
    )


def _payment_done(order: Order, payment) -> str:
    order.refresh_from_db(fields=["status", "paid_at"])
    owed = _still_owed(order)
    if order.status == OrderStatus.PAID:
        rest = "the order is paid in full."
    else:
        rest = f"{format_money(owed, order.currency)} is still owed."
    amount = format_money(payment.amount, payment.currency)
    return f"Recorded {amount} ({payment.method_label}) for order {order}; {rest}"


def _draft_form_kwargs(order: Order) -> dict:
    return {"order": order, "mode": OrderLinesForm.DRAFT}


def _edit_form_kwargs(order: Order) -> dict:
    return {"order": order, "mode": OrderLinesForm.EDIT}


def _payment_form_kwargs(order: Order) -> dict:
    return {"order": order, "offline_ways": OfflineMethod.choices}


def _lines_history(result, details: dict) -> dict:
    lines = "; ".join(f"{quantity} × {product.sku}" for product, quantity in details.get("lines", []))
    shown = {"lines": lines or "none"}
    if details.get("shipping_address"):
        shown["ship to"] = details["shipping_address"].one_line()
    if details.get("payment_method"):
        shown["payment method"] = details["payment_method"].label
    if details.get("reason"):
        shown["reason"] = details["reason"]
    return shown


def _payment_history(result, details: dict) -> dict:
    return {
        "amount": format_money(result.amount, result.currency),
        "paid with": result.method_label,
        "reference": result.reference,
    }


DESK_OPERATIONS = [
    StaffOperation(
        name="place",
        title="Place order",
        permission=DESK_PERMISSION,
        service=_place_draft,
        form=OrderLinesForm,
        form_kwargs=_draft_form_kwargs,
        blocked=_only_when(OrderStatus.DRAFT, "only a draft is placed"),
        help=(
            "Prices are read again when the order is placed, and its stock is allocated then: "
            "until then a draft holds no stock and takes no money."
        ),
        done=_placed_done,
        history_details=_lines_history,
        back_label="Back to the draft",
    ),
    StaffOperation(
        name="save_draft",
        title="Save draft",
        permission=DESK_PERMISSION,
        service=_save_draft,
        form=OrderLinesForm,
        form_kwargs=_draft_form_kwargs,
        blocked=_only_when(OrderStatus.DRAFT, "only a draft is saved as a draft"),
        button=False,  # the editor's second button ("Place order" is the first)
        done="Draft {obj} saved: it holds no stock until it is placed.",
        history_details=_lines_history,
        back_label="Back to the draft",
    ),
    StaffOperation(
        name="edit",
        title="Edit order",
        permission=EDIT_PERMISSION,
        service=services.order_edit,
        form=OrderLinesForm,
        form_kwargs=_edit_form_kwargs,
        blocked=_only_when(OrderStatus.PLACED, "only a placed order that is not yet paid can be edited"),
        help=(
            "Lines kept keep the price they were placed at; added lines are priced now. "
            "The difference is allocated or given back to stock when you save."
        ),
        submit_label="Save changes",
        done="Order {obj} edited.",
        history_details=_lines_history,
        back_label="Go back",
    ),
    StaffOperation(
        name="record_payment",
        title="Record payment",
        permission=PAYMENT_PERMISSION,
        service=_record_payment,
        form=RecordPaymentForm,
        form_kwargs=_payment_form_kwargs,
        initial=lambda order: {"amount": _still_owed(order)},
        blocked=_only_when(OrderStatus.PLACED, "only a placed order that is not fully paid takes a payment"),
        help="The order becomes paid once what was received adds up to its total.",
        done=_payment_done,
        history_details=_payment_history,
        back_label="Go back",
    ),
]

ORDER_OPERATIONS = [
    StaffOperation(
        name="ship",
        title="Mark shipped",
        permission="orders.ship_order",
        service=_ship,
        form=ShipOrderForm,
        form_kwargs=_order_form_kwargs,
        per_row=True,
        queryset=_orders_with_lines,
        blocked=_ship_blocked,
        cannot="be shipped in their current status",
        help=(
            "The units in this shipment leave stock now. Ship part of the order by lowering the "
            "quantities; the rest stays allocated until it ships."
        ),
        done=_shipped_done,
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
        form_kwargs=_order_form_kwargs,
        queryset=_orders_with_lines,
        blocked=_deliver_blocked,
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
        blocked=_cancel_blocked,
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
        name="return_items",
        title="Return items",
        permission="orders.return_order",
        service=services.order_return,
        form=ReturnItemsForm,
        form_kwargs=_order_form_kwargs,
        queryset=_orders_with_lines,
        blocked=_return_blocked,
        cannot="take returns in their current status",
        help=(
            "Units ticked back on the shelf go back on hand (stock ledger: customer return); the "
            "others are written off. A refund goes to the order's captured payments, oldest first."
        ),
        done=_returned_done,
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
    *DESK_OPERATIONS,
]


def _posted_customer(value):
    """The customer a posted id names, if it is a whole number naming one not anonymized."""
    text = str(value or "").strip()
    if not text.isdigit() or len(text) > 18:
        return None
    return Customer.objects.filter(pk=int(text), anonymized_at__isnull=True).first()


class OrderLineInline(ReadOnlyInlineMixin, admin.TabularInline):
    """Lines as charged: name, SKU and price were copied when the order was placed."""

    model = OrderLine
    fields = [
        "product_name",
        "sku",
        "unit_price_display",
        "quantity",
        "quantity_shipped",
        "quantity_returned",
        "line_total_display",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order")

    @admin.display(description="unit price")
    def unit_price_display(self, obj):
        return format_money(obj.unit_price, obj.order.currency)

    @admin.display(description="line total")
    def line_total_display(self, obj):
        return format_money(obj.line_total, obj.order.currency)


class ShipmentInline(admin.TabularInline):
    """Tracking numbers can be corrected here (the carrier on the shipment's own page: a choice
    per row would read the carriers once per shipment); shipping and delivery go through services."""

    model = Shipment
    formset = ChangedFieldsOnlyFormSet
    fields = ["carrier", "tracking_number", "status", "shipped_at", "delivered_at"]
    readonly_fields = ["carrier", "status", "shipped_at", "delivered_at"]
    can_delete = False
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("carrier")

    def has_add_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # Only for corrections: everyone else reads the shipment at the top of the order page.
        return self.has_change_permission(request, obj)


# Their messages carry the amount, the card's label and the gateway's reference.
PAYMENT_EVENT_KINDS = frozenset({OrderEvent.Kind.PAYMENT_CAPTURED, OrderEvent.Kind.REFUNDED})


# Who sees what of orders (shop.core.admin_visibility): how an order was paid is payment
# details; the messages of payment events are payments' (shown masked, searched on the other
# events only). Every admin's columns, searches, filters and exports follow these.
restrict(Order, ["payment_method", "payment_method_label"], PAYMENT_METHODS)
restrict(
    OrderEvent,
    ["message"],
    PAYMENTS,
    rows=Q(kind__in=PAYMENT_EVENT_KINDS),
    masked_by="message_without_payments",
)


class PaymentEventsMaskedMixin(RestrictedFieldsMixin):
    """Events keep their kind for everyone; payment events' messages only for staff who see
    payments: the declaration above shows them the masked message instead."""

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


class OrderStatusFilter(admin.ChoicesFieldListFilter):
    """By status. It also owns the "Awaiting shipment" shortcut's `status__in`, so choosing a
    status (or "All") after the shortcut replaces it instead of filtering inside it, which
    showed an empty list for any status but paid and partially shipped."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.lookup_kwarg_in = f"{field_path}__in"
        super().__init__(field, request, params, model, model_admin, field_path)

    def expected_parameters(self):
        return [*super().expected_parameters(), self.lookup_kwarg_in]

    def choices(self, changelist):
        facet_counts = self.get_facet_queryset(changelist) if changelist.add_facets else None
        yield {
            "selected": self.lookup_val is None and self.lookup_kwarg_in not in self.used_parameters,
            "query_string": changelist.get_query_string(remove=self.expected_parameters()),
            "display": _("All"),
        }
        for i, (lookup, title) in enumerate(self.field.flatchoices):
            if facet_counts is not None:
                title = f"{title} ({facet_counts[f'{i}__c']})"
            yield {
                "selected": self.lookup_val is not None and str(lookup) in self.lookup_val,
                "query_string": changelist.get_query_string(
                    {self.lookup_kwarg: lookup}, [self.lookup_kwarg_isnull, self.lookup_kwarg_in]
                ),
                "display": title,
            }


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
    list_select_related = ["customer"]
    # No currency filter: the store has one currency, and the filter's DISTINCT reads every order.
    list_filter = [("status", OrderStatusFilter)]
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
    fieldsets = [
        (None, {"fields": ["number", "customer_link", "status", "created_at", "paid_at", "cancelled_at"]}),
        ("Shipments", {"fields": ["shipments_summary"]}),
        ("Returns", {"fields": ["returns_summary"]}),
        ("Ships to", {"fields": ["shipping_address", "shipping_phone"]}),
        ("Amounts", {"fields": ["subtotal_display", "shipping_cost_display", "total_display"]}),
        ("Paid with", {"fields": ["payment_method_label"]}),
    ]
    readonly_fields = [
        "number",
        "started_at",
        "customer_link",
        "customer_name",
        "shipments_summary",
        "returns_summary",
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
    actions = ["print_packing_slips"]
    export_resource_classes = [OrderResource]
    # The order list's own template (its shortcut and the Export button), not import-export's.
    import_export_change_list_template = "admin/orders/order/change_list.html"

    def get_queryset(self, request):
        # The list's tracking column: the latest shipment's number, read in the list's own
        # statement (one indexed lookup per row shown), not a query per row.
        latest = Shipment.objects.filter(order=OuterRef("pk")).order_by("-shipped_at", "-id")
        queryset = super().get_queryset(request).select_related("customer")
        return with_indexed_dates(
            queryset.annotate(latest_tracking=Subquery(latest.values("tracking_number")[:1]))
        )

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        # The rows a list page shows, without the columns it does not show. Bulk actions and
        # exports get their own queryset and read everything; the history page pages LogEntries.
        if queryset.model is Order:
            queryset = queryset.defer(*ORDER_LIST_DEFERRED)
        return super().get_paginator(request, queryset, per_page, orphans, allow_empty_first_page)

    def get_search_results(self, request, queryset, search_term):
        # Only through the fields this user may search (no customers' emails for staff who may
        # not see customers).
        return order_search(queryset, search_term, fields=self.get_search_fields(request)), False

    def get_fieldsets(self, request, obj=None):
        fieldsets = []
        for name, options in super().get_fieldsets(request, obj):
            fields = list(options["fields"])
            if name == "Shipments" and (obj is None or obj.status not in SHIPPED_ONCE_STATUSES):
                continue
            if name == "Returns" and (obj is None or obj.status not in RETURNED_STATUSES):
                continue
            if obj is not None and obj.is_draft:
                # A draft ships nowhere and is paid with nothing yet: both are chosen when it is
                # placed. It was started, not placed.
                if name in ("Ships to", "Paid with"):
                    continue
                fields = [
                    "started_at" if f == "created_at" else f
                    for f in fields
                    if f not in ("paid_at", "cancelled_at")
                ]
            if "customer_link" in fields and not can_open(request, self, Customer):
                # Staff without the customer pages see the name, not a link to a page they cannot open.
                fields[fields.index("customer_link")] = "customer_name"
            fieldsets.append((name, {**options, "fields": fields}))
        return fieldsets

    def has_add_permission(self, request):
        # "Add order" is the order desk (a draft for a customer, then its lines), never a model
        # form: orders are placed by the order services (stock allocation, snapshots).
        return request.user.has_perm(DESK_PERMISSION)

    def has_delete_permission(self, request, obj=None):
        # Whoever takes orders may discard a draft (it holds no stock and no money).
        if obj is not None and obj.is_draft and request.user.has_perm(DESK_PERMISSION):
            return True
        return super().has_delete_permission(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Every order field is read-only: only the shipment's carrier and tracking number are
        # corrected here, so there is nothing to save for staff who may not correct those.
        if not request.user.has_perm("orders.change_shipment"):
            extra_context = {
                **(extra_context or {}),
                "show_save": False,
                "show_save_and_continue": False,
                "show_save_and_add_another": False,
            }
        return super().change_view(request, object_id, form_url, extra_context)

    # The order desk: "Add order" (pick or create the customer), and the searches it types into.

    def get_urls(self):
        desk = [
            path(
                "desk/customers/",
                self.admin_site.admin_view(self.desk_customers_view),
                name="orders_order_desk_customers",
            ),
            path(
                "desk/products/",
                self.admin_site.admin_view(self.desk_products_view),
                name="orders_order_desk_products",
            ),
            path(
                "desk/shipping/",
                self.admin_site.admin_view(self.desk_shipping_view),
                name="orders_order_desk_shipping",
            ),
        ]
        return [*desk, *super().get_urls()]

    def _may_use_desk(self, request) -> bool:
        user = request.user
        return user.has_perm(DESK_PERMISSION) or user.has_perm(EDIT_PERMISSION)

    def desk_customers_view(self, request):
        """Customers matching the search box (name, email or phone), as JSON, at most a screenful."""
        if not request.user.has_perm(DESK_PERMISSION):
            raise PermissionDenied
        found = desk_customer_search(request.GET.get("q", ""))
        results = [
            {
                "id": customer.pk,
                "name": customer.full_name,
                "email": customer.email,
                "phone": str(customer.phone.as_national) if customer.phone else "",
            }
            for customer in found[:DESK_RESULTS]
        ]
        return JsonResponse({"results": results, "more": len(found) > DESK_RESULTS})

    def desk_products_view(self, request):
        """Active products matching the line editor's search (name or SKU), with price and the
        stock available now, as JSON, at most a screenful."""
        if not self._may_use_desk(request):
            raise PermissionDenied
        found = desk_product_search(request.GET.get("q", ""))
        results = []
        for product in found[:DESK_RESULTS]:
            stock = getattr(product, "stock", None)
            results.append(
                {
                    "id": product.pk,
                    "sku": product.sku,
                    "name": product.name,
                    "price": str(product.price),
                    "price_display": format_money(product.price, product.currency),
                    "currency": product.currency,
                    "available": stock.available if stock else 0,
                }
            )
        return JsonResponse({"results": results, "more": len(found) > DESK_RESULTS})

    def desk_shipping_view(self, request):
        """Shipping and total for a subtotal, by the services' own rule (the editor's preview)."""
        if not self._may_use_desk(request):
            raise PermissionDenied
        try:
            subtotal = Decimal(request.GET.get("subtotal", "").strip() or "0")
        except (InvalidOperation, ValueError):
            return JsonResponse({"error": "Give the subtotal as a number, such as 42.50."}, status=400)
        if not subtotal.is_finite() or not Decimal("0") <= subtotal <= MAX_AMOUNT:
            return JsonResponse({"error": "The subtotal is out of range."}, status=400)
        subtotal = subtotal.quantize(Decimal("0.01"))
        shipping = services.shipping_cost_for(subtotal) if subtotal > 0 else Decimal("0.00")
        currency = default_currency()
        return JsonResponse(
            {
                "subtotal": format_money(subtotal, currency),
                "shipping": format_money(shipping, currency),
                "total": format_money(subtotal + shipping, currency),
            }
        )

    def add_view(self, request, form_url="", extra_context=None):
        """Take an order: find the customer (or create one with an address), and start a draft."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        user = request.user
        can_create = user.has_perm("customers.add_customer") and user.has_perm("customers.add_address")
        posted = request.POST if request.method == "POST" else None
        new_customer = posted is not None and "_new_customer" in posted
        customer_form = NewCustomerForm(posted if new_customer else None, prefix="customer")
        address_form = NewAddressForm(posted if new_customer else None, prefix="address")
        if posted is not None and new_customer and not can_create:
            raise PermissionDenied
        if posted is not None and not new_customer:
            customer = _posted_customer(posted.get("customer"))
            if customer is None:
                messages.error(
                    request, "Choose a customer from the search results, or create a new customer."
                )
            else:
                return self._start_draft(request, customer)
        if new_customer and customer_form.is_valid() and address_form.is_valid():
            try:
                with transaction.atomic():
                    customer = customer_form.save()
                    address = address_form.save(commit=False)
                    address.customer = customer
                    address.is_default_shipping = True
                    address.is_default_billing = True
                    address.save()
                    draft = services.order_draft_create(customer=customer, actor=user)
            except ShopError as error:
                messages.error(request, str(error))
            else:
                self.log_addition(request, customer, [{"added": {}}])
                self.log_addition(request, address, [{"added": {}}])
                return self._draft_started(request, draft)
        term = desk_search_term(request.GET.get("q", ""))
        found = desk_customer_search(term)[:DESK_RESULTS] if term else None
        chosen = _posted_customer(request.GET.get("customer"))
        if chosen is not None:
            # From the customer's page ("New order"): that customer, ready to start.
            term, found = chosen.email, [chosen]
        return admin_page(
            self,
            request,
            "admin/orders/order/desk_add.html",
            {
                "title": "Add order",
                "term": term,
                "found": found,
                "customer_form": customer_form,
                "address_form": address_form,
                "can_create": can_create,
                "new_customer": new_customer,
                "search_url": reverse(f"{self.admin_site.name}:orders_order_desk_customers"),
                "add_url": reverse(f"{self.admin_site.name}:orders_order_add"),
            },
        )

    def _start_draft(self, request, customer):
        try:
            draft = services.order_draft_create(customer=customer, actor=request.user)
        except ShopError as error:
            messages.error(request, str(error))
            return redirect(reverse(f"{self.admin_site.name}:orders_order_add"))
        return self._draft_started(request, draft)

    def _draft_started(self, request, draft):
        self.log_addition(request, draft, "Draft started (order desk).")
        messages.success(
            request, f"Draft {draft.number} started for {draft.customer.full_name}: add its lines."
        )
        return redirect(self.operation_url(self.get_operation("place"), draft))

    def get_deleted_objects(self, objs, request):
        # Lines, shipment, events and payments belong to the order and go with it: whoever may
        # delete orders needs no separate right to delete those (no one edits them here).
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        objs = list(objs)
        drafts = bool(objs) and all(self.has_delete_permission(request, obj) for obj in objs)
        if self.has_delete_permission(request) or drafts:
            perms_needed = set()
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        if obj.is_draft:
            services.order_draft_delete(order=obj, actor=request.user)
            return
        # Open orders give their allocated stock back first, with the user as actor.
        services.orders_delete(queryset=Order.objects.filter(pk=obj.pk), actor=request.user)

    def delete_queryset(self, request, queryset):
        services.orders_delete(queryset=queryset, actor=request.user)

    def save_model(self, request, obj, form, change):
        # Every order field is read-only here (only inlines such as the shipment are edited),
        # so there is nothing to write, and a full save could undo a concurrent status change.
        save_changed_fields(obj, form)

    @admin.action(permissions=["view"], description="Print packing slips for the selected orders")
    def print_packing_slips(self, request, queryset):
        count = queryset.count()
        if count > MAX_PACKING_SLIPS:
            self.message_user(
                request,
                f"{count:,} orders selected: print at most {MAX_PACKING_SLIPS} packing slips at a time.",
                messages.ERROR,
            )
            return None
        back = reverse(f"{self.admin_site.name}:orders_order_changelist")
        return packing_slips_page(request, packing.order_slips(queryset.select_related("customer")), back)

    @admin.display(description="started at")
    def started_at(self, obj):
        return display_for_value(obj.created_at, self.get_empty_value_display())

    @admin.display(description="customer", ordering="customer__last_name")
    def customer_name(self, obj):
        return obj.customer.full_name

    @admin.display(description="customer")
    def customer_link(self, obj):
        return change_link(Customer, obj.customer_id, obj.customer)

    @admin.display(description="shipments")
    def shipments_summary(self, obj):
        # One statement for every shipment with its lines (a shipment always has lines).
        lines = ShipmentLine.objects.filter(shipment__order=obj).select_related(
            "shipment__carrier", "order_line"
        )
        shipments = {}
        for line in lines.order_by("shipment__shipped_at", "shipment_id", "order_line_id"):
            shipments.setdefault(line.shipment_id, (line.shipment, []))[1].append(line)
        return render_to_string(
            "admin/orders/order/shipments_summary.html", {"shipments": shipments.values()}
        )

    @admin.display(description="returns")
    def returns_summary(self, obj):
        lines = ReturnLine.objects.filter(return_record__order=obj).select_related(
            "return_record", "order_line"
        )
        returns = {}
        for line in lines.order_by("return_record__created_at", "return_record_id", "order_line_id"):
            returns.setdefault(line.return_record_id, (line.return_record, []))[1].append(line)
        return render_to_string("admin/orders/order/returns_summary.html", {"returns": returns.values()})

    @admin.display(description="total", ordering="total")
    def total_display(self, obj):
        return format_money(obj.total, obj.currency)

    @admin.display(description="subtotal")
    def subtotal_display(self, obj):
        return format_money(obj.subtotal, obj.currency)

    @admin.display(description="shipping")
    def shipping_cost_display(self, obj):
        return format_money(obj.shipping_cost, obj.currency)

    @admin.display(description="tracking number")
    def tracking_number(self, obj):
        # The latest shipment's (annotated by get_queryset); the order's page lists them all.
        return getattr(obj, "latest_tracking", None) or None

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
    # No date drill-down: the order's date is in another table, and a period of it can only be
    # found by joining every line to its order (the orders list has the drill-down).
    # Newest orders first, by key: an order's lines are written with it, so this is the order
    # of placement, read from the foreign key's index (sorting by the order's date would join).
    ordering = ["-order_id", "-id"]
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


class OrderLineUnitsInline(ReadOnlyInlineMixin, admin.TabularInline):
    """Units of order lines (what a shipment carried, what a return took back), named by the
    line's SKU and name as charged."""

    fields = ["sku", "product_name", "quantity"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_line")

    @admin.display(description="SKU")
    def sku(self, obj):
        return obj.order_line.sku

    @admin.display(description="item")
    def product_name(self, obj):
        return obj.order_line.product_name


class ShipmentLineInline(OrderLineUnitsInline):
    model = ShipmentLine


@admin.register(Shipment)
class ShipmentAdmin(ServiceRowAdminMixin, ActionPermissionMixin, admin.ModelAdmin):
    """Shipments are created and delivered by the order services; carrier and tracking can be fixed."""

    list_display = ["tracking_link", "carrier", "order_link", "customer_name", "status", "shipped_at"]
    list_select_related = ["order__customer", "carrier"]
    list_filter = ["status", "carrier"]
    search_fields = ["tracking_number", "order__number", "order__customer__email"]
    date_hierarchy = "shipped_at"
    ordering = ["-shipped_at", "-id"]
    fields = ["order", "carrier", "tracking_number", "status", "shipped_at", "delivered_at", "packing_slip"]
    readonly_fields = ["order", "status", "shipped_at", "delivered_at", "packing_slip"]
    inlines = [ShipmentLineInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order__customer", "carrier")

    def get_urls(self):
        slip = path(
            "<path:object_id>/packing-slip/",
            self.admin_site.admin_view(self.packing_slip_view),
            name="orders_shipment_packing_slip",
        )
        return [slip, *super().get_urls()]

    def packing_slip_view(self, request, object_id):
        object_id = unquote(object_id)
        shipment = (
            self.get_object(request, object_id) if object_id.isdigit() and len(object_id) < 19 else None
        )
        if shipment is None:
            raise Http404("No such shipment.")
        if not self.has_view_permission(request, shipment):
            raise PermissionDenied
        back = reverse(f"{self.admin_site.name}:orders_order_change", args=[shipment.order_id])
        return packing_slips_page(request, [packing.shipment_slip(shipment)], back)

    @admin.display(description="packing slip")
    def packing_slip(self, obj):
        url = reverse(f"{self.admin_site.name}:orders_shipment_packing_slip", args=[obj.pk])
        return format_html('<a href="{}" target="_blank">Print the packing slip</a>', url)

    @admin.display(description="tracking number", ordering="tracking_number")
    def tracking_link(self, obj):
        link = obj.tracking_link
        if link:
            return format_html(
                '<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>', link, obj.tracking_number
            )
        return obj.tracking_number or "—"

    @admin.display(description="order", ordering="order__number")
    def order_link(self, obj):
        return change_link(Order, obj.order_id, obj.order)

    @admin.display(description="customer", ordering="order__customer__last_name")
    def customer_name(self, obj):
        return obj.order.customer.full_name


def packing_slips_page(request, slips, back_url: str) -> TemplateResponse:
    """The printable page of packing slips (no admin frame: it is what goes on paper)."""
    return TemplateResponse(
        request,
        "orders/packing_slip.html",
        # `objects`: the orders printed, as on every page a list action opens.
        {
            "slips": slips,
            "objects": [slip.order for slip in slips],
            "back_url": back_url,
            **packing.store_context(),
        },
    )


@admin.register(Carrier)
class CarrierAdmin(ActionPermissionMixin, ProtectedFirstMixin, admin.ModelAdmin):
    """The carriers offered when shipping, kept by the store manager. One with shipments is
    deactivated rather than deleted (the shipments keep it)."""

    list_display = ["name", "code", "tracked", "active", "tracking_url"]
    list_filter = ["active", "tracked"]
    search_fields = ["name", "code"]
    ordering = ["name"]
    fields = ["name", "code", "tracking_url", "tracked", "active"]

    def get_readonly_fields(self, request, obj=None):
        # The code is the key shipments refer to: chosen once.
        return ["code"] if obj is not None else []


class ReturnLineInline(OrderLineUnitsInline):
    model = ReturnLine
    fields = ["sku", "product_name", "quantity", "restocked"]
    readonly_fields = fields


@admin.register(Return)
class ReturnAdmin(ActionPermissionMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Returns are taken by orders.services.order_return ("Return items" on the order's page)."""

    list_display = ["__str__", "order_link", "customer_name", "created_at", "refund_display", "reason"]
    list_select_related = ["order__customer"]
    list_filter = ["refund_requested", "refund_shipping"]
    search_fields = ["order__number", "reason"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    fields = [
        "order",
        "created_at",
        "actor_name",
        "refund_requested",
        "refund_shipping",
        "refund_display",
        "reason",
    ]
    readonly_fields = ["actor_name", "refund_display"]
    inlines = [ReturnLineInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order__customer", "actor")

    @admin.display(description="refunded", ordering="refunded_amount")
    def refund_display(self, obj):
        return format_money(obj.refunded_amount, obj.currency)

    @admin.display(description="by")
    def actor_name(self, obj):
        return obj.actor.get_username() if obj.actor else "system"

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
