"""Validators shared by the apps."""

import re

from django.core.exceptions import ValidationError

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
