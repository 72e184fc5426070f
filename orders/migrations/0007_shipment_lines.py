"""Fulfilment and returns, data part: every shipment so far was the whole order, so it becomes one
shipment with all the order's lines, each line counted as shipped; its carrier, free text until
now, becomes a Carrier (the standard ones, and one per other name found).

Backwards: the lines and counters go and the carrier's name goes back into the text column.
That is only possible while every order has at most one shipment of all its lines and nothing
was returned; otherwise it stops, naming an order, and changes nothing."""

from django.db import migrations
from django.db.models import Count, F
from django.utils.text import slugify

# Frozen copy of orders.carriers.STANDARD_CARRIERS as it was when this migration was written.
STANDARD_CARRIERS = (
    ("ups", "UPS", "https://www.ups.com/track?tracknum={tracking_number}", True),
    ("usps", "USPS", "https://tools.usps.com/go/TrackConfirmAction?tLabels={tracking_number}", True),
    ("fedex", "FedEx", "https://www.fedex.com/fedextrack/?trknbr={tracking_number}", True),
    ("dhl", "DHL", "https://www.dhl.com/en/express/tracking.html?AWB={tracking_number}", True),
    (
        "royal-mail",
        "Royal Mail",
        "https://www.royalmail.com/track-your-item#/tracking-results/{tracking_number}",
        True,
    ),  # noqa: E501
    ("courier", "Local courier", "", False),
)
BATCH = 2000


def forwards(apps, schema_editor):
    db = schema_editor.connection.alias
    Carrier = apps.get_model("orders", "Carrier")
    Shipment = apps.get_model("orders", "Shipment")
    ShipmentLine = apps.get_model("orders", "ShipmentLine")
    OrderLine = apps.get_model("orders", "OrderLine")

    carriers = Carrier.objects.using(db)
    for code, name, url, tracked in STANDARD_CARRIERS:
        if not carriers.filter(code=code).exists() and not carriers.filter(name__iexact=name).exists():
            carriers.create(code=code, name=name, tracking_url=url, tracked=tracked)
    by_name = {carrier.name.lower(): carrier for carrier in carriers.all()}
    names = list(Shipment.objects.using(db).values_list("carrier_name", flat=True).distinct())
    for name in names:
        shown = (name or "").strip() or "Unknown"
        carrier = by_name.get(shown.lower())
        if carrier is None:
            base = slugify(shown)[:26] or "carrier"
            code, n = base, 1
            while carriers.filter(code=code).exists():
                n += 1
                code = f"{base}-{n}"
            carrier = by_name[shown.lower()] = carriers.create(code=code, name=shown[:50])
        Shipment.objects.using(db).filter(carrier_name=name).update(carrier=carrier)

    # One shipment per order so far: all its lines, whole.
    shipments = Shipment.objects.using(db).order_by("pk").values_list("pk", "order_id")
    last = 0
    while True:
        batch = list(shipments.filter(pk__gt=last)[:BATCH])
        if not batch:
            break
        last = batch[-1][0]
        shipment_of = dict((order_id, pk) for pk, order_id in batch)
        lines = OrderLine.objects.using(db).filter(order_id__in=shipment_of)
        ShipmentLine.objects.using(db).bulk_create(
            ShipmentLine(shipment_id=shipment_of[order_id], order_line_id=pk, quantity=quantity)
            for pk, order_id, quantity in lines.values_list("pk", "order_id", "quantity")
        )
        lines.update(quantity_shipped=F("quantity"))


def refuse_unless_reversible(apps, schema_editor):
    """Stop a back-migration, before anything is changed, while some order has more than the
    one-shipment-per-order schema can hold. 0008 runs it first when migrating back."""
    db = schema_editor.connection.alias
    Order = apps.get_model("orders", "Order")
    OrderLine = apps.get_model("orders", "OrderLine")
    Return = apps.get_model("orders", "Return")
    new_statuses = ("partially_shipped", "partially_returned", "returned")
    blocked = (
        Order.objects.using(db).filter(status__in=new_statuses).values_list("number", flat=True).first()
        or Order.objects.using(db)
        .annotate(n=Count("shipment"))
        .filter(n__gt=1)
        .values_list("number", flat=True)
        .first()
        or Return.objects.using(db).values_list("order__number", flat=True).first()
        or OrderLine.objects.using(db)
        .filter(order__shipment__isnull=False)
        .exclude(quantity_shipped=F("quantity"))
        .values_list("order__number", flat=True)
        .first()
    )
    if blocked:
        raise RuntimeError(
            f"Order {blocked} has partial shipments or returns, which the one-shipment-per-order "
            "schema cannot hold: not migrated back, nothing changed."
        )


def backwards(apps, schema_editor):
    db = schema_editor.connection.alias
    Shipment = apps.get_model("orders", "Shipment")
    ShipmentLine = apps.get_model("orders", "ShipmentLine")
    OrderLine = apps.get_model("orders", "OrderLine")
    refuse_unless_reversible(apps, schema_editor)
    ShipmentLine.objects.using(db).all().delete()
    OrderLine.objects.using(db).update(quantity_shipped=0, quantity_returned=0)
    for shipment in Shipment.objects.using(db).select_related("carrier").only("pk", "carrier__name"):
        Shipment.objects.using(db).filter(pk=shipment.pk).update(carrier_name=shipment.carrier.name)


class Migration(migrations.Migration):
    dependencies = [("orders", "0006_fulfilment")]

    operations = [migrations.RunPython(forwards, backwards)]
