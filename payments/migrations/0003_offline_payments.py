"""Payments staff record by hand: the offline way it was paid (bank transfer, cash, cheque, card
terminal), never together with a saved payment method."""

from django.db import migrations, models

OFFLINE_METHODS = [
    ("bank_transfer", "Bank transfer"),
    ("cash", "Cash"),
    ("cheque", "Cheque"),
    ("card_terminal", "Card terminal"),
]


class Migration(migrations.Migration):
    dependencies = [("payments", "0002_bounds")]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="offline_method",
            field=models.CharField(
                blank=True, choices=OFFLINE_METHODS, max_length=20, verbose_name="paid by"
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("offline_method__in", ["", *(value for value, _ in OFFLINE_METHODS)]),
                    models.Q(("offline_method", ""), ("method__isnull", True), _connector="OR"),
                ),
                name="payment_one_way_of_paying",
                violation_error_message=(
                    "A payment is made by a saved payment method or by an offline way, not both."
                ),
            ),
        ),
    ]
