"""Writes to customers. Anonymization removes a person's data but keeps the money records."""

import logging
import re

from django.db import transaction
from django.utils import timezone

from customers.exceptions import AlreadyAnonymized
from customers.models import Customer
from shop.core.db import atomic_with_retry

logger = logging.getLogger("shop.customers")

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


@atomic_with_retry
def customer_anonymize(*, customer: Customer, actor=None) -> Customer:
    """Erase a customer's personal data in one transaction, keeping orders and payments.

    Name, email and phone are replaced; saved addresses and payment methods are deleted; the
    customer's orders keep their lines, totals and payments for accounting, with the shipping
    snapshot (name, street, postal code, phone) and any email in payment labels scrubbed. Each
    order's timeline records that it happened and who did it.
    """
    from orders.models import Order, OrderEvent
    from payments.models import Payment

    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if locked.anonymized_at is not None:
        raise AlreadyAnonymized(f"Customer #{locked.pk} was already anonymized.")
    now = timezone.now()
    locked.first_name = "Anonymized"
    locked.last_name = f"customer #{locked.pk}"
    locked.email = f"anonymized-{locked.pk}@invalid.example"
    locked.phone = ""
    locked.anonymized_at = now
    locked.save(update_fields=["first_name", "last_name", "email", "phone", "anonymized_at", "updated_at"])
    locked.addresses.all().delete()
    locked.payment_methods.all().delete()

    orders = Order.objects.filter(customer=locked)
    orders.update(
        shipping_name="[removed]",
        shipping_line1="[removed]",
        shipping_line2="",
        shipping_postal_code="",
        shipping_phone="",
        updated_at=now,
    )
    order_ids = list(orders.values_list("pk", flat=True))
    # Labels and messages may carry a PayPal email: keep the words, drop the address.
    for model, field, filters in (
        (Order, "payment_method_label", {"pk__in": order_ids}),
        (Payment, "method_label", {"order_id__in": order_ids}),
        (OrderEvent, "message", {"order_id__in": order_ids}),
    ):
        for pk, text in model.objects.filter(**filters, **{f"{field}__contains": "@"}).values_list(
            "pk", field
        ):
            model.objects.filter(pk=pk).update(**{field: _EMAIL.sub("[removed]", text)})
    OrderEvent.objects.bulk_create(
        [
            OrderEvent(
                order_id=pk,
                kind=OrderEvent.Kind.NOTE,
                message="Customer's personal data anonymized; order kept for accounting.",
                actor_id=getattr(actor, "pk", None),
            )
            for pk in order_ids
        ]
    )
    customer_id = locked.pk
    transaction.on_commit(lambda: logger.info("customer anonymized: #%s", customer_id))
    if customer is not locked:
        customer.refresh_from_db()
    return locked
