"""Līgums par sociālā pakalpojuma sniegšanu: the service agreement, its rules and derived figures.

An agreement is sent whole, or made from a support plan: ``{"from_plan": {"plan": …, "lines": […]}}``
plus what a plan does not know (number, date, provider, the municipality's signatory, the decision).
The plan is validated like any plan; the chosen lines become the agreement's services and the plan's
client, representative, social service and number fill the fields left out.

Loading derives the place in the locative when the place is a municipality's town (``municipalities.toml``);
per service, the amount a month, the months it runs and its total; and for the agreement the monthly total,
the total for the term and its ESF and state parts (``funding``).
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, post_load, pre_load, validates_schema

from schemas import catalogue, municipalities, projects
from schemas.base import Strict
from schemas.errors import ErrorCollector, problem
from schemas.fields import (
    Choice,
    Date,
    Email,
    Iban,
    Integer,
    List,
    Money,
    Nested,
    PeriodField,
    Phone,
    RegistrationNumber,
    Text,
)
from schemas.lines import ServiceLineSchema, check_service_group, months_touched
from schemas.parties import (
    ClientSchema,
    LegalCapacitySchema,
    MunicipalityPartySchema,
    Name,
    OfficialSchema,
    RepresentativeSchema,
    age_on,
    birth_date,
    check_age,
    check_representation,
)
from schemas.plan import SupportPlanSchema
from schemas.projects import FundingSchema

SIGNING = ("paper", "e-signature")
CLIENT_FIELDS = ("name", "personal_code", "birth_date", "declared_address", "actual_address", "target_group")


class ProviderSchema(Strict):
    name = Name(required=True)
    registration_number = RegistrationNumber(required=True)
    register_number = Text(
        required=True, max_length=40, metadata={"description": "Sociālo pakalpojumu sniedzēju reģistra Nr."}
    )
    address = Text(required=True, max_length=200)
    representative = Nested(OfficialSchema, required=True)
    bank = Text(required=True, max_length=80)
    iban = Iban(required=True)
    phone = Phone()
    email = Email()


class ReferenceSchema(Strict):
    """A document referred to by its number and date."""

    number = Text(required=True, max_length=40)
    date = Date(required=True)


class AgreementServiceSchema(ServiceLineSchema):
    """A service the provider delivers: quantity a month, where and when."""

    place = Text(required=True, max_length=200)
    schedule = Text(required=True, max_length=200)
    months = Integer(dump_only=True)
    total = Money(dump_only=True)

    @post_load
    def _total(self, data: dict[str, Any], **kwargs) -> dict[str, Any]:
        data["months"] = months_touched(data["start"], data["end"])
        data["total"] = data["amount"] * data["months"]
        return data


class PaymentSchema(Strict):
    act_due_day = Integer(
        load_default=5, metadata={"description": "The act is due by this day of the next month."}
    )
    payment_days = Integer(load_default=30, metadata={"description": "Days to pay after the invoice."})

    @validates_schema(skip_on_field_errors=True)
    def _ranges(self, data: dict[str, Any], **kwargs) -> None:
        errors = ErrorCollector()
        if not 1 <= data["act_due_day"] <= 28:
            errors.add(("act_due_day",), problem("number.range", min=1, max=28))
        if not 1 <= data["payment_days"] <= 90:
            errors.add(("payment_days",), problem("number.range", min=1, max=90))
        errors.raise_if_any()


class AgreementTotalsSchema(Strict):
    monthly = Money(dump_only=True)
    total = Money(dump_only=True)
    esf = Money(dump_only=True)
    state = Money(dump_only=True)


class LineChoiceSchema(Strict):
    """A line of the plan to contract, with what the plan does not say about it."""

    index = Integer(required=True, metadata={"description": "Position in the plan's services, from 0"})
    place = Text(required=True, max_length=200)
    schedule = Text(required=True, max_length=200)


class FromPlanSchema(Strict):
    plan = fields.Raw(
        required=True, metadata={"description": "A support plan, as for /documents/support-plan"}
    )
    lines = List(Nested(LineChoiceSchema), required=True, min_length=1, max_length=30)


class AgreementSchema(Strict):
    """The whole service agreement (or a plan and choices to make it from: ``from_plan``)."""

    number = Text(required=True, max_length=40)
    date = Date(required=True)
    place = Text(required=True, max_length=80)
    place_locative = Text(
        max_length=80,
        metadata={"description": 'The place in the locative ("Bauskā"); derived for a municipality\'s town'},
    )
    project = Text(required=True, max_length=20, metadata={"description": "A project code of /projects"})
    municipality = Nested(MunicipalityPartySchema, required=True)
    provider = Nested(ProviderSchema, required=True)
    client = Nested(ClientSchema, required=True)
    legal_capacity = Nested(
        LegalCapacitySchema, metadata={"description": "When restricted: the trustee signs"}
    )
    representative = Nested(RepresentativeSchema)
    decision = Nested(ReferenceSchema, required=True, metadata={"description": "Sociālā dienesta lēmums"})
    plan = Nested(ReferenceSchema, required=True, metadata={"description": "Individuālais atbalsta plāns"})
    aplp_level = Text(max_length=10, metadata={"description": "APLP support level; needed with APLP"})
    services = List(Nested(AgreementServiceSchema), required=True, min_length=1, max_length=30)
    co_payment = Money(load_default=Decimal("0.00"), metadata={"description": "Client's co-payment a month"})
    payment = Nested(PaymentSchema, load_default=lambda: {"act_due_day": 5, "payment_days": 30})
    term = PeriodField(required=True)
    signing = Choice(SIGNING, required=True)
    copies = Integer(load_default=2, metadata={"description": "Paper copies (signing: paper)"})
    from_plan = Nested(FromPlanSchema, load_only=True)
    funding = Nested(FundingSchema, dump_only=True)
    totals = Nested(AgreementTotalsSchema, dump_only=True)

    @pre_load
    def _from_plan(self, data: Any, **kwargs) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("from_plan"), dict):
            return data
        return merge_plan(data)

    @validates_schema(skip_on_field_errors=False)
    def _check_rules(self, data: dict[str, Any], **kwargs) -> None:
        errors = ErrorCollector()
        term = data.get("term")
        projects.check(data, "term", errors)
        client = data.get("client")
        born = birth_date(client, ("client",), errors) if client else None
        if data.get("representative"):
            birth_date(data["representative"], ("representative",), errors)
        if born and term:
            if client.get("target_group"):
                check_age(client["target_group"], born, term.start, ("client", "target_group"), errors)
            check_representation(data, born, term.start, errors)
        for key in ("decision", "plan"):
            reference = data.get(key)
            if reference and "date" in reference and data.get("date") and reference["date"] > data["date"]:
                errors.add((key, "date"), problem("reference.after_document", date=data["date"]))
        if data.get("signing") == "paper" and not 2 <= data.get("copies", 2) <= 4:
            errors.add(("copies",), problem("number.range", min=2, max=4))
        _check_services(data, term, born, errors)
        errors.raise_if_any()

    @post_load
    def _derive(self, data: dict[str, Any], **kwargs) -> dict[str, Any]:
        project = projects.default()[data["project"]]
        data.pop("from_plan", None)
        if "place_locative" not in data and (locative := municipalities.place_locative(data["place"])):
            data["place_locative"] = locative
        monthly = sum((line["amount"] for line in data["services"]), Decimal("0.00"))
        total = sum((line["total"] for line in data["services"]), Decimal("0.00"))
        esf, state = project.split(total)
        data["funding"] = project.funding()
        data["totals"] = {"monthly": monthly, "total": total, "esf": esf, "state": state}
        return data


def _check_services(data: dict[str, Any], term, born, errors: ErrorCollector) -> None:
    """Dates inside the term, the target group, whole-day counts, and the monthly hour limits."""
    group = (data.get("client") or {}).get("target_group")
    lines = data.get("services") or []
    for index, line in enumerate(lines):
        path = ("services", index)
        check_service_group(line.get("code"), group, (*path, "code"), errors)
        for end in ("start", "end"):
            if term and line.get(end) and not term.contains(line[end]):
                errors.add((*path, end), problem("service.outside_term", start=term.start, end=term.end))
        service = catalogue.default().service(line.get("code") or "")
        if service and service.unit.counts_days and line.get("quantity", 0) > 31:
            errors.add((*path, "quantity"), problem("limit.days_in_month", max=31))
    complete = [
        (index, line)
        for index, line in enumerate(lines)
        if {"code", "quantity", "start", "end"} <= line.keys()
    ]
    _check_aplp_hours(data, complete, errors)
    if born:
        _check_child_care_hours(complete, born, errors)
    _check_respite([line for _, line in complete], errors)


def _monthly_sums(lines: list[tuple[int, dict[str, Any]]], code: str):
    """For each calendar month the lines of ``code`` touch: (first day, hours, indexes of those lines)."""
    months: dict[dt.date, tuple[Decimal, list[int]]] = {}
    for index, line in lines:
        if line["code"] != code:
            continue
        day = line["start"].replace(day=1)
        while day <= line["end"]:
            hours, indexes = months.get(day, (Decimal(0), []))
            months[day] = (hours + line["quantity"], [*indexes, index])
            day = (day + dt.timedelta(days=32)).replace(day=1)
    return sorted((day, hours, indexes) for day, (hours, indexes) in months.items())


def _check_aplp_hours(
    data: dict[str, Any], lines: list[tuple[int, dict[str, Any]]], errors: ErrorCollector
) -> None:
    """APLP hours a month, all lines together, within the client's support level."""
    limits = catalogue.default().limits
    months = _monthly_sums(lines, limits.aplp_service)
    if not months:
        return
    level = data.get("aplp_level")
    if not level or limits.aplp_hours(level, months[0][0]) is None:
        levels = ", ".join(limits.aplp_levels(months[0][0]))
        errors.add(("aplp_level",), problem("limit.aplp_level", levels=levels))
        return
    reported: set[int] = set()
    for day, hours, indexes in months:
        allowed = limits.aplp_hours(level, day)
        if allowed is not None and hours > allowed:
            for index in set(indexes) - reported:
                errors.add(
                    ("services", index, "quantity"), problem("limit.aplp_hours", level=level, max=allowed)
                )
            reported.update(indexes)


