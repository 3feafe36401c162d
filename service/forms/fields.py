"""The one mapping between the delivery act's form fields and its JSON paths.

A provider gets the monthly delivery act (``schemas.delivery.DeliveryActSchema``) as a fillable PDF or
DOCX, prefilled with what the service knows, fills it in another program and uploads it; the service
reads the fields back into the act's JSON structure and validates it like any act.

**Field names are schema paths**, written with dots: ``number``, ``sessions.3.units``,
``signatures.provider.name``. In a PDF a dot separates the partial names of a field hierarchy, so the
PDF embraces that hierarchy instead of fighting it: a field ``sessions`` has kids ``0`` … ``39``, each
with the terminal fields ``date``, ``code`` …; the fully qualified name of a terminal field — what pypdf,
pikepdf, pdftk (``dump_data_fields``, XFDF/FDF) and Acrobat's scripts call it — is exactly the schema
path. No partial name contains a dot (PDF 32000 §12.7.3.2 forbids it), so no tool has to guess. The DOCX
tags its content controls (``w:tag``) with the same names.

The agreement (``agreement``) is not a form field: the provider cannot change it. It is printed on the
page and travels inside the file — an embedded file in the PDF, a custom XML part in the DOCX (see
:data:`AGREEMENT_FILE`, :data:`AGREEMENT_NAMESPACE`) — so that reading the form back rebuilds the whole act.

The form's pages, sections, labels and kinds are declared in :mod:`service.forms.layout`; the names,
pages and kinds here derive from it (:data:`FIELDS`): :data:`~service.forms.layout.SESSION_ROWS` session
rows, :data:`~service.forms.layout.FIRST_PAGE_ROWS` of them on the first page, the rest on the second
with the progress note and the signatures.

Prefilled values are printed the way the templates print them (:func:`service.forms.values.show`:
``15.09.2020.``, ``1,5``), and what the provider typed is read by :mod:`schemas.human_input`
(``15.09.2020.``, ``2020-09-15``, ``2,5``) into the ISO forms of the act's JSON.

>>> to_fields({"number": "A-1", "date": "2020-10-02", "sessions": [{"units": 1.5}]})["sessions.0.units"]
'1,5'
>>> from_fields({"number": " A-1 ", "date": "2.10.2020.", "sessions.2.form": "klātienē"}, {"number": "L"}).act
{'number': 'A-1', 'date': '2020-10-02', 'agreement': {'number': 'L'}, 'sessions': [{'form': 'klatiene'}]}
>>> field_for("/sessions/30/units")
('sessions.30.units', 2)
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from schemas.errors import ErrorCollector, Problem, flatten, problem
from schemas.human_input import InvalidInput
from service.forms import layout as L
from service.forms import values as V
from service.forms.layout import SESSION_ROWS, Kind

#: Name of the embedded file (PDF) that carries the agreement as JSON.
AGREEMENT_FILE = "veidlapas-agreement.json"
#: Namespace of the custom XML part (DOCX) that carries the agreement as JSON text.
AGREEMENT_NAMESPACE = "urn:veidlapas:delivery-act:agreement:1"
#: What the form is, written into the PDF's metadata and the DOCX's custom XML part.
FORM_KIND = "delivery-act"

Path = tuple[str | int, ...]


class TooManySessions(ValueError):
    """The act has more sessions than the form has rows."""

    def __init__(self, count: int) -> None:
        super().__init__(f"The act has {count} sessions; the form has {SESSION_ROWS} rows.")
        self.count = count
        self.max = SESSION_ROWS


class FormError(ValueError):
    """An uploaded form cannot be read; ``code`` says why (``form.*``), the message says it in English."""

    code = "form.invalid"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class InvalidForm(FormError):
    """Not a readable PDF or DOCX at all (broken file, wrong type, limits exceeded)."""

    code = "form.invalid"


class EncryptedForm(FormError):
    """The PDF is encrypted: we do not guess passwords."""

    code = "form.encrypted"


class XfaForm(FormError):
    """An XFA form (its values may live in XFA data that AcroForm readers never see)."""

    code = "form.xfa"


class NoFields(FormError):
    """No form fields: flattened, printed to PDF, or never a form."""

    code = "form.no_fields"


class UnknownForm(FormError):
    """A form, but not ours: the agreement it must carry is missing or unreadable."""

    code = "form.unknown"


class DoctypeRefused(FormError):
    """An XML part declares a DOCTYPE (OOXML never needs one; entities are an attack)."""

    code = "form.doctype"


def dump_agreement(agreement: Any, wrapped: bool = False) -> str:
    """The agreement as JSON text (``Decimal`` and dates as strings); ``wrapped`` adds the form's kind.

    >>> dump_agreement({"co_payment": Decimal("0.00")}, wrapped=True)
    '{"form": "delivery-act", "version": 1, "agreement": {"co_payment": "0.00"}}'
    """
    payload = {"form": FORM_KIND, "version": 1, "agreement": agreement} if wrapped else agreement
    return json.dumps(payload, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    raise TypeError(f"Not JSON: {type(value).__name__}")


def session_field(row: int, name: str) -> str:
    """The field name of ``name`` in session row ``row`` (from 0).

    >>> session_field(3, "units")
    'sessions.3.units'
    """
    return f"sessions.{row}.{name}"


@dataclass(frozen=True)
class Placed:
    """A field of the form: its name, page (from 1), declaration (kind, choices) and full Latvian label."""

    name: str
    page: int
    spec: L.Field
    label: str


def _placed() -> Iterator[Placed]:
    """Every field of :data:`layout.PAGES`, in reading order."""
    for page, sections in enumerate(L.PAGES, start=1):
        for section in sections:
            match section:
                case L.Header(fields=items):
                    yield from (Placed(item.name, page, item, item.label) for item in items)
                case L.Sessions(rows=rows):
                    for row in rows:
                        for column in L.COLUMNS:
                            if column.kind is not Kind.ROW_NUMBER:
                                name = session_field(row, column.name)
                                yield Placed(name, page, column, L.cell_label(row, column))
                case L.Paragraph(field=item):
                    yield Placed(item.name, page, item, item.label)
                case L.Signatures(blocks=blocks):
                    for block in blocks:
                        yield from (
                            Placed(item.name, page, item, block.label_of(item)) for item in block.fields
                        )


#: Every field of the form by name, in reading order.
FIELDS: dict[str, Placed] = {placed.name: placed for placed in _placed()}
#: The fields of one session row, in the order of the table's columns.
SESSION_FIELDS = tuple(column.name for column in L.COLUMNS if column.kind is not Kind.ROW_NUMBER)
HEADER_FIELDS = tuple(item.name for item in L.HEADER)
SIGNATURE_FIELDS = tuple(item.name for block in L.SIGNATURES.blocks for item in block.fields)
#: Multi-line fields (line breaks allowed in the value).
MULTILINE = frozenset(name for name, placed in FIELDS.items() if placed.spec.kind is Kind.PARAGRAPH)
_AFTER_SESSIONS = tuple(name for name in FIELDS if name.split(".")[0] not in ("sessions", *HEADER_FIELDS))


def field_names() -> tuple[str, ...]:
    """Every field of the form, in reading order."""
    return _NAMES


_NAMES: tuple[str, ...] = tuple(FIELDS)


def page_of(name: str) -> int:
    """The page (from 1) the field is on in the PDF (and before or after the DOCX's page break).

    >>> page_of("number"), page_of("sessions.27.date"), page_of("sessions.28.date"), page_of("progress")
    (1, 1, 2, 2)
    """
    return FIELDS[name].page


def choice_labels(name: str) -> dict[str, str] | None:
    """Code → Latvian label for a choice field (a session's ``form`` or ``status``), else None."""
    placed = FIELDS.get(name)
    return dict(placed.spec.choices) if placed and placed.spec.choices else None


def _path(name: str) -> Path:
    return tuple(int(part) if part.isdigit() else part for part in name.split("."))


def to_fields(act_raw: Mapping[str, Any]) -> dict[str, str]:
    """What to prefill: every field of the form with its value from the raw act ("" when it has none).

    Values are printed as the templates print them (dates ``DD.MM.GGGG.``, months ``MM.GGGG.``, numbers
    with a decimal comma); choices keep their codes (the renderers show their labels); a value not in
    its JSON form is written as it is. Raises :class:`TooManySessions` when the rows cannot hold the act.
    """
    sessions = act_raw.get("sessions")
    if isinstance(sessions, list) and len(sessions) > SESSION_ROWS:
        raise TooManySessions(len(sessions))
    return {name: V.show(placed.spec.kind, V.dig(act_raw, _path(name))) for name, placed in FIELDS.items()}


def _clean(name: str, value: Any) -> str:
    text = value if isinstance(value, str) else V.text_of(value)
    if name in MULTILINE:
        # Viewers store line breaks in multi-line fields as CR (Acrobat) or CR LF.
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.strip()
    labels = choice_labels(name)
    if labels:
        by_label = {label.casefold(): code for code, label in labels.items()}
        text = by_label.get(text.casefold(), text)
    return text


def session_rows(values: Mapping[str, Any]) -> list[int]:
    """For each session of :func:`from_fields`'s act, the form row it came from (empty rows are dropped).

    >>> session_rows({"sessions.2.date": "2020-09-01", "sessions.5.code": "APLP", "sessions.7.units": " "})
    [2, 5]
    """
    return [row for row in range(SESSION_ROWS) if any(_row(values, row).values())]


def _row(values: Mapping[str, Any], row: int) -> dict[str, str]:
    names = {name: session_field(row, name) for name in SESSION_FIELDS}
    return {name: _clean(full, values.get(full, "")) for name, full in names.items()}


@dataclass(frozen=True)
class FilledAct:
    """A form's values as the raw act, the form row of each session, and what could not be read."""

    act: dict[str, Any]
    rows: list[int]
    problems: list[tuple[Path, Problem]]


def from_fields(values: Mapping[str, Any], agreement: Any) -> FilledAct:
    """The raw act (JSON-like, for ``DeliveryActSchema().load``) from the form's values and its agreement.

    Values are trimmed; dates, months and numbers are read as a person types them
    (:mod:`schemas.human_input`) and written in their JSON form; a value that cannot be read is kept as
    typed, its coded problem in :attr:`FilledAct.problems` at its path (see :func:`with_problems`).
    Empty fields are left out, so a missing required value is reported as ``required`` at its path;
    rows with no value at all are dropped (:attr:`FilledAct.rows` maps the act's sessions back to form
    rows). A choice given by its Latvian label (``klātienē``) becomes its code (``klatiene``); anything
    else is kept for the schema to report. Unknown field names are ignored.
    """
    act: dict[str, Any] = {}
    problems: list[tuple[Path, Problem]] = []

    def typed(name: str, path: Path) -> str:
        text = _clean(name, values.get(name, ""))
        try:
            return V.read(FIELDS[name].spec.kind, text) if text else ""
        except InvalidInput as exc:
            problems.append((path, problem(exc.code)))
            return text

    for name in HEADER_FIELDS:
        _put(act, name, typed(name, _path(name)))
    act["agreement"] = agreement
    rows = session_rows(values)
    act["sessions"] = []
    for index, row in enumerate(rows):
        cells = {
            column: typed(session_field(row, column), ("sessions", index, column))
            for column in SESSION_FIELDS
        }
        act["sessions"].append({column: value for column, value in cells.items() if value})
    for name in _AFTER_SESSIONS:
        _put(act, name, typed(name, _path(name)))
    return FilledAct(act, rows, problems)


def with_problems(problems: Sequence[tuple[Path, Problem]], messages: Any) -> dict[Any, Any]:
    """The schema's error ``messages`` with the values that could not be read in their place.

    A reading problem replaces what the schema said at the same path (it saw text it could not load).

    >>> problems = [(("sessions", 0, "date"), problem("input.date_order"))]
    >>> schema = {"sessions": {0: {"date": [problem("date.invalid")], "code": [problem("required")]}}}
    >>> [(path, message.code) for path, message in flatten(with_problems(problems, schema))]
    [(('sessions', 0, 'date'), 'input.date_order'), (('sessions', 0, 'code'), 'required')]
    """
    errors = ErrorCollector()
    unread = {path for path, _ in problems}
    for path, message in problems:
        errors.add(path, message)
    for path, message in flatten(messages):
        if path not in unread:
            errors.add(path or ("_schema",), message)
    return errors.messages


def _put(target: dict[str, Any], name: str, value: str) -> None:
    if not value:
        return
    *parents, last = name.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value


_POINTER_PART = re.compile(r"~[01]")


def _split_pointer(path: str | Sequence[str | int]) -> list[str]:
    if isinstance(path, str):
        if not path:
            return []
        parts = path.removeprefix("/").split("/")
        return [_POINTER_PART.sub(lambda m: "~" if m.group() == "~0" else "/", part) for part in parts]
    return [str(part) for part in path]


def field_for(path: str | Sequence[str | int], rows: Sequence[int] | None = None) -> tuple[str | None, int]:
    """The form field (and its page) where the problem at ``path`` shows; the field is None off the form.

    ``path`` is a JSON pointer (``/sessions/3/units``) or a path tuple (``("sessions", 3, "units")``) of
    the act. Pass ``rows`` (from :func:`session_rows`) when the act came from :func:`from_fields`, so
    that session 3 is the row it was read from. A path above fields (``/signatures/provider``) gives
    its first field; a path below a field gives that field; the agreement, printed on page 1, and
    anything else off the form give ``(None, page)``.

    >>> field_for(("sessions", 1, "units"), rows=[0, 4])
    ('sessions.4.units', 1)
    >>> field_for("/signatures/provider"), field_for("/agreement/client/name"), field_for("/sessions")
    (('signatures.provider.name', 2), (None, 1), ('sessions.0.date', 1))
    """
    parts = _split_pointer(path)
    if len(parts) >= 2 and parts[0] == "sessions" and parts[1].isdigit():
        index = int(parts[1])
        if rows is not None:
            if index >= len(rows):
                return None, 1
            index = rows[index]
        if index >= SESSION_ROWS:
            return None, 1
        parts[1] = str(index)
    for length in range(len(parts), 0, -1):
        name = ".".join(parts[:length])
        if name in FIELDS:
            return name, page_of(name)
        below = next((n for n in _NAMES if n.startswith(name + ".")), None)
        if below:
            return below, page_of(below)
    return None, 1
