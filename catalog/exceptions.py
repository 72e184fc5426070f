from shop.core.exceptions import ShopError


class CatalogError(ShopError):
    """A catalog or stock request the shop refuses."""


class InvalidQuantity(CatalogError):
    """The quantity must be a whole number of at least 1."""


class StockBelowAllocated(CatalogError):
    """The change would leave less on hand than is allocated to open orders."""


class ProductInactive(CatalogError):
    """The product is not active and cannot be ordered."""


class InsufficientStock(CatalogError):
    """Not enough stock is available. `shortages` lists every short product."""

    def __init__(self, shortages):
        # shortages: list of (product, requested, available)
        self.shortages = list(shortages)
        details = "; ".join(
            f"{product.name} ({product.sku}): requested {requested}, available {available}"
            for product, requested, available in self.shortages
        )
        super().__init__(f"Not enough stock for {details}.")
