"""django-import-export pieces the apps' resources share.

Imports are all or nothing: a file is checked row by row in a dry run (the preview), then run
again when staff confirm, each time inside one transaction that is rolled back if any row has an
error. The widgets refuse what they cannot read ("12.5" as a count, "maybe" as yes/no, an unknown
product type) with a message for that row, instead of guessing. A text cell loses the apostrophe
an export puts before formula-looking text (shop/core/export_formats.py), so that an exported file
imports back as it was.
"""

import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from import_export import resources, widgets

from shop.core.export_formats import formula_like


def read_cell_text(text: str) -> str:
    """A text cell of an imported file, without the apostrophe that a CSV export put before a
    formula-looking value (the export's rule, undone)."""
    if text.startswith("'") and formula_like(text[1:]):
        return text[1:]
    return text


class TextWidget(widgets.CharWidget):
    """Text without the spaces spreadsheets leave around values (nor an export's apostrophe)."""

    def clean(self, value, row=None, **kwargs):
        return read_cell_text(super().clean(value, row, **kwargs).strip())


class CurrencyWidget(widgets.CharWidget):
    """A three-letter currency code, in any case. A blank cell leaves the value as it is."""

    def clean(self, value, row=None, **kwargs):
        text = super().clean(value, row, **kwargs).strip().upper()
        if not text:
            return None
        if len(text) != 3 or not text.isascii() or not text.isalpha():
            raise ValueError(f"Write a three-letter currency code such as USD, not {value!r}.")
        return text


class CountWidget(widgets.IntegerWidget):
    """A whole number of 0 or more, written as digits: "12" is read; "12.5", "-3", "twelve" are refused."""

    def clean(self, value, row=None, **kwargs):
        if self.is_empty(value):
            return None
        text = str(value).strip()
        if not re.fullmatch(r"[0-9]{1,9}", text):
            raise ValueError(f"Enter a whole number of 0 or more, not {text!r}.")
        return int(text)


class ChangeWidget(widgets.IntegerWidget):
    """A signed change: "+3", "-2", "0"."""

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        if kwargs.get("force_native_type"):
            return value
        return f"{value:+d}" if value else "0"


class MoneyWidget(widgets.DecimalWidget):
    """An amount written as a plain number with a dot ("19.99"). Its checks (not negative, two
    places) are the model's, so the import reports them as the admin's forms do."""

    def clean(self, value, row=None, **kwargs):
        if self.is_empty(value):
            return None
        text = str(value).strip()
        try:
            amount = Decimal(text)
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite():
            raise ValueError(f"Enter an amount such as 19.99 (no currency sign or separators), not {text!r}.")
        return amount


class YesNoWidget(widgets.BooleanWidget):
    """yes/no (also y/n, true/false, 1/0, any case). A blank cell leaves the value as it is."""

    TRUE = frozenset({"yes", "y", "true", "1"})
    FALSE = frozenset({"no", "n", "false", "0"})

    def clean(self, value, row=None, **kwargs):
        text = "" if value is None else str(value).strip().lower()
        if not text:
            return None
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(f"Write yes or no, not {value!r}.")

    def render(self, value, obj=None, **kwargs):
        if kwargs.get("force_native_type") or value is None:
            return value if value is not None else ""
        return "yes" if value else "no"


class NameLookupWidget(widgets.ForeignKeyWidget):
    """A related row named in the file. An unknown name is an error on that row, never a new row:
    a typo would otherwise create a product type nobody asked for."""

    def __init__(self, model, field: str = "name", noun: str = ""):
        super().__init__(model, field)
        self.noun = noun or model._meta.verbose_name

    def clean(self, value, row=None, **kwargs):
        text = read_cell_text("" if value is None else str(value).strip())
        if not text:
            return None
        try:
            return super().clean(text, row, **kwargs)
        except self.model.DoesNotExist:
            raise ValueError(f"There is no {self.noun} named {text!r}.") from None


class AllOrNothingResource(resources.ModelResource):
    """A resource whose import is one transaction, rolled back whole when any row has an error.

    django-import-export rolls back on "errors" but keeps the valid rows when others fail
    validation, unless told otherwise; here it is always told. Subclasses say what else makes a
    row wrong in `check_row`. A key (the import id column) that appears on more than one row is
    an error on each of them: which of the rows should win is the file writer's call.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.rows_by_key = {}

    def get_use_transactions(self):
        return True

    def import_data(self, dataset, dry_run=False, raise_errors=False, **kwargs):
        kwargs.update(use_transactions=True, rollback_on_validation_errors=True)
        return super().import_data(dataset, dry_run=dry_run, raise_errors=raise_errors, **kwargs)

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        key = self.fields[self.get_import_id_fields()[0]]
        self.rows_by_key = {}
        if key.column_name in (dataset.headers or []):
            for number, row in enumerate(dataset.dict, 1):
                self.rows_by_key.setdefault(key.clean(row), []).append(number)

    def after_import(self, dataset, result, **kwargs):
        # ModelResource would reset the table's id sequence to the highest id after new rows. New
        # rows here take their ids from the sequence, so there is nothing to reset, and setting it
        # back could hand out an id that a concurrent transaction already holds.
        pass

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        self.check_row(instance, row, errors, **kwargs)
        if errors:
            raise ValidationError(errors)

    def check_row(self, instance, row, errors: dict, **kwargs) -> None:
        """Add this row's errors to `errors` (field attribute -> messages), after its values are read."""
        key = self.fields[self.get_import_id_fields()[0]]
        numbers = self.rows_by_key.get(key.clean(row), [])
        if len(numbers) > 1:
            listed = ", ".join(str(number) for number in numbers)
            errors.setdefault(key.attribute, []).append(
                f"{key.clean(row)!r} is on more than one row of the file (rows {listed})."
            )

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        # Errors are kept by attribute (so that the model's own checks skip fields already in
        # error), and shown by the file's column names.
        try:
            super().validate_instance(instance, import_validation_errors, validate_unique)
        except ValidationError as error:
            columns = {field.attribute: field.column_name for field in self.fields.values()}
            raise ValidationError(
                {columns.get(name, name): messages for name, messages in error.message_dict.items()}
            ) from error
