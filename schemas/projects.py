"""The projects that reimburse services: name, number, ESF share (the state pays the rest), window.

Loaded from ``schemas/data/projects.toml`` (or ``VEIDLAPAS_PROJECTS``) and checked when loaded.

>>> project = default()["ZEMGALE-DI"]
>>> project.esf_share, project.state_share
(Decimal('86.69'), Decimal('13.31'))
>>> project.split(Decimal("1000.01"))
(Decimal('866.91'), Decimal('133.10'))
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

from marshmallow import Schema, ValidationError, validates_schema

from schemas.base import Strict
from schemas.catalogue import TomlDate, duplicate_codes, read_data_file
from schemas.errors import ErrorCollector, problem
from schemas.fields import List, Money, Nested, Number, Period, RegistrationNumber, Text, to_money

BUNDLED = Path(__file__).parent / "data" / "projects.toml"
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Project:
    """A project and its funding split."""

    code: str
    name: str
    number: str
    esf_share: Decimal
    window: Period
    recipient: str
    recipient_registration_number: str
    recipient_address: str

    @property
    def state_share(self) -> Decimal:
        return HUNDRED - self.esf_share

    def funding(self) -> dict[str, str | Decimal]:
        """What a document prints about where the money comes from (see :class:`FundingSchema`)."""
        return {
            "project_name": self.name,
            "project_number": self.number,
            "esf_share": self.esf_share,
            "state_share": self.state_share,
        }

    def split(self, total: Decimal) -> tuple[Decimal, Decimal]:
        """``(esf, state)`` parts of ``total``: ESF rounded half up to cents, the state the remainder."""
        esf = to_money(total * self.esf_share / HUNDRED)
        return esf, total - esf


class FundingSchema(Strict):
    """The project and its shares, as documents print them (derived, never sent)."""

    project_name = Text(dump_only=True)
    project_number = Text(dump_only=True)
    esf_share = Money(dump_only=True)
    state_share = Money(dump_only=True)


class _ProjectSchema(Schema):
    code = Text(required=True, max_length=20)
    name = Text(required=True, max_length=200)
    number = Text(required=True, max_length=40)
    esf_share = Number(required=True, places=2, maximum=HUNDRED)
    start = TomlDate(required=True)
    end = TomlDate(required=True)
    recipient = Text(required=True, max_length=160)
    recipient_registration_number = RegistrationNumber(required=True)
    recipient_address = Text(required=True, max_length=200)

    @validates_schema(skip_on_field_errors=False)
    def _window(self, data, **kwargs):
        if {"start", "end"} <= data.keys() and data["start"] > data["end"]:
            raise ValidationError(problem("period.reversed", start=data["start"], end=data["end"]), "end")


class _ProjectsSchema(Schema):
    projects = List(Nested(_ProjectSchema), required=True, min_length=1, max_length=100)

    @validates_schema
    def _unique(self, data, **kwargs):
        if errors := duplicate_codes(data["projects"]):
            raise ValidationError({"projects": errors})


def load(path: Path) -> dict[str, Project]:
    """Read and check a projects file; problems raise CatalogueError with their places."""
    _, data = read_data_file(path, _ProjectsSchema(), "the projects file")
    return {
        p["code"]: Project(
            p["code"],
            p["name"],
            p["number"],
            p["esf_share"],
            Period(p["start"], p["end"]),
            p["recipient"],
            p["recipient_registration_number"],
            p["recipient_address"],
        )
        for p in data["projects"]
    }


@cache
def default() -> dict[str, Project]:
    """The projects in use: ``VEIDLAPAS_PROJECTS`` or the bundled file, loaded once."""
    return load(Path(os.environ.get("VEIDLAPAS_PROJECTS") or BUNDLED))


def check(data: dict, span_key: str, errors: ErrorCollector) -> Project | None:
    """The project ``data["project"]`` names, if known, with ``data[span_key]`` (a Period) inside its window;
    problems at ``/project`` and ``/<span_key>``."""
    project = default().get(data.get("project", ""))
    if "project" in data and project is None:
        errors.add(("project",), problem("project.unknown", code=data["project"]))
    span = data.get(span_key)
    if span and project and not project.window.covers(span):
        errors.add(
            (span_key,), problem("project.outside_window", start=project.window.start, end=project.window.end)
        )
    return project
