"""Import and export pieces the apps' resources share.

Exports: django-import-export widgets for amounts and yes/no. Imports (CsvImport): a CSV file is
read (read_csv: limits, encoding, separator, header), then checked whole against the rows fetched
in a few queries (the preview), then run again when staff confirm, inside one transaction that
is rolled back if any row has an error. Values that cannot be read ("12.5" as a count, "maybe"
as yes/no, an unknown product type) are an error on their row, never a guess. A text cell loses
the apostrophe an export puts before formula-looking text (shop/core/export_formats.py), so that
an exported file imports back as it was.
"""

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from import_export import widgets

from shop.core.db import atomic_with_retry
from shop.core.exceptions import ShopError
from shop.core.export_formats import formula_like


def read_cell_text(text: str) -> str:
    """A text cell of an imported file, without the apostrophe that a CSV export put before a
    formula-looking value (the export's rule, undone)."""
    if text.startswith("'") and formula_like(text[1:]):
        return text[1:]
    return text


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


# CSV imports. django-import-export's import runs every row through its per-row machinery (the
# instance loader, each field's widget, a diff of every field for the preview): about 100 rows a
# second for a stock count. The shop's imports read the whole file, check it in Python against
# the rows fetched in a few queries, and write in bulk; the admin pages are in
# shop/core/admin_import_export.py, the imports themselves in each app's resources.py.

DELIMITERS = (",", ";", "\t")
_DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs"}


class ImportFileError(ShopError):
    """The file cannot be read as an import. The message says why, and what to do about it."""


@dataclass
class CsvTable:
    """A CSV file's data rows under its header, the columns named in lower case."""

    headers: list[str]
    rows: list[list[str]]
    delimiter: str = ","
    #: Row number (counting data rows from 1) -> how many cells the row has, for rows with more
    #: cells than the header has columns (an unquoted comma in a value, most likely).
    overlong: dict[int, int] = field(default_factory=dict)

    def index(self, column: str) -> int | None:
        try:
            return self.headers.index(column)
        except ValueError:
            return None

    def column(self, column: str) -> list[str] | None:
        """That column's cells, one per row (None when the file has no such column)."""
        index = self.index(column)
        if index is None:
            return None
        return [row[index] for row in self.rows]

    @property
    def delimiter_name(self) -> str:
        return _DELIMITER_NAMES[self.delimiter]


