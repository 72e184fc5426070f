"""Fulfilment and returns, last part: every shipment has its Carrier (0007), the text goes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders", "0007_shipment_lines")]

    operations = [
        migrations.RemoveField(model_name="shipment", name="carrier_name"),
        migrations.AlterField(
            model_name="shipment",
            name="carrier",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="shipments", to="orders.carrier"
            ),
        ),
    ]
