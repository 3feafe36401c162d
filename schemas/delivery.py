"""Pakalpojuma sniegšanas akts: the monthly service delivery act of one provider for one client.

The act is started from an agreement (sent whole in ``agreement``) and lists the month's sessions:
date, service, specialist, time or units, form and status. Loading derives each session's units (from
its times, for services counted in hours), price (the agreement's price on that day) and amount (only
for sessions that took place), and per agreed service the planned quantity against the actual one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from marshmallow import fields, post_load, validates_schema

from schemas import catalogue, projects
from schemas.agreement import AgreementSchema
from schemas.base import Strict
from schemas.errors import ErrorCollector, problem
from schemas.fields import Choice, Date, List, Money, Month, Nested, Number, Text, Time, to_money
from schemas.parties import Name, OfficialSchema, Paragraph, birth_date, check_age

FORMS = ("klatiene", "attalinati", "majas")
STATUSES = ("notika", "neieradas", "atcelts")
DELIVERED = "notika"
HOUR = "stunda"


class SessionSchema(Strict):
    """One session: when, what, by whom, how long, in what form, and whether it took place."""

    date = Date(required=True)
    code = Text(required=True, max_length=20)
    specialist = Name(required=True)
    specialist_register_number = Text(max_length=40)
    start_time = Time()
    end_time = Time()
    units = Number(positive=True, maximum=Decimal(24), metadata={"description": "From the times when empty"})
    form = Choice(FORMS, required=True)
    status = Choice(STATUSES, required=True)
    unit_price = Money(dump_only=True)
    amount = Money(dump_only=True)


class ServiceSummarySchema(Strict):
    """One agreed service in the month: planned against actual."""

    code = Text(dump_only=True)
    name = Text(dump_only=True)
    unit = Text(dump_only=True)
    unit_forms = fields.Dict(keys=fields.String(), values=fields.String(), dump_only=True)
    planned = Number(dump_only=True)
    actual = Number(dump_only=True)
    unit_price = Money(dump_only=True)
    amount = Money(dump_only=True)


class ActSignaturesSchema(Strict):
    provider = Nested(OfficialSchema, required=True, metadata={"description": "Pakalpojuma sniedzējs"})
    recipient = Name(required=True, metadata={"description": "Client or representative: pakalpojumu saņēmu"})
    social_worker = Nested(OfficialSchema, required=True, metadata={"description": "Pieņemts"})


class ActTotalsSchema(Strict):
    amount = Money(dump_only=True)
    sessions = fields.Integer(dump_only=True)
    delivered = fields.Integer(dump_only=True)


class DeliveryActSchema(Strict):
    """The act, with the agreement it rests on."""

    number = Text(required=True, max_length=40)
    date = Date(required=True)
    month = Month(required=True)
    agreement = Nested(AgreementSchema, required=True)
    sessions = List(Nested(SessionSchema), required=True, min_length=1, max_length=500)
    progress = Paragraph(metadata={"description": "Progress towards the plan's goals"})
    signatures = Nested(ActSignaturesSchema, required=True)
    services = List(Nested(ServiceSummarySchema), dump_only=True)
    totals = Nested(ActTotalsSchema, dump_only=True)

    @validates_schema(skip_on_field_errors=False)
    def _check_rules(self, data: dict[str, Any], **kwargs) -> None:
        errors = ErrorCollector()
        month = data.get("month")
        # Rules that read the agreement run once it loaded whole (its derived totals exist);
        # its own problems are reported under /agreement.
        agreement = data.get("agreement") if "totals" in (data.get("agreement") or {}) else None
        sessions = data.get("sessions") or []
        today = dt.date.today()
        for index, session in enumerate(sessions):
            day = session.get("date")
            path = ("sessions", index)
            if day and month and not month.contains(day):
                errors.add(
                    (*path, "date"), problem("delivery.outside_month", start=month.start, end=month.end)
                )
            if day and day > today:
                errors.add((*path, "date"), problem("delivery.future", date=day))
            _check_units(session, path, errors)
            if agreement:
                _check_against_agreement(session, agreement, path, errors)
        if sessions and data.get("date"):
            last = max((s["date"] for s in sessions if "date" in s), default=None)
            if last and data["date"] < last:
                errors.add(("date",), problem("delivery.act_before_last_session", date=last))
        _check_overlaps(sessions, errors)
        if agreement and month:
            _check_planned(sessions, agreement, month, errors)
        if agreement and data.get("signatures"):
            signer = (agreement.get("representative") or agreement["client"])["name"]
            if data["signatures"].get("recipient") not in (None, signer):
                errors.add(("signatures", "recipient"), problem("signature.recipient", name=signer))
        errors.raise_if_any()

    @post_load
    def _derive(self, data: dict[str, Any], **kwargs) -> dict[str, Any]:
        agreement = data["agreement"]
        for session in data["sessions"]:
            line = agreement_line(agreement, session["code"], session["date"])
            session["units"] = session_units(session, line["unit"])
            session["unit_price"] = line["unit_price"]
            delivered = session["status"] == DELIVERED
            session["amount"] = (
                to_money(session["units"] * line["unit_price"]) if delivered else Decimal("0.00")
            )
        data["services"] = _summaries(data["sessions"], agreement, data["month"])
        data["totals"] = {
            "amount": sum((s["amount"] for s in data["sessions"]), Decimal("0.00")),
            "sessions": len(data["sessions"]),
            "delivered": sum(1 for s in data["sessions"] if s["status"] == DELIVERED),
        }
        return data


def agreement_line(agreement: dict[str, Any], code: str, day: dt.date) -> dict[str, Any] | None:
    """The agreement's service line for ``code`` that runs on ``day``."""
    for line in agreement["services"]:
        if line["code"] == code and line["start"] <= day <= line["end"]:
            return line
    return None