def _refuse_binary(data: bytes) -> None:
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            "This is a spreadsheet (an Excel workbook), not a CSV file. In the spreadsheet, save "
            'it as "CSV UTF-8 (comma delimited)" and upload that file.'
        )
    for bom, name in ((b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16")):
        if data.startswith(bom):
            raise ImportFileError(
                f'The file is {name} text (Excel\'s "Unicode text"). Save the file as UTF-8 '
                '("CSV UTF-8" in Excel) and upload it again.'
            )


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")  # a UTF-8 byte order mark (Excel's "CSV UTF-8") is fine
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start : error.start + 1].hex().upper()
        raise ImportFileError(
            f"The file is not UTF-8 text: byte 0x{byte} on line {line} is not UTF-8 (the file was "
            'probably saved as Latin-1 or Windows-1252). Save the file as UTF-8 ("CSV UTF-8" in '
            "Excel) and upload it again."
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ImportFileError(f"The file has a NUL character on line {line}: it is not a text file.")
    return text


def _normalize_header(cell: str) -> str:
    return cell.strip().lower()


def _choose_delimiter(first_line: str, columns: Iterable[str]) -> str:
    """The separator that splits the header line into the most known columns (then cells)."""
    known = set(columns)

    def score(delimiter):
        try:
            cells = next(csv.reader([first_line], delimiter=delimiter), [])
        except csv.Error:
            return (0, 0)
        return (sum(_normalize_header(cell) in known for cell in cells), len(cells))

    return max(DELIMITERS, key=score)  # max keeps the first of equals: commas


def read_csv(
    data: bytes,
    *,
    columns: Iterable[str],
    required: Iterable[str],
    max_rows: int | None = None,
) -> CsvTable:
    """A CSV file (UTF-8, with a header row) read into a table, or ImportFileError saying why not.

    The header is matched without regard to case or surrounding spaces; commas, semicolons and
    tabs are told apart by which of them splits the header into the known `columns`. Columns the
    import does not know are ignored (an export with a `counted` column added is a count file);
    each of `required` must be there. Empty lines are skipped; more than `max_rows` data rows
    (IMPORT_MAX_ROWS by default) are refused without reading further.
    """
    columns = list(columns)
    max_rows = settings.IMPORT_MAX_ROWS if max_rows is None else max_rows
    if not data.strip():
        raise ImportFileError("The file is empty. Upload a CSV file with a header row and one row per line.")
    _refuse_binary(data)
    text = _decode(data)
    first_line = re.split(r"\r\n|\r|\n", text.lstrip("\r\n"), maxsplit=1)[0]
    delimiter = _choose_delimiter(first_line, columns)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        headers = next((row for row in reader if any(cell.strip() for cell in row)), None)
        if headers is None:
            raise ImportFileError(
                "The file is empty. Upload a CSV file with a header row and one row per line."
            )
        headers = [_normalize_header(cell) for cell in headers]
        width = len(headers)
        rows, overlong = [], {}
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(rows) == max_rows:
                raise ImportFileError(
                    f"The file has more than {max_rows:,} rows, the most one import takes. Split it "
                    f"into files of at most {max_rows:,} rows and import them one after the other."
                )
            if len(row) < width:
                row += [""] * (width - len(row))
            elif len(row) > width:
                overlong[len(rows) + 1] = len(row)
            rows.append(row)
    except csv.Error as error:
        raise ImportFileError(f"Line {reader.line_num} of the file cannot be read as CSV: {error}.") from None
    for name in columns:
        if headers.count(name) > 1:
            raise ImportFileError(f"The column {name!r} is in the file twice; keep one.")
    missing = [name for name in required if name not in headers]
    if missing:
        found = ", ".join(repr(cell) for cell in headers if cell) or "none"
        raise ImportFileError(
            f"The file has no {' and no '.join(repr(name) for name in missing)} column. Its first "
            f"line must name the columns ({', '.join(columns)}; in any case and order, separated by "
            f"{_DELIMITER_NAMES[delimiter]}); the columns found: {found}."
        )
    if not rows:
        raise ImportFileError("The file has a header but no rows to import.")
    return CsvTable(headers=headers, rows=rows, delimiter=delimiter, overlong=overlong)


class ImportRow:
    """One row of an import's preview: what happens to it, the values shown, and its errors."""

    NEW, UPDATE, SKIP, ERROR = "new", "update", "skip", "error"
    __slots__ = ("action", "cells", "errors", "label", "number", "target")

    def __init__(self, number: int, cells: list, *, action: str = "", label: str = "", target=None):
        self.number = number
        self.cells = cells
        self.action = action
        self.errors: dict[str, list[str]] = {}
        self.label = label
        self.target = target  # what the import writes for this row (its own business)

    def error(self, column: str, message: str) -> None:
        self.errors.setdefault(column, []).append(str(message))

    @property
    def messages(self) -> list[tuple[str, str]]:
        return [(column, message) for column, messages in self.errors.items() for message in messages]


class ImportResult:
    """An import's rows, checked: what would be (or was) done with each, and every error."""

    #: How many rows the preview page lists, and how many rows with errors at most.
    PREVIEW_ROWS = 100
    ERROR_ROWS = 1000

    def __init__(self, headers: list[str], rows: list[ImportRow], *, noun_plural: str = "rows"):
        self.headers = headers
        self.rows = rows
        self.noun_plural = noun_plural
        for row in rows:
            if row.errors:
                row.action = ImportRow.ERROR

    @property
    def totals(self) -> dict[str, int]:
        totals = dict.fromkeys((ImportRow.NEW, ImportRow.UPDATE, ImportRow.SKIP, ImportRow.ERROR), 0)
        for row in self.rows:
            totals[row.action] += 1
        return totals

    @property
    def error_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.errors]

    @property
    def has_errors(self) -> bool:
        return any(row.errors for row in self.rows)

    def errors(self) -> dict[int, dict[str, list[str]]]:
        """Row number -> column -> messages."""
        return {row.number: row.errors for row in self.rows if row.errors}

    def shown_error_rows(self) -> list[ImportRow]:
        return self.error_rows[: self.ERROR_ROWS]

    def shown_rows(self) -> list[ImportRow]:
        return self.rows[: self.PREVIEW_ROWS]

    def summary(self) -> str:
        """'Import finished: 1 new, 2 updated, 0 deleted and 3 skipped products.'"""
        totals = self.totals
        return (
            f"Import finished: {totals['new']} new, {totals['update']} updated, 0 deleted and "
            f"{totals['skip']} skipped {self.noun_plural}."
        )


class RolledBack(Exception):
    """Raised inside an import's transaction to roll it back and show `result` (its row errors)."""

    def __init__(self, result):
        super().__init__()
        self.result = result


class CsvImport:
    """An import from CSV: what its file holds, how its rows are checked, how they are written.

    `check(table, for_update=...)` reads the rows against the database and returns the result
    (the preview, with no write); `write(result, actor=)` writes the checked rows. `run` does both
    in one transaction, so that the rows are checked again against what is in the database
    then (locked where the import says so): with any row in error, nothing is written.
    """

    title = "Import"
    #: The columns the file may have (lower case), the ones it must have, and how each is read.
    columns: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    help: str = ""
    noun_plural = "rows"
    #: The preview's columns (row number, action and errors come before them).
    preview_headers: tuple[str, ...] = ()

    def read(self, data: bytes) -> CsvTable:
        return read_csv(data, columns=self.columns, required=self.required)

    def check(self, table: CsvTable, *, for_update: bool = False) -> ImportResult:
        raise NotImplementedError

    def write(self, result: ImportResult, *, actor) -> None:
        raise NotImplementedError

    def preview(self, table: CsvTable) -> ImportResult:
        return self.check(table)

    def run(self, table: CsvTable, *, actor) -> ImportResult:
        """Check and write in one transaction; with any row in error, nothing is written."""
        try:
            return self._run(table, actor=actor)
        except RolledBack as rolled_back:
            return rolled_back.result

    @atomic_with_retry
    def _run(self, table, *, actor):
        result = self.check(table, for_update=True)
        if result.has_errors:
            raise RolledBack(result)
        self.write(result, actor=actor)
        return result

    # Helpers for the checks

    @staticmethod
    def text(value: str) -> str:
        """A text cell as the import reads it: trimmed, without an export's apostrophe."""
        return read_cell_text(value.strip())

    @staticmethod
    def duplicates(keys: Iterable[tuple[int, str]]) -> dict[str, list[int]]:
        """Key -> row numbers, for the keys that are on more than one row."""
        rows_by_key: dict[str, list[int]] = {}
        for number, key in keys:
            if key:
                rows_by_key.setdefault(key, []).append(number)
        return {key: numbers for key, numbers in rows_by_key.items() if len(numbers) > 1}

    @staticmethod
    def duplicate_message(key: str, numbers: list[int]) -> str:
        shown = ", ".join(str(number) for number in numbers[:20])
        more = f" and {len(numbers) - 20} more" if len(numbers) > 20 else ""
        return f"{key!r} is on more than one row of the file (rows {shown}{more})."

    @staticmethod
    def overlong_message(cells: int, width: int) -> str:
        return (
            f"This row has {cells} cells but the header names {width} columns: a value with the "
            "separator in it must be in double quotes."
        )
