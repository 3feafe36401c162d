"""A client's budget as XLSX: the figures of :func:`service.cases.budget.client_budget` in two sheets.

* **Budžets** – one row per month and service (planned, contracted and delivered units and euros),
  then the month's total row against its monthly budget and the delivered total so far against the
  period budget, with what is left of each;
* **Kopsavilkums** – whose budget (the client's name, id, plan and period) and each service over the
  whole period, with what the plan still allows of it, and the period's totals.

Figures are values, not formulas, so the file reads the same anywhere; text goes in through
``write_text`` (never a formula). The same budget gives the same bytes: the workbook is stamped with
the period's first day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from service.documents.formatting import date_numeric
from service.files import safe_file_name
from service.tables.workbook import (
    BOLD,
    deterministic_bytes,
    write_header,
    write_money,
    write_number,
    write_text,
)

SHEETS = ("Budžets", "Kopsavilkums")
FIGURES = ("planned", "contracted", "delivered")
FIGURE_TITLES = ("Plānots", "Līgumos", "Sniegts")
MONTH_FORMAT = "MM.YYYY"
PERCENT_FORMAT = "0.0"
#: Stamped on a budget without a plan; any fixed moment will do.
FALLBACK_MOMENT = dt.datetime(2000, 1, 1)
NO_PLAN = "Klientam nav apstiprināta atbalsta plāna."


def budget_xlsx(budget: dict[str, Any], client_name: str) -> bytes:
    """The workbook of ``budget`` (as ``client_budget`` returns it) for the client ``client_name``."""
    workbook = Workbook()
    months = workbook.active
    months.title = SHEETS[0]
    _months_sheet(months, budget)
    _summary_sheet(workbook.create_sheet(SHEETS[1]), budget, client_name)
    plan = budget["plan"]
    moment = dt.datetime.combine(plan["period_start"], dt.time()) if plan else FALLBACK_MOMENT
    return deterministic_bytes(workbook, moment, "Klienta budžets")


def file_name(client_id: str) -> str:
    """The workbook's file name: the client's id, never the name or the personal code."""
    return safe_file_name(f"Budžets {client_id}.xlsx")


def state(figures: dict[str, Any]) -> str:
    """What a row's figures say in words: over the month's or the period's budget, or near the latter."""
    words = []
    if figures.get("month_over"):
        words.append("pārsniegts mēneša budžets")
    if figures["over"]:
        words.append("pārsniegts perioda budžets")
    elif figures["warning"]:
        words.append("tuvu perioda budžetam")
    return "; ".join(words)


def _figure_titles(*, remaining: bool = False) -> list[str]:
    titles = [f"{title} ({what})" for title in FIGURE_TITLES for what in ("vien.", "EUR")]
    return titles + (["Atlikums (vien.)", "Atlikums (EUR)"] if remaining else [])


def _service_row(sheet: Worksheet, row: int, column: int, service: dict[str, Any], remaining=False) -> None:
    """From ``column``: the service (code and name), its unit and its units and euros of each figure."""
    write_text(sheet.cell(row, column), f"{service['code']} {service['name']}".strip())
    write_text(sheet.cell(row, column + 1), service["unit"])
    kinds = FIGURES + (("remaining",) if remaining else ())
    for offset, kind in enumerate(kinds):
        write_number(sheet.cell(row, column + 2 + 2 * offset), service[f"{kind}_units"])
        write_money(sheet.cell(row, column + 3 + 2 * offset), service[f"{kind}_amount"])


def _totals(sheet: Worksheet, row: int, column: int, figures: dict[str, Any], title: str) -> None:
    """A bold total row: ``title`` in the service's ``column``, the euros of each figure under theirs."""
    write_text(sheet.cell(row, column), title)
    for offset, kind in enumerate(FIGURES):
        write_money(sheet.cell(row, column + 3 + 2 * offset), figures[kind])
    for cell in sheet[row]:
        cell.font = BOLD


