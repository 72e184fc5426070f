"""Validators shared by the apps."""

import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator

_DIGIT_RUN = re.compile(r"(?:\d[ -]?){13,19}")


def luhn_valid(digits: str) -> bool:
    """Return True when `digits` passes the Luhn checksum used by payment card numbers."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def contains_card_number(value: str) -> bool:
    """True when the text holds something that looks like a full payment card number."""
    if not value:
        return False
    for match in _DIGIT_RUN.finditer(str(value)):
        digits = re.sub(r"\D", "", match.group())
        for length in range(19, 12, -1):
            for start in range(0, len(digits) - length + 1):
                if luhn_valid(digits[start : start + length]):
                    return True
    return False


def reject_card_number(value: str) -> None:
    """Refuse text that contains a full card number: the shop never stores one."""
    if contains_card_number(value):
        raise ValidationError(
            "This looks like a full card number. Card numbers are never stored; "
            "keep only the brand, the last four digits and the gateway's token.",
            code="card_number",
        )


# Bounds: the largest numbers the shop takes, defined once. The model fields' validators, the
# forms (min/max, so that the browser says it too), the services, the imports and the database's
# CHECK constraints all use these.
#
# MAX_QUANTITY bounds a stock figure (on hand, allocated, the low-stock threshold), one stock
# movement and one order line: a million units of one product is far beyond any shelf, and well
# inside a 32-bit integer column (2,147,483,647) on every database, so no sum of two such figures
# can overflow it (on SQLite an integer overflow would be stored as a float).
MAX_QUANTITY = 1_000_000
# MAX_AMOUNT bounds a price, an order's amounts and a payment: 99,999,999.99 has 10 significant
# digits, inside MoneyField's 12, and stays exact to the cent in SQLite's floating point too.
MAX_AMOUNT = Decimal("99999999.99")


def format_bound(value) -> str:
    """A limit as staff read it: 1,000,000 or 99,999,999.99."""
    return f"{value:,.2f}" if isinstance(value, Decimal) else f"{value:,}"


def bound_message(what: str, minimum, maximum, value=None) -> str:
    """'The quantity must be a whole number from 1 to 1,000,000, not 3,000,000,000.'"""
    kind = "an amount" if isinstance(maximum, Decimal) else "a whole number"
    message = f"{what} must be {kind} from {format_bound(minimum)} to {format_bound(maximum)}"
    if value is not None and value != "":
        shown = (
            format_bound(value)
            if isinstance(value, int | Decimal) and not isinstance(value, bool)
            else repr(value)
        )
        message += f", not {shown}"
    return message + "."


def quantity_validators(minimum: int = 0, maximum: int = MAX_QUANTITY, what: str = "This number") -> list:
    """Model field validators: a whole number from `minimum` to `maximum`, saying the range."""
    message = bound_message(what, minimum, maximum)
    return [MinValueValidator(minimum, message), MaxValueValidator(maximum, message)]


def in_bounds(value, minimum, maximum) -> bool:
    """True for an int (not a bool) or Decimal from `minimum` to `maximum`; floats never are."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return False
    if isinstance(value, Decimal) and not value.is_finite():
        return False
    return minimum <= value <= maximum


_PLAIN_INTEGER = re.compile(r"[+-]?[0-9]+")
_PLAIN_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def parse_bounded_integer(text, minimum: int, maximum: int, what: str = "This number") -> int:
    """Typed or imported text as a whole number within the bounds: "12" and "+3" are read;
    "1e3", "12.5", "12abc" and anything outside the range raise ValidationError naming the range."""
    text = str(text).strip()
    value = int(text) if _PLAIN_INTEGER.fullmatch(text) and len(text) <= 30 else None
    if value is None or not minimum <= value <= maximum:
        raise ValidationError(
            bound_message(what, minimum, maximum, text if value is None else value), code="out_of_bounds"
        )
    return value


def parse_bounded_amount(
    text, minimum: Decimal, maximum: Decimal = MAX_AMOUNT, what: str = "The amount"
) -> Decimal:
    """Typed or imported text as an amount within the bounds, with at most two decimals: "19.99"
    is read; "1e3", "19.999", "12abc" and anything outside the range raise ValidationError."""
    text = str(text).strip()
    value = Decimal(text) if _PLAIN_DECIMAL.fullmatch(text) and len(text) <= 30 else None
    if value is not None and minimum <= value <= maximum and value != value.quantize(Decimal("0.01")):
        raise ValidationError(f"{what} has at most two decimals (cents), not {text!r}.", code="cents")
    if value is None or not minimum <= value <= maximum:
        raise ValidationError(bound_message(what, minimum, maximum, text), code="out_of_bounds")
    return value


def normalize_sku(value) -> str:
    """An SKU as the shop stores it: without surrounding spaces, in capitals ("el-hub-007 " ->
    "EL-HUB-007"). Forms, services and imports all pass what they are given through this, so
    that `el-hub-007` finds `EL-HUB-007` and the two can never both exist."""
    return "" if value is None else str(value).strip().upper()


def validate_sku(value: str) -> None:
    """An SKU has no spaces (nor tabs or line breaks) and is in capitals (see normalize_sku)."""
    if any(char.isspace() for char in value):
        raise ValidationError(
            f"An SKU cannot contain spaces: {value!r}. Use a dash instead (EL-HUB-007).", code="sku_space"
        )
    if value != normalize_sku(value):
        raise ValidationError(f"An SKU is written in capitals: {normalize_sku(value)!r}.", code="sku_case")


def bounded_integer(value, minimum: int, maximum: int, error: type[Exception], what: str) -> int:
    """For services: `value` itself when it is an int (not a bool) within the bounds; otherwise
    `error` (a ShopError) saying the range. Nothing reaches the database that it cannot hold."""
    if not in_bounds(value, minimum, maximum) or isinstance(value, Decimal):
        raise error(bound_message(what, minimum, maximum, value))
    return value


def bounded_amount(value, minimum: Decimal, maximum: Decimal, error: type[Exception], what: str) -> Decimal:
    """For services: `value` (Decimal, int or a plain numeric string; never a float) as a Decimal
    with two places when within the bounds; otherwise `error` (a ShopError) saying the range."""
    amount = value
    if isinstance(value, str):
        try:
            amount = parse_bounded_amount(value, minimum, maximum, what)
        except ValidationError:
            amount = None
    elif isinstance(value, int) and not isinstance(value, bool):
        amount = Decimal(value)
    if not in_bounds(amount, minimum, maximum) or not isinstance(amount, Decimal):
        shown = amount if isinstance(amount, Decimal) else value
        raise error(bound_message(what, minimum, maximum, shown))
    if amount != amount.quantize(Decimal("0.01")):
        raise error(f"{what} has at most two decimals (cents), not {amount}.")
    return amount.quantize(Decimal("0.01"))
