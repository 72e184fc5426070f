"""Bounds (shop.core.validators: MAX_QUANTITY, MAX_AMOUNT) on order lines and order amounts."""

from decimal import Decimal

import django.core.validators
from django.db import migrations, models

MAX_QUANTITY = 1_000_000
MAX_AMOUNT = Decimal("99999999.99")
QUANTITY_MESSAGE = "The quantity must be a whole number from 1 to 1,000,000."


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_bounds"),
        ("orders", "0003_list_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="orderline",
            name="quantity",
            field=models.IntegerField(
                validators=[
                    django.core.validators.MinValueValidator(1, QUANTITY_MESSAGE),
                    django.core.validators.MaxValueValidator(MAX_QUANTITY, QUANTITY_MESSAGE),
                ]
            ),
        ),
        migrations.AddConstraint(
            model_name="order",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("shipping_cost__lte", MAX_AMOUNT),
                    ("subtotal__lte", MAX_AMOUNT),
                    ("total__lte", MAX_AMOUNT),
                ),
                name="order_amounts_within_limit",
                violation_error_message="An order's total can be at most 99,999,999.99.",
            ),
        ),
        migrations.AddConstraint(
            model_name="orderline",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("line_total__lte", MAX_AMOUNT),
                    ("quantity__lte", MAX_QUANTITY),
                    ("unit_price__lte", MAX_AMOUNT),
                ),
                name="order_line_within_limit",
                violation_error_message=(
                    "An order line has at most 1,000,000 units and a total of at most 99,999,999.99."
                ),
            ),
        ),
    ]
