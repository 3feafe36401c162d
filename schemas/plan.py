"""Individuālais atbalsta plāns (IAP): the individual support plan, its rules and derived figures.

``SupportPlanSchema().load(data)`` checks every field group of DOMAIN.md §1 and the cross-field rules
that apply to a plan, and returns plain dicts with the derived figures filled in: each service line's
name, unit price (the tariff in force when none is given), unit forms and amount; the client's birth
date; the signing date (the plan's date unless given); and ``totals``: the planned total of the
busiest calendar month (see :func:`peak_month`) and the budget left in it. Templates only format.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from marshmallow import fields, post_load, validates_schema

from schemas import catalogue, personal_code
from schemas.base import Strict
from schemas.errors import ErrorCollector, problem
from schemas.fields import (
    Boolean,
    Choice,
    Date,
    Email,
    Iban,
    List,
    Money,
    Nested,
    Number,
    Period,
    PeriodField,
    PersonalCode,
    Phone,
    RegistrationNumber,
    Text,
    to_money,
)

ADULT_AGE = 18
TARGET_GROUPS = ("adult_grt", "child_ft")
MINOR_REPRESENTATIVES = ("parent", "guardian", "foster_family")
TRUSTEE = "trustee"


def Paragraph(**kwargs) -> Text:
    """Free text of a few lines (assessments, goals, measures)."""
    return Text(max_length=kwargs.pop("max_length", 2000), multiline=True, **kwargs)


def Name(**kwargs) -> Text:
    """A person's or an organisation's name."""
    return Text(max_length=120, **kwargs)


class SocialServiceSchema(Strict):
    name = Text(required=True, max_length=160, metadata={"description": "Sociālais dienests"})
    municipality = Text(required=True, max_length=80)
    registration_number = RegistrationNumber(required=True)
    address = Text(required=True, max_length=200)
    phone = Phone()
    email = Email()
    iban = Iban()


class ProjectSchema(Strict):
    name = Text(required=True, max_length=200)
    number = Text(required=True, max_length=40)


class ClientSchema(Strict):
    name = Name(required=True)
    personal_code = PersonalCode(required=True)
    birth_date = Date(metadata={"description": "Required for a new-format personal code."})
    declared_address = Text(required=True, max_length=200)
    actual_address = Text(max_length=200)
    phone = Phone()
    email = Email()
    target_group = Choice(TARGET_GROUPS, required=True)


class DisabilitySchema(Strict):
    group = Choice(("I", "II", "III", "child"), required=True)
    opinion_number = Text(required=True, max_length=40, metadata={"description": "VDEĀVK atzinums"})
    opinion_date = Date(required=True)
    valid_until = Date(metadata={"description": "Empty when granted without a term."})
    special_care = Boolean(load_default=False)


class LegalCapacitySchema(Strict):
    status = Choice(("full", "restricted"), required=True)
    court_ruling_number = Text(max_length=40)
    court_ruling_date = Date()
    scope = Paragraph(max_length=1000)


class RepresentativeSchema(Strict):
    role = Choice((*MINOR_REPRESENTATIVES, TRUSTEE), required=True)
    name = Name(required=True)
    personal_code = PersonalCode(required=True)
    birth_date = Date()
    basis_document = Text(required=True, max_length=200)
    orphan_court_decision = Text(max_length=200, metadata={"description": "Bāriņtiesas lēmums"})
    phone = Phone()
    email = Email()


class SupportPersonSchema(Strict):
    name = Name(required=True)
    organisation = Text(max_length=160)
    phone = Phone()
    email = Email()


class FunctioningAreaSchema(Strict):
    area = Text(required=True, max_length=120)
    assessment = Paragraph(required=True)
    support_needed = Paragraph(required=True)


class NeedsAssessmentSchema(Strict):
    date = Date(required=True)
    assessor = Text(required=True, max_length=160)
    strengths = Paragraph(required=True)
    what_matters = Paragraph(required=True)
    functioning_areas = List(Nested(FunctioningAreaSchema), required=True, min_length=1, max_length=20)


class BudgetSchema(Strict):
    support_level = Text(required=True, max_length=40)
    monthly = Money(required=True, positive=True)
    period = Money(required=True, positive=True)


class ShortTermGoalSchema(Strict):
    id = Text(required=True, max_length=10)
    goal = Paragraph(required=True, max_length=1000)
    indicator = Paragraph(required=True, max_length=1000)
    deadline = Date(required=True)


class GoalSchema(Strict):
    id = Text(required=True, max_length=10)
    long_term = Paragraph(required=True, max_length=1000)
    short_term = List(Nested(ShortTermGoalSchema), required=True, min_length=1, max_length=20)


class ServiceLineSchema(Strict):
    """One row of the services table; name, unit forms and amount come from the catalogue."""

    code = Text(required=True, max_length=20)
    goal = Text(required=True, max_length=10, metadata={"description": "A short-term goal id."})
    provider = Text(required=True, max_length=160)
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


class SupportNetworkSchema(Strict):
    name = Name(required=True)
    relation = Text(required=True, max_length=80)
    support = Paragraph(required=True, max_length=1000)


class RiskSchema(Strict):
    risk = Paragraph(required=True, max_length=1000)
    measures = Paragraph(required=True, max_length=1000)


class SocialWorkerSchema(Strict):
    name = Name(required=True)
    position = Text(required=True, max_length=120)
    phone = Phone()
    email = Email()


class SignaturesSchema(Strict):
    date = Date(metadata={"description": "Signing date; the plan's date when not given."})
    social_worker = Nested(SocialWorkerSchema, required=True)


class TotalsSchema(Strict):
    monthly = Money(dump_only=True)
    budget_left = Money(dump_only=True)


class SupportPlanSchema(Strict):
    """The whole support plan."""

    number = Text(required=True, max_length=40)
    date = Date(required=True)
    place = Text(required=True, max_length=80)
    programme = Choice(("ibm", "di"), required=True)
    project = Nested(ProjectSchema, required=True)
    social_service = Nested(SocialServiceSchema, required=True)
    client = Nested(ClientSchema, required=True)
    disability = Nested(DisabilitySchema, required=True)
    legal_capacity = Nested(LegalCapacitySchema, required=True)
    representative = Nested(RepresentativeSchema)
    support_person = Nested(SupportPersonSchema)
    needs_assessment = Nested(NeedsAssessmentSchema, required=True)
    budget = Nested(BudgetSchema, required=True)
    goals = List(Nested(GoalSchema), required=True, min_length=1, max_length=20)
    services = List(Nested(ServiceLineSchema), required=True, min_length=1, max_length=60)
    support_network = List(Nested(SupportNetworkSchema), load_default=list, max_length=30)
    risks = List(Nested(RiskSchema), load_default=list, max_length=30)
    commitments = List(Paragraph(max_length=1000), load_default=list, max_length=30)
    period = PeriodField(required=True)
    review_date = Date(required=True)
    signatures = Nested(SignaturesSchema, required=True)
    totals = Nested(TotalsSchema, dump_only=True)

    @validates_schema(skip_on_field_errors=False)
    def _check_rules(self, data: dict[str, Any], **kwargs) -> None:
        errors = ErrorCollector()
        period = data.get("period")
        client = data.get("client")
        born = _birth_date(client, ("client",), errors) if client else None
        representative = data.get("representative")
        if representative:
            _birth_date(representative, ("representative",), errors)
        if born and period and client.get("target_group"):
            _check_age(client["target_group"], born, period.start, errors)
        if born and period:
            _check_representation(data, born, period.start, errors)
        if period:
            _check_dates(data, period, errors)
        budget = (data.get("budget") or {}).get("monthly")
        if period and budget is not None and _all_lines_loaded(data):
            month, total = peak_month(data["services"], period)
            if total > budget:
                errors.add(
                    ("services",), problem("budget.monthly_exceeded", month=month, total=total, budget=budget)
                )
        errors.raise_if_any()

    @post_load
    def _derive(self, data: dict[str, Any], **kwargs) -> dict[str, Any]:
        data["client"]["birth_date"] = data["client"].get("birth_date") or personal_code.birth_date(
            data["client"]["personal_code"]
        )
        data["signatures"].setdefault("date", data["date"])
        _, monthly = peak_month(data["services"], data["period"])
        data["totals"] = {"monthly": monthly, "budget_left": data["budget"]["monthly"] - monthly}
        return data


def peak_month(lines: list[dict[str, Any]], period: Period) -> tuple[str, Decimal]:
    """The calendar month of the period with the largest planned total, and that total.

    A line counts in every month its dates touch, so two consecutive lines of one service (a price
    change mid-year) are not added up as if they ran at the same time.

    >>> def line(start, end, amount):
    ...     return {"start": dt.date(*start), "end": dt.date(*end), "amount": Decimal(amount)}
    >>> lines = [line((2020, 1, 1), (2020, 6, 30), "100.00"), line((2020, 7, 1), (2020, 12, 31), "120.00"),
    ...          line((2020, 1, 1), (2020, 12, 31), "50.00")]
    >>> peak_month(lines, Period(dt.date(2020, 1, 1), dt.date(2020, 12, 31)))
    ('2020-07', Decimal('170.00'))
    """
    best_month, best = "", Decimal("0.00")
    year, month = period.start.year, period.start.month
    while dt.date(year, month, 1) <= period.end:
        days = Period.month(year, month)
        active = (line["amount"] for line in lines if line["start"] <= days.end and line["end"] >= days.start)
        total = sum(active, Decimal("0.00"))
        if total > best or not best_month:
            best_month, best = f"{year}-{month:02d}", total
        year, month = year + month // 12, month % 12 + 1
    return best_month, best


def age_on(born: dt.date, day: dt.date) -> int:
    """Full years of age on ``day``.

    >>> age_on(dt.date(2002, 8, 2), dt.date(2020, 8, 1)), age_on(dt.date(2002, 8, 1), dt.date(2020, 8, 1))
    (17, 18)
    """
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _birth_date(person: dict[str, Any], path: tuple, errors: ErrorCollector) -> dt.date | None:
    """The person's birth date from the code or the field; a new-format code needs the field."""
    code = person.get("personal_code")
    given = person.get("birth_date")
    if code is None:
        return given
    from_code = personal_code.birth_date(code)
    if from_code is None and given is None:
        errors.add((*path, "birth_date"), problem("birth_date.required"))
    if from_code and given and from_code != given:
        errors.add((*path, "birth_date"), problem("birth_date.mismatch", expected=from_code))
    return from_code or given


