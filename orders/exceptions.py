from shop.core.exceptions import ShopError


class OrderError(ShopError):
    """An order request the shop refuses."""


class InvalidTransition(OrderError):
    """The order's status does not allow this change."""

    def __init__(self, order, requested: str):
        self.order = order
        self.current = order.status
        self.requested = requested
        label = str(order)
        super().__init__(
            f"Order {label} is {order.get_status_display().lower()}; it cannot become "
            f"{requested}. Nothing was changed."
        )


class EmptyOrder(OrderError):
    """An order needs at least one line."""


class MissingShippingAddress(OrderError):
    """The order needs a shipping address and the customer has no default one."""


class AddressNotOwned(OrderError):
    """The shipping address belongs to another customer."""


class CurrencyMismatch(OrderError):
    """The products are priced in a currency other than the store's."""


class InvalidShipment(OrderError):
    """A shipment needs a carrier and a tracking number."""


class OpenOrdersNotDeleted(OrderError):
    """A plain delete of open orders, whose allocated stock only orders_delete gives back."""
