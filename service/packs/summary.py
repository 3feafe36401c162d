"""``summary.xlsx`` of a reimbursement pack: the request in sheets a finance officer can check.

``summary_xlsx(values)`` takes a loaded reimbursement request (``ReimbursementRequestSchema().load``) and
returns the bytes of an XLSX workbook with four sheets:

* **Kopsavilkums** – request, period, municipality, project, the total and its ESF and state parts. The
  figures are the ones the schema computed; next to them stand check formulas (``=ROUND(total*share,0)/100``,
  ``=total-esf``, the sum of the lines) and a cell telling whether they agree.
* **Pa klientiem** – one row per client with a ``=SUM`` total.
* **Pa pakalpojumiem** – one row per service with a ``=SUM`` total, a ``=SUMIFS`` check over the lines and
  a native bar chart of spending by service.
* **Rindas** – every delivery line with a ``=SUM`` total.

Money stays ``Decimal`` until the cell is written (as a float, which round-trips to the same cents). Every
piece of text from the input is written by :func:`_text` as a string cell, so a value such as
``=HYPERLINK(...)`` can never become a live formula. The output is deterministic: the document properties
and the ZIP member timestamps are fixed (the request date), so the same input gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from service.documents.formatting import date_numeric
from service.documents.labels import load_labels
from service.tables.workbook import BOLD, MONEY_FORMAT, NUMBER_FORMAT
from service.tables.workbook import deterministic_bytes as _save
from service.tables.workbook import write_header as _header
from service.tables.workbook import write_money as _money
from service.tables.workbook import write_number as _number
from service.tables.workbook import write_text as _text

__all__ = ["SHEETS", "summary_xlsx"]

SHEETS = ("Kopsavilkums", "Pa klientiem", "Pa pakalpojumiem", "Rindas")

LABELS_FILE = Path(__file__).resolve().parents[2] / "templates_lv" / "labels.toml"

DATE_FORMAT = "DD.MM.YYYY"
#: Used when the request carries no date; any fixed moment will do.
FALLBACK_MOMENT = dt.datetime(2000, 1, 1)


def summary_xlsx(values: dict[str, Any], labels: dict[str, dict[str, str]] | None = None) -> bytes:
    """The ``summary.xlsx`` of a loaded reimbursement request, as bytes; ``labels`` as ``load_labels``
    reads them (by default from ``templates_lv/labels.toml``)."""
    labels = labels if labels is not None else load_labels(LABELS_FILE)
    workbook = Workbook()
    summary = workbook.active
    summary.title = SHEETS[0]
    clients = workbook.create_sheet(SHEETS[1])
    services = workbook.create_sheet(SHEETS[2])
    lines = workbook.create_sheet(SHEETS[3])

    lines_total = _lines_sheet(lines, values)
    clients_total = _clients_sheet(clients, values, labels.get("target_group", {}))
    _services_sheet(services, values, lines_total)
    _summary_sheet(summary, values, lines_total, clients_total)

    return _save(workbook, _fixed_moment(values), "Izmaksu kompensācijas pieprasījuma kopsavilkums")


# --- cells ------------------------------------------------------------------------------------------


def _formula(cell: Cell, formula: str, number_format: str | None = MONEY_FORMAT) -> None:
    """Write a formula the module itself built (never input text)."""
    cell.value = formula
    if number_format:
        cell.number_format = number_format


def _ref(sheet: str, cell: str) -> str:
    """``'Pa klientiem'!E9``: a reference to a cell of another sheet of this workbook."""
    return "'{}'!{}".format(sheet.replace("'", "''"), cell)


# --- sheets -----------------------------------------------------------------------------------------


def _lines_sheet(sheet: Worksheet, values: dict[str, Any]) -> str:
    """Every delivery line; returns the reference of the total cell."""
    _header(
        sheet,
        ("Vienošanās Nr.", "Personas kods", "Pakalpojums", "Datums", "Vienības", "Cena, EUR", "Summa, EUR"),
        (18, 16, 14, 12, 10, 12, 14),
    )
    codes = _personal_codes(values)
    row = 1
    for row, line in enumerate(values["lines"], start=2):
        _text(sheet.cell(row, 1), line["agreement"])
        _text(sheet.cell(row, 2), codes.get(line["agreement"], ""))
        _text(sheet.cell(row, 3), line["code"])
        date = sheet.cell(row, 4)
        date.value = line["date"]
        date.number_format = DATE_FORMAT
        _number(sheet.cell(row, 5), line["units"])
        _money(sheet.cell(row, 6), line["unit_price"])
        _money(sheet.cell(row, 7), line["amount"])
    total = row + 1
    _text(sheet.cell(total, 1), "Kopā")
    sheet.cell(total, 1).font = BOLD
    _formula(sheet.cell(total, 5), f"=SUM(E2:E{max(row, 2)})", NUMBER_FORMAT)
    _formula(sheet.cell(total, 7), f"=SUM(G2:G{max(row, 2)})")
    sheet.cell(total, 7).font = BOLD
    return _ref(sheet.title, f"G{total}")


def _clients_sheet(sheet: Worksheet, values: dict[str, Any], groups: dict[str, str]) -> str:
    """One row per client (in the order of the request's rows); returns the reference of the total."""
    _header(
        sheet,
        ("Personas kods", "Mērķa grupa", "Atbalsta plāna Nr.", "Vienošanās Nr.", "Summa, EUR"),
        (16, 48, 22, 22, 14),
    )
    row = 1
    for row, client in enumerate(values["by_client"], start=2):
        _text(sheet.cell(row, 1), client["personal_code"])
        _text(sheet.cell(row, 2), groups.get(client["target_group"], client["target_group"]))
        _text(sheet.cell(row, 3), ", ".join(client["plans"]))
        _text(sheet.cell(row, 4), ", ".join(client["agreements"]))
        _money(sheet.cell(row, 5), client["amount"])
    total = row + 1
    _text(sheet.cell(total, 1), "Kopā")
    sheet.cell(total, 1).font = BOLD
    _formula(sheet.cell(total, 5), f"=SUM(E2:E{max(row, 2)})")
    sheet.cell(total, 5).font = BOLD
    return _ref(sheet.title, f"E{total}")


def _services_sheet(sheet: Worksheet, values: dict[str, Any], lines_total: str) -> None:
    """One row per service code, a SUMIFS check over the lines and a bar chart of the amounts."""
    _header(
        sheet,
        ("Kods", "Pakalpojums", "Mērvienība", "Daudzums", "Summa, EUR", "Pārbaude pēc rindām, EUR"),
        (12, 44, 14, 12, 14, 24),
    )
    last_line = len(values["lines"]) + 1
    amounts = f"Rindas!$G$2:$G${max(last_line, 2)}"
    codes = f"Rindas!$C$2:$C${max(last_line, 2)}"
    row = 1
    for row, service in enumerate(values["by_service"], start=2):
        _text(sheet.cell(row, 1), service["code"])
        _text(sheet.cell(row, 2), service["name"])
        _text(sheet.cell(row, 3), service["unit"])
        _number(sheet.cell(row, 4), service["quantity"])
        _money(sheet.cell(row, 5), service["amount"])
        _formula(sheet.cell(row, 6), f"=SUMIFS({amounts},{codes},A{row})")
    last = max(row, 2)
    total = row + 1
    _text(sheet.cell(total, 1), "Kopā")
    sheet.cell(total, 1).font = BOLD
    _formula(sheet.cell(total, 5), f"=SUM(E2:E{last})")
    sheet.cell(total, 5).font = BOLD
    _formula(sheet.cell(total, 6), f"=SUM(F2:F{last})")

    chart = BarChart()
    chart.type = "col"
    chart.title = "Izdevumi pa pakalpojumiem"
    chart.y_axis.title = "EUR"
    chart.x_axis.title = "Pakalpojums"
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend = None
    chart.add_data(Reference(sheet, min_col=5, min_row=1, max_row=row), titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=row))
    chart.width, chart.height = 18, 9
    sheet.add_chart(chart, "H2")


