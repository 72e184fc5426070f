from urllib.parse import quote

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django_countries.fields import CountryField

from orders.exceptions import OpenOrdersNotDeleted
from shop.core.money import CurrencyField, MoneyField
from shop.core.validators import MAX_AMOUNT, MAX_QUANTITY, quantity_validators


class OrderStatus(models.TextChoices):
    # Staff's order in the making: holds no stock, takes no money, has its number already.
    DRAFT = "draft", "Draft"
    PLACED = "placed", "Placed"
    PAID = "paid", "Paid"
    # Some units shipped, some still to ship (they keep their allocation).
    PARTIALLY_SHIPPED = "partially_shipped", "Partially shipped"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    # Some shipped units came back (order_return); RETURNED: every unit of the order did.
    PARTIALLY_RETURNED = "partially_returned", "Partially returned"
    RETURNED = "returned", "Returned"
    CANCELLED = "cancelled", "Cancelled"


# The one place that says which status may follow which.
TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.DRAFT: frozenset({OrderStatus.PLACED}),
    OrderStatus.PLACED: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    # A partially shipped order is not cancelled: its shipped units are with the customer.
    OrderStatus.PARTIALLY_SHIPPED: frozenset({OrderStatus.SHIPPED}),
    OrderStatus.SHIPPED: frozenset(
        {OrderStatus.DELIVERED, OrderStatus.PARTIALLY_RETURNED, OrderStatus.RETURNED}
    ),
    OrderStatus.DELIVERED: frozenset({OrderStatus.PARTIALLY_RETURNED, OrderStatus.RETURNED}),
    OrderStatus.PARTIALLY_RETURNED: frozenset({OrderStatus.RETURNED}),
    OrderStatus.RETURNED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}

# Orders whose lines still hold allocated stock (a draft's lines hold none): for each line,
# what was ordered and not yet shipped.
OPEN_STATUSES = (OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.PARTIALLY_SHIPPED)

# Orders with units still to ship (the shipping desk's queue).
SHIPPABLE_STATUSES = (OrderStatus.PAID, OrderStatus.PARTIALLY_SHIPPED)

# Orders some of whose shipped units can come back (order_return).
RETURNABLE_STATUSES = (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.PARTIALLY_RETURNED)

# Orders that were placed: everything but drafts. What counts as an order anywhere (sales,
# customer histories, exports of trading) is one of these.
PLACED_STATUSES = tuple(status for status in OrderStatus.values if status != OrderStatus.DRAFT)


class OrderQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def drafts(self):
        return self.filter(status=OrderStatus.DRAFT)

    def placed(self):
        """Orders that were placed (every status but draft)."""
        return self.exclude(status=OrderStatus.DRAFT)

    def awaiting_shipment(self):
        """Paid orders with units still to ship, partially shipped ones included."""
        return self.filter(status__in=SHIPPABLE_STATUSES)

    def delete(self):
        """Delete these orders, unless some are open: those still hold allocated stock, which
        `orders.services.orders_delete` gives back first (the admin deletes through it)."""
        open_numbers = list(self.open().values_list("number", flat=True)[:6])
        if open_numbers:
            shown = ", ".join(str(number) for number in open_numbers[:5])
            raise OpenOrdersNotDeleted(
                f"Open orders hold allocated stock ({shown}{', …' if len(open_numbers) > 5 else ''}): "
                "delete them with orders.services.orders_delete, which gives their stock back."
            )
        return super().delete()

    def delete_released(self):
        """Delete these orders without the open-order check, for orders_delete once it has
        released their stock in the same transaction."""
        return super().delete()


