import datetime

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length, Round

from shop.core.money import CurrencyField, MoneyField
from shop.core.validators import MAX_AMOUNT, reject_card_number


class PaymentMethod(models.Model):
    """A saved way to pay. Cards keep only what is safe to show: never the number or CVV."""

    class Kind(models.TextChoices):
        CARD = "card", "Credit card"
        PAYPAL = "paypal", "PayPal"

    class Brand(models.TextChoices):
        VISA = "visa", "Visa"
        MASTERCARD = "mastercard", "Mastercard"
        AMEX = "amex", "American Express"
        DISCOVER = "discover", "Discover"
        OTHER = "other", "Other"

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="payment_methods"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    brand = models.CharField(max_length=20, choices=Brand.choices, blank=True)
    last4 = models.CharField(
        "last 4 digits",
        max_length=4,
        blank=True,
        validators=[RegexValidator(r"^\d{4}$", "Enter exactly the last four digits.")],
    )
    exp_month = models.PositiveSmallIntegerField(
        "expiry month",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    exp_year = models.PositiveSmallIntegerField(
        "expiry year",
        null=True,
        blank=True,
        validators=[MinValueValidator(2000), MaxValueValidator(2100)],
    )
    holder_name = models.CharField(max_length=100, blank=True, validators=[reject_card_number])
    gateway_token = models.CharField(
        max_length=128,
        blank=True,
        validators=[reject_card_number],
        help_text="The payment gateway's token for this card; never the card number.",
    )
    paypal_email = models.EmailField("PayPal email", blank=True, validators=[reject_card_number])
    is_default = models.BooleanField("default", default=False)
    # Customer id when this is the default, NULL otherwise: one default per customer.
    default_key = models.GeneratedField(
        expression=models.Case(models.When(is_default=True, then=F("customer")), default=models.Value(None)),
        output_field=models.BigIntegerField(null=True),
        db_persist=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["customer_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["default_key"],
                name="payment_method_one_default",
                violation_error_message="This customer already has a default payment method.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        kind="card",
                        brand__gt="",
                        exp_month__isnull=False,
                        exp_year__isnull=False,
                        exp_month__gte=1,
                        exp_month__lte=12,
                        exp_year__gte=2000,
                        paypal_email="",
                    )
                    & models.lookups.Exact(Length("last4"), 4)
                )
                | Q(
                    kind="paypal",
                    paypal_email__gt="",
                    brand="",
                    last4="",
                    exp_month__isnull=True,
                    exp_year__isnull=True,
                    gateway_token="",
                ),
                name="payment_method_fields_match_kind",
                violation_error_message=(
                    "A card needs a brand, the last four digits and an expiry date; "
                    "a PayPal account needs its email and nothing else."
                ),
            ),
        ]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        """How the method is shown everywhere: masked, never more than the last four digits."""
        if self.kind == self.Kind.PAYPAL:
            return f"PayPal ({self.paypal_email})"
        brand = self.get_brand_display() or "Card"
        expiry = f" exp {self.exp_month:02d}/{self.exp_year}" if self.exp_month and self.exp_year else ""
        return f"{brand} •••• {self.last4}{expiry}"

    @property
    def is_expired(self) -> bool:
        return self.expired_on(datetime.date.today())

    def expired_on(self, day: datetime.date) -> bool:
        """Whether a card is past its expiry on `day` (it is valid through its expiry month)."""
        if self.kind != self.Kind.CARD or not (self.exp_month and self.exp_year):
            return False
        return (self.exp_year, self.exp_month) < (day.year, day.month)


class OfflineMethod(models.TextChoices):
    """Ways a customer pays outside the payment gateway, which staff record by hand."""

    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    CASH = "cash", "Cash"
    CHEQUE = "cheque", "Cheque"
    CARD_TERMINAL = "card_terminal", "Card terminal"


class Payment(models.Model):
    """Money taken (or tried) for an order. Refunds lower `refunded_amount`, never the amount."""

    Offline = OfflineMethod

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        AUTHORIZED = "authorized", "Authorized"
        CAPTURED = "captured", "Captured"
        FAILED = "failed", "Failed"
        REFUNDED = "refunded", "Refunded"

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="payments")
    method = models.ForeignKey(
        PaymentMethod,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="payments",
    )
    # Money staff received outside the gateway (recorded with "Record payment"). A payment is by a
    # saved method, or an offline way, or (older rows) neither: never both.
    offline_method = models.CharField("paid by", max_length=20, choices=OfflineMethod.choices, blank=True)
    # Kept so the payment still says how it was paid after the saved method is deleted.
    method_label = models.CharField(max_length=150, blank=True, validators=[reject_card_number])
    amount = MoneyField()
    refunded_amount = MoneyField(default=0)
    currency = CurrencyField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    reference = models.CharField(
        "gateway reference", max_length=100, blank=True, validators=[reject_card_number]
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("refund_payment", "Can refund payments")]
        indexes = [models.Index(fields=["status", "-created_at"], name="payment_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="payment_amount_positive",
                violation_error_message="A payment amount must be positive.",
            ),
            models.CheckConstraint(
                # Rounded: SQLite does decimal arithmetic in floating point (0.10 + 0.20).
                condition=Q(refunded_amount__gte=0)
                & models.lookups.LessThanOrEqual(Round(F("refunded_amount"), 2), F("amount")),
                name="payment_refund_within_amount",
                violation_error_message="No more can be refunded than was captured.",
            ),
            models.CheckConstraint(
                condition=Q(offline_method__in=["", *OfflineMethod.values])
                & (Q(offline_method="") | Q(method__isnull=True)),
                name="payment_one_way_of_paying",
                violation_error_message=(
                    "A payment is made by a saved payment method or by an offline way, not both."
                ),
            ),
            # The refunded amount stays within the amount (above), so within the limit too.
            models.CheckConstraint(
                condition=Q(amount__lte=MAX_AMOUNT),
                name="payment_amount_within_limit",
                violation_error_message=f"A payment can be at most {MAX_AMOUNT:,}.",
            ),
        ]

    def __str__(self):
        return (
            f"{self.amount} {self.currency} {self.get_status_display()} ({self.method_label or 'no method'})"
        )

    @property
    def net_amount(self):
        return self.amount - self.refunded_amount

    @property
    def refundable_amount(self):
        if self.status not in (self.Status.CAPTURED, self.Status.REFUNDED):
            return 0
        return self.amount - self.refunded_amount
