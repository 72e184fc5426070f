"""django-import-export pieces the apps' resources share.

Exports follow one cell policy, for every column of every export (see "Export cells" below): a
text value that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage
return) is written as text: with a leading apostrophe in CSV, as a text cell in Excel. Numbers stay
numbers. The admin exports only with `ExportResource` resources and the `SafeCSV`/`SafeXLSX`
formats (shop/core/admin_import_export.py), so a resource added later gets the policy too.

Imports are all or nothing: a file is checked row by row in a dry run (the preview), then run
again when staff confirm, each time inside one transaction that is rolled back if any row has an
error. The widgets refuse what they cannot read ("12.5" as a count, "maybe" as yes/no, an unknown
product type) with a message for that row, instead of guessing.
"""

import re
import zipfile
from decimal import Decimal, InvalidOperation
from io import BytesIO

import tablib
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from import_export import resources, widgets
from import_export.formats import base_formats

# Export cells: one policy for every column of every export

#: Excel and LibreOffice run a cell that starts with = + - @ as a formula, and a leading tab or
#: carriage return can hide one (OWASP's advice on CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value) -> bool:
    """Text (a string) that a spreadsheet would read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_START)


class NumberText(str):
    """A number that a numeric widget wrote out as text ("-3", "19.99" in a CSV export): a number,
    which the policy leaves as it is. Every other string of an export is text."""


def csv_cell(value):
    """A CSV cell: text that looks like a formula gets a leading apostrophe, which spreadsheets
    read as "this is text" and do not show; anything else (numbers too) is unchanged."""
    if looks_like_formula(value) and not isinstance(value, NumberText):
        return "'" + value
    return value


def read_cell_text(text: str) -> str:
    """A text cell of an imported file, without the apostrophe a CSV export put before a
    formula-looking value (so that an exported file imports back as it was)."""
    if text.startswith("'") and looks_like_formula(text[1:]):
        return text[1:]
    return text


class ExportCellsMixin:
    """For every resource the admin exports with (it refuses others): tells a number written as
    text (by a numeric widget, for CSV) from text, so that the formats make only text inert."""

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        if isinstance(value, str) and isinstance(field.widget, widgets.NumberWidget):
            method = field.get_dehydrate_method(self.get_field_name(field))
            if not (callable(method) or hasattr(self, method)):
                return NumberText(value)
        return value


class ExportResource(ExportCellsMixin, resources.ModelResource):
    """The base of every resource exported from the admin."""


def _map_cells(dataset, cell):
    mapped = tablib.Dataset(title=dataset.title)
    if dataset.headers:
        mapped.headers = [cell(value) for value in dataset.headers]
    for row in dataset:
        mapped.append([cell(value) for value in row])
    return mapped


class SafeCSV(base_formats.CSV):
    """CSV export whose formula-looking text cells start with an apostrophe (`csv_cell`)."""

    def export_data(self, dataset, **kwargs):
        return super().export_data(_map_cells(dataset, csv_cell), **kwargs)


class SafeXLSX(base_formats.XLSX):
    """Excel export written with openpyxl, every string as a text cell (never a formula, nor an
    error such as "#N/A"), with its text exactly: no apostrophe. Formula-looking text also gets
    Excel's "quote prefix" style, which keeps the cell text when someone edits it (the apostrophe
    shows only in the formula bar, as when typing '=1). Numbers, dates and yes/no are Excel's own.
    Looks like tablib's export: bold header row, kept in view, columns as wide as their text."""

    def export_data(self, dataset, **kwargs):
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "Tablib Dataset"  # the name import-export's Excel exports have always had
        rows = ([dataset.headers] if dataset.headers else []) + [list(row) for row in dataset]
        widths = {}
        carriage_returns = False
        for row_number, row in enumerate(rows, 1):
            for column, value in enumerate(row, 1):
                cell = sheet.cell(row=row_number, column=column)
                if isinstance(value, str):
                    self._write_text(cell, value)
                else:
                    try:
                        cell.value = value
                    except ValueError:  # a type openpyxl does not know: its text
                        self._write_text(cell, str(value))
                carriage_returns = carriage_returns or (isinstance(cell.value, str) and "\r" in cell.value)
                if row_number == 1 and dataset.headers:
                    cell.font = Font(bold=True)
                elif isinstance(cell.value, str) and "\n" in cell.value:
                    cell.alignment = Alignment(wrap_text=True)
                widths[column] = max(widths.get(column, 0), len(str(value)))
        if dataset.headers:
            sheet.freeze_panes = "A2"
        for column, width in widths.items():
            sheet.column_dimensions[get_column_letter(column)].width = width
        stream = BytesIO()
        workbook.save(stream)
        content = stream.getvalue()
        return self._keep_carriage_returns(content) if carriage_returns else content

    def _write_text(self, cell, text: str) -> None:
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        if ILLEGAL_CHARACTERS_RE.search(text):
            # Control characters Excel cannot hold (import-export's setting and message).
            if not getattr(settings, "IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT", False):
                raise ValueError(_("export failed due to IllegalCharacterError"))
            text = ILLEGAL_CHARACTERS_RE.sub("\N{REPLACEMENT CHARACTER}", text)
        cell.value = text
        cell.data_type = "s"  # openpyxl makes "=..." a formula and "#N/A" an error otherwise
        if looks_like_formula(text):
            cell.quotePrefix = True

    @staticmethod
    def _keep_carriage_returns(content: bytes) -> bytes:
        """The workbook with each carriage return of its sheets written as `&#13;`: openpyxl writes
        it as is, and an XML reader (Excel's, openpyxl's) turns a bare one into a line feed."""
        source = zipfile.ZipFile(BytesIO(content))
        stream = BytesIO()
        with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as target:
            for item in source.infolist():
                data = source.read(item)
                if item.filename.startswith("xl/worksheets/"):
                    data = data.replace(b"\r", b"&#13;")
                target.writestr(item, data)
        return stream.getvalue()


# Import widgets


class TextWidget(widgets.CharWidget):
    """Text without the spaces spreadsheets leave around values (nor the apostrophe a CSV export
    put before a formula-looking value)."""

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


class AllOrNothingResource(ExportResource):
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
