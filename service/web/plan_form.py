"""The plan editor's form codec: the support plan's fields as one HTML form, and the form back as raw JSON.

:data:`PLAN` describes every field group of ``schemas.plan.SupportPlanSchema`` in the schema's order. A
field's form name is its schema path with dots (``services.2.quantity``); its id is
``base.field_id(path)`` (``f-services-2-quantity``), so the error summary links to it. :func:`encode`
turns a raw plan into the texts the form shows (dates ``27.01.2020.``, amounts ``600,00``); :func:`decode`
turns a posted form into the raw plan the API would get: dates and numbers are read by
``schemas.human_input`` and written in their ISO forms, a text that cannot be read is kept as typed (its
``input.*`` problem is given by :func:`input_problems`), empty fields and empty optional groups are left
out. Rows of a repeatable list are kept as posted, an empty row as ``{}``, so a row added stays.

>>> raw = {"number": "IAP-1", "date": "2020-01-27", "budget": {"monthly": "600.00"}}
>>> values, counts = encode(raw)
>>> values["date"], values["budget.monthly"]
('27.01.2020.', '600,00')
>>> decode({"number": "IAP-1", "date": "27.01.2020.", "budget.monthly": "600,00"}) == raw
True
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from schemas import human_input
from schemas.errors import N_, Problem, problem

TEXT, PARAGRAPH, DATE, MONEY, NUMBER, CHOICE, YES_NO, SERVICE = (
    "text",
    "paragraph",
    "date",
    "money",
    "number",
    "choice",
    "yes_no",
    "service",
)
#: Kinds read by ``schemas.human_input``.
READ = (DATE, MONEY, NUMBER)


@dataclass(frozen=True)
class Field:
    """One field: its key, label, kind and (for a choice) the ``labels.toml`` group of its codes."""

    name: str
    label: str
    kind: str = TEXT
    hint: str = ""
    choices: str = ""
    codes: tuple[str, ...] = ()
    group: bool = False
    rows: bool = False


@dataclass(frozen=True)
class Group:
    """A field group (an object of the schema)."""

    name: str
    label: str
    fields: tuple
    group: bool = True
    rows: bool = False


@dataclass(frozen=True)
class Rows:
    """A repeatable list: rows of ``fields`` (or of one text when ``item`` is given)."""

    name: str
    label: str
    row_label: str
    add_label: str
    remove_label: str
    fields: tuple = ()
    item: Field | None = None
    minimum: int = 0
    group: bool = False
    rows: bool = True
    extra: dict = field(default_factory=dict)


DATE_HINT = N_("As DD.MM.YYYY., e.g. 15.09.2020.")
MONEY_HINT = N_("In euros with a decimal comma, e.g. 12,50")


def _contacts() -> tuple[Field, Field]:
    return Field("phone", N_("Phone")), Field("email", N_("Email"))


OFFICIAL = (
    Field("name", N_("Name and surname")),
    Field("position", N_("Position")),
    Field("basis", N_("Basis of authority")),
    *_contacts(),
)

#: The whole plan, in the schema's order.
PLAN: tuple = (
    Group(
        "",
        N_("The plan"),
        (
            Field("number", N_("Plan number")),
            Field("date", N_("Date of the plan"), DATE, DATE_HINT),
            Field("place", N_("Place")),
            Field("programme", N_("Programme"), CHOICE, choices="programme", codes=("ibm", "di")),
        ),
    ),
    Group(
        "project", N_("Project"), (Field("name", N_("Project name")), Field("number", N_("Project number")))
    ),
    Group(
        "social_service",
        N_("Social service"),
        (
            Field("name", N_("Name")),
            Field("municipality", N_("Municipality")),
            Field("registration_number", N_("Registration number")),
            Field("address", N_("Address")),
            *_contacts(),
            Field("iban", N_("Bank account (IBAN)")),
        ),
    ),
    Group(
        "client",
        N_("Client"),
        (
            Field("name", N_("Name and surname")),
            Field("personal_code", N_("Personal code")),
            Field("birth_date", N_("Date of birth"), DATE, N_("Needed for a new-format personal code.")),
            Field("declared_address", N_("Declared address")),
            Field("actual_address", N_("Actual address")),
            *_contacts(),
            Field(
                "target_group",
                N_("Target group"),
                CHOICE,
                choices="target_group",
                codes=("adult_grt", "child_ft"),
            ),
        ),
    ),
    Group(
        "disability",
        N_("Disability"),
        (
            Field(
                "group",
                N_("Disability group"),
                CHOICE,
                choices="disability_group",
                codes=("I", "II", "III", "child"),
            ),
            Field("opinion_number", N_("Opinion number (VDEĀVK)")),
            Field("opinion_date", N_("Date of the opinion"), DATE, DATE_HINT),
            Field("valid_until", N_("Valid until"), DATE, N_("Leave empty when granted without a term.")),
            Field(
                "special_care", N_("Needs special care"), YES_NO, choices="yes_no", codes=("true", "false")
            ),
        ),
    ),
    Group(
        "legal_capacity",
        N_("Legal capacity"),
        (
            Field(
                "status", N_("Legal capacity"), CHOICE, choices="legal_capacity", codes=("full", "restricted")
            ),
            Field("court_ruling_number", N_("Court ruling number")),
            Field("court_ruling_date", N_("Date of the court ruling"), DATE, DATE_HINT),
            Field("scope", N_("Scope of the restriction"), PARAGRAPH),
        ),
    ),
    Group(
        "representative",
        N_("Legal representative"),
        (
            Field(
                "role",
                N_("Role"),
                CHOICE,
                choices="role",
                codes=("parent", "guardian", "foster_family", "trustee"),
            ),
            Field("name", N_("Name and surname")),
            Field("personal_code", N_("Personal code")),
            Field("birth_date", N_("Date of birth"), DATE, N_("Needed for a new-format personal code.")),
            Field("basis_document", N_("Document of the representation")),
            Field("orphan_court_decision", N_("Orphan's court decision")),
            *_contacts(),
        ),
    ),
    Group(
        "support_person",
        N_("Support person"),
        (Field("name", N_("Name and surname")), Field("organisation", N_("Organisation")), *_contacts()),
    ),
    Group(
        "needs_assessment",
        N_("Needs assessment"),
        (
            Field("date", N_("Date of the assessment"), DATE, DATE_HINT),
            Field("assessor", N_("Assessor")),
            Field("strengths", N_("Strengths"), PARAGRAPH),
            Field("what_matters", N_("What matters to the client"), PARAGRAPH),
            Rows(
                "functioning_areas",
                N_("Functioning areas"),
                N_("Functioning area {n}"),
                N_("Add a functioning area"),
                N_("Remove functioning area {n}"),
                (
                    Field("area", N_("Area")),
                    Field("assessment", N_("Assessment"), PARAGRAPH),
                    Field("support_needed", N_("Support needed"), PARAGRAPH),
                ),
                minimum=1,
            ),
        ),
    ),
    Group(
        "budget",
        N_("Budget"),
        (
            Field("support_level", N_("Support level")),
            Field("monthly", N_("Budget a month"), MONEY, MONEY_HINT),
            Field("period", N_("Budget for the period"), MONEY, MONEY_HINT),
        ),
    ),
    Rows(
        "goals",
        N_("Goals"),
        N_("Goal {n}"),
        N_("Add a goal"),
        N_("Remove goal {n}"),
        (
            Field("id", N_("Goal code"), hint=N_("e.g. M1")),
            Field("long_term", N_("Long-term goal"), PARAGRAPH),
            Rows(
                "short_term",
                N_("Short-term goals"),
                N_("Short-term goal {n}"),
                N_("Add a short-term goal"),
                N_("Remove short-term goal {n}"),
                (
                    Field("id", N_("Short-term goal code"), hint=N_("e.g. M1.1")),
                    Field("goal", N_("Short-term goal"), PARAGRAPH),
                    Field("indicator", N_("Indicator of achievement"), PARAGRAPH),
                    Field("deadline", N_("Deadline"), DATE, DATE_HINT),
                ),
                minimum=1,
            ),
        ),
        minimum=1,
    ),
    Rows(
        "services",
        N_("Services"),
        N_("Service {n}"),
        N_("Add a service"),
        N_("Remove service {n}"),
        (
            Field("code", N_("Service"), SERVICE),
            Field("goal", N_("For short-term goal"), hint=N_("The short-term goal's code, e.g. M1.1")),
            Field("provider", N_("Provider")),
            Field("unit", N_("Unit"), hint=N_("Filled in from the catalogue when left empty.")),
            Field("quantity", N_("Quantity a month"), NUMBER, N_("With a decimal comma, e.g. 2,5")),
            Field("unit_price", N_("Price per unit"), MONEY, N_("The tariff in force when left empty.")),
            Field("start", N_("From"), DATE, DATE_HINT),
            Field("end", N_("Until"), DATE, DATE_HINT),
        ),
        minimum=1,
    ),
    Rows(
        "support_network",
        N_("Support network"),
        N_("Person {n} of the support network"),
        N_("Add a person of the support network"),
        N_("Remove person {n} of the support network"),
        (
            Field("name", N_("Name and surname")),
            Field("relation", N_("Relation")),
            Field("support", N_("Support given"), PARAGRAPH),
        ),
    ),
    Rows(
        "risks",
        N_("Risks"),
        N_("Risk {n}"),
        N_("Add a risk"),
        N_("Remove risk {n}"),
        (Field("risk", N_("Risk"), PARAGRAPH), Field("measures", N_("Measures"), PARAGRAPH)),
    ),
    Rows(
        "commitments",
        N_("The client's commitments"),
        N_("Commitment {n}"),
        N_("Add a commitment"),
        N_("Remove commitment {n}"),
        item=Field("", N_("Commitment"), PARAGRAPH),
    ),
    Group(
        "period",
        N_("Period of the plan"),
        (Field("start", N_("From"), DATE, DATE_HINT), Field("end", N_("Until"), DATE, DATE_HINT)),
    ),
    Group("", N_("Review"), (Field("review_date", N_("Review date"), DATE, DATE_HINT),)),
    Group(
        "signatures",
        N_("Signatures"),
        (
            Field("date", N_("Signing date"), DATE, N_("The plan's date when left empty.")),
            Group("social_worker", N_("Social worker"), OFFICIAL),
        ),
    ),
)

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def dotted(path: tuple) -> str:
    """A path as a form name: ``("services", 2, "quantity")`` → ``services.2.quantity``."""
    return ".".join(str(part) for part in path if part != "")


def _join(prefix: tuple, name: str) -> tuple:
    return (*prefix, name) if name else prefix


# --- raw → form ----------------------------------------------------------------------------------


def shown(kind: str, value: Any) -> str:
    """A stored value as the form shows it.

    >>> shown(DATE, "2020-01-27"), shown(NUMBER, "2.5"), shown(YES_NO, False), shown(DATE, "31.02.2020")
    ('27.01.2020.', '2,5', 'false', '31.02.2020')
    """
    if value is None:
        return ""
    if kind == YES_NO and isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if kind == DATE and _ISO_DATE.fullmatch(text):
        year, month, day = text.split("-")
        return f"{day}.{month}.{year}."
    if kind in (MONEY, NUMBER) and _PLAIN_NUMBER.fullmatch(text):
        return text.replace(".", ",")
    return text


def encode(raw: Any) -> tuple[dict[str, str], dict[str, int]]:
    """The form's texts by field name, and the number of rows of each list (by its dotted path)."""
    values: dict[str, str] = {}
    counts: dict[str, int] = {}
    _encode_fields(PLAN, raw if isinstance(raw, Mapping) else {}, (), values, counts)
    return values, counts