def _check_child_care_hours(lines: list[tuple[int, dict[str, Any]]], born, errors: ErrorCollector) -> None:
    """Child-care hours a month, all lines together, within the band of the child's age that month."""
    limits = catalogue.default().limits
    reported: set[int] = set()
    for day, hours, indexes in _monthly_sums(lines, limits.child_care_service):
        first_service_day = max(day, min(line["start"] for i, line in lines if i in indexes))
        age = age_on(born, first_service_day)
        allowed = limits.child_care_hours(age, day)
        if allowed is not None and hours > allowed:
            for index in set(indexes) - reported:
                errors.add(
                    ("services", index, "quantity"), problem("limit.child_care_hours", age=age, max=allowed)
                )
            reported.update(indexes)


def _check_respite(lines: list[dict[str, Any]], errors: ErrorCollector) -> None:
    """Respite days planned in any calendar year stay within that year's limit."""
    limits = catalogue.default().limits
    per_year: dict[int, Decimal] = {}
    for line in lines:
        if line.get("code") != limits.respite_service or not {"quantity", "start", "end"} <= line.keys():
            continue
        for year in range(line["start"].year, line["end"].year + 1):
            first = max(line["start"], dt.date(year, 1, 1))
            last = min(line["end"], dt.date(year, 12, 31))
            per_year[year] = per_year.get(year, Decimal(0)) + line["quantity"] * months_touched(first, last)
    for year, days in sorted(per_year.items()):
        allowed = limits.respite_days(dt.date(year, 1, 1))
        if allowed is not None and days > allowed:
            errors.add(("services",), problem("limit.respite_days", year=year, days=days, max=allowed))


