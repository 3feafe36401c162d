"""What every XLSX the service writes shares: formula-safe text cells, figures, headers, deterministic bytes.

:func:`write_text` writes input text as a plain string cell that a spreadsheet never takes for a formula;
:func:`write_money` and :func:`write_number` write ``Decimal`` figures with two decimals;
:func:`write_header` writes a sheet's bold, frozen header row; :func:`deterministic_bytes` saves a
workbook with every ZIP member stamped with one fixed moment, so the same workbook gives the same bytes.

A workbook of any length is written in openpyxl's write-only mode, row by row (:class:`RowWriter`: the
same formula-safe text, figures and formulas as ``WriteOnlyCell`` s, a streamed header), and saved with
:func:`deterministic_save` straight to a file: openpyxl's own ZIP goes to a temporary file and is packed
again member by member in chunks, so neither the workbook nor its file is ever held whole in memory.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet import _writer as sheet_writer
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from service.files import atomic_file

__all__ = [
    "BOLD",
    "FORMULA_STARTS",
    "MONEY_FORMAT",
    "NUMBER_FORMAT",
    "RowWriter",
    "deterministic_bytes",
    "deterministic_save",
    "write_header",
    "write_money",
    "write_number",
    "write_only_workbook",
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


@contextmanager
def write_only_workbook() -> Iterator[Workbook]:
    """A write-only workbook; if the block fails, the temporary files its sheets were streamed to (they hold
    the rows written so far, personal data among them) are removed at once, not when the process ends."""
    workbook = Workbook(write_only=True)
    try:
        yield workbook
    except BaseException:
        for sheet in workbook.worksheets:
            _discard(sheet)
        raise


def _discard(sheet: WriteOnlyWorksheet) -> None:
    """Stop a write-only sheet's streams and remove its temporary file (openpyxl offers no public way)."""
    writer = sheet._writer
    if writer is None:
        return
    for stream in (sheet._rows, writer.xf):
        with suppress(Exception):  # a stream broken off mid-element complains as it closes
            if stream is not None:
                stream.close()
    Path(writer.out).unlink(missing_ok=True)
    with suppress(ValueError):
        sheet_writer.ALL_TEMP_FILES.remove(writer.out)


class RowWriter:
    """Cells for one write-only sheet, made as :func:`write_text` and the others write them.

    ``header`` must come before any other row (widths and the frozen pane are written at the sheet's top).
    """

    def __init__(self, sheet: WriteOnlyWorksheet) -> None:
        self.sheet = sheet

    def header(self, titles: Iterable[str], widths: Iterable[int]) -> None:
        """The bold column titles as row 1 with the columns' widths; row 1 stays in view."""
        self.widths(widths)
        self.sheet.freeze_panes = "A2"
        self.sheet.append([self.text(title, bold=True) for title in titles])

    def widths(self, widths: Iterable[int]) -> None:
        for column, width in enumerate(widths, start=1):
            self.sheet.column_dimensions[get_column_letter(column)].width = width

    def text(self, value: Any, *, font: Font | None = None, bold: bool = False) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.sheet)
        write_text(cell, value)
        if font or bold:
            cell.font = font or BOLD
        return cell

    def money(self, amount: Decimal, *, bold: bool = False) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.sheet)
        write_money(cell, amount)
        if bold:
            cell.font = BOLD
        return cell

    def number(self, value: Decimal | int, number_format: str = NUMBER_FORMAT) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.sheet)
        write_number(cell, value, number_format)
        return cell

    def date(self, value: dt.date, number_format: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.sheet, value=value)
        cell.number_format = number_format
        return cell

    def formula(
        self, formula: str, number_format: str | None = MONEY_FORMAT, *, bold: bool = False
    ) -> WriteOnlyCell:
        """A formula the caller built itself (never input text: that goes through :meth:`text`)."""
        cell = WriteOnlyCell(self.sheet, value=formula)
        if number_format:
            cell.number_format = number_format
        if bold:
            cell.font = BOLD
        return cell


def deterministic_bytes(workbook: Workbook, moment: dt.datetime, title: str) -> bytes:
    """The workbook's bytes, titled ``title``, created and modified at ``moment``, every ZIP member
    stamped ``moment`` (see :func:`deterministic_save`)."""
    packed = io.BytesIO()
    _save(workbook, packed, moment, title)
    return packed.getvalue()


def deterministic_save(workbook: Workbook, target: Path, moment: dt.datetime, title: str) -> None:
    """Save the workbook to ``target`` (atomically), titled ``title``, created and modified at ``moment``,
    every ZIP member stamped ``moment``: the same workbook gives the same bytes."""
    with atomic_file(target) as out:
        _save(workbook, out, moment, title)


def _save(workbook: Workbook, out: IO[bytes], moment: dt.datetime, title: str) -> None:
    """``openpyxl.save_workbook`` would set ``modified`` to now, so its writer is used directly. openpyxl
    stamps members with the current time (some through ``writestr``, the sheets through ``write`` of a
    temporary file), so its archive, written to a temporary file, is packed again into ``out``, member by
    member in the same order and in chunks, with fixed ``ZipInfo`` fields."""
    properties = workbook.properties
    properties.creator = "Veidlapas"
    properties.lastModifiedBy = None
    properties.title = title
    properties.created = moment
    properties.modified = moment
    date_time = moment.timetuple()[:6]
    with tempfile.TemporaryFile() as written:
        ExcelWriter(workbook, zipfile.ZipFile(written, "w", zipfile.ZIP_DEFLATED)).save()  # closes the ZIP
        written.seek(0)
        with zipfile.ZipFile(written) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for member in source.infolist():
                info = zipfile.ZipInfo(member.filename, date_time=date_time)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o600 << 16
                info.file_size = member.file_size  # so that zipfile decides on ZIP64 as writestr would
                with source.open(member) as data, target.open(info, "w") as packed:
                    shutil.copyfileobj(data, packed, 1 << 20)
