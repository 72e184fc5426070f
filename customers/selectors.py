"""Reads of customer data."""

import functools

from django.db import DEFAULT_DB_ALIAS, connection, connections

from customers.models import Address, Customer
from shop.core.db import first_raw, hot_cursor, row_instance, sql_select

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


# Every column of a customer but the computed ones (the database has them; nothing here reads them).
CUSTOMER_FIELDS = tuple(f.name for f in Customer._meta.concrete_fields if not f.generated)


def lock_customer_with_default_address(*, customer_id: int) -> tuple[Customer | None, Address | None]:
    """The customer's row locked for this transaction (`select_for_update()`) and their default
    shipping address, in one statement: (None, None) without such a customer, (customer, None)
    without such an address. Inside a transaction.

    Every order placement without a chosen address needs both; one statement instead of two is
    one round trip and one statement fewer on each placement (bench/README.md, placement). Only
    the customer's row is locked on PostgreSQL (`FOR UPDATE OF`); MariaDB, which cannot name the
    table, also locks the address row it read; SQLite locks the whole database anyway.
    """
    db = connections[DEFAULT_DB_ALIAS]
    with hot_cursor(db) as cursor:
        cursor.execute(_lock_with_address_sql(db.vendor), [True, customer_id])
        columns = tuple(column[0] for column in cursor.description)
        row = cursor.fetchone()
    if row is None:
        return None, None
    split = len(CUSTOMER_FIELDS)
    customer = row_instance(Customer, columns[:split], row[:split], db=db)
    if row[split] is None:  # the address's id: no default shipping address
        return customer, None
    return customer, row_instance(Address, columns[split:], row[split:], db=db)


@functools.lru_cache(maxsize=4)
def _lock_with_address_sql(vendor: str) -> str:
    qn = connection.ops.quote_name

    def qualified(alias, model, names):
        return ", ".join(f"{alias}.{qn(model._meta.get_field(name).column)}" for name in names)

    address = Address._meta
    sql = (
        f"SELECT {qualified('c', Customer, CUSTOMER_FIELDS)}, {qualified('a', Address, _SHIPPING_FIELDS)} "
        f"FROM {qn(Customer._meta.db_table)} c LEFT JOIN {qn(address.db_table)} a "
        f"ON a.{qn(address.get_field('customer').column)} = c.{qn(Customer._meta.pk.column)} "
        f"AND a.{qn(address.get_field('is_default_shipping').column)} = %s "
        f"WHERE c.{qn(Customer._meta.pk.column)} = %s"
    )
    if connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF c"
    elif connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    return sql
