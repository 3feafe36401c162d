"""Delivery lines and agreements as tables: the XLSX input template, and uploaded XLSX or CSV files read back.

A finance officer fills the template's two sheets (or sends each as a CSV file):

* **Līgumi** – one row per agreed service of an accepted agreement; the rows with the same "Līguma Nr."
  make one agreement (``AcceptedAgreementSchema``), its agreement-level values repeated or left empty;
* **Rindas** – one delivery line per row (``DeliveryLineSchema``).

:func:`read_table_files` turns the files into the raw dicts those schemas load – text stripped, dates
``YYYY-MM-DD``, numbers plain decimal strings, empty cells left out – and remembers where each value came
from: :meth:`TableInput.place` names the sheet, row and column of a schema error's path. Files that cannot
be read as tables raise :class:`TableRejected` with every problem found. Every file is checked under
the upload limits it is given (``UploadLimits``, the same as a form's; an XLSX's package sizes are the
``table_*`` ones): its size, and an XLSX's package (ZIP structure, macros, zip bombs, DOCTYPEs) by
``service.forms.uploads.inspect_package`` before openpyxl reads it in read-only mode.

>>> text = "Līguma Nr.;Pakalpojuma kods;Datums;Vienības\\r\\nL-1;APLP;2020-09-08;2,5\\r\\n"
>>> table = read_table_files({"lines": text.encode("cp1257")}, UploadLimits(max_bytes=1000))
>>> table.lines, table.agreements
([{'agreement': 'L-1', 'code': 'APLP', 'date': '2020-09-08', 'units': '2.5'}], None)
>>> table.place(("lines", 0, "date"))
{'sheet': 'Rindas', 'row': 2, 'column': 'Datums'}
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import IO, Any, NamedTuple

from lxml import etree
from openpyxl import Workbook, load_workbook
from openpyxl.cell.read_only import EMPTY_CELL
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from schemas import catalogue
from schemas.errors import Problem, problem
from schemas.parties import TARGET_GROUPS
from schemas.reimbursement import MAX_LINES
from service.documents.labels import load_labels
from service.forms.uploads import UploadLimits, UploadRejected, check_size, inspect_package
from service.packs.summary import LABELS_FILE
from service.packs.workbook import deterministic_bytes, write_text

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
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
MAX_HEADER_COLUMNS = 200
LAST_ROW = 1_048_576  # no spreadsheet has more rows
MAX_PROBLEMS = 100
TEMPLATE_MOMENT = dt.datetime(2020, 1, 1)
DATE_FORMAT = "DD.MM.YYYY"
NUMBER_FORMAT = "0.00"
TEXT_FORMAT = "@"
NOTES, CODES = "Norādes", "Kodi"
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")
NOTE_LINE = 120  # characters of an instruction on one line of "Norādes"

TEXT, DATE, NUMBER, SERVICE, GROUP = "text", "date", "number", "service", "group"  # kinds of column
_FORMATS = {
    TEXT: TEXT_FORMAT,
    DATE: DATE_FORMAT,
    NUMBER: NUMBER_FORMAT,
    SERVICE: TEXT_FORMAT,
    GROUP: TEXT_FORMAT,
}
_KIND_NAMES = {
    TEXT: "teksts",
    DATE: "datums",
    NUMBER: "skaitlis",
    SERVICE: "kods no saraksta",
    GROUP: "kods vai nosaukums no saraksta",
}
#: The list validations: the column of "Kodi" they offer, their error title and message, and how strict.
_LISTS = {
    SERVICE: ("A", "Pakalpojuma kods", "Izvēlieties pakalpojuma kodu no saraksta (lapa «Kodi»).", "stop"),
    GROUP: (
        "F",
        "Mērķa grupa",
        "Izvēlieties mērķa grupas kodu no saraksta vai ierakstiet tās nosaukumu (lapa «Kodi»).",
        "warning",
    ),
}
_DECIMAL_COMMA = re.compile(r"[0-9]+,[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# codes of upload checks whose forms-oriented message would mislead here
_UPLOAD_CODES = {"upload.unknown_type": "table.unknown_type", "upload.macro_document": "table.macros"}


@dataclass(frozen=True)
class Column:
    """A column of a table: its Latvian header, where its value goes in the record, and how it is shown."""

    header: str
    path: tuple[str, ...]
    kind: str
    width: int
    meaning: str
    example: str
    required: bool = True


@dataclass(frozen=True)
class Table:
    """A sheet of the template (or a CSV file): its name, the request's key it fills, and its columns."""

    sheet: str
    key: str
    columns: tuple[Column, ...]


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
    "Datumus ievadiet kā datumus (piemēram, 08.09.2020); ja datums šūnā ir teksts, tam jābūt formā "
    "GGGG-MM-DD (2020-09-08).",
    "Pakalpojuma kodu un mērķa grupu izvēlieties no saraksta; mērķa grupu var ierakstīt arī ar tās "
    "nosaukumu.",
    "Pirmā rinda ir virsraksti: tos nemainiet. Kolonnu secība nav svarīga; liekas kolonnas un tukšas rindas "
    "netiek ņemtas vērā.",
    "Ja šūnās ir formulas, pirms iesniegšanas saglabājiet datni programmā Excel vai LibreOffice, lai tajā "
    "būtu aprēķinātās vērtības.",
    "Katru lapu var iesniegt arī kā CSV datni ar tiem pašiem virsrakstiem (atdalītājs – semikols vai "
    "komats, kodējums UTF-8 vai Windows-1257).",
)