def _encode_fields(fields: tuple, data: Mapping, prefix: tuple, values: dict, counts: dict) -> None:
    for item in fields:
        if item.group:
            inner = data.get(item.name) if item.name else data
            _encode_fields(
                item.fields,
                inner if isinstance(inner, Mapping) else {},
                _join(prefix, item.name),
                values,
                counts,
            )
        elif item.rows:
            path = (*prefix, item.name)
            rows = data.get(item.name)
            rows = rows if isinstance(rows, list) else []
            counts[dotted(path)] = max(len(rows), item.minimum)
            for index, row in enumerate(rows):
                if item.item is not None:
                    values[dotted((*path, index))] = shown(item.item.kind, row)
                else:
                    _encode_fields(
                        item.fields, row if isinstance(row, Mapping) else {}, (*path, index), values, counts
                    )
            for index in range(len(rows), counts[dotted(path)]):
                if item.item is None:
                    _encode_fields(item.fields, {}, (*path, index), values, counts)
        elif item.name in data:
            values[dotted((*prefix, item.name))] = shown(item.kind, data[item.name])


# --- form → raw ----------------------------------------------------------------------------------


def read(kind: str, text: str) -> Any:
    """A typed text as the raw plan keeps it (ISO dates, decimal points); unreadable text as typed.

    >>> read(DATE, "5.9.2020."), read(MONEY, "1 234,50"), read(NUMBER, "2,5"), read(DATE, "31.02.2020")
    ('2020-09-05', '1234.50', '2.5', '31.02.2020')
    >>> read(YES_NO, "true"), read(TEXT, "  Bauska "), read(PARAGRAPH, "a\\r\\nb")
    (True, 'Bauska', 'a\\nb')
    """
    text = text.replace("\r\n", "\n").strip()
    try:
        if kind == DATE:
            return human_input.read_date(text).isoformat()
        if kind in (MONEY, NUMBER):
            return str(human_input.read_decimal(text))
    except human_input.InvalidInput:
        return text
    if kind == YES_NO:
        return {"true": True, "false": False}.get(text, text)
    return text


