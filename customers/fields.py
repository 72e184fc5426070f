"""Phone numbers that accept the fictional-but-well-formed numbers stores really hold.

django-phonenumber-field checks that a number is *valid* (assigned by a numbering plan), which
refuses the 555 numbers used in films, tests and the seed data (`555-123-4567`). A number that
is *possible* (right length for its country) is accepted here and still stored normalised as E.164.
"""

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from phonenumber_field import formfields, modelfields
from phonenumber_field.phonenumber import PhoneNumber, to_python


def is_possible(value) -> bool:
    return isinstance(value, PhoneNumber) and phonenumbers.is_possible_number(value)


def validate_possible_phonenumber(value):
    number = to_python(value)
    if isinstance(number, PhoneNumber) and not is_possible(number):
        raise ValidationError(
            "Enter a phone number such as 555-123-4567, or one with its country code "
            "such as +44 20 7946 0958.",
            code="invalid",
        )


class PhoneNumberFormField(formfields.PhoneNumberField):
    default_validators = [validate_possible_phonenumber]


class PhoneNumberField(modelfields.PhoneNumberField):
    default_validators = [validate_possible_phonenumber]

    def get_prep_value(self, value):
        parsed = modelfields.models.CharField.get_prep_value(self, value)
        if not parsed:
            return parsed
        parsed = to_python(parsed, region=self.region)
        if is_possible(parsed):
            fmt = PhoneNumber.format_map[getattr(settings, "PHONENUMBER_DB_FORMAT", "E164")]
            return parsed.format_as(fmt)
        return parsed.raw_input

    def formfield(self, **kwargs):
        kwargs.setdefault("form_class", PhoneNumberFormField)
        return super().formfield(**kwargs)