def _check_age(group: str, born: dt.date, day: dt.date, errors: ErrorCollector) -> None:
    age = age_on(born, day)
    if group == "child_ft" and age >= ADULT_AGE:
        errors.add(("client", "target_group"), problem("target_group.age_child", age=age, date=day))
    if group == "adult_grt" and age < ADULT_AGE:
        errors.add(("client", "target_group"), problem("target_group.age_adult", age=age, date=day))


def _check_representation(data: dict[str, Any], born: dt.date, day: dt.date, errors: ErrorCollector) -> None:
    representative = data.get("representative")
    role = representative.get("role") if representative else None
    capacity = data.get("legal_capacity") or {}
    if age_on(born, day) < ADULT_AGE:
        if representative is None:
            errors.add(("representative",), problem("representative.required_minor", date=day))
        elif role and role not in MINOR_REPRESENTATIVES:
            errors.add(("representative", "role"), problem("representative.role_minor", role=role))
    elif capacity.get("status") == "restricted":
        if not (capacity.get("court_ruling_number") and capacity.get("court_ruling_date")):
            errors.add(("legal_capacity",), problem("legal_capacity.court_ruling"))
        if representative is None:
            errors.add(("representative",), problem("representative.required_restricted"))
        elif role and role != TRUSTEE:
            errors.add(("representative", "role"), problem("representative.role_restricted", role=role))
        elif role and not representative.get("orphan_court_decision"):
            errors.add(
                ("representative", "orphan_court_decision"),
                problem("representative.orphan_court_decision"),
            )