def _summary_sheet(sheet: Worksheet, values: dict[str, Any], lines_total: str, clients_total: str) -> None:
    """The request in figures; money as the schema computed it, with check formulas beside it."""
    totals, funding, submitter = values["totals"], values["funding"], values.get("submitter") or {}
    period = values["period"]
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 48
    sheet.column_dimensions["C"].width = 18
    sheet.column_dimensions["D"].width = 12
    _text(sheet["A1"], "Izmaksu kompensācijas pieprasījuma kopsavilkums")
    sheet["A1"].font = Font(bold=True, size=13)
    facts = (
        ("Pieprasījuma Nr.", values.get("number")),
        ("Pieprasījuma datums", date_numeric(values.get("date"))),
        ("Periods", f"{date_numeric(period.start)}–{date_numeric(period.end)}"),
        ("Pašvaldība", submitter.get("name")),
        ("Reģistrācijas Nr.", submitter.get("registration_number")),
        ("Projekts", funding.get("project_name")),
        ("Projekta Nr.", funding.get("project_number")),
        ("Vienošanās par projekta īstenošanu Nr.", values.get("project_agreement_number")),
    )
    row = 2
    for row, (title, value) in enumerate(facts, start=3):
        _text(sheet.cell(row, 1), title)
        _text(sheet.cell(row, 2), value)
    row += 1
    _text(sheet.cell(row, 1), "Klientu skaits")
    _number(sheet.cell(row, 2), int(totals["clients"]), "0")
    row += 1
    _text(sheet.cell(row, 1), "Rindu skaits")
    _number(sheet.cell(row, 2), int(totals["lines"]), "0")

    head = row + 2
    for column, title in enumerate(("", "Summa", "Pārbaude (formula)", "Sakrīt"), start=1):
        _text(sheet.cell(head, column), title)
        sheet.cell(head, column).font = BOLD
    total, esf_share, esf, state_share, state = (head + n for n in range(1, 6))
    _text(sheet.cell(total, 1), "Kopā, EUR")
    sheet.cell(total, 1).font = BOLD
    _money(sheet.cell(total, 2), totals["amount"])
    sheet.cell(total, 2).font = BOLD
    _formula(sheet.cell(total, 3), f"={lines_total}")
    _text(sheet.cell(esf_share, 1), "ESF finansējuma daļa, %")
    _number(sheet.cell(esf_share, 2), funding["esf_share"])
    _text(sheet.cell(esf, 1), "ESF finansējums, EUR")
    _money(sheet.cell(esf, 2), totals["esf"])
    # Rounded to whole cents before dividing: total×share is exact for two-place figures, while /100
    # first would leave x.xx5 just below the half in binary floating point and round it down.
    _formula(sheet.cell(esf, 3), f"=ROUND(B{total}*B{esf_share},0)/100")
    _text(sheet.cell(state_share, 1), "Valsts budžeta finansējuma daļa, %")
    _number(sheet.cell(state_share, 2), funding["state_share"])
    _text(sheet.cell(state, 1), "Valsts budžeta finansējums, EUR")
    _money(sheet.cell(state, 2), totals["state"])
    _formula(sheet.cell(state, 3), f"=B{total}-B{esf}")
    for checked in (total, esf, state):
        _formula(sheet.cell(checked, 4), f"=ROUND(B{checked}-C{checked},2)=0", None)
    clients_row = state + 1
    _text(sheet.cell(clients_row, 1), "Kopā pa klientiem, EUR")
    _formula(sheet.cell(clients_row, 3), f"={clients_total}")
    _formula(sheet.cell(clients_row, 4), f"=ROUND(B{total}-C{clients_row},2)=0", None)


# --- helpers ----------------------------------------------------------------------------------------


def _personal_codes(values: dict[str, Any]) -> dict[str, str]:
    """Agreement number → the client's personal code (from the agreements, else from the rows)."""
    codes = {row["agreement"]: row["personal_code"] for row in values.get("rows") or []}
    for agreement in values.get("agreements") or []:
        code = (agreement.get("client") or {}).get("personal_code")
        if agreement.get("number") and code:
            codes[agreement["number"]] = code
    return codes


def _fixed_moment(values: dict[str, Any]) -> dt.datetime:
    """The workbook's created/modified time and its ZIP timestamps: midnight of the request date."""
    day = values.get("date")
    if isinstance(day, dt.date) and day.year >= 1980:
        return dt.datetime(day.year, day.month, day.day)
    return FALLBACK_MOMENT