class Order(models.Model):
    Status = OrderStatus

    # Derived from the primary key inside the placing transaction: unique without Max()+1.
    number = models.CharField(max_length=32, unique=True, null=True, editable=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.PLACED)
    currency = CurrencyField()
    subtotal = MoneyField(default=0)
    shipping_cost = MoneyField(default=0)
    total = MoneyField(default=0)

    # Snapshot of where the order goes, taken at placement: later address edits never change it.
    shipping_name = models.CharField(max_length=200, blank=True)
    shipping_line1 = models.CharField("shipping address line 1", max_length=200, blank=True)
    shipping_line2 = models.CharField("shipping address line 2", max_length=200, blank=True)
    shipping_city = models.CharField(max_length=100, blank=True)
    shipping_state = models.CharField("shipping state / region", max_length=100, blank=True)
    shipping_postal_code = models.CharField(max_length=20, blank=True)
    shipping_country = CountryField(blank=True)
    shipping_phone = models.CharField(max_length=32, blank=True)

    payment_method = models.ForeignKey(
        "payments.PaymentMethod",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
    )
    payment_method_label = models.CharField(max_length=150, blank=True)

    # When the order was placed; a draft's is when it was started, until order_draft_place
    # sets it to the moment of placing (the lists, the dashboard and exports count from it).
    created_at = models.DateTimeField("placed at", auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("ship_order", "Can mark orders shipped"),
            ("deliver_order", "Can mark orders delivered"),
            ("cancel_order", "Can cancel orders"),
            ("return_order", "Can take back returned items"),
            ("view_revenue", "Can see revenue figures"),
        ]
        indexes = [
            # The lists' order (newest first, id as tie-break), whole and per status: a page of
            # a million orders reads 100 index entries instead of sorting the table.
            models.Index(fields=["-created_at", "-id"], name="order_created_idx"),
            models.Index(fields=["status", "-created_at", "-id"], name="order_status_created_idx"),
            models.Index(fields=["customer", "-created_at"], name="order_customer_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=OrderStatus.values), name="order_status_valid"),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0, shipping_cost__gte=0),
                name="order_amounts_not_negative",
            ),
            models.CheckConstraint(
                # Rounded: SQLite keeps decimals as floating point, where 0.10 + 0.20 != 0.30.
                condition=Q(total=Round(F("subtotal") + F("shipping_cost"), 2)),
                name="order_total_is_subtotal_plus_shipping",
                violation_error_message="The total must equal the subtotal plus shipping.",
            ),
            models.CheckConstraint(
                condition=Q(subtotal__lte=MAX_AMOUNT, shipping_cost__lte=MAX_AMOUNT, total__lte=MAX_AMOUNT),
                name="order_amounts_within_limit",
                violation_error_message=f"An order's total can be at most {MAX_AMOUNT:,}.",
            ),
        ]

    def __str__(self):
        return self.number or f"Order #{self.pk}"

    def delete(self, using=None, keep_parents=False):
        # Through the queryset's check: an open order's allocated stock must be given back first.
        return type(self).objects.using(using or self._state.db).filter(pk=self.pk).delete()

    def can_transition(self, to_status: str) -> bool:
        return to_status in TRANSITIONS[self.status]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_shippable(self) -> bool:
        return self.status in SHIPPABLE_STATUSES

    @property
    def is_returnable(self) -> bool:
        return self.status in RETURNABLE_STATUSES

    @property
    def is_draft(self) -> bool:
        return self.status == OrderStatus.DRAFT

    @property
    def shipping_address_lines(self) -> list[str]:
        city_line = " ".join(
            p for p in [f"{self.shipping_city},", self.shipping_state, self.shipping_postal_code] if p
        ).strip(", ")
        lines = [self.shipping_name, self.shipping_line1, self.shipping_line2, city_line]
        if self.shipping_country:
            lines.append(self.shipping_country.name)
        return [line for line in lines if line]


class OrderLine(models.Model):
    """A product on an order, with its name, SKU and price as charged."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="order_lines")
    product_name = models.CharField(max_length=200)
    sku = models.CharField("SKU", max_length=64)
    unit_price = MoneyField()
    quantity = models.IntegerField(validators=quantity_validators(1, what="The quantity"))
    line_total = MoneyField()
    # Running totals kept by order_ship and order_return under the order's lock, so the
    # database itself refuses shipping more than was ordered or taking back more than was
    # shipped; check_integrity compares them with the shipment and return lines.
    quantity_shipped = models.IntegerField("shipped", default=0, editable=False)
    quantity_returned = models.IntegerField("returned", default=0, editable=False)

    class Meta:
        ordering = ["order_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_returned__gte=0)
                & Q(quantity_shipped__gte=F("quantity_returned"))
                & Q(quantity__gte=F("quantity_shipped")),
                name="order_line_returned_le_shipped_le_ordered",
                violation_error_message=(
                    "A line ships at most what was ordered and takes back at most what shipped."
                ),
            ),
            models.UniqueConstraint(fields=["order", "product"], name="order_line_product_once"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="order_line_quantity_positive",
                violation_error_message="The quantity must be at least 1.",
            ),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="order_line_price_not_negative"),
            models.CheckConstraint(
                condition=Q(line_total=Round(F("unit_price") * F("quantity"), 2)),
                name="order_line_total_is_price_times_quantity",
            ),
            models.CheckConstraint(
                condition=Q(
                    quantity__lte=MAX_QUANTITY, unit_price__lte=MAX_AMOUNT, line_total__lte=MAX_AMOUNT
                ),
                name="order_line_within_limit",
                violation_error_message=(
                    f"An order line has at most {MAX_QUANTITY:,} units and a total of at most {MAX_AMOUNT:,}."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.product_name} ({self.sku})"

    @property
    def quantity_to_ship(self) -> int:
        return self.quantity - self.quantity_shipped

    @property
    def quantity_returnable(self) -> int:
        return self.quantity_shipped - self.quantity_returned


class Carrier(models.Model):
    """Who carries shipments, and how a tracking number becomes a link on their site."""

    code = models.SlugField(max_length=30, primary_key=True)
    name = models.CharField(max_length=50, unique=True)
    # With "{tracking_number}" where the number goes; empty: numbers are shown as text.
    tracking_url = models.CharField(
        "tracking link pattern",
        max_length=300,
        blank=True,
        help_text="A web address with {tracking_number} where the number goes, e.g. "
        "https://www.ups.com/track?tracknum={tracking_number}",
    )
    # An untracked carrier (a courier, collection in store) ships without a tracking number.
    tracked = models.BooleanField(default=True, help_text="Its shipments need a tracking number.")
    active = models.BooleanField(default=True, help_text="Offered when shipping.")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(tracking_url="")
                | (
                    Q(tracking_url__contains="{tracking_number}")
                    & (Q(tracking_url__startswith="https://") | Q(tracking_url__startswith="http://"))
                ),
                name="carrier_tracking_url_has_placeholder",
                violation_error_message=(
                    "The tracking link pattern is a web address (https://…) with {tracking_number} "
                    "where the number goes."
                ),
            ),
        ]

    def __str__(self):
        return self.name

    def tracking_link(self, tracking_number: str) -> str:
        """The carrier's page for this tracking number ("" without a pattern or a number)."""
        if not self.tracking_url.startswith(("https://", "http://")) or not tracking_number:
            return ""
        return self.tracking_url.replace("{tracking_number}", quote(tracking_number, safe=""))


