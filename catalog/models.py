from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length, Upper

from shop.core.expressions import CaseSensitive
from shop.core.money import CurrencyField, MoneyField, validate_store_currency
from shop.core.validators import (
    MAX_AMOUNT,
    MAX_QUANTITY,
    normalize_sku,
    quantity_validators,
    validate_sku,
)


class ProductType(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ProductQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def low_stock(self):
        """Products with some stock available, but no more than their threshold."""
        return self.filter(
            stock__on_hand__gt=F("stock__allocated"),
            stock__on_hand__lte=F("stock__allocated") + F("stock__low_stock_threshold"),
        )

    def out_of_stock(self):
        """Products with nothing available, including those that never had a stock row."""
        return self.filter(Q(stock__isnull=True) | Q(stock__on_hand__lte=F("stock__allocated")))

    def in_stock(self):
        """Products neither low nor out: more available than their low-stock threshold."""
        return self.filter(stock__on_hand__gt=F("stock__allocated") + F("stock__low_stock_threshold"))


class Product(models.Model):
    name = models.CharField(max_length=200, db_index=True)
    # Stored normalized (normalize_sku: capitals, no spaces), so the plain unique index is unique
    # regardless of case on every database; the CHECK constraint below keeps it so.
    sku = models.CharField("SKU", max_length=64, unique=True, validators=[validate_sku])
    product_type = models.ForeignKey(
        ProductType, on_delete=models.PROTECT, related_name="products", verbose_name="type"
    )
    price = MoneyField()
    currency = CurrencyField(validators=[validate_store_currency])
    is_active = models.BooleanField("active", default=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gte=0),
                name="product_price_not_negative",
                violation_error_message="The price cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(price__lte=MAX_AMOUNT),
                name="product_price_within_limit",
                violation_error_message=f"The price can be at most {MAX_AMOUNT:,}.",
            ),
            models.CheckConstraint(
                condition=Q(models.lookups.Exact(CaseSensitive("sku"), Upper("sku")))
                & ~Q(sku__contains=" ")
                & ~Q(sku__contains="\t")
                & ~Q(sku__contains="\n")
                & ~Q(sku__contains="\r"),
                name="product_sku_normalized",
                violation_error_message="An SKU is written in capitals, without spaces.",
            ),
            models.CheckConstraint(
                condition=Q(models.lookups.Exact(CaseSensitive("currency"), Upper("currency")))
                & models.lookups.Exact(Length("currency"), 3),
                name="product_currency_is_a_code",
                violation_error_message="A currency is a three-letter code such as USD.",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.sku})"

    def clean_fields(self, exclude=None):
        # Normalized before the field checks, wherever the product is validated (admin form,
        # product_create, import): "el-hub-007 " is EL-HUB-007.
        self.sku = normalize_sku(self.sku)
        super().clean_fields(exclude)


class Stock(models.Model):
    """Stock of one product. Changed only by the stock and order services, which lock the row."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, primary_key=True, related_name="stock")
    on_hand = models.IntegerField(default=0, validators=quantity_validators(what="Stock on hand"))
    allocated = models.IntegerField(default=0, validators=quantity_validators(what="Allocated stock"))
    low_stock_threshold = models.IntegerField(
        default=5, validators=quantity_validators(what="The low-stock threshold")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "stock"
        permissions = [
            ("receive_stock", "Can receive stock"),
            ("adjust_stock", "Can adjust stock"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(on_hand__gte=0),
                name="stock_on_hand_not_negative",
                violation_error_message="Stock on hand cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(allocated__gte=0),
                name="stock_allocated_not_negative",
                violation_error_message="Allocated stock cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(allocated__lte=F("on_hand")),
                name="stock_allocated_within_on_hand",
                violation_error_message="Allocated stock cannot exceed stock on hand.",
            ),
            models.CheckConstraint(
                condition=Q(low_stock_threshold__gte=0),
                name="stock_threshold_not_negative",
                violation_error_message="The low-stock threshold cannot be negative.",
            ),
            # Also keeps SQLite from storing an overflowing sum as a float.
            models.CheckConstraint(
                condition=Q(on_hand__lte=MAX_QUANTITY),
                name="stock_on_hand_within_limit",
                violation_error_message=f"Stock on hand can be at most {MAX_QUANTITY:,}.",
            ),
            models.CheckConstraint(
                condition=Q(low_stock_threshold__lte=MAX_QUANTITY),
                name="stock_threshold_within_limit",
                violation_error_message=f"The low-stock threshold can be at most {MAX_QUANTITY:,}.",
            ),
        ]

    def __str__(self):
        return f"{self.product}: {self.on_hand} on hand, {self.allocated} allocated"

    @property
    def available(self) -> int:
        return self.available_of(self.on_hand, self.allocated)

    @staticmethod
    def available_of(on_hand: int, allocated: int) -> int:
        """Units that can still be sold (what a streamed export computes from the columns)."""
        return on_hand - allocated

    @property
    def is_low(self) -> bool:
        return 0 < self.available <= self.low_stock_threshold


class StockMovement(models.Model):
    """One row of the stock ledger: every change to on hand or allocated, with who and why."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "Receipt"
        SALE = "sale", "Sale (shipped)"
        ADJUSTMENT = "adjustment", "Adjustment"
        RETURN = "return", "Return"
        ALLOCATION = "allocation", "Allocation"
        RELEASE = "release", "Release"

    class Reason(models.TextChoices):
        COUNT = "count", "Stock count"
        DAMAGED = "damaged", "Damaged"
        LOST = "lost", "Lost or stolen"
        FOUND = "found", "Found"
        RETURN = "return", "Customer return"
        CORRECTION = "correction", "Correction"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="movements")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)
    on_hand_delta = models.IntegerField(
        "on hand change", default=0, validators=quantity_validators(-MAX_QUANTITY, what="A change")
    )
    allocated_delta = models.IntegerField(
        "allocated change", default=0, validators=quantity_validators(-MAX_QUANTITY, what="A change")
    )
    # The order a movement belongs to, by number: the catalog knows nothing of the orders app,
    # and the number stays readable after the order itself is deleted.
    order_number = models.CharField(max_length=32, blank=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["product", "-created_at"], name="movement_product_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(on_hand_delta=0, allocated_delta=0),
                name="movement_changes_something",
            ),
            models.CheckConstraint(
                condition=Q(on_hand_delta__gte=-MAX_QUANTITY, on_hand_delta__lte=MAX_QUANTITY)
                & Q(allocated_delta__gte=-MAX_QUANTITY, allocated_delta__lte=MAX_QUANTITY),
                name="movement_within_limit",
                violation_error_message=f"A stock movement changes at most {MAX_QUANTITY:,} units.",
            ),
        ]

    def __str__(self):
        return (
            f"{self.get_kind_display()} {self.product_id}: {self.on_hand_delta:+d}/{self.allocated_delta:+d}"
        )
