"""Packing slips: what goes in a parcel, for the warehouse to pack from and to put in the box.

A slip is of one shipment (what it carried), or of an order that still has units to ship (what
remains: the slip is printed before the parcel is handed over). Read-only; no service writes here.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch

from orders.models import Order, Shipment, ShipmentLine


@dataclass(frozen=True)
class SlipLine:
    sku: str
    name: str
    quantity: int


@dataclass(frozen=True)
class PackingSlip:
    order: Order
    shipment: Shipment | None  # None: the units still to ship
    lines: list[SlipLine]

    @property
    def title(self) -> str:
        return "Packing slip" if self.shipment is not None else "Packing slip: to ship"


def store_context() -> dict:
    return {"store_name": settings.SHOP_STORE_NAME, "store_address": settings.SHOP_STORE_ADDRESS}


def shipment_slip(shipment: Shipment) -> PackingSlip:
    lines = shipment.lines.select_related("order_line").order_by("order_line_id")
    return PackingSlip(
        order=shipment.order,
        shipment=shipment,
        lines=[SlipLine(line.order_line.sku, line.order_line.product_name, line.quantity) for line in lines],
    )


def order_slips(orders) -> list[PackingSlip]:
    """One slip per order: of the units still to ship, or, once all shipped, of its latest
    shipment. A fixed number of queries for any number of orders."""
    shipments = Shipment.objects.select_related("carrier").prefetch_related(
        Prefetch(
            "lines", queryset=ShipmentLine.objects.select_related("order_line").order_by("order_line_id")
        )
    )
    orders = orders.prefetch_related(
        "lines", Prefetch("shipments", queryset=shipments.order_by("-shipped_at", "-id"))
    )
    slips = []
    for order in orders.order_by("created_at", "id"):
        remaining = [
            SlipLine(line.sku, line.product_name, line.quantity_to_ship)
            for line in order.lines.all()
            if line.quantity_to_ship
        ]
        latest = next(iter(order.shipments.all()), None)
        if remaining or latest is None:
            slips.append(PackingSlip(order=order, shipment=None, lines=remaining))
        else:
            lines = [
                SlipLine(line.order_line.sku, line.order_line.product_name, line.quantity)
                for line in latest.lines.all()
            ]
            slips.append(PackingSlip(order=order, shipment=latest, lines=lines))
    return slips