class Shipment(models.Model):
    """One parcel: some units of some of the order's lines, handed to a carrier."""

    class Status(models.TextChoices):
        IN_TRANSIT = "in_transit", "In transit"
        DELIVERED = "delivered", "Delivered"

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="shipments", related_query_name="shipment"
    )
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="shipments")
    tracking_number = models.CharField(max_length=100, blank=True, db_index=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_TRANSIT)
    shipped_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-shipped_at", "-id"]
        indexes = [models.Index(fields=["order", "shipped_at"], name="shipment_order_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(delivered_at__isnull=True) | Q(delivered_at__gte=F("shipped_at")),
                name="shipment_delivered_after_shipped",
            ),
            models.CheckConstraint(
                condition=Q(status="in_transit", delivered_at__isnull=True)
                | Q(status="delivered", delivered_at__isnull=False),
                name="shipment_status_matches_delivery",
            ),
        ]

    def __str__(self):
        return f"{self.carrier_id} {self.tracking_number}".strip()

    @property
    def tracking_link(self) -> str:
        return self.carrier.tracking_link(self.tracking_number)


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="shipment_lines")
    quantity = models.IntegerField(validators=quantity_validators(1, what="The quantity"))

    class Meta:
        ordering = ["shipment_id", "order_line_id"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "order_line"], name="shipment_line_once"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0, quantity__lte=MAX_QUANTITY), name="shipment_line_quantity_valid"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.order_line.sku}"


class Return(models.Model):
    """Units of an order the customer sent back (order_return), restocked or written off, with
    what was refunded for them."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="returns")
    reason = models.CharField(max_length=500, blank=True)
    currency = CurrencyField()
    refund_requested = models.BooleanField("refund", default=True)
    refund_shipping = models.BooleanField(default=False)
    # What was refunded through the order's captured payments (at most what was left of them).
    refunded_amount = MoneyField(default=0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("returned at", auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="return_created_idx"),
            models.Index(fields=["order", "created_at"], name="return_order_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0, refunded_amount__lte=MAX_AMOUNT),
                name="return_refund_within_limit",
            ),
        ]

    def __str__(self):
        return f"Return #{self.pk}"


class ReturnLine(models.Model):
    return_record = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="return_lines")
    quantity = models.IntegerField(validators=quantity_validators(1, what="The quantity"))
    # Back on hand (a ledger row with reason "return"), or written off (damaged: no stock change).
    restocked = models.BooleanField(default=True)

    class Meta:
        ordering = ["return_record_id", "order_line_id"]
        constraints = [
            models.UniqueConstraint(fields=["return_record", "order_line"], name="return_line_once"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0, quantity__lte=MAX_QUANTITY), name="return_line_quantity_valid"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.order_line.sku}{'' if self.restocked else ' (written off)'}"


class OrderEvent(models.Model):
    """The order's history, written by the service that made the change."""

    class Kind(models.TextChoices):
        DRAFT_CREATED = "draft_created", "Draft created"
        PLACED = "placed", "Placed"
        EDITED = "edited", "Edited"
        PAYMENT_CAPTURED = "payment_captured", "Payment captured"
        PAID = "paid", "Paid"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"
        RETURNED = "returned", "Returned"
        NOTE = "note", "Note"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_status = models.CharField(max_length=20, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=OrderStatus.choices, blank=True)
    message = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at"], name="order_event_order_idx")]

    def __str__(self):
        return f"{self.order_id} {self.get_kind_display()}"