def _check_dates(data: dict[str, Any], period: Period, errors: ErrorCollector) -> None:
    bounds = {"start": period.start, "end": period.end}
    review = data.get("review_date")
    if review and not period.contains(review):
        errors.add(("review_date",), problem("review_date.outside_period", **bounds))
    goal_ids: set[str] = set()
    for g, goal in enumerate(data.get("goals") or []):
        for s, short in enumerate(goal.get("short_term") or []):
            if "id" in short:
                if short["id"] in goal_ids:
                    errors.add(
                        ("goals", g, "short_term", s, "id"), problem("goal.duplicate_id", goal=short["id"])
                    )
                goal_ids.add(short["id"])
            deadline = short.get("deadline")
            if deadline and not period.contains(deadline):
                errors.add(
                    ("goals", g, "short_term", s, "deadline"),
                    problem("goal.deadline_outside_period", **bounds),
                )
    goals_loaded = isinstance(data.get("goals"), list) and all(
        isinstance(goal.get("short_term"), list) and all("id" in short for short in goal["short_term"])
        for goal in data["goals"]
    )
    for index, line in enumerate(data.get("services") or []):
        if goals_loaded and line.get("goal") and line["goal"] not in goal_ids:
            errors.add(("services", index, "goal"), problem("service.unknown_goal", goal=line["goal"]))
        for end in ("start", "end"):
            if line.get(end) and not period.contains(line[end]):
                errors.add(("services", index, end), problem("service.outside_period", **bounds))


def _all_lines_loaded(data: dict[str, Any]) -> bool:
    lines = data.get("services")
    return bool(lines) and all("amount" in line for line in lines)
