from shop.core.exceptions import ShopError


class PaymentError(ShopError):
    """A payment request the shop refuses."""


class PaymentMethodNotOwned(PaymentError):
    """The payment method belongs to another customer."""


class PaymentMethodExpired(PaymentError):
    """The card has expired."""


class InvalidAmount(PaymentError):
    """The amount is not positive or exceeds what is owed."""


class RefundNotAllowed(PaymentError):
    """The payment cannot be refunded (not captured, or already fully refunded)."""


class InvalidPaymentDetails(PaymentError):
    """How the payment was made, or its reference, is not acceptable (e.g. a card number).

    `errors` lists the fields refused ([{"field": name, "message": text}]), when known."""

    def __init__(self, message: str = "", errors=None):
        self.errors = list(errors or [])
        super().__init__(message)
