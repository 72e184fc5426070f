from shop.core.exceptions import ShopError


class CatalogError(ShopError):
    """A catalog or stock request the shop refuses."""


class InvalidQuantity(CatalogError):
    """The quantity must be a whole number of at least 1."""


class QuantityOutOfRange(InvalidQuantity):
    """The quantity is beyond the shop's bounds (shop.core.validators.MAX_QUANTITY)."""


class StockLimitExceeded(CatalogError):
    """The change would leave more on hand than a stock row may hold (MAX_QUANTITY)."""


class InvalidThreshold(CatalogError):
    """A low-stock threshold is a whole number from 0 to MAX_QUANTITY."""


class InvalidPrice(CatalogError):
    """A price is an amount from 0 to MAX_AMOUNT with at most two decimals."""


class CurrencyNotAllowed(CatalogError):
    """Products are priced in the store's currency only."""


class InvalidSku(CatalogError):
    """An SKU is required, has no spaces and at most 64 characters."""


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
