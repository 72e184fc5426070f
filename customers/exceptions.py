from shop.core.exceptions import ShopError


class CustomerError(ShopError):
    """A customer request the shop refuses."""


class AlreadyAnonymized(CustomerError):
    """This customer's personal data was already removed."""
