"""How the form shows each kind of value, and reads back what a person typed.

Shown (:func:`show`, :func:`summary_lines`) with the templates' own filters
(:mod:`service.documents.formatting`): dates ``15.09.2020.``, months ``09.2020.``, numbers and money
with a decimal comma, quantities with their unit's plural form. The form is prefilled from the act's
raw JSON, so a value is first read the JSON way (ISO, strictly, by :mod:`schemas.fields`); a value
that is not in its ISO form is shown as it is — the schema, not the form, judges it.

Read (:func:`read`) with :mod:`schemas.human_input`, into the ISO forms the delivery-act schema loads.

>>> show(Kind.DATE, "2020-09-15"), show(Kind.MONTH, "2020-09"), show(Kind.NUMBER, "1.5")
('15.09.2020.', '09.2020.', '1,5')
>>> show(Kind.DATE, "15/09/2020"), show(Kind.NUMBER, None)
('15/09/2020', '')
>>> read(Kind.DATE, "15.09.2020."), read(Kind.MONTH, "9.2020"), read(Kind.NUMBER, "1,5")
('2020-09-15', '2020-09', '1.5')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from marshmallow import ValidationError

from schemas import catalogue, human_input
from schemas.fields import Date, Month, Time
from service.documents import formatting
from service.forms.layout import SUMMARY, Kind

_SHOW: dict[Kind, Callable[[Any], str]] = {
    Kind.DATE: lambda value: formatting.date_numeric(Date().deserialize(value)),
    Kind.MONTH: lambda value: formatting.month_numeric(Month().deserialize(value).start),
    Kind.TIME: lambda value: formatting.time_hm(Time().deserialize(value)),
    Kind.NUMBER: formatting.number,
    Kind.MONEY: formatting.money,
}

_READ: dict[Kind, Callable[[str], str]] = {
    Kind.DATE: lambda text: human_input.read_date(text).isoformat(),
    Kind.MONTH: lambda text: f"{human_input.read_month(text):%Y-%m}",
    Kind.NUMBER: lambda text: str(human_input.read_decimal(text)),
}


def text_of(value: Any) -> str:
    """A JSON value as plain text: "" for nothing, objects, lists and booleans; floats by their repr."""
    if value is None or isinstance(value, dict | list | bool):
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def show(kind: Kind, value: Any) -> str:
    """``value`` (from the act's JSON) as the form prints it."""
    text = text_of(value)
    shown = _SHOW.get(kind)
    if not text or shown is None:
        return text
    try:
        return shown(value)
    except (ValidationError, ValueError, TypeError):  # not its JSON form: printed as it is
        return text


def read(kind: Kind, text: str) -> str:
    """What a person typed (trimmed, not empty), in the JSON form the schema loads.

    Raises :class:`schemas.human_input.InvalidInput` (with its ``code``) when it cannot be read.
    """
    reader = _READ.get(kind)
    return reader(text) if reader else text


def dig(data: Any, path: Sequence[str | int]) -> Any:
    """The value at ``path`` in JSON-like ``data``, or None when any step is missing.

    >>> dig({"a": [{"b": 1}]}, ("a", 0, "b")), dig({"a": []}, ("a", 0, "b"))
    (1, None)
    """
    for key in path:
        if isinstance(data, dict):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data):
            data = data[key]
        else:
            return None
    return data


def summary_lines(agreement: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, text) lines describing the agreement, as :data:`layout.SUMMARY` declares them."""
    lines = []
    for line in SUMMARY.lines:
        parts = [
            part.prefix + text for part in line.parts if (text := show(part.kind, _at(agreement, part.path)))
        ]
        if parts:
            lines.append((line.label, ", ".join(parts)))
    services = agreement.get("services")
    agreed = [s for s in services if isinstance(s, dict)] if isinstance(services, list) else []
    for index, service in enumerate(agreed):
        lines.append((SUMMARY.services.label if index == 0 else "", _service_text(service)))
    return lines


def _at(data: Any, dotted: str) -> Any:
    return dig(data, dotted.split("."))


def _service_text(line: Mapping[str, Any]) -> str:
    """``APLP — name: 16 stundu mēnesī, cena 12,50 €, 01.02.2020.–31.01.2021.``"""
    code = text_of(line.get("code"))
    known = catalogue.default().service(code)
    words = SUMMARY.services
    quantity = _quantity(line)
    parts = [words.quantity.format(quantity=quantity) if quantity else ""]
    if price := show(Kind.MONEY, line.get("unit_price")):
        parts.append(words.price.format(price=price))
    parts.append(
        "–".join(p for p in (show(Kind.DATE, line.get("start")), show(Kind.DATE, line.get("end"))) if p)
    )
    head = f"{code} — {known.name}" if known else code
    return f"{head}: " + ", ".join(p for p in parts if p)


def _quantity(line: Mapping[str, Any]) -> str:
    """The agreed quantity with its unit's plural form (``16 stundu``), as the templates' ``plural``."""
    unit = catalogue.default().units.get(text_of(line.get("unit")))
    value = line.get("quantity")
    if unit is None:
        return show(Kind.NUMBER, value)
    try:
        return formatting.plural(value, unit.forms)
    except (ValueError, TypeError):
        return text_of(value)