def decode(form: Mapping[str, str]) -> dict[str, Any]:
    """The raw plan a posted form holds (``form``: name → text, as ``request.form``)."""
    names = [name for name in form if not name.startswith("_")]
    return _decode_fields(PLAN, form, names, ())


def _row_indexes(names: list[str], path: tuple) -> list[int]:
    prefix = dotted(path) + "."
    found = set()
    for name in names:
        if name.startswith(prefix):
            head = name[len(prefix) :].split(".", 1)[0]
            if head.isdigit():
                found.add(int(head))
    return sorted(found)


def _decode_fields(fields: tuple, form: Mapping, names: list[str], prefix: tuple) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in fields:
        if item.group:
            inner = _decode_fields(item.fields, form, names, _join(prefix, item.name))
            if item.name and inner:
                out[item.name] = inner
            elif not item.name:
                out.update(inner)
        elif item.rows:
            path = (*prefix, item.name)
            rows = []
            for index in _row_indexes(names, path):
                if item.item is not None:
                    rows.append(read(item.item.kind, form.get(dotted((*path, index)), "")))
                else:
                    rows.append(_decode_fields(item.fields, form, names, (*path, index)))
            if rows:
                out[item.name] = rows
        else:
            text = form.get(dotted((*prefix, item.name)), "")
            if text.strip():
                out[item.name] = read(item.kind, text)
    return out