class TableProblem(NamedTuple):
    """A problem with an uploaded table: where (``file``, and ``sheet``, ``row``, ``column`` when known),
    the error code of ``schemas.errors.MESSAGES`` and its parameters."""

    place: dict[str, Any]
    code: str
    params: dict[str, Any]


class TableRejected(ValueError):
    """The files cannot be read as tables; ``problems`` lists every :class:`TableProblem` found."""

    def __init__(self, problems: list[TableProblem]) -> None:
        super().__init__(problems)
        self.problems = problems

    def __str__(self) -> str:
        return "; ".join(f"{p.code} at {p.place}" for p in self.problems)

    def listed(self) -> tuple[list[tuple[tuple, Problem]], list[dict[str, Any]]]:
        """The problems as (path, problem) pairs — at the root: a file is no JSON field — and their places."""
        return [((), problem(p.code, **p.params)) for p in self.problems], [p.place for p in self.problems]


class _Problems(list):
    """Problems found so far; after ``MAX_PROBLEMS`` more are not kept."""

    def add(self, place: dict[str, Any], code: str, **params: Any) -> None:
        if len(self) < MAX_PROBLEMS:
            self.append(TableProblem(place, code, params))


Rows = list[tuple[int, dict[str, str]]]  # (row number, {header: value}) of the rows that are not empty


@dataclass(frozen=True)
class _Places:
    """Where a table's records came from: the sheet, and for each record its rows by path."""

    sheet: str
    table: Table
    first_rows: list[int]
    given: list[dict[tuple[str, ...], int]] = field(default_factory=list)
    service_rows: list[list[int]] = field(default_factory=list)

    def place(self, rest: tuple) -> dict[str, Any] | None:
        if not rest:
            return {"sheet": self.sheet}
        index, sub = rest[0], tuple(rest[1:])
        if not isinstance(index, int) or not 0 <= index < len(self.first_rows):
            return None
        services = self.service_rows[index] if self.service_rows else []
        if sub[:1] == ("services",) and len(sub) > 1 and isinstance(sub[1], int) and sub[1] < len(services):
            row, key = services[sub[1]], ("services", *sub[2:3])
        else:
            key = sub[:2] if sub[:1] in (("client",), ("term",)) else sub[:1]
            row = self.given[index].get(key, self.first_rows[index]) if self.given else self.first_rows[index]
        header = next((c.header for c in self.table.columns if c.path == key), None)
        return {"sheet": self.sheet, "row": row} | ({"column": header} if header else {})


