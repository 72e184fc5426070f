from shop.core.exceptions import ShopError


class CustomerError(ShopError):
    """A customer request the shop refuses."""


class AlreadyAnonymized(CustomerError):
    """This customer's personal data was already removed."""


class InvalidCustomerDetails(CustomerError):
    """What was given for a customer or an address is not valid. `errors` lists the fields."""

    def __init__(self, message: str, errors=None):
        self.errors = list(errors or [])  # [{"field": name, "message": text}, ...]
        super().__init__(message)


class EmailTaken(CustomerError):
    """Another customer has this email address (regardless of case)."""
