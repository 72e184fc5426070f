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


class OrderTooLarge(OrderError):
    """The order's total would be more than an order can hold (shop.core.validators.MAX_AMOUNT)."""


class EmptyOrder(OrderError):
    """An order needs at least one line."""


class UnknownCustomer(OrderError):
    """The order is for a customer who does not exist (any more)."""


class UnknownSku(OrderError):
    """An order line names a SKU no product has."""

    def __init__(self, skus):
        self.skus = list(skus)
        super().__init__(f"There is no product with the SKU {', '.join(self.skus)}.")


class MissingShippingAddress(OrderError):
    """The order needs a shipping address and the customer has no default one."""


class AddressNotOwned(OrderError):
    """The shipping address belongs to another customer."""


class CurrencyMismatch(OrderError):
    """The products are priced in a currency other than the store's."""


class InvalidShipment(OrderError):
    """A shipment the shop refuses: no carrier, no tracking number for a tracked carrier, more
    units than remain to ship, a delivery date in the future or before it shipped."""


class InvalidReturn(OrderError):
    """A return the shop refuses: more units than were shipped and not yet returned, a line of
    another order, an order that has shipped nothing."""


class PartiallyShippedNotCancelled(OrderError):
    """Part of the order is with the customer: it is not cancelled as a whole."""

    def __init__(self, order):
        self.order = order
        super().__init__(
            f"Order {order} is partially shipped, so it cannot be cancelled: ship the remaining units, "
            'then take back what the customer returns with "Return items". Nothing was changed.'
        )


class CustomerHasOpenOrders(OrderError):
    """A customer is not anonymized while orders of theirs are still to ship (placed or paid):
    they would ship to "[removed]". Names the orders; ship or cancel them first."""

    SHOWN = 10  # orders named in the message; the rest are counted

    def __init__(self, customer, orders):
        self.customer = customer
        self.orders = list(orders)  # [(number, status display), ...]
        named = ", ".join(f"{number} ({status.lower()})" for number, status in self.orders[: self.SHOWN])
        if len(self.orders) > self.SHOWN:
            named += f" and {len(self.orders) - self.SHOWN} more"
        count = len(self.orders)
        super().__init__(
            f"Customer #{customer.pk} has {count} open order{'' if count == 1 else 's'} not yet "
            f"shipped or cancelled: {named}. Ship or cancel {'it' if count == 1 else 'them'} "
            "first; nothing was changed."
        )


class OpenOrdersNotDeleted(OrderError):
    """A plain delete of open orders, whose allocated stock only orders_delete gives back."""


class NotADraft(OrderError):
    """The draft services work only on draft orders (a placed order is edited with order_edit)."""


class OrderNotEditable(OrderError):
    """Only a placed order (not yet paid, shipped, delivered or cancelled) can be edited."""


class EditBelowPaid(OrderError):
    """The edit would make the order's total less than what was already paid for it."""
