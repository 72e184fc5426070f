"""Money helpers: amounts are Decimal with two places, always beside a currency code."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models

CENT = Decimal("0.01")


def quantize(amount) -> Decimal:
    """Round an amount to cents; accepts Decimal, int or str (never float)."""
    if isinstance(amount, float):
        raise TypeError("Money amounts must not be floats; pass a Decimal or a string.")
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def default_currency() -> str:
    return settings.SHOP_CURRENCY


class MoneyField(models.DecimalField):
    """A Decimal amount with 2 places; the model keeps its currency in a sibling field."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)


class CurrencyField(models.CharField):
    """An ISO 4217 currency code."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 3)
        kwargs.setdefault("default", default_currency)
        super().__init__(*args, **kwargs)


def format_money(amount, currency: str) -> str:
    if amount is None:
        return "—"
    return f"{amount:,.2f} {currency}"
