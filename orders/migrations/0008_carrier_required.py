"""Fulfilment and returns, last part: every shipment has its Carrier (0007), the text goes.

Migrating back, the first step is 0007's check (the last operation here) (an order with several shipments, a partial
status or a return cannot go back): refused before any column changes, on every database
(MariaDB cannot roll back a schema change)."""

import importlib

import django.db.models.deletion
from django.db import migrations, models

shipment_lines = importlib.import_module("orders.migrations.0007_shipment_lines")


class Migration(migrations.Migration):
    dependencies = [("orders", "0007_shipment_lines")]

    operations = [
        # Blank allowed first (no change to the column): migrating back re-adds the column to
        # shipments that exist, which needs a value for them ("" until 0007 writes the name).
        migrations.AlterField(
            model_name="shipment", name="carrier_name", field=models.CharField(blank=True, max_length=50)
        ),
        migrations.RemoveField(model_name="shipment", name="carrier_name"),
        migrations.AlterField(
            model_name="shipment",
            name="carrier",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="shipments", to="orders.carrier"
            ),
        ),
        # Last, so that migrating back runs it first.
        migrations.RunPython(migrations.RunPython.noop, shipment_lines.refuse_unless_reversible),
    ]
