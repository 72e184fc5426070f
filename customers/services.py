"""Writes to customers."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Lower

from customers.exceptions import AlreadyAnonymized, EmailTaken, InvalidCustomerDetails
from customers.models import Address, Customer

CUSTOMER_FIELDS = ("first_name", "last_name", "email", "phone")
ADDRESS_FIELDS = (
    "line1",
    "line2",
    "city",
    "state",
    "postal_code",
    "country",
    "is_default_shipping",
    "is_default_billing",
)


def _field_errors(error: ValidationError) -> list[dict]:
    if hasattr(error, "error_dict"):
        return [
            {"field": field, "message": message}
            for field, messages in error.message_dict.items()
            for message in messages
        ]
    return [{"field": "", "message": message} for message in error.messages]


def _check(instance, what: str, exclude=None) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_constraints=False)
    except ValidationError as error:
        errors = _field_errors(error)
        listed = "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors)
        raise InvalidCustomerDetails(
            f"The {what} is not valid: {listed} Nothing was saved.", errors
        ) from None


def _check_email_free(email: str, *, exclude_pk=None) -> None:
    taken = Customer.objects.filter(email_key=Lower(Value(email)))
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise EmailTaken(f"A customer with the email address {email} already exists.")


def _save_customer(customer: Customer, *, creating: bool) -> Customer:
    _check(customer, "customer", exclude=["anonymized_at"])
    _check_email_free(customer.email, exclude_pk=None if creating else customer.pk)
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:  # another request took the email between the check and the insert
        raise EmailTaken(f"A customer with the email address {customer.email} already exists.") from None
    return customer


@transaction.atomic
def customer_create(*, first_name: str, last_name: str, email: str, phone: str = "", actor=None) -> Customer:
    """A new customer; refuses invalid details (InvalidCustomerDetails) or a taken email (EmailTaken)."""
    customer = Customer(first_name=first_name, last_name=last_name, email=email.strip(), phone=phone or "")
    return _save_customer(customer, creating=True)


@transaction.atomic
def customer_update(*, customer: Customer, actor=None, **changes) -> Customer:
    """Change a customer's name, email or phone (only those); refusals as customer_create."""
    unknown = set(changes) - set(CUSTOMER_FIELDS)
    if unknown:
        raise InvalidCustomerDetails(f"Unknown customer field(s): {', '.join(sorted(unknown))}.")
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if locked.anonymized_at is not None:
        raise AlreadyAnonymized(f"Customer #{locked.pk} was anonymized; their details cannot be changed.")
    for field, value in changes.items():
        setattr(locked, field, (value or "").strip() if field == "email" else value or "")
    return _save_customer(locked, creating=False)


@transaction.atomic
def address_create(*, customer: Customer, actor=None, **fields) -> Address:
    """A new address of the customer. Marked as default shipping (billing), it takes over from the
    customer's previous default, which stays as an ordinary address."""
    unknown = set(fields) - set(ADDRESS_FIELDS)
    if unknown:
        raise InvalidCustomerDetails(f"Unknown address field(s): {', '.join(sorted(unknown))}.")
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if locked.anonymized_at is not None:
        raise AlreadyAnonymized(f"Customer #{locked.pk} was anonymized; no address can be added.")
    address = Address(customer=locked, **{k: (v if v is not None else "") for k, v in fields.items()})
    _check(address, "address", exclude=["customer"])
    if address.is_default_shipping:
        locked.addresses.filter(is_default_shipping=True).update(is_default_shipping=False)
    if address.is_default_billing:
        locked.addresses.filter(is_default_billing=True).update(is_default_billing=False)
    address.save()
    return address


@transaction.atomic
def address_delete(*, address: Address, actor=None) -> None:
    """Delete a saved address (orders keep their own copy of where they were shipped)."""
    Address.objects.filter(pk=address.pk).delete()


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
