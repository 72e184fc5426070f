"""Writes to customers."""

from customers.exceptions import AlreadyAnonymized
from customers.models import Customer


def customer_erase_personal_data(*, customer: Customer, now) -> Customer:
    """The customers app's part of anonymizing a customer, in the caller's transaction.

    Locks the customer's row, refuses one already anonymized, replaces the name, email and
    phone, and deletes the saved addresses. The whole erasure, across orders and payments, is
    `orders.services.customer_anonymize`.
    """
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if locked.anonymized_at is not None:
        raise AlreadyAnonymized(f"Customer #{locked.pk} was already anonymized.")
    locked.first_name = "Anonymized"
    locked.last_name = f"customer #{locked.pk}"
    locked.email = f"anonymized-{locked.pk}@invalid.example"
    locked.phone = ""
    locked.anonymized_at = now
    locked.save(update_fields=["first_name", "last_name", "email", "phone", "anonymized_at", "updated_at"])
    locked.addresses.all().delete()
    return locked
