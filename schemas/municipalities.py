"""The municipalities that send reimbursement requests: the submitter a request prints, and their
project agreement numbers.

Loaded from ``schemas/data/municipalities.toml`` (or ``VEIDLAPAS_MUNICIPALITIES``) and checked when loaded,
so a pack needs only the municipality's code, the project and the period.

>>> bauska = default()["bauska"]
>>> bauska.submitter()["name"], bauska.project_agreements["IBM"]
('Bauskas novada pašvaldība', 'LM-2018/9.2.2.2/16/I/001/BNP')

Each has the series its stored agreements are numbered from; only ``{year}`` and ``{seq}`` (``{seq:0N}``
for N digits) may stand in braces:

Documents also need the name in the genitive and the town in the locative:

>>> bauska.name_genitive, bauska.place, bauska.place_locative
('Bauskas novada pašvaldības', 'Bauska', 'Bauskā')
>>> place_locative("Liepāja"), place_locative("Rīga")
('Liepājā', None)

>>> bauska.agreement_series, default()["liepaja"].agreement_series
('L-{year}/{seq:03}', 'LVP-L-{year}/{seq:04}')
>>> [bool(SERIES.fullmatch(s)) for s in ("L-{year}/{seq:03}", "L-{year}/{seq:3}", "L-{seq}", "{n}")]
[True, False, False, False]
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from marshmallow import Schema, ValidationError, fields, validates_schema

from schemas.catalogue import duplicate_codes, read_data_file
from schemas.errors import problem
from schemas.fields import Iban, List, Nested, RegistrationNumber, Text
from schemas.parties import Name, OfficialSchema

BUNDLED = Path(__file__).parent / "data" / "municipalities.toml"
#: The sequence's place in an agreement series: {seq}, or {seq:0N} for N digits.
SEQUENCE = re.compile(r"\{seq(?::0[1-9])?\}")
#: An agreement series: text without braces around one {year} and then one sequence.
SERIES = re.compile(r"[^{}]*\{year\}[^{}]*" + SEQUENCE.pattern + r"[^{}]*")


@dataclass(frozen=True)
class Municipality:
    """A municipality as the submitter of its reimbursement requests."""

    code: str
    prefix: str
    details: dict[str, Any]
    project_agreements: dict[str, str]
    agreement_series: str
    #: The town, as a document gives its place ("Bauska"), and in the locative ("Bauskā").
    place: str
    place_locative: str

    @property
    def name_genitive(self) -> str:
        """"Bauskas novada pašvaldības": the name as "uz … kontu" needs it."""
        return self.details["name_genitive"]

    def submitter(self) -> dict[str, Any]:
        """The request's ``submitter``, as raw input for ``SubmitterSchema``."""
        return dict(self.details)


class _MunicipalitySchema(Schema):
    code = Text(required=True, max_length=40)
    prefix = Text(required=True, max_length=10)
    name = Text(required=True, max_length=160)
    name_genitive = Text(required=True, max_length=160)
    place = Text(required=True, max_length=80)
    place_locative = Text(required=True, max_length=80)
    registration_number = RegistrationNumber(required=True)
    address = Text(required=True, max_length=200)
    bank = Text(max_length=80)
    iban = Iban(required=True)
    head = Nested(OfficialSchema, required=True)
    accountant = Name(required=True)
    project_agreements = fields.Dict(keys=fields.String(), values=Text(max_length=60), required=True)
    agreement_series = Text(required=True, max_length=30)

    @validates_schema
    def _series(self, data, **kwargs):
        series = data.get("agreement_series")
        if series is not None and not SERIES.fullmatch(series):
            raise ValidationError({"agreement_series": [problem("municipality.series", series=series)]})


class _MunicipalitiesSchema(Schema):
    municipalities = List(Nested(_MunicipalitySchema), required=True, min_length=1, max_length=200)

    @validates_schema
    def _unique(self, data, **kwargs):
        if errors := duplicate_codes(data["municipalities"]):
            raise ValidationError({"municipalities": errors})


def load(path: Path) -> dict[str, Municipality]:
    """Read and check a municipalities file; problems raise CatalogueError with their places."""
    raw, _ = read_data_file(path, _MunicipalitiesSchema(), "the municipalities file")
    municipalities = {}
    for entry in raw["municipalities"]:
        own = ("code", "prefix", "project_agreements", "agreement_series", "place", "place_locative")
        details = {k: v for k, v in entry.items() if k not in own}
        agreements = dict(entry["project_agreements"])
        municipalities[entry["code"]] = Municipality(
            entry["code"],
            entry["prefix"],
            details,
            agreements,
            entry["agreement_series"],
            entry["place"],
            entry["place_locative"],
        )
    return municipalities


def place_locative(place: str) -> str | None:
    """The locative of a municipality's town as the file writes it (``None`` for any other place)."""
    return next((m.place_locative for m in default().values() if m.place == place), None)


@cache
def default() -> dict[str, Municipality]:
    """The municipalities in use: ``VEIDLAPAS_MUNICIPALITIES`` or the bundled file, loaded once."""
    return load(Path(os.environ.get("VEIDLAPAS_MUNICIPALITIES") or BUNDLED))
