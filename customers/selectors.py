"""Reads of customer data."""

from customers.models import Address
from shop.core.db import first_raw, sql_select

# The columns an order copies from its shipping address (the others load on first access).
_SHIPPING_FIELDS = ("id", "customer", "line1", "line2", "city", "state", "postal_code", "country")


def default_shipping_address(*, customer_id: int) -> Address | None:
    """The customer's default shipping address, or None.

    Every order placement reads it, so it is one hand-written statement (`first_raw`): the same
    rows and types as `filter(...).first()`, at a fraction of the client time the ORM spent
    building the query (bench/README.md, placement). At most one row can match (a unique
    constraint allows one default shipping address per customer).
    """
    sql = sql_select(Address, _SHIPPING_FIELDS, where=("customer", "is_default_shipping"))
    return first_raw(Address, sql, [customer_id, True])
