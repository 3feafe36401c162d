"""Delivery lines and agreements as tables: the XLSX input template, and uploaded XLSX or CSV files read back.

A finance officer fills the template's two sheets (or sends each as a CSV file):

* **Līgumi** – one row per agreed service of an accepted agreement; the rows with the same "Līguma Nr."
  make one agreement (``AcceptedAgreementSchema``), its agreement-level values repeated or left empty;
* **Rindas** – one delivery line per row (``DeliveryLineSchema``).

:func:`read_table_files` reads the files with ``service.tables.reading`` (the same checks, limits and
problems as every uploaded table) into the raw dicts those schemas load, and remembers where each value
came from: :meth:`TableInput.place` names the sheet, row and column of a schema error's path. Dates and
numbers typed as text are read as Latvian Excel writes them (``15.09.2020``, ``2,5``) or as ISO; one that
cannot be read is in :attr:`TableInput.unread` with its ``input.*`` problem at its path, and
:meth:`TableInput.with_unread` puts those in place of what the schema said there. Files that cannot be
read as tables raise :class:`TableRejected` with every problem found.

>>> text = ("Līguma Nr.;Pakalpojuma kods;Datums;Vienības\\r\\n"
...         "L-1;APLP;08.09.2020;2,5\\r\\nL-1;APLP;09/15/2020;1\\r\\n")
>>> table = read_table_files({"lines": text.encode("cp1257")}, UploadLimits(max_bytes=1000))
>>> table.lines[0], table.agreements
({'agreement': 'L-1', 'code': 'APLP', 'date': '2020-09-08', 'units': '2.5'}, None)
>>> [(path, found.code, table.place(path)) for path, found in table.unread]
[(('lines', 1, 'date'), 'input.date_order', {'sheet': 'Rindas', 'row': 3, 'column': 'Datums'})]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from schemas import catalogue
from schemas.errors import Problem
from schemas.parties import TARGET_GROUPS
from schemas.reimbursement import MAX_LINES
from service.documents.labels import STANDARD_LABELS, load_labels
from service.forms.fields import with_problems
from service.forms.uploads import UploadLimits
from service.tables.reading import (
    DATE,
    GROUP,
    NUMBER,
    SERVICE,
    TEXT,
    Column,
    Found,
    Problems,
    RowPlaces,
    Table,
    TableProblem,
    TableRejected,
    Unread,
    column_of,
    read_tables,
    record,
)
from service.tables.sheets import BOLD, CODES, NOTES, TEMPLATE_MOMENT, CodeList, header, notes_sheet, write
from service.tables.workbook import deterministic_bytes, write_text

__all__ = [
    "AGREEMENTS",
    "LINES",
    "Column",
    "Table",
    "TableInput",
    "TableProblem",
    "TableRejected",
    "input_template",
    "read_table_files",
    "table_rows",
]

MAX_AGREEMENT_ROWS = 150_000
#: The list validations: the column of "Kodi" they offer, their error title and message, and how strict.
_LISTS = {
    SERVICE: CodeList(
        "A",
        len(catalogue.default().services),
        "Pakalpojuma kods",
        "Izvēlieties pakalpojuma kodu no saraksta (lapa «Kodi»).",
        "stop",
    ),
    GROUP: CodeList(
        "F",
        len(TARGET_GROUPS),
        "Mērķa grupa",
        "Izvēlieties mērķa grupas kodu no saraksta vai ierakstiet tās nosaukumu (lapa «Kodi»).",
        "warning",
    ),
}

AGREEMENTS = Table(
    "Līgumi",
    "agreements",
    (
        Column(
            "Līguma Nr.",
            ("number",),
            TEXT,
            18,
            "Pieņemtā līguma numurs; vienāds visās līguma rindās.",
            "BNP-L-2020/001",
        ),
        Column(
            "Plāna Nr.", ("plan_number",), TEXT, 18, "Individuālā atbalsta plāna numurs.", "BNP-IAP-2020/001"
        ),
        Column(
            "Personas kods", ("client", "personal_code"), TEXT, 15, "Klienta personas kods.", "150385-16347"
        ),
        Column(
            "Dzimšanas datums",
            ("client", "birth_date"),
            DATE,
            12,
            "Klienta dzimšanas datums; vajadzīgs tikai jaunā formāta personas kodam (sākas ar 32–39).",
            "12.09.2017",
            required=False,
        ),
        Column(
            "Vārds, uzvārds",
            ("client", "name"),
            TEXT,
            22,
            "Klienta vārds un uzvārds.",
            "Jānis Bērziņš",
            required=False,
        ),
        Column(
            "Mērķa grupa",
            ("client", "target_group"),
            GROUP,
            14,
            "Klienta mērķa grupa: kods vai nosaukums no lapas «Kodi».",
            "adult_grt",
            labels="target_group",
        ),
        Column("Līgums no", ("term", "start"), DATE, 12, "Līguma darbības sākuma datums.", "01.02.2020"),
        Column("Līgums līdz", ("term", "end"), DATE, 12, "Līguma darbības beigu datums.", "31.01.2021"),
        Column(
            "Pakalpojuma kods",
            ("services", "code"),
            SERVICE,
            12,
            "Līgumā paredzētā pakalpojuma kods no lapas «Kodi».",
            "APLP",
        ),
        Column(
            "Daudzums mēnesī",
            ("services", "quantity"),
            NUMBER,
            10,
            "Līgumā paredzētais apjoms mēnesī pakalpojuma mērvienībā.",
            "16",
        ),
        Column(
            "Pakalpojums no",
            ("services", "start"),
            DATE,
            12,
            "Datums, no kura pakalpojums paredzēts (līguma termiņā).",
            "01.02.2020",
        ),
        Column(
            "Pakalpojums līdz",
            ("services", "end"),
            DATE,
            12,
            "Datums, līdz kuram pakalpojums paredzēts (līguma termiņā).",
            "31.01.2021",
        ),
    ),
)
LINES = Table(
    "Rindas",
    "lines",
    (
        Column(
            "Līguma Nr.", ("agreement",), TEXT, 18, "Līguma numurs tāpat kā lapā «Līgumi».", "BNP-L-2020/001"
        ),
        Column(
            "Pakalpojuma kods", ("code",), SERVICE, 12, "Sniegtā pakalpojuma kods no lapas «Kodi».", "APLP"
        ),
        Column("Datums", ("date",), DATE, 12, "Diena, kurā pakalpojums sniegts.", "08.09.2020"),
        Column(
            "Vienības",
            ("units",),
            NUMBER,
            10,
            "Šajā dienā sniegtais apjoms pakalpojuma mērvienībā (stundas, dienas, reizes vai diennaktis).",
            "2,5",
        ),
    ),
)
TABLES = (AGREEMENTS, LINES)

NOTES_TEXT = (
    "Lapā «Līgumi» ir pieņemtie līgumi, lapā «Rindas» – sniegtie pakalpojumi: katra rinda ir viena diena, "
    "kurā klientam sniegts viens pakalpojums.",
    "Lapā «Līgumi» katra rinda ir viens līgumā paredzēts pakalpojums. Līgums ar vairākiem pakalpojumiem "
    "aizņem vairākas rindas ar vienu un to pašu līguma numuru; līguma dati (plāns, klients, termiņš) tajās "
    "jāatkārto vai jāatstāj tukši, bet tie nedrīkst atšķirties.",
    "Vienības un daudzums mēnesī ir pakalpojuma mērvienībā (lapā «Kodi»: stundas, dienas, reizes vai "
    "diennaktis) un ievēro tās soli, piemēram, 2,5 stundas.",
    "Datumus ievadiet kā datumus (piemēram, 08.09.2020); ja datums šūnā ir teksts, rakstiet to formā "
    "DD.MM.GGGG (08.09.2020) vai GGGG-MM-DD (2020-09-08), bet ne ar slīpsvītrām un ne ar divciparu gadu. "
    "Skaitļa daļu atdaliet ar komatu (2,5) vai punktu, tūkstošus – ar atstarpi (1 234,50).",
    "Pakalpojuma kodu un mērķa grupu izvēlieties no saraksta; mērķa grupu var ierakstīt arī ar tās "
    "nosaukumu.",
    "Pirmā rinda ir virsraksti: tos nemainiet. Kolonnu secība nav svarīga; liekas kolonnas un tukšas rindas "
    "netiek ņemtas vērā.",
    "Ja šūnās ir formulas, pirms iesniegšanas saglabājiet datni programmā Excel vai LibreOffice, lai tajā "
    "būtu aprēķinātās vērtības.",
    "Katru lapu var iesniegt arī kā CSV datni ar tiem pašiem virsrakstiem (atdalītājs – semikols vai "
    "komats, kodējums UTF-8 vai Windows-1257).",
)


@dataclass(frozen=True)
class _Places:
    """Where the agreements came from: the sheet, and for each agreement its rows by path."""

    sheet: str
    first_rows: list[int] = field(default_factory=list)
    given: list[dict[tuple[str, ...], int]] = field(default_factory=list)
    service_rows: list[list[int]] = field(default_factory=list)

    def place(self, rest: tuple) -> dict[str, Any] | None:
        if not rest:
            return {"sheet": self.sheet}
        index, sub = rest[0], tuple(rest[1:])
        if not isinstance(index, int) or not 0 <= index < len(self.first_rows):
            return None
        services = self.service_rows[index]
        if sub[:1] == ("services",) and len(sub) > 1 and isinstance(sub[1], int) and sub[1] < len(services):
            row, key = services[sub[1]], ("services", *sub[2:3])
        else:
            key = sub[:2] if sub[:1] in (("client",), ("term",)) else sub[:1]
            row = self.given[index].get(key, self.first_rows[index])
        return {"sheet": self.sheet, "row": row} | column_of(AGREEMENTS, key)


@dataclass(frozen=True)
class TableInput:
    """The records read from the files (None for a table no file held), where they came from, and the
    values whose text could not be read as a date or number: each problem at its path in the records."""

    agreements: list[dict[str, Any]] | None = None
    lines: list[dict[str, Any]] | None = None
    _places: dict[str, _Places | RowPlaces] = field(default_factory=dict, repr=False)
    unread: list[tuple[tuple, Problem]] = field(default_factory=list)

    def with_unread(self, messages: Any) -> dict[Any, Any]:
        """A schema's error ``messages`` with each unread value's problem in place of what it said there."""
        return with_problems(self.unread, messages)

    def place(self, path: tuple) -> dict[str, Any] | None:
        """``{"sheet", "row", "column"}`` of a schema error's path such as ``("lines", 4, "date")``; no
        ``column`` when the path names none, no ``row`` for a whole table; None outside the tables."""
        places = self._places.get(path[0]) if path else None
        return places.place(tuple(path[1:])) if places else None


# --- reading ------------------------------------------------------------------------------------------


def read_table_files(
    files: Mapping[str, bytes],
    limits: UploadLimits,
    *,
    max_lines: int = MAX_LINES,
    max_agreement_rows: int = MAX_AGREEMENT_ROWS,
) -> TableInput:
    """Read uploaded tables: ``files`` maps an upload's field name to its bytes, each an XLSX (one or both
    sheets) or a CSV (one table, recognised by its headers), each checked under ``limits``. Raises
    :class:`TableRejected`."""
    row_limits = {AGREEMENTS.key: max_agreement_rows, LINES.key: max_lines}
    found = read_tables(files, TABLES, limits, row_limits)
    problems = Problems()
    result: dict[str, Any] = {}
    places: dict[str, _Places | RowPlaces] = {}
    unread: list[tuple[tuple, Problem]] = []
    if AGREEMENTS.key in found:
        where = found[AGREEMENTS.key]
        result["agreements"], places["agreements"] = _agreements(where, problems, unread)
    if LINES.key in found:
        rows = found[LINES.key]
        result["lines"] = [record(values, LINES.columns) for _, values in rows.rows]
        places["lines"] = RowPlaces.of(rows, LINES)
        unread += _unread_lines(rows.rows, rows.unread)
    problems.raise_if_any()
    return TableInput(**result, _places=places, unread=unread)


_LINE_COLUMNS = {column.header: column for column in LINES.columns}


def _unread_lines(rows: list[tuple[int, dict[str, str]]], unread: Unread) -> list[tuple[tuple, Problem]]:
    """The problems of the line values that could not be read, at their paths."""
    if not unread:
        return []
    return [
        (("lines", index, *_LINE_COLUMNS[header].path), unread[number, header])
        for index, (number, values) in enumerate(rows)
        for header in values
        if (number, header) in unread
    ]


# --- records --------------------------------------------------------------------------------------------


def _agreements(
    found: Found, problems: Problems, unread: list[tuple[tuple, Problem]]
) -> tuple[list[dict[str, Any]], _Places]:
    """One agreement per "Līguma Nr.", in first-appearance order; each row adds a service; an agreement's
    own value is taken from the first row that gives it, and a later row may not give another. A value
    that could not be read adds its problem to ``unread`` at its path (an own value: from the row that
    gave it)."""
    file, sheet, rows = found.file, found.sheet, found.rows
    own = [c for c in AGREEMENTS.columns if c.path[0] != "services"]
    services = [c for c in AGREEMENTS.columns if c.path[0] == "services"]
    agreements: list[dict[str, Any]] = []
    places = _Places(sheet)
    by_number: dict[str, int] = {}
    for number, values in rows:
        key = values.get(AGREEMENTS.columns[0].header)
        index = by_number.get(key) if key else None
        if index is None:
            index = len(agreements)
            if key:
                by_number[key] = index
            agreements.append({"client": {}, "term": {}, "services": []})
            places.first_rows.append(number)
            places.given.append({})
            places.service_rows.append([])
        agreement, given = agreements[index], places.given[index]
        for column in own:
            value = values.get(column.header)
            *parents, leaf = column.path
            node = agreement
            for part in parents:
                node = node[part]
            if value is None:
                continue
            if leaf not in node:
                node[leaf] = value
                given[column.path] = number
                if (number, column.header) in found.unread:
                    unread.append((("agreements", index, *column.path), found.unread[number, column.header]))
            elif node[leaf] != value:
                problems.add(
                    {"file": file, "sheet": sheet, "row": number, "column": column.header},
                    "table.conflicting_value",
                    number=key,
                    column=column.header,
                    row=given[column.path],
                )
        for column in services:
            if (number, column.header) in found.unread:
                path = ("agreements", index, "services", len(agreement["services"]), *column.path[1:])
                unread.append((path, found.unread[number, column.header]))
        agreement["services"].append(record(values, services).get("services", {}))
        places.service_rows[index].append(number)
    return [_ordered(agreement) for agreement in agreements], places


def _ordered(agreement: dict[str, Any]) -> dict[str, Any]:
    """The agreement's keys in the schema's order."""
    return {
        k: agreement[k] for k in ("number", "plan_number", "client", "term", "services") if k in agreement
    }


# --- the template -----------------------------------------------------------------------------------------


def input_template(
    agreements: Iterable[Mapping[str, Any]] | None = None, lines: Iterable[Mapping[str, Any]] | None = None
) -> bytes:
    """The XLSX input template: "Norādes", "Līgumi", "Rindas" and "Kodi"; ``agreements`` and ``lines`` (raw
    dicts as in a request's JSON) are written as rows. The same arguments give the same bytes."""
    workbook = Workbook()
    notes = workbook.active
    notes.title = NOTES
    notes_sheet(notes, "Izmaksu kompensācijas pieprasījuma ievaddati: norādes", NOTES_TEXT, TABLES)
    for table, records in ((AGREEMENTS, agreements), (LINES, lines)):
        sheet = workbook.create_sheet(table.sheet)
        header(sheet, table, {c.header: _LISTS[c.kind] for c in table.columns if c.kind in _LISTS})
        for row, values in enumerate(table_rows(table, records or ()), start=2):
            for number, (column, value) in enumerate(zip(table.columns, values, strict=True), start=1):
                write(sheet.cell(row, number), column, value)
    _codes_sheet(workbook.create_sheet(CODES))
    return deterministic_bytes(workbook, TEMPLATE_MOMENT, "Izmaksu kompensācijas pieprasījuma ievaddati")


def table_rows(table: Table, records: Iterable[Mapping[str, Any]]) -> Iterator[list[Any]]:
    """The table's rows for raw records (agreements or lines as in a request's JSON): one value per column,
    None when absent; an agreement gives one row per service, its own values repeated on each."""
    for raw in records:
        if table is LINES:
            yield [_dig(raw, column.path) for column in table.columns]
            continue
        for service in raw.get("services") or [{}]:
            yield [
                _dig(service, column.path[1:]) if column.path[0] == "services" else _dig(raw, column.path)
                for column in table.columns
            ]


def _dig(record: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        record = record.get(key) if isinstance(record, Mapping) else None
    return record


def _codes_sheet(sheet: Worksheet) -> None:
    """Service codes (column A) with names, units and steps; target groups (column F) with their labels."""
    titles = ("Pakalpojuma kods", "Pakalpojums", "Mērvienība", "Solis", None, "Mērķa grupa", "Nosaukums")
    for number, (title, width) in enumerate(zip(titles, (16, 44, 12, 8, 3, 14, 52), strict=True), start=1):
        write_text(sheet.cell(1, number), title)
        sheet.cell(1, number).font = BOLD
        sheet.column_dimensions[get_column_letter(number)].width = width
    sheet.freeze_panes = "A2"
    for row, service in enumerate(catalogue.default().services.values(), start=2):
        write_text(sheet.cell(row, 1), service.code)
        write_text(sheet.cell(row, 2), service.name)
        write_text(sheet.cell(row, 3), service.unit.name)
        sheet.cell(row, 4).value = float(service.unit.step)
    labels = load_labels(STANDARD_LABELS).get("target_group", {})
    for row, code in enumerate(TARGET_GROUPS, start=2):
        write_text(sheet.cell(row, 6), code)
        write_text(sheet.cell(row, 7), labels.get(code, ""))