# --- rows added and removed without JavaScript ----------------------------------------------------


def list_paths() -> Iterator[tuple[tuple, Rows]]:
    """Every repeatable list as a path pattern (``"*"`` for a row index) with its description."""

    def walk(fields: tuple, prefix: tuple) -> Iterator[tuple[tuple, Rows]]:
        for item in fields:
            if item.group:
                yield from walk(item.fields, _join(prefix, item.name))
            elif item.rows:
                yield (*prefix, item.name), item
                yield from walk(item.fields, (*prefix, item.name, "*"))

    return walk(PLAN, ())


def _parse_list(text: str) -> tuple | None:
    """``goals.1.short_term`` → ``("goals", 1, "short_term")`` when it names a list of the plan."""
    parts = tuple(int(part) if part.isdigit() else part for part in text.split("."))
    for pattern, _ in list_paths():
        if len(pattern) == len(parts) and all(
            (p == "*" and isinstance(q, int)) or p == q for p, q in zip(pattern, parts, strict=True)
        ):
            return parts
    return None


def apply_action(raw: dict[str, Any], action: str) -> tuple[str, tuple, int] | None:
    """Add or remove a row as ``action`` says (``add:services``, ``remove:goals.0.short_term:1``).

    Returns what was done (``"add"``/``"remove"``, the list's path, the row's index) or None.

    >>> plan = {"services": [{"code": "A"}, {"code": "B"}]}
    >>> apply_action(plan, "remove:services:0"), plan
    (('remove', ('services',), 0), {'services': [{'code': 'B'}]})
    >>> apply_action(plan, "add:goals.0.short_term"), plan["goals"]
    (('add', ('goals', 0, 'short_term'), 0), [{'short_term': [{}]}])
    """
    verb, _, rest = action.partition(":")
    if verb not in ("add", "remove"):
        return None
    where, _, index_text = rest.partition(":") if verb == "remove" else (rest, "", "")
    path = _parse_list(where)
    if path is None or (verb == "remove" and not index_text.isdigit()):
        return None
    holder: Any = raw
    for part, following in itertools.pairwise(path):
        if isinstance(part, int):
            while len(holder) <= part:
                holder.append({})
            holder = holder[part]
        else:
            holder = holder.setdefault(part, [] if isinstance(following, int) else {})
        if not isinstance(holder, dict | list):
            return None
    rows = holder.setdefault(path[-1], []) if isinstance(holder, dict) else None
    if not isinstance(rows, list):
        return None
    if verb == "add":
        rows.append("" if _rows_of(path).item is not None else {})
        return "add", path, len(rows) - 1
    index = int(index_text)
    if index >= len(rows):
        return None
    del rows[index]
    if not rows:
        del holder[path[-1]]
    return "remove", path, index


def _rows_of(path: tuple) -> Rows:
    pattern = tuple("*" if isinstance(part, int) else part for part in path)
    return dict(list_paths())[pattern]


