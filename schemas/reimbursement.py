"""Izmaksu kompensācijas pieprasījums: a municipality's reimbursement request for a month or quarter.

The request rests on accepted agreements (in summary: number, plan, client, term, services) and is
computed from delivery lines (agreement, service, date, units). A line's amount is its units × the
tariff in force on its date, rounded half up; rows group the lines by client, service and tariff;
the total is the sum of the rows and splits into the ESF and state parts of the project. A line that
no accepted agreement covers is an error, never a silent zero.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from marshmallow import fields, post_load, validates_schema

from schemas import catalogue, projects
from schemas.base import Strict
from schemas.errors import ErrorCollector, problem
from schemas.fields import (
    Choice,
    Date,
    Iban,
    List,
    Money,
    Nested,
    Number,
    Period,
    PeriodField,
    PersonalCode,
    RegistrationNumber,
    Text,
    to_money,
)
from schemas.lines import check_service_group, months_touched
from schemas.parties import TARGET_GROUPS, Name, OfficialSchema, birth_date, check_age
from schemas.projects import FundingSchema

#: The most agreements and lines a request holds when it is sent as JSON; a request from uploaded tables or
#: the accepted acts may hold more (``ReimbursementRequestSchema(max_agreements=…, max_lines=…)``).
MAX_AGREEMENTS = 5_000
MAX_LINES = 20_000
#: Rows per printed table of the request (see :func:`tables`).
TABLE_ROWS = 200


class RequestClientSchema(Strict):
    personal_code = PersonalCode(required=True)
    name = Name(metadata={"description": "Printed on the client's detail when given."})
    birth_date = Date(metadata={"description": "Required for a new-format personal code."})
    target_group = Choice(TARGET_GROUPS, required=True)


class AcceptedServiceSchema(Strict):
    code = Text(required=True, max_length=20)
    quantity = Number(required=True, positive=True, maximum=Decimal(744), metadata={"description": "A month"})
    start = Date(required=True)
    end = Date(required=True)


class AcceptedAgreementSchema(Strict):
    """An accepted agreement, as much of it as the request needs."""

    number = Text(required=True, max_length=40)
    plan_number = Text(required=True, max_length=40)
    client = Nested(RequestClientSchema, required=True)
    term = PeriodField(required=True)
    services = List(Nested(AcceptedServiceSchema), required=True, min_length=1, max_length=30)

    @validates_schema(skip_on_field_errors=False)
    def _check_services(self, data: dict[str, Any], **kwargs) -> None:
        """Its services are in the catalogue, meant for the client's group, and run inside its term."""
        errors = ErrorCollector()
        term = data.get("term")
        group = (data.get("client") or {}).get("target_group")
        for index, service in enumerate(data.get("services") or []):
            path = ("services", index)
            code = service.get("code")
            if code and catalogue.default().service(code) is None:
                errors.add((*path, "code"), problem("service.unknown_code", code=code))
            check_service_group(code, group, (*path, "code"), errors)
            start, end = service.get("start"), service.get("end")
            if start and end and start > end:
                errors.add((*path, "end"), problem("period.reversed", start=start, end=end))
            for key, day in (("start", start), ("end", end)):
                if term and day and not term.contains(day):
                    errors.add((*path, key), problem("service.outside_term", start=term.start, end=term.end))
        errors.raise_if_any()


class DeliveryLineSchema(Strict):
    """One delivered unit count: which agreement, which service, which day, how much."""

    agreement = Text(required=True, max_length=40)
    code = Text(required=True, max_length=20)
    date = Date(required=True)
    units = Number(required=True, positive=True, maximum=Decimal(24))
    unit_price = Money(dump_only=True)
    amount = Money(dump_only=True)


class ClientLineSchema(DeliveryLineSchema):
    """A delivery line in a client's detail, with its service's name, unit and unit forms."""

    name = Text(dump_only=True)
    unit = Text(dump_only=True)
    unit_forms = fields.Dict(keys=fields.String(), values=fields.String(), dump_only=True)