@dataclass(frozen=True)
class TableInput:
    """The records read from the files (None for a table no file held) and where they came from."""

    agreements: list[dict[str, Any]] | None = None
    lines: list[dict[str, Any]] | None = None
    _places: dict[str, _Places] = field(default_factory=dict, repr=False)

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
    problems = _Problems()
    found: dict[str, tuple[dict[str, str], Rows | None]] = {}
    for name, data in files.items():
        try:
            tables = _read_file(name, data, limits, row_limits, problems)
        except UploadRejected as rejected:
            problems.add({"file": name}, _UPLOAD_CODES.get(rejected.code, rejected.code))
            continue
        for table, sheet, rows in tables:
            if table.key in found:
                problems.add({"file": name, "sheet": sheet}, "table.twice", sheet=table.sheet)
            found[table.key] = ({"file": name, "sheet": sheet}, rows)
    if problems:  # so every table in ``found`` has its rows
        raise TableRejected(list(problems))
    result: dict[str, Any] = {}
    places: dict[str, _Places] = {}
    if AGREEMENTS.key in found:
        where, rows = found[AGREEMENTS.key]
        result["agreements"], places["agreements"] = _agreements(where, rows, problems)
    if LINES.key in found:
        where, rows = found[LINES.key]
        result["lines"] = [_record(values, LINES.columns) for _, values in rows]
        places["lines"] = _Places(where["sheet"], LINES, [number for number, _ in rows])
    if problems:
        raise TableRejected(list(problems))
    return TableInput(**result, _places=places)


def _read_file(
    name: str, data: bytes, upload_limits: UploadLimits, limits: dict[str, int], problems: _Problems
) -> list[tuple[Table, str, Rows | None]]:
    """The tables of one file: an XLSX's sheets, or the one table of a CSV."""
    if not data:
        raise UploadRejected("upload.empty")
    check_size(data, upload_limits.max_bytes)
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(name, data, upload_limits, limits, problems)
    if b"\0" in data:  # UTF-16 text, an old .xls, a PDF …: not a CSV table
        raise UploadRejected("upload.unknown_type", "binary data")
    table = _read_csv(name, data, limits, problems)
    return [table] if table else []


def _read_xlsx(
    name: str, data: bytes, upload_limits: UploadLimits, limits: dict[str, int], problems: _Problems
) -> list[tuple[Table, str, Rows | None]]:
    """The sheets "Līgumi" and "Rindas" of a workbook, checked as a package before openpyxl opens it."""
    inspect_package(data, upload_limits.for_tables(), main_type=XLSX_MAIN, refuse_external=False)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors on a malformed workbook
        problems.add({"file": name}, "table.unreadable")
        return []
    try:
        titles = {_key(title): title for title in book.sheetnames}
        tables = [(table, titles[_key(table.sheet)]) for table in TABLES if _key(table.sheet) in titles]
        if not tables:
            sheets = ", ".join(f'"{table.sheet}"' for table in TABLES)
            problems.add({"file": name}, "table.missing_sheet", sheets=sheets)
        read = []
        for table, title in tables:
            place = {"file": name, "sheet": title}
            try:
                rows = _read_sheet(book[title], table, place, limits[table.key], problems)
            except Exception:  # as above
                problems.add(place, "table.unreadable")
                rows = None
            read.append((table, title, rows))
        return read
    finally:
        book.close()


def _read_sheet(
    sheet: Any, table: Table, place: dict[str, Any], limit: int, problems: _Problems
) -> Rows | None:
    """The rows of a read-only worksheet, or None (and problems) when its header or size is wrong."""
    sheet.reset_dimensions()  # the declared size may be wrong; read what is there
    header = next(sheet.iter_rows(min_row=1, max_row=1, max_col=MAX_HEADER_COLUMNS, values_only=True), ())
    positions = _positions(header, table, place, problems)
    if positions is None:
        return None
    rows: Rows = []
    unvalued = False
    for number, cells in enumerate(sheet.iter_rows(min_row=2, max_col=max(positions) + 1), start=2):
        if number > LAST_ROW:
            break
        values = {}
        for index, column in positions.items():
            cell = cells[index]
            value = _value(cell.value, column)
            if value is not None:
                values[column.header] = value
            elif cell.value is None and cell is not EMPTY_CELL:
                unvalued = True  # an empty cell written to the file: perhaps a formula without a value
        if values:
            if len(rows) == limit:
                problems.add({**place, "row": number}, "table.too_many_rows", max=limit)
                return None
            rows.append((number, values))
    if unvalued:
        _check_formulas(sheet, positions, rows, place, problems)
    return rows


