"""Export files whose every cell is inert: no spreadsheet runs a value as a formula.

Excel and LibreOffice run a cell that starts with = + - @ (or a tab or carriage return before
one) as a formula (OWASP: CSV injection). The policy is the file format's, so it covers every
column of every export, today's and those added later:

- CSV: such a text value gets a leading apostrophe, which spreadsheets read as "this is text";
- XLSX: every text value is written as a text cell (never a formula cell), exactly as it is.

Numbers stay numbers ("-3" is a number in a CSV, not a formula).
"""

import io
import re

import tablib
from import_export.formats.base_formats import CSV, XLSX
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def formula_like(value) -> bool:
    """Whether a spreadsheet would run this value (a text starting like a formula, not a number)."""
    return isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value)


class InertCSV(CSV):
    def export_data(self, dataset, **kwargs):
        inert = tablib.Dataset(headers=dataset.headers, title=dataset.title)
        for row in dataset:
            inert.append([f"'{value}" if formula_like(value) else value for value in row])
        return super().export_data(inert, **kwargs)


class InertXLSX(XLSX):
    def export_data(self, dataset, **kwargs):
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = (dataset.title or "Export")[:31]
        rows = [dataset.headers or [], *dataset]
        for index, row in enumerate(rows):
            sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text as it is: openpyxl would make "=..." a formula
                if index == 0:
                    cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        stream = io.BytesIO()
        workbook.save(stream)
        return stream.getvalue()
