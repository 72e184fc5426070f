"""Reads of customer data."""

from django.db import connection

from customers.models import Address

# The columns an order copies from its shipping address (the others load on first access).
_SHIPPING_FIELDS = ("id", "customer", "line1", "line2", "city", "state", "postal_code", "country")


def default_shipping_address(*, customer_id: int) -> Address | None:
    """The customer's default shipping address, or None.

    Every order placement reads it, so it is one `Address.objects.raw()` statement: the same
    rows and types as `filter(...).first()`, at a third of the client time the ORM spent
    building the query (bench/README.md, placement). At most one row can match (a unique
    constraint allows one default shipping address per customer).
    """
    qn = connection.ops.quote_name
    meta = Address._meta
    columns = ", ".join(qn(meta.get_field(name).column) for name in _SHIPPING_FIELDS)
    sql = (
        f"SELECT {columns} FROM {qn(meta.db_table)} "
        f"WHERE {qn(meta.get_field('customer').column)} = %s "
        f"AND {qn(meta.get_field('is_default_shipping').column)} = %s"
    )
    return next(iter(Address.objects.raw(sql, [customer_id, True])), None)
