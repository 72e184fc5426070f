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

from customers.models import Customer
from orders.models import Order, Shipment
from shop.core.streaming_export import Reads, ReadsRelated

#: An order's shipments, oldest first, as the tracking and carrier columns read them.
SHIPMENTS_ORDER = ("shipped_at", "pk")
SHIPMENT_VALUES = ("tracking_number", "carrier__name")


def tracking_numbers(shipments) -> str:
    """Every tracking number of the (tracking number, carrier name) of an order's shipments."""
    return ", ".join(number for number, _ in shipments if number)


def carriers(shipments) -> str:
    """Each carrier once, in the order they first carried a part."""
    return ", ".join(dict.fromkeys(carrier for _, carrier in shipments))


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

    #: The columns the streamed export cannot read by their attribute (shop.core.streaming_export).
    streamed_columns = {
        "customer_name": Reads(("customer__first_name", "customer__last_name"), Customer.name_of),
        "tracking_number": ReadsRelated(
            "shipments", SHIPMENT_VALUES, tracking_numbers, order_by=SHIPMENTS_ORDER
        ),
        "carrier": ReadsRelated("shipments", SHIPMENT_VALUES, carriers, order_by=SHIPMENTS_ORDER),
    }

    def filter_export(self, queryset, **kwargs):
        shipments = Shipment.objects.select_related("carrier").order_by(*SHIPMENTS_ORDER)
        return queryset.select_related("customer").prefetch_related(Prefetch("shipments", queryset=shipments))

    def dehydrate_tracking_number(self, order: Order) -> str:
        return tracking_numbers(_shipment_values(order))

    def dehydrate_carrier(self, order: Order) -> str:
        return carriers(_shipment_values(order))


def _shipment_values(order: Order) -> list[tuple[str, str]]:
    return [(s.tracking_number, s.carrier.name) for s in order.shipments.all()]