def session_units(session: dict[str, Any], unit: str) -> Decimal | None:
    """Units of a session: as given, or for hours the time between start and end; None if unknown."""
    if "units" in session:
        return session["units"]
    start, end = session.get("start_time"), session.get("end_time")
    if unit != HOUR or start is None or end is None:
        return None
    minutes = (end.hour - start.hour) * 60 + end.minute - start.minute
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"))


def _check_units(session: dict[str, Any], path: tuple, errors: ErrorCollector) -> None:
    """Units given, or start and end times in order (times only for hourly services)."""
    service = catalogue.default().service(session.get("code") or "")
    start, end = session.get("start_time"), session.get("end_time")
    if (start is None) != (end is None):
        errors.add((*path, "end_time" if start else "start_time"), problem("required"))
        return
    if start and end and end <= start:
        errors.add((*path, "end_time"), problem("delivery.time_reversed"))
        return
    if service is None:
        return
    if "units" not in session and not (start and service.unit.name == HOUR):
        errors.add((*path, "units"), problem("delivery.units_required", unit=service.unit.name))
        return
    units = session_units(session, service.unit.name)
    if units is not None and units % service.unit.step:
        errors.add(
            (*path, "units" if "units" in session else "end_time"),
            problem("number.step", step=service.unit.step),
        )
    if "units" in session and start and service.unit.name == HOUR:
        timed = session_units({"start_time": start, "end_time": end}, HOUR)
        if timed != session["units"]:
            errors.add((*path, "units"), problem("delivery.units_time_mismatch", hours=timed))


