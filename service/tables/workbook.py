"""What every XLSX the service writes shares: formula-safe text cells, figures, headers, deterministic bytes.

:func:`write_text` writes input text as a plain string cell that a spreadsheet never takes for a formula;
:func:`write_money` and :func:`write_number` write ``Decimal`` figures with two decimals;
:func:`write_header` writes a sheet's bold, frozen header row; :func:`deterministic_bytes` saves a
workbook with every ZIP member stamped with one fixed moment, so the same workbook gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

__all__ = [
    "BOLD",
    "FORMULA_STARTS",
    "MONEY_FORMAT",
    "NUMBER_FORMAT",
    "deterministic_bytes",
    "write_header",
    "write_money",
    "write_number",
    "write_text",
]

#: A text starting with one of these would be read as a formula (or a DDE/command) by a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MONEY_FORMAT = '#,##0.00 "€"'
NUMBER_FORMAT = "#,##0.00"
CENT = Decimal("0.01")
BOLD = Font(bold=True)


def write_text(cell: Cell, value: Any) -> None:
    """Write ``value`` as a plain string cell: never a formula, an error code or a number.

    Text that a spreadsheet would take for a formula also gets Excel's quote prefix, so that editing the
    cell later keeps it text. Characters XML cannot hold (the schemas already refuse them) are dropped.
    """
    if value is None or value == "":
        cell.value = None
        return
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    cell.value = text
    cell.data_type = "s"  # openpyxl would have made "=…" a formula and "#N/A" an error
    if text.startswith(FORMULA_STARTS):
        cell.quotePrefix = True


def write_money(cell: Cell, amount: Decimal) -> None:
    """Write an amount in euro: exact cents as a float (the nearest float reads back as the same cents)."""
    cell.value = float(Decimal(amount).quantize(CENT))
    cell.number_format = MONEY_FORMAT


def write_number(cell: Cell, value: Decimal | int, number_format: str = NUMBER_FORMAT) -> None:
    cell.value = int(value) if isinstance(value, int) else float(value)
    cell.number_format = number_format


def write_header(sheet: Worksheet, titles: Iterable[str], widths: Iterable[int], row: int = 1) -> None:
    """Bold column titles in ``row`` with the columns' widths; the rows down to it stay in view."""
    for column, (title, width) in enumerate(zip(titles, widths, strict=True), start=1):
        cell = sheet.cell(row=row, column=column)
        write_text(cell, title)
        cell.font = BOLD
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = f"A{row + 1}"


def deterministic_bytes(workbook: Workbook, moment: dt.datetime, title: str) -> bytes:
    """The workbook's bytes, titled ``title``, created and modified at ``moment``, every ZIP member
    stamped ``moment``.

    ``openpyxl.save_workbook`` would set ``modified`` to now, so its writer is used directly. openpyxl
    stamps members with the current time (some through ``writestr``, the sheets through ``write`` of a
    temporary file), so the archive is packed again, member by member in the same order, with fixed
    ``ZipInfo`` fields.
    """
    properties = workbook.properties
    properties.creator = "Veidlapas"
    properties.lastModifiedBy = None
    properties.title = title
    properties.created = moment
    properties.modified = moment
    written = io.BytesIO()
    ExcelWriter(workbook, zipfile.ZipFile(written, "w", zipfile.ZIP_DEFLATED)).save()  # closes the ZIP
    date_time = moment.timetuple()[:6]
    packed = io.BytesIO()
    with zipfile.ZipFile(written) as source, zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            info = zipfile.ZipInfo(member.filename, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            target.writestr(info, source.read(member))
    return packed.getvalue()
