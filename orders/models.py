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
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"


# The one place that says which status may follow which.
TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.DRAFT: frozenset({OrderStatus.PLACED}),
    OrderStatus.PLACED: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}

# Orders whose lines still hold allocated stock (a draft's lines hold none).
OPEN_STATUSES = (OrderStatus.PLACED, OrderStatus.PAID)

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
        return self.filter(status=OrderStatus.PAID)

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
    status = models.CharField(max_length=12, choices=OrderStatus.choices, default=OrderStatus.PLACED)
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

    class Meta:
        ordering = ["order_id", "id"]
        constraints = [
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


class Shipment(models.Model):
    class Status(models.TextChoices):
        IN_TRANSIT = "in_transit", "In transit"
        DELIVERED = "delivered", "Delivered"

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="shipment")
    carrier = models.CharField(max_length=50)
    tracking_number = models.CharField(max_length=100, db_index=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_TRANSIT)
    shipped_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-shipped_at", "-id"]
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
        return f"{self.carrier} {self.tracking_number}"


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
        NOTE = "note", "Note"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_status = models.CharField(max_length=12, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=OrderStatus.choices, blank=True)
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
