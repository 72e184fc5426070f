"""Form fields for the numbers staff type: quantities and amounts within the shop's bounds.

Each says its range in the browser (the input's min and max) and in every refusal: "1e3",
"12abc", -1 or 99999999999999999999 in a quantity all get "The quantity must be a whole number
from 1 to 1,000,000, not ...", never a 500 and never a number the database cannot hold.
The bounds are shop.core.validators' (MAX_QUANTITY, MAX_AMOUNT), as in the models, the services,
the imports and the database's CHECK constraints.
"""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from shop.core.validators import (
    MAX_AMOUNT,
    MAX_QUANTITY,
    bound_message,
    parse_bounded_amount,
    parse_bounded_integer,
)


class QuantityField(forms.IntegerField):
    """A whole number from `min_value` (default 1) to `max_value` (default MAX_QUANTITY)."""

    def __init__(self, *, min_value=1, max_value=MAX_QUANTITY, what: str = "The quantity", **kwargs):
        self.what = what
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        return parse_bounded_integer(value, self.min_value, self.max_value, self.what)

    def run_validators(self, value):
        # to_python already refused anything outside the range, with the message naming it.
        if value is not None and not self.min_value <= value <= self.max_value:
            raise ValidationError(bound_message(self.what, self.min_value, self.max_value, value))


class AmountField(forms.DecimalField):
    """An amount with at most two decimals, from `min_value` (default 0.01) to MAX_AMOUNT."""

    def __init__(
        self, *, min_value=Decimal("0.01"), max_value=MAX_AMOUNT, what: str = "The amount", **kwargs
    ):
        self.what = what
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, Decimal):
            value = format(value, "f")
        return parse_bounded_amount(value, Decimal(self.min_value), Decimal(self.max_value), self.what)

    def run_validators(self, value):
        if value is not None and not self.min_value <= value <= self.max_value:
            raise ValidationError(bound_message(self.what, self.min_value, self.max_value, value))
