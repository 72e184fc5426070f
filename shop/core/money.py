"""Money helpers: amounts are Decimal with two places, always beside a currency code."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.functional import cached_property

from shop.core.form_fields import AmountField
from shop.core.validators import MAX_AMOUNT, format_bound

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

    @cached_property
    def validators(self):
        # Like IntegerField's range validators: part of the field's kind, not of its migration
        # state. The database's CHECK constraints (amount <= MAX_AMOUNT) back it.
        message = f"An amount can be at most {format_bound(MAX_AMOUNT)}."
        return [*super().validators, MaxValueValidator(MAX_AMOUNT, message)]

    def formfield(self, **kwargs):
        # The form says the range too (and the browser, through the input's min and max); "1e3"
        # or "12abc" are refused naming it.
        kwargs.setdefault("form_class", AmountField)
        if kwargs["form_class"] is AmountField:
            kwargs.setdefault("min_value", Decimal("0"))
            kwargs.setdefault("what", f"The {self.verbose_name}")
        return super().formfield(**kwargs)


class CurrencyField(models.CharField):
    """An ISO 4217 currency code."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 3)
        kwargs.setdefault("default", default_currency)
        super().__init__(*args, **kwargs)


def store_currencies() -> list[str]:
    """The currencies a product may be priced in: the store's own. Orders are placed in the store
    currency only (orders.services refuses anything else), so a product priced otherwise could
    never be sold."""
    return [settings.SHOP_CURRENCY]


def validate_store_currency(value: str) -> None:
    """A product's currency must be the store's (model validation, so forms and imports share it)."""
    allowed = store_currencies()
    if value not in allowed:
        raise ValidationError(
            f"Products are priced in {', '.join(allowed)}, the store's currency, not {value!r}.",
            code="currency",
        )


def format_money(amount, currency: str) -> str:
    if amount is None:
        return "—"
    return f"{amount:,.2f} {currency}"
