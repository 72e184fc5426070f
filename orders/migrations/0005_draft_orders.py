"""Draft orders (status `draft`, before `placed`) and the `draft_created` and `edited` events."""

from django.db import migrations, models

STATUSES = [
    ("draft", "Draft"),
    ("placed", "Placed"),
    ("paid", "Paid"),
    ("shipped", "Shipped"),
    ("delivered", "Delivered"),
    ("cancelled", "Cancelled"),
]
EVENT_KINDS = [
    ("draft_created", "Draft created"),
    ("placed", "Placed"),
    ("edited", "Edited"),
    ("payment_captured", "Payment captured"),
    ("paid", "Paid"),
    ("shipped", "Shipped"),
    ("delivered", "Delivered"),
    ("cancelled", "Cancelled"),
    ("refunded", "Refunded"),
    ("note", "Note"),
]


class Migration(migrations.Migration):
    dependencies = [("orders", "0004_bounds")]

    operations = [
        migrations.AlterField(
            model_name="order",
            name="status",
            field=models.CharField(choices=STATUSES, default="placed", max_length=12),
        ),
        migrations.AlterField(
            model_name="orderevent",
            name="from_status",
            field=models.CharField(blank=True, choices=STATUSES, max_length=12),
        ),
        migrations.AlterField(
            model_name="orderevent",
            name="to_status",
            field=models.CharField(blank=True, choices=STATUSES, max_length=12),
        ),
        migrations.AlterField(
            model_name="orderevent",
            name="kind",
            field=models.CharField(choices=EVENT_KINDS, max_length=20),
        ),
        migrations.RemoveConstraint(model_name="order", name="order_status_valid"),
        migrations.AddConstraint(
            model_name="order",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", [value for value, _ in STATUSES])),
                name="order_status_valid",
            ),
        ),
    ]
