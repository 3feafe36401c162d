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

from marshmallow import Schema, ValidationError, fields, validates_schema

from schemas.errors import flatten, json_pointer, problem
from schemas.fields import Keyed, List, Money, Nested, Number, Text

BUNDLED = Path(__file__).parent / "data" / "catalogue.toml"


class CatalogueError(ValueError):
    """The catalogue file cannot be used; the message lists every problem with its place."""


@dataclass(frozen=True)
class Unit:
    """A unit of service (stunda, diena …) with its plural forms and smallest step."""

    name: str
    forms: dict[str, str]
    step: Decimal


@dataclass(frozen=True)
class Service:
    """A catalogue entry; ``tariffs`` are ``(from, price)`` pairs sorted by date."""

    code: str
    name: str
    unit: Unit
    tariffs: tuple[tuple[dt.date, Decimal], ...]

    def tariff(self, day: dt.date) -> Decimal | None:
        """The price per unit in force on ``day`` (None before the first tariff)."""
        index = bisect_right([start for start, _ in self.tariffs], day)
        return self.tariffs[index - 1][1] if index else None


@dataclass(frozen=True)
class Catalogue:
    """All services by code, and the units they are measured in."""

    services: dict[str, Service]
    units: dict[str, Unit]

    def service(self, code: str) -> Service | None:
        return self.services.get(code)

    def tariff(self, code: str, day: dt.date) -> Decimal | None:
        service = self.services.get(code)
        return service.tariff(day) if service else None


class _TomlDate(fields.Date):
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


class _TariffSchema(Schema):
    start = _TomlDate(required=True, data_key="from")
    price = Money(required=True, positive=True)


class _ServiceSchema(Schema):
    code = Text(required=True, max_length=20)
    name = Text(required=True, max_length=120)
    unit = Text(required=True, max_length=40)
    tariffs = List(Nested(_TariffSchema), required=True, min_length=1)

    @validates_schema
    def _tariffs_in_order(self, data, **kwargs):
        starts = [t["start"] for t in data.get("tariffs", [])]
        if starts != sorted(set(starts)):
            raise ValidationError(problem("list.duplicate", value="from"), field_name="tariffs")


class _CatalogueSchema(Schema):
    units = Keyed(keys=Text(max_length=40), values=Nested(_UnitSchema), required=True)
    services = List(Nested(_ServiceSchema), required=True, min_length=1, max_length=500)

    @validates_schema
    def _references(self, data, **kwargs):
        units = data.get("units", {})
        seen: set[str] = set()
        errors: dict[int, dict[str, list]] = {}
        for index, service in enumerate(data.get("services", [])):
            if service["unit"] not in units:
                errors[index] = {"unit": [problem("choice", choices=", ".join(units))]}
            if service["code"] in seen:
                errors[index] = {"code": [problem("list.duplicate", value=service["code"])]}
            seen.add(service["code"])
        if errors:
            raise ValidationError({"services": errors})


def load(path: Path) -> Catalogue:
    """Read and check a catalogue file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CatalogueError(f"{path}: {exc}") from None
    try:
        data = _CatalogueSchema().load(raw)
    except ValidationError as exc:
        lines = [f"  {json_pointer(p) or '/'}: {m}" for p, m in flatten(exc.messages)]
        raise CatalogueError(f"{path}: the catalogue has errors:\n" + "\n".join(lines)) from None
    units = {
        name: Unit(name, {k: u[k] for k in ("one", "other", "zero")}, u["step"])
        for name, u in data["units"].items()
    }
    services = {
        s["code"]: Service(
            s["code"],
            s["name"],
            units[s["unit"]],
            tuple((t["start"], t["price"]) for t in s["tariffs"]),
        )
        for s in data["services"]
    }
    return Catalogue(services, units)


@cache
def default() -> Catalogue:
    """The catalogue in use: ``VEIDLAPAS_CATALOGUE`` or the bundled file, loaded once."""
    return load(Path(os.environ.get("VEIDLAPAS_CATALOGUE") or BUNDLED))
