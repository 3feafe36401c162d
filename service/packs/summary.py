"""``summary.xlsx`` of a reimbursement pack: the request in sheets a finance officer can check.

``write_summary(values, target)`` takes a loaded reimbursement request (``ReimbursementRequestSchema().load``)
and writes to ``target`` (atomically) an XLSX workbook with four sheets:

* **Kopsavilkums** – request, period, municipality, project, the total and its ESF and state parts. The
  figures are the ones the schema computed; next to them stand check formulas (``=ROUND(total*share,0)/100``,
  ``=total-esf``, the sum of the lines) and a cell telling whether they agree.
* **Pa klientiem** – one row per client with a ``=SUM`` total.
* **Pa pakalpojumiem** – one row per service with a ``=SUM`` total, a ``=SUMIFS`` check over the lines and
  a native bar chart of spending by service.
* **Rindas** – every delivery line with a ``=SUM`` total.

The workbook is written in openpyxl's write-only mode, row by row, and the request's ``lines`` may be any
iterable of line dicts, read once: memory does not follow the number of lines. The sheets are filled in the
order their formulas need (the lines first: the other sheets refer to their total), and appear in the order
above. Money stays ``Decimal`` until the cell is written (as a float, which round-trips to the same cents).
Every piece of text from the input is written as a string cell (``RowWriter.text``), so a value such as
``=HYPERLINK(...)`` can never become a live formula. The output is deterministic: the document properties
and the ZIP member timestamps are fixed (the request date), so the same input gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font

from service.documents.formatting import date_numeric
from service.documents.labels import load_labels
from service.tables.workbook import NUMBER_FORMAT, RowWriter, deterministic_save, write_only_workbook

__all__ = ["SHEETS", "write_summary"]

SHEETS = ("Kopsavilkums", "Pa klientiem", "Pa pakalpojumiem", "Rindas")

LABELS_FILE = Path(__file__).resolve().parents[2] / "templates_lv" / "labels.toml"

DATE_FORMAT = "DD.MM.YYYY"
#: Used when the request carries no date; any fixed moment will do.
FALLBACK_MOMENT = dt.datetime(2000, 1, 1)


def write_summary(
    values: dict[str, Any], target: Path, labels: dict[str, dict[str, str]] | None = None
) -> None:
    """Write the ``summary.xlsx`` of a loaded reimbursement request to ``target``; ``labels`` as
    ``load_labels`` reads them (by default from ``templates_lv/labels.toml``)."""
    labels = labels if labels is not None else load_labels(LABELS_FILE)
    with write_only_workbook() as workbook:
        summary, clients, services, lines = (RowWriter(workbook.create_sheet(title)) for title in SHEETS)
        lines_total, line_count = _lines_sheet(lines, values)
        clients_total = _clients_sheet(clients, values, labels.get("target_group", {}))
        _services_sheet(services, values, line_count)
        _summary_sheet(summary, values, lines_total, clients_total)
        title = "Izmaksu kompensācijas pieprasījuma kopsavilkums"
        deterministic_save(workbook, target, _fixed_moment(values), title)


def _ref(sheet: str, cell: str) -> str:
    """``'Pa klientiem'!E9``: a reference to a cell of another sheet of this workbook."""
    return "'{}'!{}".format(sheet.replace("'", "''"), cell)


# --- sheets -----------------------------------------------------------------------------------------


def _lines_sheet(out: RowWriter, values: dict[str, Any]) -> tuple[str, int]:
    """Every delivery line, read once from any iterable; the reference of the total cell and the count."""
    out.header(
        ("Vienošanās Nr.", "Personas kods", "Pakalpojums", "Datums", "Vienības", "Cena, EUR", "Summa, EUR"),
        (18, 16, 14, 12, 10, 12, 14),
    )
    codes = _personal_codes(values)
    count = 0
    for line in values["lines"]:
        count += 1
        out.sheet.append(
            [
                out.text(line["agreement"]),
                out.text(codes.get(line["agreement"], "")),
                out.text(line["code"]),
                out.date(line["date"], DATE_FORMAT),
                out.number(line["units"]),
                out.money(line["unit_price"]),
                out.money(line["amount"]),
            ]
        )
    last = max(count + 1, 2)
    out.sheet.append(
        [
            out.text("Kopā", bold=True),
            None,
            None,
            None,
            out.formula(f"=SUM(E2:E{last})", NUMBER_FORMAT),
            None,
            out.formula(f"=SUM(G2:G{last})", bold=True),
        ]
    )
    return _ref(out.sheet.title, f"G{count + 2}"), count


def _clients_sheet(out: RowWriter, values: dict[str, Any], groups: dict[str, str]) -> str:
    """One row per client (in the order of the request's rows); returns the reference of the total."""
    out.header(
        ("Personas kods", "Mērķa grupa", "Atbalsta plāna Nr.", "Vienošanās Nr.", "Summa, EUR"),
        (16, 48, 22, 22, 14),
    )
    count = 0
    for client in values["by_client"]:
        count += 1
        out.sheet.append(
            [
                out.text(client["personal_code"]),
                out.text(groups.get(client["target_group"], client["target_group"])),
                out.text(", ".join(client["plans"])),
                out.text(", ".join(client["agreements"])),
                out.money(client["amount"]),
            ]
        )
    formula = out.formula(f"=SUM(E2:E{max(count + 1, 2)})", bold=True)
    out.sheet.append([out.text("Kopā", bold=True), None, None, None, formula])
    return _ref(out.sheet.title, f"E{count + 2}")


def _services_sheet(out: RowWriter, values: dict[str, Any], line_count: int) -> None:
    """One row per service code, a SUMIFS check over the lines and a bar chart of the amounts."""
    out.header(
        ("Kods", "Pakalpojums", "Mērvienība", "Daudzums", "Summa, EUR", "Pārbaude pēc rindām, EUR"),
        (12, 44, 14, 12, 14, 24),
    )
    last_line = max(line_count + 1, 2)
    amounts = f"Rindas!$G$2:$G${last_line}"
    codes = f"Rindas!$C$2:$C${last_line}"
    row = 1
    for row, service in enumerate(values["by_service"], start=2):
        out.sheet.append(
            [
                out.text(service["code"]),
                out.text(service["name"]),
                out.text(service["unit"]),
                out.number(service["quantity"]),
                out.money(service["amount"]),
                out.formula(f"=SUMIFS({amounts},{codes},A{row})"),
            ]
        )
    last = max(row, 2)
    out.sheet.append(
        [
            out.text("Kopā", bold=True),
            None,
            None,
            None,
            out.formula(f"=SUM(E2:E{last})", bold=True),
            out.formula(f"=SUM(F2:F{last})"),
        ]
    )

    chart = BarChart()
    chart.type = "col"
    chart.title = "Izdevumi pa pakalpojumiem"
    chart.y_axis.title = "EUR"
    chart.x_axis.title = "Pakalpojums"
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend = None
    chart.add_data(Reference(out.sheet, min_col=5, min_row=1, max_row=row), titles_from_data=True)
    chart.set_categories(Reference(out.sheet, min_col=1, min_row=2, max_row=row))
    chart.width, chart.height = 18, 9
    out.sheet.add_chart(chart, "H2")


def _summary_sheet(out: RowWriter, values: dict[str, Any], lines_total: str, clients_total: str) -> None:
    """The request in figures; money as the schema computed it, with check formulas beside it."""
    totals, funding, submitter = values["totals"], values["funding"], values.get("submitter") or {}
    period = values["period"]
    out.widths((34, 48, 18, 12))
    append = out.sheet.append
    append([out.text("Izmaksu kompensācijas pieprasījuma kopsavilkums", font=Font(bold=True, size=13))])
    append([])
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
    for title, value in facts:
        append([out.text(title), out.text(value)])
    append([out.text("Klientu skaits"), out.number(int(totals["clients"]), "0")])
    append([out.text("Rindu skaits"), out.number(int(totals["lines"]), "0")])
    append([])
    head = 3 + len(facts) + 3
    append([None, *(out.text(title, bold=True) for title in ("Summa", "Pārbaude (formula)", "Sakrīt"))])
    total, esf_share, esf, _, state = (head + n for n in range(1, 6))
    # Rounded to whole cents before dividing: total×share is exact for two-place figures, while /100
    # first would leave x.xx5 just below the half in binary floating point and round it down.
    checks = {
        total: f"={lines_total}",
        esf: f"=ROUND(B{total}*B{esf_share},0)/100",
        state: f"=B{total}-B{esf}",
        state + 1: f"={clients_total}",
    }
    figures = (
        ("Kopā, EUR", out.money(totals["amount"], bold=True)),
        ("ESF finansējuma daļa, %", out.number(funding["esf_share"])),
        ("ESF finansējums, EUR", out.money(totals["esf"])),
        ("Valsts budžeta finansējuma daļa, %", out.number(funding["state_share"])),
        ("Valsts budžeta finansējums, EUR", out.money(totals["state"])),
        ("Kopā pa klientiem, EUR", None),
    )
    for row, (title, figure) in enumerate(figures, start=total):
        cells = [out.text(title, bold=row == total), figure]
        if row in checks:  # the check formula, and whether it agrees with the total (or the figure)
            agreed = f"=ROUND(B{total if figure is None else row}-C{row},2)=0"
            cells += [out.formula(checks[row]), out.formula(agreed, None)]
        append(cells)


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
