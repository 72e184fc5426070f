from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Lower
from django_countries.fields import CountryField

from customers.fields import PhoneNumberField


class CustomerQuerySet(models.QuerySet):
    def search(self, term: str):
        term = term.strip()
        return self.filter(
            Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Q(email__icontains=term)
            | Q(phone__icontains=term)
        )


class Customer(models.Model):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField(max_length=254)
    # Lower-cased copy kept by the database itself, so uniqueness ignores case on every backend
    # (MariaDB has no expression indexes; a unique stored generated column works everywhere).
    email_key = models.GeneratedField(
        expression=Lower("email"),
        output_field=models.CharField(max_length=254),
        db_persist=True,
    )
    phone = PhoneNumberField(blank=True)
    anonymized_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        permissions = [("anonymize_customer", "Can anonymize customers (erase personal data)")]
        constraints = [
            models.UniqueConstraint(
                fields=["email_key"],
                name="customer_email_unique_ci",
                violation_error_message="A customer with this email address already exists.",
            ),
        ]
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="customer_name_idx"),
        ]

    def __str__(self):
        return f"{self.full_name} <{self.email}>"

    @property
    def full_name(self) -> str:
        return self.name_of(self.first_name, self.last_name)

    @staticmethod
    def name_of(first_name: str, last_name: str) -> str:
        """The name shown, from its parts (what a streamed export computes from the columns)."""
        return f"{first_name} {last_name}".strip()


class Address(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    line1 = models.CharField("address line 1", max_length=200)
    line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100)
    state = models.CharField("state / region", max_length=100, blank=True)
    postal_code = models.CharField(max_length=20)
    country = CountryField()
    is_default_shipping = models.BooleanField("default shipping", default=False)
    is_default_billing = models.BooleanField("default billing", default=False)
    # The customer id when the flag is set, NULL otherwise; unique, so a customer has at most
    # one default of each kind. Partial unique indexes would do this, but MariaDB lacks them.
    default_shipping_key = models.GeneratedField(
        expression=Case(When(is_default_shipping=True, then=F("customer")), default=Value(None)),
        output_field=models.BigIntegerField(null=True),
        db_persist=True,
    )
    default_billing_key = models.GeneratedField(
        expression=Case(When(is_default_billing=True, then=F("customer")), default=Value(None)),
        output_field=models.BigIntegerField(null=True),
        db_persist=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "addresses"
        ordering = ["customer_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["default_shipping_key"],
                name="address_one_default_shipping",
                violation_error_message="This customer already has a default shipping address.",
            ),
            models.UniqueConstraint(
                fields=["default_billing_key"],
                name="address_one_default_billing",
                violation_error_message="This customer already has a default billing address.",
            ),
        ]

    def __str__(self):
        return self.one_line()

    def one_line(self) -> str:
        parts = [self.line1, self.line2, self.city, f"{self.state} {self.postal_code}".strip()]
        parts.append(self.country.code if self.country else "")
        return ", ".join(p for p in parts if p)