class SubmitterSchema(Strict):
    name = Text(required=True, max_length=160, metadata={"description": "The municipality"})
    name_genitive = Text(
        max_length=160, metadata={"description": 'The genitive, e.g. "Bauskas novada pašvaldības"'}
    )
    registration_number = RegistrationNumber(required=True)
    address = Text(required=True, max_length=200)
    iban = Iban(required=True)
    bank = Text(max_length=80)
    head = Nested(OfficialSchema, required=True)
    accountant = Name(required=True)


class RecipientSchema(Strict):
    name = Text(dump_only=True)
    registration_number = Text(dump_only=True)
    address = Text(dump_only=True)


class RowSchema(Strict):
    """One row of the request: a client's service at one unit cost."""

    number = fields.Integer(dump_only=True, metadata={"description": "Its place in the request, from 1"})
    agreement = Text(dump_only=True)
    plan_number = Text(dump_only=True)
    personal_code = Text(dump_only=True)
    target_group = Text(dump_only=True)
    code = Text(dump_only=True)
    name = Text(dump_only=True)
    unit = Text(dump_only=True)
    unit_forms = fields.Dict(keys=fields.String(), values=fields.String(), dump_only=True)
    quantity = Number(dump_only=True)
    unit_cost = Money(dump_only=True)
    amount = Money(dump_only=True)


class ClientTotalSchema(Strict):
    """One client's part of the request: their plans, agreements, rows, delivery lines and amount."""

    personal_code = Text(dump_only=True)
    name = Text(dump_only=True, metadata={"description": "The first name an agreement of theirs gives"})
    target_group = Text(dump_only=True)
    plans = fields.List(fields.String(), dump_only=True)
    agreements = fields.List(fields.String(), dump_only=True)
    rows = List(Nested(RowSchema), dump_only=True)
    lines = List(
        Nested(ClientLineSchema), dump_only=True, metadata={"description": "By date, service, agreement"}
    )
    amount = Money(dump_only=True)


class ServiceTotalSchema(Strict):
    """One service's part of the request."""

    code = Text(dump_only=True)
    name = Text(dump_only=True)
    unit = Text(dump_only=True)
    quantity = Number(dump_only=True)
    amount = Money(dump_only=True)


class RequestTotalsSchema(Strict):
    amount = Money(dump_only=True)
    esf = Money(dump_only=True)
    state = Money(dump_only=True)
    clients = fields.Integer(dump_only=True)
    lines = fields.Integer(dump_only=True)


