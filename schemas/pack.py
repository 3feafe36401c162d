"""A pack order: which municipality, project and period a reimbursement pack is for, and its lines.

The order names the municipality, the project and the period; the submitter's details and the project
agreement number come from the municipality's configuration (``schemas/municipalities.py``), the
request number from its prefix and the period. ``request_input`` turns an order and its agreements and
lines into the raw input of ``ReimbursementRequestSchema``, which validates the lines and derives every
figure: a pack is a reimbursement request done in full.

>>> header = PackOrderSchema().load_header({"project": "IBM", "municipality": "bauska", "period": "2020-09",
...                                         "date": "2020-10-08"})
>>> raw = request_input(header, [], [], attachments=[])
>>> raw["number"], raw["project_agreement_number"], raw["submitter"]["name"]
('KP-BNP-2020/09', 'LM-2018/9.2.2.2/16/I/001/BNP', 'Bauskas novada pašvaldība')
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import ValidationError, validates_schema

from schemas import municipalities
from schemas.base import Strict
from schemas.errors import ErrorCollector, problem
from schemas.fields import Boolean, Choice, Date, List, Nested, Period, PeriodField, Text
from schemas.reimbursement import MAX_LINES, AcceptedAgreementSchema, DeliveryLineSchema

SOURCES = ("body", "submissions")
LISTS = ("agreements", "lines")


class PackOrderSchema(Strict):
    """What a finance officer asks for: a pack for a municipality, project and period."""

    project = Text(required=True, max_length=20, metadata={"description": "A project code of /projects"})
    municipality = Text(max_length=40, metadata={"description": "The user's own municipality when left out"})
    period = PeriodField(required=True, metadata={"description": "A month (YYYY-MM) or a calendar quarter"})
    date = Date(metadata={"description": "The request's date; today when left out"})
    number = Text(
        max_length=40, metadata={"description": "The request's number; KP-<prefix>-YYYY/MM when left out"}
    )
    pdf = Boolean(load_default=True, metadata={"description": "PDFs of every document and pack.pdf"})
    source = Choice(
        SOURCES,
        load_default="body",
        metadata={
            "description": "body: agreements and lines sent here (or as files); submissions: "
            "taken from the accepted delivery acts of the period"
        },
    )
    agreements = List(Nested(AcceptedAgreementSchema), max_length=5000)
    lines = List(Nested(DeliveryLineSchema), max_length=MAX_LINES)

    @validates_schema(skip_on_field_errors=False)
    def _check(self, data: dict[str, Any], **kwargs) -> None:
        errors = ErrorCollector()
        code = data.get("municipality")
        known = municipalities.default().get(code) if code else None
        if code and known is None:
            errors.add(("municipality",), problem("municipality.unknown", code=code))
        project = data.get("project")
        if known and project and project not in known.project_agreements:
            errors.add(("project",), problem("municipality.no_project_agreement", project=project))
        errors.raise_if_any()

    def load_header(self, raw: Any) -> dict[str, Any]:
        """The order without its lists (they are validated as part of the request)."""
        if not isinstance(raw, dict):
            raise ValidationError(problem("type.object"))
        return PackOrderSchema(exclude=LISTS).load({k: v for k, v in raw.items() if k not in LISTS})


def request_number(prefix: str, period: Period) -> str:
    """``KP-BNP-2020/09`` for a month, ``KP-BNP-2020/C3`` for a calendar quarter (ceturksnis).

    >>> request_number("BNP", Period(dt.date(2020, 7, 1), dt.date(2020, 9, 30)))
    'KP-BNP-2020/C3'
    """
    if period.start.month == period.end.month:
        return f"KP-{prefix}-{period.start:%Y/%m}"
    return f"KP-{prefix}-{period.start.year}/C{(period.start.month + 2) // 3}"


def raw_period(period: Period) -> str | dict[str, str]:
    """The period as it is sent: ``2020-09`` for a month, else ``{start, end}``."""
    if period.start.month == period.end.month:
        return period.start.strftime("%Y-%m")
    return {"start": period.start.isoformat(), "end": period.end.isoformat()}


def request_input(
    header: dict[str, Any],
    agreements: list[Any],
    lines: list[Any],
    *,
    attachments: list[str],
    municipality: municipalities.Municipality | None = None,
) -> dict[str, Any]:
    """The raw reimbursement request of an order: the header completed from the municipality's settings
    (``municipality``, as in force on the request's date; the file's entry when not given), with the
    agreements and lines as they were sent."""
    municipality = municipality or municipalities.default()[header["municipality"]]
    period = header["period"]
    return {
        "number": header.get("number") or request_number(municipality.prefix, period),
        "date": (header.get("date") or dt.date.today()).isoformat(),
        "project": header["project"],
        "project_agreement_number": municipality.project_agreements.get(header["project"], ""),
        "period": raw_period(period),
        "submitter": municipality.submitter(),
        "agreements": agreements,
        "lines": lines,
        "attachments": attachments,
    }