def merge_plan(data: dict[str, Any]) -> dict[str, Any]:
    """The agreement fields a plan provides, under the ones the request gives itself."""
    request = copy.copy(data)
    source = request.pop("from_plan")
    try:
        plan = SupportPlanSchema().load(source.get("plan"))
    except ValidationError as exc:
        raise ValidationError({"from_plan": {"plan": exc.messages}}) from None
    raw = SupportPlanSchema().dump(plan)
    try:
        choices = FromPlanSchema().load(source)["lines"]
    except ValidationError as exc:
        raise ValidationError({"from_plan": exc.messages}) from None
    services, errors = [], ErrorCollector()
    for position, choice in enumerate(choices):
        if not 0 <= choice["index"] < len(raw["services"]):
            errors.add(
                ("from_plan", "lines", position, "index"),
                problem("agreement.no_plan_line", index=choice["index"]),
            )
            continue
        line = raw["services"][choice["index"]]
        services.append(
            {key: line[key] for key in ("code", "unit", "quantity", "unit_price", "start", "end")}
            | {"place": choice["place"], "schedule": choice["schedule"]}
        )
    errors.raise_if_any()
    request.setdefault("client", {k: raw["client"][k] for k in CLIENT_FIELDS if raw["client"].get(k)})
    for key in ("representative", "legal_capacity"):
        if raw.get(key):
            request.setdefault(key, raw[key])
    given = request.get("municipality")
    if given is None or isinstance(given, dict):  # anything else is left for the schema to report
        request["municipality"] = raw["social_service"] | (given or {})
    request.setdefault("plan", {"number": raw["number"], "date": raw["date"]})
    request.setdefault("services", services)
    request.setdefault(
        "term", {"start": min(s["start"] for s in services), "end": max(s["end"] for s in services)}
    )
    by_number = {p.number: code for code, p in projects.default().items()}
    if raw["project"]["number"] in by_number:
        request.setdefault("project", by_number[raw["project"]["number"]])
    return request
