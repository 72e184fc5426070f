"""Bounds (shop.core.validators: MAX_QUANTITY, MAX_AMOUNT) and normalized SKUs, in the database.

Existing SKUs are normalized first (capitals, spaces as dashes); one that would then clash with
another product's gets its id appended, so that no product is lost or merged. A row already
outside the bounds stops the migration naming it: such a figure cannot be corrected by guessing.
"""

import re
from decimal import Decimal

import django.core.validators
import django.db.models.functions.text
import django.db.models.lookups
from django.db import migrations, models

import shop.core.expressions
import shop.core.money
import shop.core.validators

MAX_QUANTITY = 1_000_000
MAX_AMOUNT = Decimal("99999999.99")


def _sku(value: str) -> str:
    return re.sub(r"\s+", "-", value.strip()).upper()


def normalize_existing(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    Stock = apps.get_model("catalog", "Stock")
    StockMovement = apps.get_model("catalog", "StockMovement")
    rows = list(Product.objects.order_by("pk").values_list("pk", "sku"))
    used = {sku for _, sku in rows if sku == _sku(sku)}
    for pk, old in rows:
        sku = _sku(old)
        if sku == old:
            continue
        if not sku or sku in used:
            sku = f"{sku}-{pk}".lstrip("-")[-64:]
        used.add(sku)
        Product.objects.filter(pk=pk).update(sku=sku)
    for pk, currency in Product.objects.values_list("pk", "currency"):
        if currency != currency.strip().upper():
            Product.objects.filter(pk=pk).update(currency=currency.strip().upper())
    problems = [
        f"product {pk} (price {price})"
        for pk, price in Product.objects.filter(price__gt=MAX_AMOUNT).values_list("pk", "price")
    ]
    problems += [
        f"product {pk} (currency {currency!r})"
        for pk, currency in Product.objects.values_list("pk", "currency")
        if len(currency) != 3
    ]
    problems += [
        f"stock of product {pk}"
        for pk in Stock.objects.filter(
            models.Q(on_hand__gt=MAX_QUANTITY) | models.Q(low_stock_threshold__gt=MAX_QUANTITY)
        ).values_list("pk", flat=True)
    ]
    problems += [
        f"stock movement {pk}"
        for pk in StockMovement.objects.filter(
            models.Q(on_hand_delta__gt=MAX_QUANTITY)
            | models.Q(on_hand_delta__lt=-MAX_QUANTITY)
            | models.Q(allocated_delta__gt=MAX_QUANTITY)
            | models.Q(allocated_delta__lt=-MAX_QUANTITY)
        ).values_list("pk", flat=True)
    ]
    if problems:
        raise RuntimeError(
            f"These rows are beyond the shop's limits ({MAX_QUANTITY:,} units, {MAX_AMOUNT:,} per "
            f"amount); correct them, then migrate again: {', '.join(problems[:20])}."
        )


def _quantity_validators(minimum, what):
    message = f"{what} must be a whole number from {minimum:,} to {MAX_QUANTITY:,}."
    return [
        django.core.validators.MinValueValidator(minimum, message),
        django.core.validators.MaxValueValidator(MAX_QUANTITY, message),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(normalize_existing, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="product",
            name="currency",
            field=shop.core.money.CurrencyField(
                default=shop.core.money.default_currency,
                max_length=3,
                validators=[shop.core.money.validate_store_currency],
            ),
        ),
        migrations.AlterField(
            model_name="product",
            name="sku",
            field=models.CharField(
                max_length=64, unique=True, validators=[shop.core.validators.validate_sku], verbose_name="SKU"
            ),
        ),
        migrations.AlterField(
            model_name="stock",
            name="allocated",
            field=models.IntegerField(default=0, validators=_quantity_validators(0, "Allocated stock")),
        ),
        migrations.AlterField(
            model_name="stock",
            name="low_stock_threshold",
            field=models.IntegerField(
                default=5, validators=_quantity_validators(0, "The low-stock threshold")
            ),
        ),
        migrations.AlterField(
            model_name="stock",
            name="on_hand",
            field=models.IntegerField(default=0, validators=_quantity_validators(0, "Stock on hand")),
        ),
        migrations.AlterField(
            model_name="stockmovement",
            name="allocated_delta",
            field=models.IntegerField(
                default=0,
                validators=_quantity_validators(-MAX_QUANTITY, "A change"),
                verbose_name="allocated change",
            ),
        ),
        migrations.AlterField(
            model_name="stockmovement",
            name="on_hand_delta",
            field=models.IntegerField(
                default=0,
                validators=_quantity_validators(-MAX_QUANTITY, "A change"),
                verbose_name="on hand change",
            ),
        ),
        migrations.AddConstraint(
            model_name="product",
            constraint=models.CheckConstraint(
                condition=models.Q(("price__lte", MAX_AMOUNT)),
                name="product_price_within_limit",
                violation_error_message="The price can be at most 99,999,999.99.",
            ),
        ),
        migrations.AddConstraint(
            model_name="product",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    django.db.models.lookups.Exact(
                        shop.core.expressions.CaseSensitive("sku"),
                        django.db.models.functions.text.Upper("sku"),
                    ),
                    models.Q(("sku__contains", " "), _negated=True),
                    models.Q(("sku__contains", "\t"), _negated=True),
                    models.Q(("sku__contains", "\n"), _negated=True),
                    models.Q(("sku__contains", "\r"), _negated=True),
                ),
                name="product_sku_normalized",
                violation_error_message="An SKU is written in capitals, without spaces.",
            ),
        ),
        migrations.AddConstraint(
            model_name="product",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    django.db.models.lookups.Exact(
                        shop.core.expressions.CaseSensitive("currency"),
                        django.db.models.functions.text.Upper("currency"),
                    ),
                    django.db.models.lookups.Exact(django.db.models.functions.text.Length("currency"), 3),
                ),
                name="product_currency_is_a_code",
                violation_error_message="A currency is a three-letter code such as USD.",
            ),
        ),
        migrations.AddConstraint(
            model_name="stock",
            constraint=models.CheckConstraint(
                condition=models.Q(("on_hand__lte", MAX_QUANTITY)),
                name="stock_on_hand_within_limit",
                violation_error_message="Stock on hand can be at most 1,000,000.",
            ),
        ),
        migrations.AddConstraint(
            model_name="stock",
            constraint=models.CheckConstraint(
                condition=models.Q(("low_stock_threshold__lte", MAX_QUANTITY)),
                name="stock_threshold_within_limit",
                violation_error_message="The low-stock threshold can be at most 1,000,000.",
            ),
        ),
        migrations.AddConstraint(
            model_name="stockmovement",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("on_hand_delta__gte", -MAX_QUANTITY),
                    ("on_hand_delta__lte", MAX_QUANTITY),
                    ("allocated_delta__gte", -MAX_QUANTITY),
                    ("allocated_delta__lte", MAX_QUANTITY),
                ),
                name="movement_within_limit",
                violation_error_message="A stock movement changes at most 1,000,000 units.",
            ),
        ),
    ]