def _check_formulas(
    sheet: Any, positions: dict[int, Column], rows: Rows, place: dict[str, Any], problems: _Problems
) -> None:
    """A problem at every formula without a saved value in a column we read.

    With ``data_only`` openpyxl gives such a cell as empty, like a formula whose value is empty text; only
    the sheet's XML tells them apart.
    """
    columns = {index + 1: column for index, column in positions.items()}
    values = dict(rows)
    with sheet._get_source() as source:  # the sheet's XML part; openpyxl has no public way to it
        for row, col in _formulas_without_value(source):
            column = columns.get(col)
            if row > 1 and column and column.header not in values.get(row, {}):
                problems.add({**place, "row": row, "column": column.header}, "table.formula_without_value")


def _formulas_without_value(source: IO[bytes]) -> Iterator[tuple[int, int]]:
    """(row, column) of each formula without a saved value: no ``<v>``, or an empty one in a cell that is
    not text (openpyxl writes ``<v></v>``; Excel saves an empty text result as ``t="str"``). Streamed; the
    DOCTYPE was refused before."""
    parser = etree.iterparse(
        source, events=("end",), tag=("{*}c", "{*}row"), resolve_entities=False, no_network=True
    )
    for _, element in parser:
        if etree.QName(element).localname == "row":
            element.clear()
            while element.getprevious() is not None:
                del element.getparent()[0]
        elif element.get("r") and element.find("{*}f") is not None:
            value = element.find("{*}v")
            if value is None or (not value.text and element.get("t") != "str"):
                yield coordinate_to_tuple(element.get("r"))


