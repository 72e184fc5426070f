"""Rows written and read at a given migration state, for tests/test_migrations.py.

Each function runs inside `manage.py shell` against the throwaway database, with the models as
they were at that state (the current models may not match the schema there), and prints its
result as one line of JSON.
"""

import datetime
import json
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.migrations.loader import MigrationLoader

SHIPPED_AT = datetime.datetime(2026, 10, 1, 9, 30, tzinfo=datetime.UTC)
DELIVERED_AT = datetime.datetime(2026, 10, 3, 15, 0, tzinfo=datetime.UTC)

# The orders of every status before fulfilment (orders 0005), with the free-text carrier of the
# shipped and delivered ones: a standard one by name, one by name in another case, one unknown.
ORDERS_0005 = [
    ("SO-000001", "draft", None),
    ("SO-000002", "placed", None),
    ("SO-000003", "paid", None),
    ("SO-000004", "shipped", "UPS"),
    ("SO-000005", "delivered", "royal mail"),
    ("SO-000006", "cancelled", None),
    ("SO-000007", "delivered", "Hermes Parcelnet"),
]


def models_at(migration: str):
    """The orders app's (and its dependencies') models as of orders `migration`."""
    return MigrationLoader(connection).project_state(("orders", migration)).apps


def emit(value) -> None:
    print(json.dumps(value, default=str, sort_keys=True))


def seed_0005() -> None:
    """Orders in every old status, each with two lines; shipped and delivered ones with their
    one shipment (carrier as text)."""
    apps = models_at("0005_draft_orders")
    ProductType = apps.get_model("catalog", "ProductType")
    Product = apps.get_model("catalog", "Product")
    Customer = apps.get_model("customers", "Customer")
    Order = apps.get_model("orders", "Order")
    OrderLine = apps.get_model("orders", "OrderLine")
    Shipment = apps.get_model("orders", "Shipment")

    kind = ProductType.objects.create(name="Migrated")
    products = [
        Product.objects.create(name=f"Old {i}", sku=f"OLD-{i}", product_type=kind, price=Decimal("5.00"))
        for i in range(2)
    ]
    customer = Customer.objects.create(first_name="Old", last_name="Customer", email="old@example.com")
    for n, (number, status, carrier) in enumerate(ORDERS_0005):
        order = Order.objects.create(
            number=number,
            customer=customer,
            status=status,
            currency="USD",
            subtotal=Decimal("25.00"),
            shipping_cost=Decimal("0.00"),
            total=Decimal("25.00"),
        )
        for product, quantity in zip(products, (2, 3), strict=True):
            OrderLine.objects.create(
                order=order,
                product=product,
                product_name=product.name,
                sku=product.sku,
                unit_price=product.price,
                quantity=quantity,
                line_total=product.price * quantity,
            )
        if carrier:
            delivered = status == "delivered"
            Shipment.objects.create(
                order=order,
                carrier=carrier,
                tracking_number=f"TRACK-{n}",
                status="delivered" if delivered else "in_transit",
                shipped_at=SHIPPED_AT,
                delivered_at=DELIVERED_AT if delivered else None,
            )
    emit(read_0005())


def read_0005() -> dict:
    """Each order's status, lines and shipment in the old shape."""
    apps = models_at("0005_draft_orders")
    Order = apps.get_model("orders", "Order")
    Shipment = apps.get_model("orders", "Shipment")
    shipments = {
        s.order_id: [s.carrier, s.tracking_number, s.status, s.shipped_at, s.delivered_at]
        for s in Shipment.objects.all()
    }
    return {
        order.number: {
            "status": order.status,
            "lines": sorted([line.sku, line.quantity] for line in order.lines.all()),
            "shipment": shipments.get(order.pk),
        }
        for order in Order.objects.all()
    }


def check_0005() -> None:
    """The old shape, and whether a second shipment for one order is still refused (one-to-one)."""
    apps = models_at("0005_draft_orders")
    Order = apps.get_model("orders", "Order")
    Shipment = apps.get_model("orders", "Shipment")
    try:
        with transaction.atomic():
            Shipment.objects.create(
                order=Order.objects.get(number="SO-000004"),
                carrier="UPS",
                tracking_number="SECOND",
                shipped_at=SHIPPED_AT,
            )
        second_refused = False
    except IntegrityError:
        second_refused = True
    emit({"orders": read_0005(), "second_shipment_refused": second_refused})


def read_0008() -> dict:
    """Each order's status, lines with their counters, and shipments with their lines; the carriers."""
    apps = models_at("0008_carrier_required")
    Order = apps.get_model("orders", "Order")
    Carrier = apps.get_model("orders", "Carrier")
    orders = {}
    for order in Order.objects.all():
        shipments = [
            {
                "carrier": shipment.carrier_id,
                "tracking_number": shipment.tracking_number,
                "status": shipment.status,
                "shipped_at": shipment.shipped_at,
                "delivered_at": shipment.delivered_at,
                "lines": sorted([line.order_line.sku, line.quantity] for line in shipment.lines.all()),
            }
            for shipment in order.shipments.order_by("pk")
        ]
        orders[order.number] = {
            "status": order.status,
            "lines": sorted(
                [line.sku, line.quantity, line.quantity_shipped, line.quantity_returned]
                for line in order.lines.all()
            ),
            "shipments": shipments,
        }
    carriers = {c.code: [c.name, c.tracked, c.active] for c in Carrier.objects.all()}
    return {"orders": orders, "carriers": carriers}


def check_0008() -> None:
    emit(read_0008())


def ship_in_two_0008() -> None:
    """The paid order shipped in two parcels: what the one-shipment schema cannot hold."""
    apps = models_at("0008_carrier_required")
    Order = apps.get_model("orders", "Order")
    Shipment = apps.get_model("orders", "Shipment")
    ShipmentLine = apps.get_model("orders", "ShipmentLine")
    order = Order.objects.get(number="SO-000003")
    for line in order.lines.order_by("pk"):
        shipment = Shipment.objects.create(
            order=order, carrier_id="ups", tracking_number=f"PART-{line.pk}", shipped_at=SHIPPED_AT
        )
        ShipmentLine.objects.create(shipment=shipment, order_line=line, quantity=line.quantity)
        type(line).objects.filter(pk=line.pk).update(quantity_shipped=line.quantity)
    Order.objects.filter(pk=order.pk).update(status="shipped")
    emit(read_0008())