def _check_against_agreement(
    session: dict[str, Any], agreement: dict[str, Any], path: tuple, errors: ErrorCollector
) -> None:
    """The session's service is agreed and runs that day; the client's age fits its target group."""
    code, day = session.get("code"), session.get("date")
    if not code or not day:
        return
    if not any(line["code"] == code for line in agreement["services"]):
        errors.add((*path, "code"), problem("delivery.service_not_agreed", code=code))
        return
    if agreement_line(agreement, code, day) is None or not agreement["term"].contains(day):
        errors.add((*path, "date"), problem("delivery.outside_agreement", code=code))
    project = projects.default().get(agreement["project"])
    if project and not project.window.contains(day):
        errors.add(
            (*path, "date"),
            problem("project.outside_window", start=project.window.start, end=project.window.end),
        )
    client = agreement["client"]
    born = birth_date(client, ("agreement", "client"), ErrorCollector())
    if born:
        check_age(client["target_group"], born, day, (*path, "date"), errors)


def _check_overlaps(sessions: list[dict[str, Any]], errors: ErrorCollector) -> None:
    """No specialist in two sessions at once; no service counted twice on one day in day units."""
    seen: dict[tuple, list[tuple[int, dt.time, dt.time]]] = {}
    days: dict[tuple, int] = {}
    for index, session in enumerate(sessions):
        if not {"date", "specialist", "code"} <= session.keys():
            continue
        start, end = session.get("start_time"), session.get("end_time")
        if start and end and end > start:
            key = (session["date"], session["specialist"])
            for other, other_start, other_end in seen.get(key, []):
                if start < other_end and other_start < end:
                    errors.add(("sessions", index, "start_time"), problem("delivery.overlap", other=other))
                    break
            seen.setdefault(key, []).append((index, start, end))
        service = catalogue.default().service(session["code"])
        if service and service.unit.counts_days and session.get("status") == DELIVERED:
            key = (session["date"], session["code"])
            if key in days:
                errors.add(("sessions", index, "date"), problem("delivery.duplicate_day", other=days[key]))
            days.setdefault(key, index)


def _check_planned(
    sessions: list[dict[str, Any]], agreement: dict[str, Any], month, errors: ErrorCollector
) -> None:
    """Delivered units of each service stay within the agreed quantity a month."""
    for code, summary in _actual_by_code(sessions, agreement).items():
        planned = _planned(agreement, code, month)
        if summary > planned:
            errors.add(
                ("sessions",), problem("delivery.above_plan", code=code, actual=summary, planned=planned)
            )


def _actual_by_code(sessions: list[dict[str, Any]], agreement: dict[str, Any]) -> dict[str, Decimal]:
    """Units delivered per service code, counting only sessions that took place."""
    actual: dict[str, Decimal] = {}
    for session in sessions:
        if not {"code", "date", "status"} <= session.keys() or session["status"] != DELIVERED:
            continue
        line = agreement_line(agreement, session["code"], session["date"])
        units = session_units(session, line["unit"]) if line else None
        if units is not None:
            actual[session["code"]] = actual.get(session["code"], Decimal(0)) + units
    return actual


def _planned(agreement: dict[str, Any], code: str, month) -> Decimal:
    """The agreed quantity of ``code`` for the month (lines running in it)."""
    return max(
        (
            line["quantity"]
            for line in agreement["services"]
            if line["code"] == code and line["start"] <= month.end and line["end"] >= month.start
        ),
        default=Decimal(0),
    )


def _summaries(sessions: list[dict[str, Any]], agreement: dict[str, Any], month) -> list[dict[str, Any]]:
    """Per agreed service running in the month: planned, actual, price and amount."""
    actual = _actual_by_code(sessions, agreement)
    summaries = []
    for code in dict.fromkeys(line["code"] for line in agreement["services"]):
        running = [
            line
            for line in agreement["services"]
            if line["code"] == code and line["start"] <= month.end and line["end"] >= month.start
        ]
        if not running:
            continue
        line = running[-1]
        summaries.append(
            {
                "code": code,
                "name": line["name"],
                "unit": line["unit"],
                "unit_forms": line["unit_forms"],
                "planned": _planned(agreement, code, month),
                "actual": actual.get(code, Decimal(0)),
                "unit_price": line["unit_price"],
                "amount": sum((s["amount"] for s in sessions if s["code"] == code), Decimal("0.00")),
            }
        )
    return summaries