def _read_csv(
    name: str, data: bytes, limits: dict[str, int], problems: _Problems
) -> tuple[Table, str, Rows | None] | None:
    """The one table of a CSV file: UTF-8 (BOM or not) or Windows-1257, ";" or "," sniffed from the header."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1257")
        except UnicodeDecodeError:
            problems.add({"file": name}, "table.unreadable")
            return None
    try:
        delimiter, header = _csv_header(text)
    except csv.Error:  # e.g. a header longer than csv.field_size_limit(): the table's problem, not a 500
        problems.add({"file": name, "row": 1}, "table.unreadable")
        return None
    table = _recognise(header)
    if table is None:
        raise UploadRejected("upload.unknown_type", "no table's headers")
    place = {"file": name, "sheet": table.sheet}
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 1
    try:
        positions = _positions(next(reader), table, place, problems)
        if positions is None:
            return table, table.sheet, None
        rows: Rows = []
        for number, record in enumerate(reader, start=2):
            values = {}
            for index, column in positions.items():
                raw = record[index] if index < len(record) else None
                value = _value(raw, column, decimal_comma=delimiter == ";")
                if value is not None:
                    values[column.header] = value
            if values:
                if len(rows) == limits[table.key]:
                    problems.add({**place, "row": number}, "table.too_many_rows", max=limits[table.key])
                    return table, table.sheet, None
                rows.append((number, values))
    except csv.Error:
        problems.add({**place, "row": number + 1}, "table.unreadable")
        return table, table.sheet, None
    return table, table.sheet, rows


def _csv_header(text: str) -> tuple[str, list[str]]:
    """The delimiter (";" or ",": the one that splits the first record into the most known headers) and
    that record, read as the rows will be read. Raises ``csv.Error``.

    >>> _csv_header("Līguma Nr.;Datums\\n")
    (';', ['Līguma Nr.', 'Datums'])
    """
    headers = {
        delimiter: next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
        for delimiter in ";,"
    }
    delimiter = max(headers, key=lambda d: sum(_key(title) in _ALL_HEADERS for title in headers[d]))
    return delimiter, headers[delimiter]


def _recognise(header: list[str]) -> Table | None:
    """The table whose own headers (those the other table lacks) the header names most, if one does."""
    keys = {_key(title) for title in header}
    scores = {table: len(keys & _OWN_HEADERS[table.key]) for table in TABLES}
    best = max(scores.values())
    winners = [table for table, score in scores.items() if score == best]
    return winners[0] if best and len(winners) == 1 else None


def _positions(
    header: Iterable[Any], table: Table, place: dict[str, Any], problems: _Problems
) -> dict[int, Column] | None:
    """Column index → column of the table, by header; None (and problems) when one is missing or twice."""
    by_key = {_key(column.header): column for column in table.columns}
    positions: dict[int, Column] = {}
    wrong = False
    for index, title in enumerate(header):
        column = by_key.get(_key(str(title))) if title is not None else None
        if column is None:
            continue
        if column in positions.values():
            problems.add({**place, "row": 1}, "table.duplicate_column", column=column.header)
            wrong = True
        positions[index] = column
    for column in table.columns:
        if column.required and column not in positions.values():
            problems.add({**place, "row": 1}, "table.missing_column", column=column.header)
            wrong = True
    return None if wrong else positions


def _value(raw: Any, column: Column, *, decimal_comma: bool = False) -> str | None:
    """A cell as the schema's raw input: stripped text, ``YYYY-MM-DD``, a plain decimal; None when empty.

    >>> units = LINES.columns[3]
    >>> _value(1.5, units), _value(2.0, units), _value(0.1 + 0.2, units), _value(1e20, units)
    ('1.5', '2', '0.3', '100000000000000000000')
    >>> _value(" 1,5 ", units, decimal_comma=True), _value("1,5", units)
    ('1.5', '1,5')
    >>> _value(dt.datetime(2020, 9, 8), LINES.columns[2]), _value("  ", units)
    ('2020-09-08', None)
    >>> _value(" Bērns ar funkcionāliem traucējumiem", AGREEMENTS.columns[5])
    'child_ft'
    """
    if raw is None:
        return None
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            return None
        if column.kind == GROUP:
            return _groups().get(_key(text), text)
        if decimal_comma and column.kind == NUMBER and _DECIMAL_COMMA.fullmatch(text):
            return text.replace(",", ".")
        return text
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    if isinstance(raw, float):  # at Excel's 15 significant digits, without float noise
        return format(Decimal(f"{raw:.15g}"), "f")
    return str(raw)


def _key(text: str) -> str:
    """A header or label as compared: NFC, spaces collapsed, case folded."""
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


@cache
def _groups() -> dict[str, str]:
    """Target group code or Latvian label (as compared) → code."""
    labels = load_labels(LABELS_FILE).get("target_group", {})
    return {_key(labels[code]): code for code in TARGET_GROUPS if code in labels} | {
        _key(code): code for code in TARGET_GROUPS
    }


_ALL_HEADERS = {_key(column.header) for table in TABLES for column in table.columns}
_OWN_HEADERS = {
    table.key: {_key(c.header) for c in table.columns}
    - {_key(c.header) for other in TABLES if other is not table for c in other.columns}
    for table in TABLES
}


# --- records --------------------------------------------------------------------------------------------


def _record(values: dict[str, str], columns: Iterable[Column]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for column in columns:
        if column.header in values:
            *parents, leaf = column.path
            node = record
            for key in parents:
                node = node.setdefault(key, {})
            node[leaf] = values[column.header]
    return record


def _agreements(
    where: dict[str, str], rows: Rows, problems: _Problems
) -> tuple[list[dict[str, Any]], _Places]:
    """One agreement per "Līguma Nr.", in first-appearance order; each row adds a service; an agreement's
    own value is taken from the first row that gives it, and a later row may not give another."""
    own = [c for c in AGREEMENTS.columns if c.path[0] != "services"]
    services = [c for c in AGREEMENTS.columns if c.path[0] == "services"]
    agreements: list[dict[str, Any]] = []
    places = _Places(where["sheet"], AGREEMENTS, [])
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
            elif node[leaf] != value:
                problems.add(
                    {**where, "row": number, "column": column.header},
                    "table.conflicting_value",
                    number=key,
                    column=column.header,
                    row=given[column.path],
                )
        agreement["services"].append(_record(values, services).get("services", {}))
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
    _notes_sheet(notes)
    for table, records in ((AGREEMENTS, agreements), (LINES, lines)):
        sheet = workbook.create_sheet(table.sheet)
        _header(sheet, table)
        for row, values in enumerate(table_rows(table, records or ()), start=2):
            for number, (column, value) in enumerate(zip(table.columns, values, strict=True), start=1):
                _write(sheet.cell(row, number), column, value)
    _codes_sheet(workbook.create_sheet(CODES))
    return deterministic_bytes(workbook, TEMPLATE_MOMENT, "Izmaksu kompensācijas pieprasījuma ievaddati")


def table_rows(table: Table, records: Iterable[Mapping[str, Any]]) -> Iterator[list[Any]]:
    """The table's rows for raw records (agreements or lines as in a request's JSON): one value per column,
    None when absent; an agreement gives one row per service, its own values repeated on each."""
    for record in records:
        if table is LINES:
            yield [_dig(record, column.path) for column in table.columns]
            continue
        for service in record.get("services") or [{}]:
            yield [
                _dig(service, column.path[1:]) if column.path[0] == "services" else _dig(record, column.path)
                for column in table.columns
            ]


def _dig(record: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        record = record.get(key) if isinstance(record, Mapping) else None
    return record


def _write(cell: Any, column: Column, value: Any) -> None:
    """A date or a number as such in its column, anything else as text; in the column's format."""
    if value is None or value == "":
        return
    typed = _typed(value, column.kind)
    if typed is None:
        write_text(cell, value)
    else:
        cell.value = typed
    cell.number_format = _FORMATS[column.kind]


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