def row_description(path: tuple) -> Rows:
    """The description of the list at ``path``."""
    return _rows_of(path)


# --- problems -----------------------------------------------------------------------------------


def input_problems(raw: Any) -> list[tuple[tuple, Problem]]:
    """The ``input.*`` problem of every date or number kept as typed because it could not be read."""
    found: list[tuple[tuple, Problem]] = []
    for path, kind, value in _leaves(PLAN, raw if isinstance(raw, Mapping) else {}, ()):
        if kind in READ and isinstance(value, str):
            try:
                (human_input.read_date if kind == DATE else human_input.read_decimal)(value)
            except human_input.InvalidInput as failed:
                found.append((path, problem(failed.code)))
    return found


def _leaves(fields: tuple, data: Mapping, prefix: tuple) -> Iterator[tuple[tuple, str, Any]]:
    for item in fields:
        if item.group:
            inner = data.get(item.name) if item.name else data
            if isinstance(inner, Mapping):
                yield from _leaves(item.fields, inner, _join(prefix, item.name))
        elif item.rows:
            rows = data.get(item.name)
            for index, row in enumerate(rows if isinstance(rows, list) else []):
                if item.item is not None:
                    yield (*prefix, item.name, index), item.item.kind, row
                elif isinstance(row, Mapping):
                    yield from _leaves(item.fields, row, (*prefix, item.name, index))
        elif item.name in data:
            yield (*prefix, item.name), item.kind, data[item.name]


def problems(raw: Any, found: list[tuple[tuple, Problem]]) -> list[tuple[tuple, Problem]]:
    """What the page shows: each unreadable text's ``input.*`` problem instead of the schema's at the
    same place, then the schema's other problems; each at a place the form has."""
    typed = input_problems(raw)
    at = {path for path, _ in typed}
    merged = typed + [(tuple(path), item) for path, item in found if tuple(path) not in at]
    return [(anchor(path, raw), item) for path, item in merged]


def anchor(path: tuple, raw: Any) -> tuple:
    """The nearest place at or above ``path`` that the form shows (a field, a row, a group or a list).

    >>> anchor(("services", 0, "code"), {}), anchor(("services", 0, "amount"), {}), anchor(("totals",), {})
    (('services', 0, 'code'), ('services', 0), ())
    """
    path = tuple(path)
    while path and not _on_form(path):
        path = path[:-1]
    return path


def _on_form(path: tuple) -> bool:
    fields: tuple = PLAN
    rows: Rows | None = None
    position = 0
    while position < len(path):
        part = path[position]
        if rows is not None:
            if not isinstance(part, int):
                return False
            if rows.item is not None:
                return position == len(path) - 1
            fields, rows = rows.fields, None
            position += 1
            continue
        found = _find(fields, part)
        if found is None:
            return False
        if found.group:
            fields = found.fields
        elif found.rows:
            rows = found
        elif position != len(path) - 1:
            return False
        position += 1
    return True


def _find(fields: tuple, name: Any) -> Any:
    for item in fields:
        if item.group and not item.name:
            inner = _find(item.fields, name)
            if inner is not None:
                return inner
        elif item.name == name:
            return item
    return None


def label_parts(path: tuple) -> list[tuple[str, int | None]]:
    """The labels that name the place at ``path`` (message ids, with a row's number), outermost first.

    >>> label_parts(("services", 2, "quantity"))
    [('Service {n}', 3), ('Quantity a month', None)]
    >>> label_parts(("client", "name")), label_parts(("review_date",))
    ([('Client', None), ('Name and surname', None)], [('Review date', None)])
    """
    parts: list[tuple[str, int | None]] = []
    fields: tuple = PLAN
    rows: Rows | None = None
    for part in path:
        if rows is not None:
            if not isinstance(part, int):
                break
            parts.append((rows.row_label, part + 1))
            if rows.item is not None:
                break
            fields, rows = rows.fields, None
            continue
        found = _find(fields, part)
        if found is None:
            break
        if found.group:
            parts.append((found.label, None))
            fields = found.fields
        elif found.rows:
            rows = found
            parts.append((found.label, None))
        else:
            parts.append((found.label, None))
            break
    # a list's own name is said by its rows' names ("Service 3"), unless the list itself is the place
    return [part for index, part in enumerate(parts) if not _followed_by_row(parts, index)]


def _followed_by_row(parts: list[tuple[str, int | None]], index: int) -> bool:
    return parts[index][1] is None and index + 1 < len(parts) and parts[index + 1][1] is not None
