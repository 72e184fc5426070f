"""API keys of storefront clients, idempotency records of order placement, webhook events."""

from django.db import models
from django.db.models import Q


class ApiKey(models.Model):
    """A storefront client's key. Only its prefix (for lookup) and a SHA-256 hash are stored."""

    class Scope(models.TextChoices):
        READ_CATALOG = "catalog:read", "Read the catalog"
        WRITE_CUSTOMERS = "customers:write", "Read and write customers"
        WRITE_ORDERS = "orders:write", "Read and place orders"

    name = models.CharField(max_length=100, unique=True)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    can_read_catalog = models.BooleanField("read catalog", default=True)
    can_write_customers = models.BooleanField("write customers", default=False)
    can_write_orders = models.BooleanField("write orders", default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API key"
        ordering = ["name"]
        permissions = [("revoke_apikey", "Can revoke API keys")]

    def __str__(self):
        return self.name

    SCOPE_FIELDS = {
        Scope.READ_CATALOG: "can_read_catalog",
        Scope.WRITE_CUSTOMERS: "can_write_customers",
        Scope.WRITE_ORDERS: "can_write_orders",
    }

    @property
    def scopes(self) -> list[str]:
        return [str(scope) for scope, field in self.SCOPE_FIELDS.items() if getattr(self, field)]

    def has_scope(self, scope: str) -> bool:
        field = self.SCOPE_FIELDS.get(scope)
        return bool(field and getattr(self, field))

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class IdempotencyRecord(models.Model):
    """One `Idempotency-Key` of one API key: the request it came with and the response given.

    Looked up first (a request with a recorded key gets its response again), then inserted
    with the response in the transaction that placed the order, under the unique constraint: a
    second request with the same key that got past the lookup meanwhile fails on the insert
    (after waiting for the first to commit), rolls its own work back and gets the first's response.
    """

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="idempotency_records")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    # Written in the same statement as the record, so nobody ever reads a record without them.
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="idempotency_key_unique_per_api_key"),
        ]

    def __str__(self):
        return f"{self.api_key_id}:{self.key}"


class WebhookEvent(models.Model):
    """A payment gateway notification that was applied; its id is refused if sent again."""

    event_id = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=40)
    order_number = models.CharField(max_length=32)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="webhook_event_amount_positive")
        ]

    def __str__(self):
        return self.event_id
