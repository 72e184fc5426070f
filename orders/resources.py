"""Orders to CSV and Excel (django-import-export). Orders are never imported: they are placed
by `orders.services.order_place`.

The columns are listed one by one, so nothing is exported by accident: no payment method, no
gateway token, no shipping address. Customer-typed text is written so that a spreadsheet shows
it rather than running it as a formula. Staff who may not see customers' details get the file
without `email` (shop.core.admin_visibility drops every column reaching a field hidden from them).
"""

from django.db.models import Prefetch
from import_export.fields import Field
from import_export.resources import ModelResource
from import_export.widgets import DateTimeWidget, DecimalWidget

from orders.models import Order, Shipment


class OrderResource(ModelResource):
    """One row per order, with its amounts and shipments. Times are in the store's time zone.

    An order shipped in several parts has all its tracking numbers in one cell, joined with
    ", " (oldest shipment first), and its carriers likewise; the shipments are prefetched, not
    read per row. The columns keep their model paths (`attribute`), by which the field
    visibility rules and the export cell tests find the fields they read."""

    number = Field(attribute="number", column_name="number")
    placed_at = Field(
        attribute="created_at", column_name="placed_at", widget=DateTimeWidget(format="%Y-%m-%d %H:%M:%S")
    )
    customer_name = Field(attribute="customer__full_name", column_name="customer_name")
    email = Field(attribute="customer__email", column_name="email")
    status = Field(attribute="status", column_name="status")
    currency = Field(attribute="currency", column_name="currency")
    subtotal = Field(attribute="subtotal", column_name="subtotal", widget=DecimalWidget())
    shipping = Field(attribute="shipping_cost", column_name="shipping", widget=DecimalWidget())
    total = Field(attribute="total", column_name="total", widget=DecimalWidget())
    tracking_number = Field(attribute="shipment__tracking_number", column_name="tracking_number")
    carrier = Field(attribute="shipment__carrier__name", column_name="carrier")

    class Meta:
        model = Order
        name = "Orders"
        fields = (
            "number",
            "placed_at",
            "customer_name",
            "email",
            "status",
            "currency",
            "subtotal",
            "shipping",
            "total",
            "tracking_number",
            "carrier",
        )

    def filter_export(self, queryset, **kwargs):
        shipments = Shipment.objects.select_related("carrier").order_by("shipped_at", "pk")
        return queryset.select_related("customer").prefetch_related(Prefetch("shipments", queryset=shipments))

    def dehydrate_tracking_number(self, order: Order) -> str:
        return ", ".join(s.tracking_number for s in order.shipments.all() if s.tracking_number)

    def dehydrate_carrier(self, order: Order) -> str:
        # Each carrier once, in the order they first carried a part.
        return ", ".join(dict.fromkeys(s.carrier.name for s in order.shipments.all()))
