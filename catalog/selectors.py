"""Reads of catalog and stock data."""

from catalog.models import Product, Stock


def stock_available(*, product: Product) -> int:
    """Units that can still be ordered: on hand minus allocated (0 when there is no stock row)."""
    row = Stock.objects.filter(product_id=product.pk).values_list("on_hand", "allocated").first()
    if row is None:
        return 0
    on_hand, allocated = row
    return on_hand - allocated