class ReimbursementRequestSchema(Strict):
    """The whole request."""

    number = Text(required=True, max_length=40)
    date = Date(required=True)
    project = Text(required=True, max_length=20, metadata={"description": "A project code of /projects"})
    project_agreement_number = Text(
        required=True, max_length=60, metadata={"description": "Vienošanās par projekta īstenošanu Nr."}
    )
    period = PeriodField(required=True, metadata={"description": "A month (YYYY-MM) or a calendar quarter"})
    submitter = Nested(SubmitterSchema, required=True)
    agreements = List(Nested(AcceptedAgreementSchema), required=True, min_length=1, max_length=MAX_AGREEMENTS)
    lines = List(Nested(DeliveryLineSchema), required=True, min_length=1, max_length=MAX_LINES)
    attachments = List(Text(max_length=200), load_default=list, max_length=50)
    recipient = Nested(RecipientSchema, dump_only=True)
    funding = Nested(FundingSchema, dump_only=True)
    rows = List(Nested(RowSchema), dump_only=True)
    tables = List(
        List(Nested(RowSchema)),
        dump_only=True,
        metadata={"description": f"The rows in consecutive tables of at most {TABLE_ROWS}, as printed"},
    )
    by_client = List(Nested(ClientTotalSchema), dump_only=True)
    by_service = List(Nested(ServiceTotalSchema), dump_only=True)
    totals = Nested(RequestTotalsSchema, dump_only=True)

    def __init__(self, *args, max_agreements: int = MAX_AGREEMENTS, max_lines: int = MAX_LINES, **kwargs):
        """The schema; ``max_agreements`` and ``max_lines`` raise (or lower) the lists' limits."""
        super().__init__(*args, **kwargs)
        self.limits = {"agreements": max_agreements, "lines": max_lines}
        for name, limit in self.limits.items():
            if name in self.fields:
                self.fields[name].max_length = limit

    def check_sizes(self, raw: Any) -> None:
        """Only the lists' lengths of a raw request (what :meth:`load` refuses first, without loading it).

        >>> ReimbursementRequestSchema(max_lines=1).check_sizes({"agreements": [], "lines": [{}, {}]})
        Traceback (most recent call last):
        marshmallow.exceptions.ValidationError: {'lines': ['Must have at most 1 items.']}
        """
        errors = ErrorCollector()
        for name, limit in self.limits.items():
            value = raw.get(name) if isinstance(raw, dict) else None
            if isinstance(value, list) and len(value) > limit:
                errors.add((name,), problem("list.too_long", max=limit))
        errors.raise_if_any()

    @validates_schema(skip_on_field_errors=False)
    def _check_rules(self, data: dict[str, Any], **kwargs) -> None:
        errors = ErrorCollector()
        period = data.get("period")
        projects.check(data, "period", errors)
        if period and not is_month_or_quarter(period):
            errors.add(("period",), problem("period.month_or_quarter"))
        agreements = _agreements_by_number(data.get("agreements") or [], errors)
        for index, line in enumerate(data.get("lines") or []):
            _check_line(line, ("lines", index), agreements, period, errors)
        complete = [
            (index, line)
            for index, line in enumerate(data.get("lines") or [])
            if {"agreement", "code", "date", "units"} <= line.keys()
            and not any(errors.has(("lines", index, key)) for key in ("agreement", "code", "date"))
        ]
        _check_quantities(complete, agreements, errors)
        errors.raise_if_any()

    @post_load
    def _derive(self, data: dict[str, Any], **kwargs) -> dict[str, Any]:
        """Every figure of the request, accumulated as the lines pass once (see :func:`_grouped`)."""
        project = projects.default()[data["project"]]
        agreements = {a["number"]: a for a in data["agreements"]}
        data["rows"] = _grouped(data["lines"], agreements)
        data["tables"] = tables(data["rows"])
        data["by_client"] = _by_client(data["rows"], data["lines"], agreements)
        data["by_service"] = _by_service(data["rows"])
        total = sum((row["amount"] for row in data["rows"]), Decimal("0.00"))
        esf, state = project.split(total)
        data["recipient"] = {
            "name": project.recipient,
            "registration_number": project.recipient_registration_number,
            "address": project.recipient_address,
        }
        data["funding"] = project.funding()
        data["totals"] = {
            "amount": total,
            "esf": esf,
            "state": state,
            "clients": len({row["personal_code"] for row in data["rows"]}),
            "lines": len(data["lines"]),
        }
        return data


def tables(rows: list[dict[str, Any]], size: int = TABLE_ROWS) -> list[list[dict[str, Any]]]:
    """The rows in consecutive parts of at most ``size``, in order: the printed request's tables.

    LibreOffice lays a table out in time that grows with the square of its rows; tables of a few hundred
    rows keep the request's conversion linear.

    >>> [len(part) for part in tables(list(range(450)))]
    [200, 200, 50]
    """
    return [rows[start : start + size] for start in range(0, len(rows), size)]


def is_month_or_quarter(period: Period) -> bool:
    """True for a whole calendar month or a whole calendar quarter.

    >>> is_month_or_quarter(Period(dt.date(2020, 7, 1), dt.date(2020, 9, 30)))
    True
    >>> is_month_or_quarter(Period(dt.date(2020, 8, 1), dt.date(2020, 10, 31)))
    False
    """
    if period.start.day != 1 or (period.end + dt.timedelta(days=1)).day != 1:
        return False
    months = months_touched(period.start, period.end)
    return months == 1 or (months == 3 and period.start.month % 3 == 1)


