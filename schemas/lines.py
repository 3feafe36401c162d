"""A service line: a catalogue service, a quantity of its unit, a price and the dates it runs.

The plan's services table and the agreement's subject share this base: the code must be in the
catalogue, the unit must be the service's, the quantity must be in the unit's steps, a tariff must be
in force on the start date and a given unit price may not exceed it. Loading fills in the service's
name, the unit's plural forms, the unit price (the tariff, when none is given) and the amount.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from marshmallow import fields, post_load, validates_schema

from schemas import catalogue
from schemas.base import Strict
from schemas.errors import ErrorCollector, problem
from schemas.fields import Date, Money, Number, Text, to_money


class ServiceLineSchema(Strict):
    """The fields and checks every service line has."""

    code = Text(required=True, max_length=20)
    unit = Text(required=True, max_length=40)
    quantity = Number(required=True, positive=True, maximum=Decimal("744"))
    unit_price = Money(positive=True, metadata={"description": "Defaults to the tariff in force."})
    start = Date(required=True)
    end = Date(required=True)
    name = Text(dump_only=True)
    unit_forms = fields.Dict(keys=fields.String(), values=fields.String(), dump_only=True)
    amount = Money(dump_only=True)

    @validates_schema(skip_on_field_errors=False)
    def _check_against_catalogue(self, data: dict[str, Any], **kwargs) -> None:
        errors = ErrorCollector()
        code, start = data.get("code"), data.get("start")
        service = catalogue.default().service(code) if code else None
        if code and service is None:
            errors.add(("code",), problem("service.unknown_code", code=code))
        if service and data.get("unit") not in (None, service.unit.name):
            errors.add(
                ("unit",),
                problem("service.unit_mismatch", code=code, expected=service.unit.name, unit=data["unit"]),
            )
        if service and "quantity" in data and data["quantity"] % service.unit.step:
            errors.add(("quantity",), problem("number.step", step=service.unit.step))
        if start and data.get("end") and start > data["end"]:
            errors.add(("end",), problem("period.reversed", start=start, end=data["end"]))
        if service and start:
            tariff = service.tariff(start)
            if tariff is None:
                errors.add(("start",), problem("service.no_tariff", code=code, date=start))
            elif data.get("unit_price", Decimal(0)) > tariff:
                errors.add(
                    ("unit_price",),
                    problem(
                        "service.price_above_tariff", price=data["unit_price"], tariff=tariff, date=start
                    ),
                )
        errors.raise_if_any()

    @post_load
    def _derive(self, data: dict[str, Any], **kwargs) -> dict[str, Any]:
        service = catalogue.default().services[data["code"]]
        data["name"] = service.name
        data["unit_forms"] = dict(service.unit.forms)
        data.setdefault("unit_price", service.tariff(data["start"]))
        data["amount"] = to_money(data["quantity"] * data["unit_price"])
        return data


def check_service_group(code: str | None, group: str | None, path: tuple, errors: ErrorCollector) -> None:
    """The service is meant for the client's target group."""
    service = catalogue.default().service(code) if code else None
    if service and group and group not in service.groups:
        errors.add(path, problem("service.wrong_target_group", code=code, group=group))


def months_touched(start: dt.date, end: dt.date) -> int:
    """Calendar months a span of days touches.

    >>> months_touched(dt.date(2020, 2, 15), dt.date(2020, 4, 1))
    3
    """
    return (end.year - start.year) * 12 + end.month - start.month + 1


def month_keys(start: dt.date, end: dt.date) -> list[str]:
    """The calendar months a span of days touches, as ``YYYY-MM`` (how acts and submissions name them).

    >>> month_keys(dt.date(2020, 11, 15), dt.date(2021, 1, 31))
    ['2020-11', '2020-12', '2021-01']
    """
    first = start.year * 12 + start.month - 1
    return [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(first, first + months_touched(start, end))]
