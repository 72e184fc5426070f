"""Reads of orders."""

import re

from django.db.models import Q, QuerySet

from customers.models import Customer
from orders.models import Order, Shipment

_ORDER_NUMBER = re.compile(r"^(?:SO-?)?(\d{1,12})$", re.IGNORECASE)
# Carriers' tracking numbers: letters and digits, at least one digit, no spaces.
_TRACKING = re.compile(r"^(?=.*\d)[A-Z0-9-]{6,40}$", re.IGNORECASE)


def order_search(queryset: QuerySet, term: str) -> QuerySet:
    """Orders matching what staff type in a search box, each kind of term through an index.

    An order number (`SO-000123`, `123`) or a tracking number matches exactly; an email matches
    the customer's email regardless of case; anything else matches customers' names and emails
    word by word. Each branch first finds the few matching keys by an indexed lookup, so the cost
    does not grow with the number of orders; only when nothing matches exactly does it look for
    the term inside numbers and emails.
    """
    term = term.strip()
    if not term:
        return queryset
    if "@" in term and " " not in term:
        customers = Customer.objects.filter(email_key=term.lower())
        if not customers.exists():
            customers = Customer.objects.filter(email__icontains=term)
        return queryset.filter(customer_id__in=customers.values("pk"))
    number = _ORDER_NUMBER.match(term)
    if number or _TRACKING.match(term):
        ids = set(Shipment.objects.filter(tracking_number=term).values_list("order_id", flat=True))
        if number:
            ids.update(
                Order.objects.filter(number=f"SO-{int(number.group(1)):06d}").values_list("pk", flat=True)
            )
        if not ids:
            # Part of a number: slower (no index can help), but only when nothing matched exactly.
            ids.update(
                Shipment.objects.filter(tracking_number__icontains=term).values_list("order_id", flat=True)[
                    :1000
                ]
            )
            ids.update(Order.objects.filter(number__icontains=term).values_list("pk", flat=True)[:1000])
        return queryset.filter(pk__in=ids)
    customers = Customer.objects.all()
    for word in term.split():
        customers = customers.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
        )
    return queryset.filter(customer_id__in=customers.values("pk"))
