"""Uploaded XLSX or CSV tables read back into raw records, with the sheet, row and column of every value.

A :class:`Table` is a sheet of an input template (or one CSV file): its name and its :class:`Column`\\ s,
each with its Latvian header, the path its value takes in a record and its kind. :func:`read_tables`
reads the files of an upload — an XLSX holds one or more of the tables as sheets, a CSV one table,
recognised by its headers — into rows of ``{header: value}``: text stripped, dates ``YYYY-MM-DD``,
numbers plain decimal strings, empty cells left out; :func:`record` makes a row the raw dict a schema
loads and :class:`RowPlaces` names the sheet, row and column of a schema error's path. A date or number
cell holding text is read as people type it, by ``schemas.human_input`` (``15.09.2020``, ``2,5``, ISO
too; never a guess at day/month order): one it cannot read is kept as typed, with its ``input.*``
problem in :attr:`Found.unread`, for the caller to report in place of what the schema says about the
text. Files that cannot be read as tables raise :class:`TableRejected` with every problem found. Every
file is checked under the upload limits it is given (``UploadLimits``; an XLSX's package sizes are the
``table_*`` ones): its size, and an XLSX's package (ZIP structure, macros, zip bombs, DOCTYPEs) by
``service.forms.uploads.inspect_package`` before openpyxl reads it in read-only mode.

>>> PEOPLE = Table("Personas", "people", (Column("Vārds", ("name",), TEXT, 20, "", ""),
...                                        Column("Datums", ("on",), DATE, 12, "", "", required=False)))
>>> found = read_tables({"f": "Vārds;Datums\\r\\nĀris;08.09.2020\\r\\n".encode("cp1257")}, (PEOPLE,),
...                     UploadLimits(max_bytes=1000), {"people": 10})
>>> [record(values, PEOPLE.columns) for _, values in found["people"].rows]
[{'name': 'Āris', 'on': '2020-09-08'}]
>>> RowPlaces.of(found["people"], PEOPLE).place((0, "on"))
{'sheet': 'Personas', 'row': 2, 'column': 'Datums'}
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import IO, Any, NamedTuple

from lxml import etree
from openpyxl import load_workbook
from openpyxl.cell.read_only import EMPTY_CELL
from openpyxl.utils.cell import coordinate_to_tuple

from schemas import human_input
from schemas.errors import Problem, problem
from service.documents.labels import STANDARD_LABELS, load_labels
from service.forms.uploads import UploadLimits, UploadRejected, check_size, inspect_package

__all__ = [
    "DATE",
    "GROUP",
    "NUMBER",
    "SERVICE",
    "TEXT",
    "Column",
    "Found",
    "PlacedRefusal",
    "Problems",
    "RowPlaces",
    "Table",
    "TableProblem",
    "TableRejected",
    "header_key",
    "read_tables",
    "record",
]

XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
MAX_HEADER_COLUMNS = 200
LAST_ROW = 1_048_576  # no spreadsheet has more rows
MAX_PROBLEMS = 100

TEXT, DATE, NUMBER, SERVICE, GROUP = "text", "date", "number", "service", "group"  # kinds of column
# codes of upload checks whose forms-oriented message would mislead here
_UPLOAD_CODES = {"upload.unknown_type": "table.unknown_type", "upload.macro_document": "table.macros"}


@dataclass(frozen=True)
class Column:
    """A column of a table: its Latvian header, where its value goes in the record (a number in the path
    is a list's index), how it is shown, and for a ``GROUP`` column the group of
    ``templates_lv/labels.toml`` whose wording is read as its code."""

    header: str
    path: tuple[str | int, ...]
    kind: str
    width: int
    meaning: str
    example: str
    required: bool = True
    labels: str = ""


@dataclass(frozen=True)
class Table:
    """A sheet of a template (or a CSV file): its name, the key its records go under, and its columns."""

    sheet: str
    key: str
    columns: tuple[Column, ...]


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


class PlacedRefusal(Exception):
    """Input refused as a whole: the HTTP status to answer, every problem with its path, and each
    problem's place in the uploaded tables (file, sheet, row, column) or None."""

    def __init__(
        self, status: int, problems: list[tuple[tuple, Problem]], places: list[dict | None] | None = None
    ) -> None:
        super().__init__(status, [p for _, p in problems])
        self.status = status
        self.problems = problems
        self.places = places


class Problems(list):
    """Problems found so far; after ``MAX_PROBLEMS`` more are not kept."""

    def add(self, place: dict[str, Any], code: str, **params: Any) -> None:
        if len(self) < MAX_PROBLEMS:
            self.append(TableProblem(place, code, params))

    def raise_if_any(self) -> None:
        if self:
            raise TableRejected(list(self))


Rows = list[tuple[int, dict[str, str]]]  # (row number, {header: value}) of the rows that are not empty


Unread = dict[tuple[int, str], Problem]  # (row number, header) → why its text is no date or number


class Found(NamedTuple):
    """A table read from a file: the file's name, the sheet's title as written, the rows, and the cells
    whose text could not be read as their column's date or number (kept in the rows as typed)."""

    file: str
    sheet: str
    rows: Rows
    unread: Unread


@dataclass(frozen=True)
class RowPlaces:
    """Where the records of a table of one record per row came from: the sheet and each record's row."""

    sheet: str
    table: Table
    rows: list[int]

    @classmethod
    def of(cls, found: Found, table: Table) -> RowPlaces:
        return cls(found.sheet, table, [number for number, _ in found.rows])

    def place(self, rest: tuple) -> dict[str, Any] | None:
        """``{"sheet", "row", "column"}`` of a path inside the table's list, such as ``(4, "date")``: the
        column whose path the rest begins with, if one does; None outside the rows."""
        if not rest:
            return {"sheet": self.sheet}
        index, sub = rest[0], tuple(rest[1:])
        if not isinstance(index, int) or not 0 <= index < len(self.rows):
            return None
        return {"sheet": self.sheet, "row": self.rows[index]} | column_of(self.table, sub)


def column_of(table: Table, path: tuple) -> dict[str, str]:
    """``{"column": header}`` of the column whose path ``path`` begins with (the longest), or nothing."""
    columns = [c for c in table.columns if tuple(path[: len(c.path)]) == c.path]
    return {"column": max(columns, key=lambda c: len(c.path)).header} if columns else {}


def record(values: Mapping[str, str], columns: Iterable[Column]) -> dict[str, Any]:
    """A row's values put at their columns' paths: the raw dict a schema loads.

    >>> record({"A": "1", "B": "2"}, [Column("A", ("x", "y"), TEXT, 1, "", ""),
    ...                                Column("B", ("list", 0, "z"), TEXT, 1, "", "")])
    {'x': {'y': '1'}, 'list': [{'z': '2'}]}
    """
    made: dict[str, Any] = {}
    for column in columns:
        if column.header in values:
            node: Any = made
            path = column.path
            for key, inner in itertools.pairwise(path):
                if isinstance(key, int):
                    node.extend({} for _ in range(key + 1 - len(node)))
                    node = node[key]
                else:
                    node = node.setdefault(key, [] if isinstance(inner, int) else {})
            node[path[-1]] = values[column.header]
    return made


# --- reading ------------------------------------------------------------------------------------------


def read_tables(
    files: Mapping[str, bytes], tables: Sequence[Table], limits: UploadLimits, row_limits: Mapping[str, int]
) -> dict[str, Found]:
    """The tables in uploaded files by their key: ``files`` maps an upload's field name to its bytes, each
    an XLSX (sheets of ``tables``) or a CSV (one table, recognised by its headers), each checked under
    ``limits``; a table may have at most ``row_limits[key]`` rows. Raises :class:`TableRejected`."""
    problems = Problems()
    reading = _Reading(tuple(tables), limits, row_limits, problems)
    found: dict[str, Found] = {}
    seen: set[str] = set()
    for name, data in files.items():
        try:
            read = _read_file(name, data, reading)
        except UploadRejected as rejected:
            problems.add({"file": name}, _UPLOAD_CODES.get(rejected.code, rejected.code))
            continue
        for table, sheet, rows, unread in read:
            if table.key in seen:
                problems.add({"file": name, "sheet": sheet}, "table.twice", sheet=table.sheet)
            seen.add(table.key)
            if rows is not None:
                found[table.key] = Found(name, sheet, rows, unread)
    problems.raise_if_any()  # so every table found has its rows
    return found


@dataclass(frozen=True)
class _Reading:
    """What one upload is read with: the tables it may hold, the limits, and the problems found so far."""

    tables: tuple[Table, ...]
    uploads: UploadLimits
    row_limits: Mapping[str, int]
    problems: Problems


Read = tuple[Table, str, Rows | None, Unread]  # a table of a file: its sheet as titled, rows, unread cells


def _read_file(name: str, data: bytes, reading: _Reading) -> list[Read]:
    """The tables of one file: an XLSX's sheets, or the one table of a CSV."""
    if not data:
        raise UploadRejected("upload.empty")
    check_size(data, reading.uploads.max_bytes)
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(name, data, reading)
    if b"\0" in data:  # UTF-16 text, an old .xls, a PDF …: not a CSV table
        raise UploadRejected("upload.unknown_type", "binary data")
    table = _read_csv(name, data, reading)
    return [table] if table else []


def _read_xlsx(name: str, data: bytes, reading: _Reading) -> list[Read]:
    """The sheets of the tables in a workbook, checked as a package before openpyxl opens it."""
    tables, problems = reading.tables, reading.problems
    inspect_package(data, reading.uploads.for_tables(), main_type=XLSX_MAIN, refuse_external=False)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors on a malformed workbook
        problems.add({"file": name}, "table.unreadable")
        return []
    try:
        titles = {header_key(title): title for title in book.sheetnames}
        present = [
            (table, titles[header_key(table.sheet)]) for table in tables if header_key(table.sheet) in titles
        ]
        if not present:
            sheets = ", ".join(f'"{table.sheet}"' for table in tables)
            problems.add({"file": name}, "table.missing_sheet", sheets=sheets)
        read = []
        for table, title in present:
            place, unread = {"file": name, "sheet": title}, {}
            try:
                rows = _read_sheet(book[title], table, place, reading.row_limits[table.key], problems, unread)
            except Exception:  # as above
                problems.add(place, "table.unreadable")
                rows = None
            read.append((table, title, rows, unread))
        return read
    finally:
        book.close()


def _read_sheet(
    sheet: Any, table: Table, place: dict[str, Any], limit: int, problems: Problems, unread: Unread
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
        values = _row_values(((c, cells[index].value) for index, c in positions.items()), number, unread)
        unvalued = unvalued or any(
            cells[index].value is None and cells[index] is not EMPTY_CELL for index in positions
        )  # an empty cell written to the file: perhaps a formula without a value
        if values:
            if len(rows) == limit:
                problems.add({**place, "row": number}, "table.too_many_rows", max=limit)
                return None
            rows.append((number, values))
    if unvalued:
        _check_formulas(sheet, positions, rows, place, problems)
    return rows


def _check_formulas(
    sheet: Any, positions: dict[int, Column], rows: Rows, place: dict[str, Any], problems: Problems
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


def _read_csv(name: str, data: bytes, reading: _Reading) -> Read | None:
    """The one table of a CSV file: UTF-8 (BOM or not) or Windows-1257, ";" or "," sniffed from the header."""
    tables, problems, limits = reading.tables, reading.problems, reading.row_limits
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1257")
        except UnicodeDecodeError:
            problems.add({"file": name}, "table.unreadable")
            return None
    try:
        delimiter, header = _csv_header(text, tables)
    except csv.Error:  # e.g. a header longer than csv.field_size_limit(): the table's problem, not a 500
        problems.add({"file": name, "row": 1}, "table.unreadable")
        return None
    table = _recognise(header, tables)
    if table is None:
        raise UploadRejected("upload.unknown_type", "no table's headers")
    place, unread = {"file": name, "sheet": table.sheet}, {}
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 1
    try:
        positions = _positions(next(reader), table, place, problems)
        if positions is None:
            return table, table.sheet, None, unread
        rows: Rows = []
        for number, line in enumerate(reader, start=2):
            cells = ((c, line[index] if index < len(line) else None) for index, c in positions.items())
            if values := _row_values(cells, number, unread):
                if len(rows) == limits[table.key]:
                    problems.add({**place, "row": number}, "table.too_many_rows", max=limits[table.key])
                    return table, table.sheet, None, unread
                rows.append((number, values))
    except csv.Error:
        problems.add({**place, "row": number + 1}, "table.unreadable")
        return table, table.sheet, None, unread
    return table, table.sheet, rows, unread


def _csv_header(text: str, tables: tuple[Table, ...]) -> tuple[str, list[str]]:
    """The delimiter (";" or ",": the one that splits the first record into the most known headers) and
    that record, read as the rows will be read. Raises ``csv.Error``."""
    known = _headers(tables)[0]
    headers = {
        delimiter: next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
        for delimiter in ";,"
    }
    delimiter = max(headers, key=lambda d: sum(header_key(title) in known for title in headers[d]))
    return delimiter, headers[delimiter]


def _recognise(header: list[str], tables: tuple[Table, ...]) -> Table | None:
    """The table whose own headers (those the other tables lack) the header names most, if one does."""
    keys = {header_key(title) for title in header}
    own = _headers(tables)[1]
    scores = {table: len(keys & own[table.key]) for table in tables}
    best = max(scores.values())
    winners = [table for table, score in scores.items() if score == best]
    return winners[0] if best and len(winners) == 1 else None


@cache
def _headers(tables: tuple[Table, ...]) -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """Every header of the tables (as compared), and each table's own: those no other table has."""
    every = frozenset(header_key(c.header) for table in tables for c in table.columns)
    own = {
        table.key: frozenset(header_key(c.header) for c in table.columns)
        - {header_key(c.header) for other in tables if other is not table for c in other.columns}
        for table in tables
    }
    return every, own


def _positions(
    header: Iterable[Any], table: Table, place: dict[str, Any], problems: Problems
) -> dict[int, Column] | None:
    """Column index → column of the table, by header; None (and problems) when one is missing or twice."""
    by_key = {header_key(column.header): column for column in table.columns}
    positions: dict[int, Column] = {}
    wrong = False
    for index, title in enumerate(header):
        column = by_key.get(header_key(str(title))) if title is not None else None
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


def _row_values(cells: Iterable[tuple[Column, Any]], number: int, unread: Unread) -> dict[str, str]:
    """A row's values by header (the empty left out); a date or number whose text cannot be read is kept
    as typed, its problem put in ``unread`` at (``number``, header)."""
    values = {}
    for column, raw in cells:
        try:
            value = _value(raw, column)
        except human_input.InvalidInput as failed:
            value = raw.strip()
            unread[number, column.header] = problem(failed.code)
        if value is not None:
            values[column.header] = value
    return values


def _value(raw: Any, column: Column) -> str | None:
    """A cell as the schema's raw input: stripped text, ``YYYY-MM-DD``, a plain decimal; None when empty.
    A date or number typed as text is read by ``schemas.human_input`` (raising its ``InvalidInput``).

    >>> units, day = Column("V", ("units",), NUMBER, 1, "", ""), Column("D", ("date",), DATE, 1, "", "")
    >>> _value(1.5, units), _value(2.0, units), _value(0.1 + 0.2, units), _value(1e20, units)
    ('1.5', '2', '0.3', '100000000000000000000')
    >>> _value(" 1,5 ", units), _value("2.5", units), _value("1 234,50", units)
    ('1.5', '2.5', '1234.50')
    >>> _value(dt.datetime(2020, 9, 8), day), _value("15.09.2020", day), _value("2020-09-15", day)
    ('2020-09-08', '2020-09-15', '2020-09-15')
    >>> _value("09/15/2020", day)
    Traceback (most recent call last):
        ...
    schemas.human_input.AmbiguousDate: The order of day and month is unclear: type the date day first, ...
    >>> _value("  ", units) is None
    True
    >>> group = Column("G", ("group",), GROUP, 1, "", "", labels="target_group")
    >>> _value(" Bērns ar funkcionāliem traucējumiem", group)
    'child_ft'
    """
    if raw is None:
        return None
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            return None
        if column.kind == GROUP:
            return choices(column.labels).get(header_key(text), text)
        if column.kind == DATE:
            return human_input.read_date(text).isoformat()
        if column.kind == NUMBER:
            return format(human_input.read_decimal(text), "f")
        return text
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    if isinstance(raw, float):  # at Excel's 15 significant digits, without float noise
        return format(Decimal(f"{raw:.15g}"), "f")
    return str(raw)


def header_key(text: str) -> str:
    """A header or label as compared: NFC, spaces collapsed, case folded."""
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


@cache
def choices(group: str) -> dict[str, str]:
    """Code or Latvian label (as compared) → code, for a group of ``templates_lv/labels.toml``."""
    labels = load_labels(STANDARD_LABELS).get(group, {})
    return {header_key(label): code for code, label in labels.items()} | {header_key(c): c for c in labels}
