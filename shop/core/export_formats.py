"""Export files whose every cell is inert: no spreadsheet runs a value as a formula.

Excel and LibreOffice run a cell that starts with = + - @ (or a tab or carriage return before
one) as a formula (OWASP: CSV injection). The policy is the file format's, so it covers every
column of every export, today's and those added later:

- CSV: such a text value gets a leading apostrophe, which spreadsheets read as "this is text";
- XLSX: every text value is written as a text cell (never a formula cell), exactly as it is.

The streamed exports (shop.core.streaming_export) write their cells with the same functions.

Numbers stay numbers ("-3" is a number in a CSV, not a formula).
"""

import io
import re

import tablib
from import_export.formats.base_formats import CSV, XLSX
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def formula_like(value) -> bool:
    """Whether a spreadsheet would run this value (a text starting like a formula, not a number)."""
    return isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value)


def inert_csv_row(row) -> list:
    """A row's CSV cells, inert: formula-looking text gets a leading apostrophe."""
    return [f"'{value}" if formula_like(value) else value for value in row]


def inert_xlsx_cell(sheet, value):
    """An XLSX cell, inert: text (without the characters XML cannot hold) is always a text cell,
    as it is; openpyxl would make "=..." a formula and "#N/A" an error."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if value.startswith("=") or value in ERROR_CODES:
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"
        return cell
    return value


def write_xlsx(file, headers, rows, *, title: str | None = None) -> None:
    """An XLSX workbook of one sheet into `file`: the headers in bold and frozen, then the rows,
    every cell inert. Written row by row (openpyxl's write-only mode), so a long export takes
    the memory of one row, not of the sheet."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet((title or "Export")[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for value in headers or []:
        cell = inert_xlsx_cell(sheet, value)
        if not isinstance(cell, Cell):
            cell = WriteOnlyCell(sheet, cell)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append([inert_xlsx_cell(sheet, value) for value in row])
    workbook.save(file)


class InertCSV(CSV):
    def export_data(self, dataset, **kwargs):
        inert = tablib.Dataset(headers=dataset.headers, title=dataset.title)
        for row in dataset:
            inert.append(inert_csv_row(row))
        return super().export_data(inert, **kwargs)


class InertXLSX(XLSX):
    def export_data(self, dataset, **kwargs):
        stream = io.BytesIO()
        write_xlsx(stream, dataset.headers, dataset, title=dataset.title)
        return stream.getvalue()