def _months_sheet(sheet: Worksheet, budget: dict[str, Any]) -> None:
    titles = ["Mēnesis", "Pakalpojums", "Vienība", *_figure_titles()]
    titles += ["Mēneša budžets (EUR)", "Mēneša atlikums (EUR)", "Sniegts kopš perioda sākuma (EUR)"]
    titles += ["Perioda atlikums (EUR)", "Izlietots (%)", "Stāvoklis"]
    write_header(sheet, titles, (10, 44, 10, *([12] * 6), 14, 14, 18, 14, 10, 30))
    row = 1
    if not budget["plan"]:
        write_text(sheet.cell(2, 1), NO_PLAN)
    for month in budget["months"]:
        first = dt.date(int(month["month"][:4]), int(month["month"][5:]), 1)
        for service in month["services"]:
            row += 1
            _month_cell(sheet, row, first)
            _service_row(sheet, row, 2, service)
        row += 1
        _month_cell(sheet, row, first)
        _totals(sheet, row, 2, month, "Kopā mēnesī")
        for column, key in enumerate(
            ("monthly_budget", "remaining", "delivered_cumulative", "period_remaining"), start=10
        ):
            write_money(sheet.cell(row, column), month[key])
        write_number(sheet.cell(row, 14), month["percent_used"], PERCENT_FORMAT)
        write_text(sheet.cell(row, 15), state(month))


def _month_cell(sheet: Worksheet, row: int, first: dt.date) -> None:
    cell = sheet.cell(row, 1)
    cell.value = first
    cell.number_format = MONTH_FORMAT


def _summary_sheet(sheet: Worksheet, budget: dict[str, Any], client_name: str) -> None:
    """Whose budget, then each service over the period and the period's totals."""
    write_text(sheet["A1"], "Klienta budžets")
    sheet["A1"].font = Font(bold=True, size=13)
    plan = budget["plan"]
    facts: list[tuple[str, Any]] = [("Klients", client_name), ("Klienta ID", budget["client_id"])]
    if plan:
        period = f"{date_numeric(plan['period_start'])}–{date_numeric(plan['period_end'])}"
        facts += [
            ("Atbalsta plāns", f"{plan['plan_number']}, {plan['version']}. versija"),
            ("Periods", period),
        ]
    else:
        facts.append(("Atbalsta plāns", NO_PLAN))
    for row, (title, value) in enumerate(facts, start=3):
        write_text(sheet.cell(row, 1), title)
        write_text(sheet.cell(row, 2), value)
    if not plan:
        return
    head = len(facts) + 4
    write_header(
        sheet, ["Pakalpojums", "Vienība", *_figure_titles(remaining=True)], (44, 10, *([12] * 8)), head
    )
    sheet.column_dimensions["A"].width = 44
    row = head
    for row, service in enumerate(budget["services"], start=head + 1):
        _service_row(sheet, row, 1, service, remaining=True)
    totals = budget["totals"]
    _totals(sheet, row + 1, 1, totals, "Kopā")
    rows = (
        ("Mēneša budžets (EUR)", plan["monthly_budget"]),
        ("Perioda budžets (EUR)", plan["period_budget"]),
        ("Sniegts periodā (EUR)", totals["delivered_cumulative"]),
        ("Perioda atlikums (EUR)", totals["period_remaining"]),
    )
    for offset, (title, amount) in enumerate(rows, start=row + 3):
        write_text(sheet.cell(offset, 1), title)
        write_money(sheet.cell(offset, 2), amount)
    last = row + 3 + len(rows)
    write_text(sheet.cell(last, 1), "Izlietots (%)")
    write_number(sheet.cell(last, 2), totals["percent_used"], PERCENT_FORMAT)
    write_text(sheet.cell(last + 1, 1), "Brīdinājums no (%)")
    write_number(sheet.cell(last + 1, 2), budget["warn_percent"], "0")
    write_text(sheet.cell(last + 2, 1), "Stāvoklis")
    write_text(sheet.cell(last + 2, 2), state(totals) or "budžeta robežās")
