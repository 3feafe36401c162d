"""The service catalogue: codes, names, units with their plural forms, and tariffs dated "from".

The catalogue is data (``schemas/data/catalogue.toml`` unless ``VEIDLAPAS_CATALOGUE`` names another
file), checked when it is loaded: a broken file raises :class:`CatalogueError` with every problem and
its place, never a traceback from deep inside.

>>> catalogue = default()
>>> catalogue.service("SK-PSIH").name
'psihologa konsultācija'
>>> catalogue.tariff("SK-PSIH", dt.date(2019, 12, 31)), catalogue.tariff("SK-PSIH", dt.date(2020, 1, 1))
(Decimal('28.00'), Decimal('30.00'))
>>> catalogue.tariff("SK-PSIH", dt.date(2015, 1, 1)) is None
True
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from marshmallow import Schema, ValidationError, fields, validates_schema

from schemas.errors import flatten, json_pointer, problem
from schemas.fields import Boolean, Choice, Integer, Keyed, List, Money, Nested, Number, Text
from schemas.parties import TARGET_GROUPS

BUNDLED = Path(__file__).parent / "data" / "catalogue.toml"


class CatalogueError(ValueError):
    """The catalogue file cannot be used; the message lists every problem with its place."""


@dataclass(frozen=True)
class Unit:
    """A unit of service (stunda, diena …) with its plural forms and smallest step."""

    name: str
    forms: dict[str, str]
    step: Decimal
    counts_days: bool


@dataclass(frozen=True)
class Service:
    """A catalogue entry; ``tariffs`` are ``(from, price)`` pairs sorted by date."""

    code: str
    name: str
    unit: Unit
    groups: tuple[str, ...]
    tariffs: tuple[tuple[dt.date, Decimal], ...]

    def tariff(self, day: dt.date) -> Decimal | None:
        """The price per unit in force on ``day`` (None before the first tariff)."""
        return in_force(self.tariffs, day)


def in_force(dated: tuple[tuple[dt.date, Any], ...], day: dt.date) -> Any:
    """The value of the entry whose "from" date is the latest on or before ``day``, or None."""
    index = bisect_right([start for start, _ in dated], day)
    return dated[index - 1][1] if index else None


@dataclass(frozen=True)
class Limits:
    """Dated caps of DOMAIN.md: APLP hours by level, child-care hours by age, respite days a year.

    >>> limits = default().limits
    >>> limits.aplp_hours("2", dt.date(2020, 9, 1)), limits.child_care_hours(3, dt.date(2020, 9, 1))
    (Decimal('16'), Decimal('200'))
    >>> limits.respite_days(dt.date(2020, 9, 1)), limits.aplp_hours("9", dt.date(2020, 9, 1))
    (Decimal('30'), None)
    """

    aplp_service: str
    child_care_service: str
    respite_service: str
    aplp: tuple[tuple[dt.date, dict[str, Any]], ...]
    child_care: tuple[tuple[dt.date, tuple[tuple[int, int, Decimal], ...]], ...]
    respite: tuple[tuple[dt.date, Decimal], ...]

    def aplp_levels(self, day: dt.date) -> dict[str, Decimal]:
        entry = in_force(self.aplp, day)
        return entry["levels"] if entry else {}

    def aplp_hours(self, level: str, day: dt.date) -> Decimal | None:
        """Monthly APLP hours of ``level`` (special-situation hours not included)."""
        return self.aplp_levels(day).get(level)

    def aplp_special_hours(self, day: dt.date) -> Decimal:
        entry = in_force(self.aplp, day)
        return entry["special"] if entry else Decimal(0)

    def child_care_hours(self, age: int, day: dt.date) -> Decimal | None:
        """Monthly child-care hours for a child of ``age`` (None outside every band)."""
        for low, high, hours in in_force(self.child_care, day) or ():
            if low <= age <= high:
                return hours
        return None

    def respite_days(self, day: dt.date) -> Decimal | None:
        """Respite days allowed in the calendar year of ``day``."""
        return in_force(self.respite, day)


@dataclass(frozen=True)
class Catalogue:
    """All services by code, and the units they are measured in."""

    services: dict[str, Service]
    units: dict[str, Unit]
    limits: Limits

    def service(self, code: str) -> Service | None:
        return self.services.get(code)

    def tariff(self, code: str, day: dt.date) -> Decimal | None:
        service = self.services.get(code)
        return service.tariff(day) if service else None


class TomlDate(fields.Date):
    """TOML gives dates already parsed."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        raise ValidationError(problem("date.invalid"))


class _UnitSchema(Schema):
    one = Text(required=True, max_length=40)
    other = Text(required=True, max_length=40)
    zero = Text(required=True, max_length=40)
    step = Number(required=True, places=2, positive=True, maximum=Decimal("1"))
    days = Boolean(load_default=False)


class _TariffSchema(Schema):
    start = TomlDate(required=True, data_key="from")
    price = Money(required=True, positive=True)


