"""Input templates: a table's sheet with bold frozen headers, each column's format and list, values written
as dates and numbers where they are such, and the "Norādes" sheet that explains every column."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from service.tables.reading import DATE, GROUP, NUMBER, SERVICE, TEXT, Column, Table
from service.tables.workbook import write_text

__all__ = ["CodeList", "header", "notes_sheet", "write"]

TEMPLATE_MOMENT = dt.datetime(2020, 1, 1)
NOTES, CODES = "Norādes", "Kodi"
LAST_ROW = 1_048_576
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")
NOTE_LINE = 120  # characters of an instruction on one line of "Norādes"

FORMATS = {TEXT: "@", DATE: "DD.MM.YYYY", NUMBER: "0.00", SERVICE: "@", GROUP: "@"}
KIND_NAMES = {
    TEXT: "teksts",
    DATE: "datums",
    NUMBER: "skaitlis",
    SERVICE: "kods no saraksta",
    GROUP: "kods vai nosaukums no saraksta",
}
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class CodeList:
    """A list a column's cells are picked from: its column and length on the "Kodi" sheet, the error's
    title and message, and whether a value off the list is refused ("stop") or only warned of ("warning")."""

    column: str
    length: int
    title: str
    message: str
    style: str


def header(sheet: Worksheet, table: Table, lists: Mapping[str, CodeList]) -> None:
    """Bold frozen headers, widths, each column's format for the rows to be typed in, and the list
    validations of the columns ``lists`` names by header."""
    for number, column in enumerate(table.columns, start=1):
        cell = sheet.cell(1, number)
        write_text(cell, column.header)
        cell.font = BOLD
        letter = get_column_letter(number)
        dimension = sheet.column_dimensions[letter]
        dimension.width = column.width
        dimension.number_format = FORMATS[column.kind]
        if (codes := lists.get(column.header)) is not None:
            validation = DataValidation(
                type="list",
                formula1=f"{CODES}!${codes.column}$2:${codes.column}${codes.length + 1}",
                allow_blank=True,
                showErrorMessage=True,
                errorStyle=codes.style,
                errorTitle=codes.title,
                error=codes.message,
            )
            validation.add(f"{letter}2:{letter}{LAST_ROW}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"


def write(cell: Any, column: Column, value: Any) -> None:
    """A date or a number as such in its column, anything else as text; in the column's format."""
    if value is None or value == "":
        return
    typed = _typed(value, column.kind)
    if typed is None:
        write_text(cell, value)
    else:
        cell.value = typed
    cell.number_format = FORMATS[column.kind]


def _typed(value: Any, kind: str) -> dt.date | int | float | None:
    """A date (or ISO date text) in a date column, a number (or plain decimal text) in a number column."""
    if kind == DATE and isinstance(value, dt.date):
        return value
    if kind == DATE and isinstance(value, str) and _ISO_DATE.fullmatch(value):
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(value)
    plain = isinstance(value, int | float | Decimal) or (isinstance(value, str) and _DECIMAL.fullmatch(value))
    if kind == NUMBER and plain and not isinstance(value, bool) and Decimal(str(value)).is_finite():
        number = Decimal(str(value))
        return int(number) if number == number.to_integral_value() else float(number)
    return None


def notes_sheet(sheet: Worksheet, title: str, notes: Iterable[str], tables: Iterable[Table]) -> None:
    """``title``, short instructions, then each column: its sheet, meaning, format, example, whether it is
    required."""
    titles = ("Lapa", "Kolonna", "Nozīme", "Formāts", "Piemērs", "Obligāta")
    write_text(sheet["A1"], title)
    sheet["A1"].font = Font(bold=True, size=13)
    row = 2
    for row, text in enumerate(notes, start=3):
        write_text(sheet.cell(row, 1), f"• {text}")
        sheet.cell(row, 1).alignment = WRAP
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(titles))
        sheet.row_dimensions[row].height = 15 * (len(text) // NOTE_LINE + 1)
    head = row + 2
    for number, (name, width) in enumerate(zip(titles, (10, 18, 70, 16, 18, 10), strict=True), start=1):
        write_text(sheet.cell(head, number), name)
        sheet.cell(head, number).font = BOLD
        sheet.column_dimensions[get_column_letter(number)].width = width
    row = head
    for table in tables:
        for column in table.columns:
            row += 1
            required = "jā" if column.required else "nē"
            facts = (
                table.sheet,
                column.header,
                column.meaning,
                KIND_NAMES[column.kind],
                column.example,
                required,
            )
            for number, value in enumerate(facts, start=1):
                write_text(sheet.cell(row, number), value)
                sheet.cell(row, number).alignment = WRAP