def _header(sheet: Worksheet, table: Table) -> None:
    """Bold frozen headers, widths, each column's format for the rows to be typed in, and list validations."""
    for number, column in enumerate(table.columns, start=1):
        cell = sheet.cell(1, number)
        write_text(cell, column.header)
        cell.font = BOLD
        letter = get_column_letter(number)
        dimension = sheet.column_dimensions[letter]
        dimension.width = column.width
        dimension.number_format = _FORMATS[column.kind]
        if column.kind in _LISTS:
            source, title, error, style = _LISTS[column.kind]
            last = len(catalogue.default().services if column.kind == SERVICE else TARGET_GROUPS) + 1
            validation = DataValidation(
                type="list",
                formula1=f"{CODES}!${source}$2:${source}${last}",
                allow_blank=True,
                showErrorMessage=True,
                errorStyle=style,
                errorTitle=title,
                error=error,
            )
            validation.add(f"{letter}2:{letter}{LAST_ROW}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"


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
    labels = load_labels(LABELS_FILE).get("target_group", {})
    for row, code in enumerate(TARGET_GROUPS, start=2):
        write_text(sheet.cell(row, 6), code)
        write_text(sheet.cell(row, 7), labels.get(code, ""))


def _notes_sheet(sheet: Worksheet) -> None:
    """Short instructions, then each column: its sheet, meaning, format, example, whether it is required."""
    titles = ("Lapa", "Kolonna", "Nozīme", "Formāts", "Piemērs", "Obligāta")
    write_text(sheet["A1"], "Izmaksu kompensācijas pieprasījuma ievaddati: norādes")
    sheet["A1"].font = Font(bold=True, size=13)
    row = 2
    for row, text in enumerate(NOTES_TEXT, start=3):
        write_text(sheet.cell(row, 1), f"• {text}")
        sheet.cell(row, 1).alignment = WRAP
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(titles))
        sheet.row_dimensions[row].height = 15 * (len(text) // NOTE_LINE + 1)
    head = row + 2
    for number, (title, width) in enumerate(zip(titles, (10, 18, 70, 16, 18, 10), strict=True), start=1):
        write_text(sheet.cell(head, number), title)
        sheet.cell(head, number).font = BOLD
        sheet.column_dimensions[get_column_letter(number)].width = width
    row = head
    for table in TABLES:
        for column in table.columns:
            row += 1
            required = "jā" if column.required else "nē"
            facts = (
                table.sheet,
                column.header,
                column.meaning,
                _KIND_NAMES[column.kind],
                column.example,
                required,
            )
            for number, value in enumerate(facts, start=1):
                write_text(sheet.cell(row, number), value)
                sheet.cell(row, number).alignment = WRAP
