"""Bounds (shop.core.validators: MAX_AMOUNT) on payments; the refunded amount stays within it."""

from decimal import Decimal

from django.db import migrations, models

MAX_AMOUNT = Decimal("99999999.99")


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0001_initial"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__lte", MAX_AMOUNT)),
                name="payment_amount_within_limit",
                violation_error_message="A payment can be at most 99,999,999.99.",
            ),
        ),
    ]
