"""Fulfilment and returns, schema part: carriers as data, several shipments per order with their
lines, returns with their lines, the shipped/returned counters on order lines and the new
statuses. 0007 fills the new tables from the old one-shipment-per-order rows, 0008 makes the
carrier required."""

import django.core.validators
import django.db.models.deletion
import shop.core.money
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_bounds"),
        ("customers", "0002_anonymize_permission"),
        ("orders", "0005_draft_orders"),
        ("payments", "0003_offline_payments"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Carrier",
            fields=[
                ("code", models.SlugField(max_length=30, primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=50, unique=True)),
                (
                    "tracking_url",
                    models.CharField(
                        blank=True,
                        help_text="A web address with {tracking_number} where the number goes, e.g. https://www.ups.com/track?tracknum={tracking_number}",
                        max_length=300,
                        verbose_name="tracking link pattern",
                    ),
                ),
                (
                    "tracked",
                    models.BooleanField(default=True, help_text="Its shipments need a tracking number."),
                ),
                ("active", models.BooleanField(default=True, help_text="Offered when shipping.")),
            ],
            options={
                "ordering": ["name"],
            },
        ),
        migrations.CreateModel(
            name="Return",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reason", models.CharField(blank=True, max_length=500)),
                (
                    "currency",
                    shop.core.money.CurrencyField(default=shop.core.money.default_currency, max_length=3),
                ),
                ("refund_requested", models.BooleanField(default=True, verbose_name="refund")),
                ("refund_shipping", models.BooleanField(default=False)),
                ("refunded_amount", shop.core.money.MoneyField(decimal_places=2, default=0, max_digits=12)),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="returned at")),
            ],
            options={
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="ReturnLine",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "quantity",
                    models.IntegerField(
                        validators=[
                            django.core.validators.MinValueValidator(
                                1, "The quantity must be a whole number from 1 to 1,000,000."
                            ),
                            django.core.validators.MaxValueValidator(
                                1000000, "The quantity must be a whole number from 1 to 1,000,000."
                            ),
                        ]
                    ),
                ),
                ("restocked", models.BooleanField(default=True)),
            ],
            options={
                "ordering": ["return_record_id", "order_line_id"],
            },
        ),
        migrations.CreateModel(
            name="ShipmentLine",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "quantity",
                    models.IntegerField(
                        validators=[
                            django.core.validators.MinValueValidator(
                                1, "The quantity must be a whole number from 1 to 1,000,000."
                            ),
                            django.core.validators.MaxValueValidator(
                                1000000, "The quantity must be a whole number from 1 to 1,000,000."
                            ),
                        ]
                    ),
                ),
            ],
            options={
                "ordering": ["shipment_id", "order_line_id"],
            },
        ),
        migrations.AlterModelOptions(
            name="order",
            options={
                "ordering": ["-created_at", "-id"],
                "permissions": [
                    ("ship_order", "Can mark orders shipped"),
                    ("deliver_order", "Can mark orders delivered"),
                    ("cancel_order", "Can cancel orders"),
                    ("return_order", "Can take back returned items"),
                    ("view_revenue", "Can see revenue figures"),
                ],
            },
        ),
        migrations.RemoveConstraint(
            model_name="order",
            name="order_status_valid",
        ),
        migrations.AddField(
            model_name="orderline",
            name="quantity_returned",
            field=models.IntegerField(default=0, editable=False, verbose_name="returned"),
        ),
        migrations.AddField(
            model_name="orderline",
            name="quantity_shipped",
            field=models.IntegerField(default=0, editable=False, verbose_name="shipped"),
        ),
        # The carrier was free text: kept as carrier_name until 0007 has matched it to a Carrier.
        migrations.RenameField(model_name="shipment", old_name="carrier", new_name="carrier_name"),
        migrations.AlterField(
            model_name="order",
            name="status",
            field=models.CharField(
                choices=[
                    ("draft", "Draft"),
                    ("placed", "Placed"),
                    ("paid", "Paid"),
                    ("partially_shipped", "Partially shipped"),
                    ("shipped", "Shipped"),
                    ("delivered", "Delivered"),
                    ("partially_returned", "Partially returned"),
                    ("returned", "Returned"),
                    ("cancelled", "Cancelled"),
                ],
                default="placed",
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="orderevent",
            name="from_status",
            field=models.CharField(
                blank=True,
                choices=[
                    ("draft", "Draft"),
                    ("placed", "Placed"),
                    ("paid", "Paid"),
                    ("partially_shipped", "Partially shipped"),
                    ("shipped", "Shipped"),
                    ("delivered", "Delivered"),
                    ("partially_returned", "Partially returned"),
                    ("returned", "Returned"),
                    ("cancelled", "Cancelled"),
                ],
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="orderevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("draft_created", "Draft created"),
                    ("placed", "Placed"),
                    ("edited", "Edited"),
                    ("payment_captured", "Payment captured"),
                    ("paid", "Paid"),
                    ("shipped", "Shipped"),
                    ("delivered", "Delivered"),
                    ("cancelled", "Cancelled"),
                    ("refunded", "Refunded"),
                    ("returned", "Returned"),
                    ("note", "Note"),
                ],
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="orderevent",
            name="to_status",
            field=models.CharField(
                blank=True,
                choices=[
                    ("draft", "Draft"),
                    ("placed", "Placed"),
                    ("paid", "Paid"),
                    ("partially_shipped", "Partially shipped"),
                    ("shipped", "Shipped"),
                    ("delivered", "Delivered"),
                    ("partially_returned", "Partially returned"),
                    ("returned", "Returned"),
                    ("cancelled", "Cancelled"),
                ],
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="shipment",
            name="order",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="shipments",
                related_query_name="shipment",
                to="orders.order",
            ),
        ),
        migrations.AlterField(
            model_name="shipment",
            name="tracking_number",
            field=models.CharField(blank=True, db_index=True, max_length=100),
        ),
        migrations.AddConstraint(
            model_name="order",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "status__in",
                        [
                            "draft",
                            "placed",
                            "paid",
                            "partially_shipped",
                            "shipped",
                            "delivered",
                            "partially_returned",
                            "returned",
                            "cancelled",
                        ],
                    )
                ),
                name="order_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="orderline",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("quantity_returned__gte", 0),
                    ("quantity_shipped__gte", models.F("quantity_returned")),
                    ("quantity__gte", models.F("quantity_shipped")),
                ),
                name="order_line_returned_le_shipped_le_ordered",
                violation_error_message="A line ships at most what was ordered and takes back at most what shipped.",
            ),
        ),
        migrations.AddConstraint(
            model_name="carrier",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("tracking_url", ""),
                    models.Q(
                        ("tracking_url__contains", "{tracking_number}"),
                        models.Q(
                            ("tracking_url__startswith", "https://"),
                            ("tracking_url__startswith", "http://"),
                            _connector="OR",
                        ),
                    ),
                    _connector="OR",
                ),
                name="carrier_tracking_url_has_placeholder",
                violation_error_message=(
                    "The tracking link pattern is a web address (https://…) with {tracking_number} "
                    "where the number goes."
                ),
            ),
        ),
        migrations.AddField(
            model_name="shipment",
            name="carrier",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="shipments",
                to="orders.carrier",
            ),
        ),
        migrations.AddIndex(
            model_name="shipment",
            index=models.Index(fields=["order", "shipped_at"], name="shipment_order_idx"),
        ),
        migrations.AddField(
            model_name="return",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="return",
            name="order",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="returns", to="orders.order"
            ),
        ),
        migrations.AddField(
            model_name="returnline",
            name="order_line",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="return_lines",
                to="orders.orderline",
            ),
        ),
        migrations.AddField(
            model_name="returnline",
            name="return_record",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="lines", to="orders.return"
            ),
        ),
        migrations.AddField(
            model_name="shipmentline",
            name="order_line",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="shipment_lines",
                to="orders.orderline",
            ),
        ),
        migrations.AddField(
            model_name="shipmentline",
            name="shipment",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="lines", to="orders.shipment"
            ),
        ),
        migrations.AddIndex(
            model_name="return",
            index=models.Index(fields=["-created_at", "-id"], name="return_created_idx"),
        ),
        migrations.AddIndex(
            model_name="return",
            index=models.Index(fields=["order", "created_at"], name="return_order_idx"),
        ),
        migrations.AddConstraint(
            model_name="return",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("refunded_amount__gte", 0), ("refunded_amount__lte", Decimal("99999999.99"))
                ),
                name="return_refund_within_limit",
            ),
        ),
        migrations.AddConstraint(
            model_name="returnline",
            constraint=models.UniqueConstraint(
                fields=("return_record", "order_line"), name="return_line_once"
            ),
        ),
        migrations.AddConstraint(
            model_name="returnline",
            constraint=models.CheckConstraint(
                condition=models.Q(("quantity__gt", 0), ("quantity__lte", 1000000)),
                name="return_line_quantity_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="shipmentline",
            constraint=models.UniqueConstraint(fields=("shipment", "order_line"), name="shipment_line_once"),
        ),
        migrations.AddConstraint(
            model_name="shipmentline",
            constraint=models.CheckConstraint(
                condition=models.Q(("quantity__gt", 0), ("quantity__lte", 1000000)),
                name="shipment_line_quantity_valid",
            ),
        ),
    ]