def _agreements_by_number(agreements: list[dict[str, Any]], errors: ErrorCollector) -> dict[str, dict]:
    by_number: dict[str, dict] = {}
    for index, agreement in enumerate(agreements):
        number = agreement.get("number")
        if number in by_number:
            errors.add(("agreements", index, "number"), problem("list.duplicate", value=number))
        elif number:
            by_number[number] = agreement
            client = agreement.get("client")
            if client:
                birth_date(client, ("agreements", index, "client"), errors)
    return by_number


def _check_line(
    line: dict[str, Any],
    path: tuple,
    agreements: dict[str, dict],
    period: Period | None,
    errors: ErrorCollector,
) -> None:
    """The line is covered by an accepted agreement, inside the period, priced, in steps, age-fitting."""
    number, code, day = line.get("agreement"), line.get("code"), line.get("date")
    agreement = agreements.get(number) if number else None
    if number and agreement is None:
        errors.add((*path, "agreement"), problem("reimbursement.unknown_agreement", number=number))
    service = catalogue.default().service(code) if code else None
    if code and service is None:
        errors.add((*path, "code"), problem("service.unknown_code", code=code))
    if service and "units" in line and line["units"] % service.unit.step:
        errors.add((*path, "units"), problem("number.step", step=service.unit.step))
    if not day:
        return
    if period and not period.contains(day):
        errors.add(
            (*path, "date"), problem("reimbursement.outside_period", start=period.start, end=period.end)
        )
    if day > dt.date.today():
        errors.add((*path, "date"), problem("delivery.future", date=day))
    if service and service.tariff(day) is None:
        errors.add((*path, "date"), problem("service.no_tariff", code=code, date=day))
    if agreement and code:
        agreed = [s for s in agreement.get("services", []) if s.get("code") == code]
        if not agreed:
            errors.add((*path, "code"), problem("delivery.service_not_agreed", code=code))
        elif not any(s["start"] <= day <= s["end"] for s in agreed if "start" in s and "end" in s) or (
            agreement.get("term") and not agreement["term"].contains(day)
        ):
            errors.add((*path, "date"), problem("delivery.outside_agreement", code=code))
        client = agreement.get("client") or {}
        born = birth_date(client, (), ErrorCollector()) if client.get("personal_code") else None
        if born and client.get("target_group"):
            check_age(client["target_group"], born, day, (*path, "date"), errors)


def _check_quantities(
    lines: list[tuple[int, dict[str, Any]]], agreements: dict[str, dict], errors: ErrorCollector
) -> None:
    """Per agreement, service and month the units stay within the agreed quantity; day units once a day;
    respite within its yearly limit per client."""
    limits = catalogue.default().limits
    per_month: dict[tuple, Decimal] = defaultdict(Decimal)
    first_line: dict[tuple, int] = {}
    seen_days: dict[tuple, int] = {}
    respite: dict[tuple, Decimal] = defaultdict(Decimal)
    for index, line in lines:
        key = (line["agreement"], line["code"], line["date"].year, line["date"].month)
        if not errors.has(("lines", index, "units")):  # a count in the wrong steps is not added up
            per_month[key] += line["units"]
            first_line.setdefault(key, index)
        service = catalogue.default().service(line["code"])
        if service and service.unit.counts_days:
            day = (line["agreement"], line["code"], line["date"])
            if day in seen_days:
                errors.add(("lines", index, "date"), problem("delivery.duplicate_day", other=seen_days[day]))
            seen_days.setdefault(day, index)
        if line["code"] == limits.respite_service:
            client = (agreements[line["agreement"]].get("client") or {}).get("personal_code")
            respite[(client, line["date"].year)] += line["units"]
    for (number, code, year, month), units in per_month.items():
        days = Period.month(year, month)
        services = [s for s in agreements[number].get("services") or [] if s.get("code") == code]
        if not all({"quantity", "start", "end"} <= s.keys() for s in services):
            continue  # the agreement itself is broken there, and says so
        agreed = [
            s["quantity"]
            for s in agreements[number].get("services") or []
            if {"code", "quantity", "start", "end"} <= s.keys()
            and s["code"] == code
            and s["start"] <= days.end
            and s["end"] >= days.start
        ]
        planned = max(agreed, default=Decimal(0))
        if units > planned:
            errors.add(
                ("lines", first_line[(number, code, year, month)], "units"),
                problem("delivery.above_plan", code=code, actual=units, planned=planned),
            )
    for (_, year), days in respite.items():
        allowed = limits.respite_days(dt.date(year, 1, 1))
        if allowed is not None and days > allowed:
            errors.add(("lines",), problem("limit.respite_days", year=year, days=days, max=allowed))