class _ServiceSchema(Schema):
    code = Text(required=True, max_length=20)
    name = Text(required=True, max_length=120)
    unit = Text(required=True, max_length=40)
    groups = List(Choice(TARGET_GROUPS), required=True, min_length=1)
    tariffs = List(Nested(_TariffSchema), required=True, min_length=1)

    @validates_schema
    def _tariffs_in_order(self, data, **kwargs):
        starts = [t["start"] for t in data.get("tariffs", [])]
        if starts != sorted(set(starts)):
            raise ValidationError(problem("list.duplicate", value="from"), field_name="tariffs")


class _AplpLimitSchema(Schema):
    start = TomlDate(required=True, data_key="from")
    service = Text(required=True, max_length=20)
    levels = Keyed(keys=Text(max_length=10), values=Number(places=2, positive=True), required=True)
    special = Number(places=2, required=True)


class _AgeBandSchema(Schema):
    from_age = Integer(required=True)
    to_age = Integer(required=True)
    hours = Number(places=2, positive=True, required=True)


class _ChildCareLimitSchema(Schema):
    start = TomlDate(required=True, data_key="from")
    service = Text(required=True, max_length=20)
    bands = List(Nested(_AgeBandSchema), required=True, min_length=1)


class _RespiteLimitSchema(Schema):
    start = TomlDate(required=True, data_key="from")
    service = Text(required=True, max_length=20)
    days_per_year = Number(places=0, positive=True, maximum=Decimal(366), required=True)


class _LimitsSchema(Schema):
    aplp = List(Nested(_AplpLimitSchema), required=True, min_length=1)
    child_care = List(Nested(_ChildCareLimitSchema), required=True, min_length=1)
    respite = List(Nested(_RespiteLimitSchema), required=True, min_length=1)


def read_data_file(path: Path, schema: Schema, what: str) -> tuple[Any, Any]:
    """A TOML data file as read and as loaded by ``schema``; a file that cannot be read or that has
    problems raises :class:`CatalogueError` naming the file and each problem's place."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return raw, schema.load(raw)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CatalogueError(f"{path}: {exc}") from None
    except ValidationError as exc:
        lines = [f"  {json_pointer(p) or '/'}: {m}" for p, m in flatten(exc.messages)]
        raise CatalogueError(f"{path}: {what} has errors:\n" + "\n".join(lines)) from None


def duplicate_codes(entries: list[dict[str, Any]]) -> dict[int, dict[str, list]]:
    """A problem at the ``code`` of every entry whose code an earlier entry already has.

    >>> duplicate_codes([{"code": "A"}, {"code": "B"}, {"code": "A"}])
    {2: {'code': ['The value A is repeated.']}}
    """
    seen: set[str] = set()
    errors: dict[int, dict[str, list]] = {}
    for index, entry in enumerate(entries):
        if entry["code"] in seen:
            errors[index] = {"code": [problem("list.duplicate", value=entry["code"])]}
        seen.add(entry["code"])
    return errors


class _CatalogueSchema(Schema):
    units = Keyed(keys=Text(max_length=40), values=Nested(_UnitSchema), required=True)
    services = List(Nested(_ServiceSchema), required=True, min_length=1, max_length=500)
    limits = Nested(_LimitsSchema, required=True)

    @validates_schema
    def _references(self, data, **kwargs):
        units = data.get("units", {})
        services = data.get("services", [])
        errors = {
            index: {"unit": [problem("choice", choices=", ".join(units))]}
            for index, service in enumerate(services)
            if service["unit"] not in units
        }
        errors.update(duplicate_codes(services))
        if errors:
            raise ValidationError({"services": errors})


def load(path: Path) -> Catalogue:
    """Read and check a catalogue file."""
    _, data = read_data_file(path, _CatalogueSchema(), "the catalogue")
    units = {
        name: Unit(name, {k: u[k] for k in ("one", "other", "zero")}, u["step"], u["days"])
        for name, u in data["units"].items()
    }
    services = {
        s["code"]: Service(
            s["code"],
            s["name"],
            units[s["unit"]],
            tuple(s["groups"]),
            tuple((t["start"], t["price"]) for t in s["tariffs"]),
        )
        for s in data["services"]
    }
    return Catalogue(services, units, _limits(data["limits"], services, path))


def _limits(raw: dict[str, list[dict[str, Any]]], services: dict[str, Service], path: Path) -> Limits:
    def dated(entries: list[dict[str, Any]], value) -> tuple:
        return tuple(sorted((entry["start"], value(entry)) for entry in entries))

    def service(kind: str) -> str:
        codes = {entry["service"] for entry in raw[kind]}
        if len(codes) != 1 or not codes <= services.keys():
            raise CatalogueError(f"{path}: every [[limits.{kind}]] must name the same catalogue service")
        return codes.pop()

    return Limits(
        aplp_service=service("aplp"),
        child_care_service=service("child_care"),
        respite_service=service("respite"),
        aplp=dated(raw["aplp"], lambda e: {"levels": e["levels"], "special": e["special"]}),
        child_care=dated(
            raw["child_care"], lambda e: tuple((b["from_age"], b["to_age"], b["hours"]) for b in e["bands"])
        ),
        respite=dated(raw["respite"], lambda e: e["days_per_year"]),
    )


@cache
def default() -> Catalogue:
    """The catalogue in use: ``VEIDLAPAS_CATALOGUE`` or the bundled file, loaded once."""
    return load(Path(os.environ.get("VEIDLAPAS_CATALOGUE") or BUNDLED))
