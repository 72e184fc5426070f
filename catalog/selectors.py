"""Reads of catalog and stock data."""

from catalog.models import Product, Stock
from shop.core.db import raw_instances, sql_select

# What an order line copies from its product and what placing it checks.
_ORDERING_FIELDS = ("id", "name", "sku", "price", "currency", "is_active")


def stock_available(*, product: Product) -> int:
    """Units that can still be ordered: on hand minus allocated (0 when there is no stock row)."""
    row = Stock.objects.filter(product_id=product.pk).values_list("on_hand", "allocated").first()
    if row is None:
        return 0
    on_hand, allocated = row
    return on_hand - allocated


def products_for_order(*, ids) -> dict[int, Product]:
    """The products an order is about to charge for, by id, as they are now.

    `Product.objects.in_bulk(ids)` as one hand-written statement (`raw_instances`) with the
    columns an order needs (the rest load on first access): every placement runs it, and the ORM spent
    twice the statement's own client time building the query (bench/README.md, placement).
    Ordered as `in_bulk` orders its dict: by the model's ordering (name, then id).
    """
    ids = sorted(set(ids))
    if not ids:
        return {}
    sql = sql_select(Product, _ORDERING_FIELDS, where_in=("pk", len(ids)), order_by=("name", "id"))
    return {product.pk: product for product in raw_instances(Product, sql, ids)}


def products_by_sku(*, skus) -> dict[str, Product]:
    """The products with these SKUs (normalized), by SKU, with the columns an order needs: what
    the storefront API resolves an order's lines with, in one raw statement as
    `products_for_order` (the rest load on first access)."""
    skus = sorted(set(skus))
    if not skus:
        return {}
    sql = sql_select(Product, _ORDERING_FIELDS, where_in=("sku", len(skus)))
    return {product.sku: product for product in raw_instances(Product, sql, skus)}