def _grouped(lines: list[dict[str, Any]], agreements: dict[str, dict]) -> list[dict[str, Any]]:
    """Price every line (its tariff on its date, the amount rounded) and add it to its row as it passes:
    the rows are the lines grouped by agreement, service and unit cost, in agreement and service order.

    Each line also gets its service's name, unit and unit forms (one dict a service, shared), so that a
    client's detail lists the same line objects rather than copies.
    """
    services = catalogue.default().services
    forms: dict[str, dict[str, str]] = {}
    sums: dict[tuple, list[Decimal]] = {}
    for line in lines:
        service = services[line["code"]]
        price = service.tariff(line["date"])
        line["unit_price"] = price
        line["amount"] = to_money(line["units"] * price)
        line["name"], line["unit"] = service.name, service.unit.name
        line["unit_forms"] = forms.setdefault(line["code"], dict(service.unit.forms))
        group = sums.setdefault((line["agreement"], line["code"], price), [Decimal(0), Decimal("0.00")])
        group[0] += line["units"]
        group[1] += line["amount"]
    rows = []
    for (number, code, price), (quantity, amount) in sorted(sums.items()):
        agreement, service = agreements[number], services[code]
        rows.append(
            {
                "number": len(rows) + 1,
                "agreement": number,
                "plan_number": agreement["plan_number"],
                "personal_code": agreement["client"]["personal_code"],
                "target_group": agreement["client"]["target_group"],
                "code": code,
                "name": service.name,
                "unit": service.unit.name,
                "unit_forms": forms[code],
                "quantity": quantity,
                "unit_cost": price,
                "amount": amount,
            }
        )
    return rows


def _by_client(
    rows: list[dict[str, Any]], lines: list[dict[str, Any]], agreements: dict[str, dict]
) -> list[dict[str, Any]]:
    """The rows added up per client, in the rows' order, each with the client's name, rows and lines.

    A client's lines (the priced lines themselves, not copies) are sorted by date, service code and
    agreement.
    """
    clients: dict[str, dict[str, Any]] = {}
    for row in rows:
        client = clients.setdefault(
            row["personal_code"],
            {
                "personal_code": row["personal_code"],
                "name": None,
                "target_group": row["target_group"],
                "plans": [],
                "agreements": [],
                "rows": [],
                "lines": [],
                "amount": Decimal("0.00"),
            },
        )
        for key, value in (("plans", row["plan_number"]), ("agreements", row["agreement"])):
            if value not in client[key]:
                client[key].append(value)
        client["rows"].append(row)
        client["amount"] += row["amount"]
    for agreement in agreements.values():
        client = clients.get(agreement["client"]["personal_code"])
        if client is not None and client["name"] is None:
            client["name"] = agreement["client"].get("name")
    for line in sorted(lines, key=lambda line: (line["date"], line["code"], line["agreement"])):
        clients[agreements[line["agreement"]]["client"]["personal_code"]]["lines"].append(line)
    return list(clients.values())


def _by_service(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows added up per service code, in the rows' order."""
    services: dict[str, dict[str, Any]] = {}
    for row in rows:
        service = services.setdefault(
            row["code"],
            {
                "code": row["code"],
                "name": row["name"],
                "unit": row["unit"],
                "quantity": Decimal(0),
                "amount": Decimal("0.00"),
            },
        )
        service["quantity"] += row["quantity"]
        service["amount"] += row["amount"]
    return list(services.values())
