"""Demo case records for ``make run``: a dozen fictional clients of Bauska over a year, so that every list
has something to show — plans with revisions and what changed, agreements (one amended, one ended early),
the acts of every month before the demo's "today" (most accepted, the last month's partly waiting or
missing), one client past the period budget, and reviews and agreements due.

The sample plans' three clients come first (Ēriks Gailītis's plan revised and contracted as
L-2020/001); the rest are described in ``samples/demo-cases.toml``. Made through the same functions as
the API, with the audit entries it would write, once: nothing happens when the municipality has clients.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import tomllib
from dataclasses import dataclass
from itertools import count
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from schemas import catalogue, personal_code
from schemas.municipal_settings import SettingsSchema
from service import audit
from service.auth import Principal
from service.cases import agreements, clients, plans
from service.cases.demo_acts import Contract, Deliveries, Month, months
from service.cases.due import last_finished_month, month_end
from service.config import ROOT
from service.documents import Templates, settings_store
from service.store import Sealer
from service.store.case_models import Agreement, Client, Plan, PlanVersion

SAMPLES = ROOT / "samples"
PLANS = ("support-plan-adult-support-person", "support-plan-child-parent", "support-plan-adult-trustee")
CASES = SAMPLES / "demo-cases.toml"
RECORD_FIELDS = (*plans.CLIENT_FIELDS,)
PROVIDER_FIELDS = (
    "name",
    "registration_number",
    "register_number",
    "address",
    "representative",
    "bank",
    "iban",
    "phone",
)
#: From when the demo municipality's own settings apply: before its first plan.
SETTINGS_FROM = "2019-01-01"
FIRST_DECISION = 119  # the sample agreement's decision is SD-2020/118


def _sample(name: str) -> dict:
    return json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def made_code(born: dt.date, serial: int, new_format: bool = False) -> str:
    """A valid fictional personal code: old-format from the birth date and a three-digit serial (with its
    check digit), or new-format from a nine-digit serial.

    >>> made_code(dt.date(1980, 1, 1), 111), made_code(dt.date(2018, 3, 5), 274185307, new_format=True)
    ('010180-11117', '322741-85307')
    """
    if new_format:
        return personal_code.format(f"32{serial:09d}")
    century = "012"[born.year // 100 - 18]
    first = f"{born:%d%m%y}{century}{serial:03d}"
    return personal_code.format(first + personal_code.check_digit(first))


def _json(value: Any) -> Any:
    """``value`` from TOML as JSON data: dates as ISO text."""
    if isinstance(value, dict):
        return {key: _json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json(item) for item in value]
    return value.isoformat() if isinstance(value, dt.date) else value


def _year_from(start: dt.date) -> dt.date:
    """The last day of the year that starts on ``start`` (a month's first day)."""
    return month_end(start.replace(year=start.year + 1) - dt.timedelta(days=1))


def _person(spec: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """A person of the demo data: the given fields, the personal code made (and the birth date with a
    new-format one)."""
    person = {key: spec[key] for key in fields if key in spec}
    person["personal_code"] = made_code(spec["born"], spec["serial"], spec.get("new_code", False))
    if spec.get("new_code"):
        person["birth_date"] = spec["born"]
    return person


def record(spec: dict[str, Any]) -> dict[str, Any]:
    """The client record of a demo client."""
    person = _person(spec, ("name", "declared_address", "phone", "email", "target_group"))
    if "representative" in spec:
        person["representatives"] = [_representative(spec["representative"])]
    return _json(person)


def _representative(spec: dict[str, Any]) -> dict[str, Any]:
    return _person(spec, ("role", "name", "basis_document", "orphan_court_decision", "phone"))


@dataclass
class Demo:
    """The demo's data and the user, session and keys it is stored with."""

    session: Session
    sealer: Sealer
    user: Principal
    templates: Templates
    data: dict[str, Any]

    def __post_init__(self) -> None:
        self.base = _sample(PLANS[0])
        self.providers = {provider["key"]: provider for provider in self.data["providers"]}
        self.decisions = count(FIRST_DECISION)

    def audit(self, action: str, kind: str, object_id: str, **details: Any) -> None:
        audit.record(self.session, self.user, action, kind, object_id, **details)

    def client(self, raw: dict[str, Any]) -> Client:
        client = clients.add(self.session, self.sealer, self.user, raw)
        self.audit("created", "client", client.id)
        return client

    def approve(self, plan: Plan, client: Client, raw: dict[str, Any], note: str) -> PlanVersion:
        """Save ``raw`` as the plan's draft and approve it."""
        draft = plans.save(plan, self.sealer, self.user, raw)
        self.audit("saved", "plan", plan.id, detail={"problems": len(draft.problems)})
        version = plans.approve(
            self.session, self.sealer, self.user, plan, client, self.templates, None, note=note
        )
        self.audit("approved", "plan", plan.id, sha256=version.document_sha256)
        return version

    def plan(self, client: Client, raw: dict[str, Any], note: str) -> tuple[Plan, PlanVersion]:
        plan = plans.start(self.session, self.sealer, self.user, client)
        self.audit("created", "plan", plan.id)
        return plan, self.approve(plan, client, raw, note)

    def revise(self, plan: Plan, client: Client, raw: dict[str, Any], note: str) -> PlanVersion:
        plans.redraft(plan, self.sealer, self.user)
        return self.approve(plan, client, raw, note)

    def contract(self, version: PlanVersion, request: dict[str, Any]) -> Agreement:
        agreement = agreements.make(self.session, self.sealer, self.user, version, request)
        self.audit("created", "agreement", agreement.id)
        return agreement

    def samples(self) -> list[Contract]:
        """The sample plans' clients; Ēriks Gailītis's plan revised and contracted (L-2020/001)."""
        contracts = []
        for name in PLANS:
            plan_data = _sample(name)
            person = {key: plan_data["client"][key] for key in RECORD_FIELDS if key in plan_data["client"]}
            if plan_data.get("representative"):
                person["representatives"] = [plan_data["representative"]]
            client = self.client(person)
            plan, _ = self.plan(client, plan_data, "Pirmā plāna versija")
            if name == PLANS[0]:
                revised = copy.deepcopy(plan_data)
                revised["services"][2]["quantity"] = "4"
                revised["budget"]["monthly"] = "650.00"
                version = self.revise(plan, client, revised, "Vairāk psihologa konsultāciju")
                agreement = self.contract(version, _sample("agreement-request"))
                contracts.append(Contract(agreement, ((dt.date.min, 1),)))
        return contracts

    def case(self, spec: dict[str, Any]) -> list[Contract]:
        """One client of the demo data: the plan, its revisions, the agreements and their changes."""
        client = self.client(record(spec))
        raw = self._plan(spec)
        plan, version = self.plan(client, raw, "Pirmā plāna versija")
        made = {}
        for choice in spec["agreements"]:
            key = choice["provider"]
            day = version.period_start - dt.timedelta(days=3)
            made[key] = self.contract(version, self._request(spec, raw, key, day))
        versions = {key: [(dt.date.min, 1)] for key in made}
        for revision in spec.get("revisions", ()):
            raw = self._revised(spec, raw, revision)
            version = self.revise(plan, client, raw, revision["note"])
            day = revision["date"] + dt.timedelta(days=4)  # acts of the months after it carry the new version
            for key in revision.get("amend", ()):
                request = self._request(spec, raw, key, day)
                added = agreements.amend(self.session, self.sealer, self.user, made[key], version, request)
                self.audit("changed", "agreement", made[key].id)
                versions[key].append((day, added.number))
        contracts = []
        for choice in spec["agreements"]:
            agreement = made[choice["provider"]]
            if "ended" in choice:
                ended = choice["ended"]
                agreements.end(agreement, self.sealer, ended["date"], ended["reason"])
                self.audit("closed", "agreement", agreement.id)
            last_act = choice.get("last_act", "accepted")
            contracts.append(Contract(agreement, tuple(versions[choice["provider"]]), last_act))
        return contracts

    def _plan(self, spec: dict[str, Any]) -> dict[str, Any]:
        """The first version of a demo client's plan, for a year from ``start``."""
        start, group = spec["start"], self.data["groups"][spec["target_group"]]
        day = start - dt.timedelta(days=6)
        worker = self.data["social_worker"]
        client = {key: value for key, value in record(spec).items() if key != "representatives"}
        plan = {
            "number": spec["number"],
            "date": day,
            "place": self.data["place"],
            "programme": "ibm",
            "project": self.base["project"],
            "social_service": self.base["social_service"],
            "client": client,
            "disability": spec["disability"],
            "legal_capacity": spec.get("legal_capacity", {"status": "full"}),
            "needs_assessment": {
                "date": start - dt.timedelta(days=20),
                "assessor": f"{worker['name']}, {worker['position']}",
                "strengths": spec["strengths"],
                "what_matters": spec["what_matters"],
                "functioning_areas": group["areas"],
            },
            "budget": spec["budget"],
            "goals": [_goal(goal, start) for goal in group["goals"]],
            "services": [self._line(line, group, start, _year_from(start)) for line in spec["services"]],
            "risks": group["risks"],
            "commitments": group["commitments"],
            "period": {"start": start, "end": _year_from(start)},
            "review_date": spec["review_date"],
            "signatures": {"date": day, "social_worker": worker},
        }
        if "representative" in spec:
            plan["representative"] = _representative(spec["representative"])
        if "support_person" in spec:
            plan["support_person"] = spec["support_person"]
        return _json(plan)

    def _line(self, line: dict[str, Any], group: dict, start: dt.date, end: dt.date) -> dict[str, Any]:
        return {
            "code": line["code"],
            "goal": group["goal_of"][line["code"]],
            "provider": self.providers[line["provider"]]["name"],
            "unit": catalogue.default().services[line["code"]].unit.name,
            "quantity": line["quantity"],
            "start": line.get("start", start),
            "end": line.get("until", end),
        }

    def _revised(self, spec: dict, raw: dict[str, Any], revision: dict[str, Any]) -> dict[str, Any]:
        """The next version of a plan: quantities, added lines, budget, review date and date changed."""
        revised = copy.deepcopy(raw)
        revised["date"] = revised["signatures"]["date"] = revision["date"].isoformat()
        for line in revised["services"]:
            line["quantity"] = revision.get("quantities", {}).get(line["code"], line["quantity"])
        group = self.data["groups"][spec["target_group"]]
        end = _year_from(spec["start"])
        revised["services"] += [
            _json(self._line(line, group, spec["start"], end)) for line in revision.get("add", ())
        ]
        revised["budget"] = revision["budget"]
        revised["review_date"] = revision["review_date"].isoformat()
        return revised

    def _request(self, spec: dict, raw: dict[str, Any], key: str, day: dt.date) -> dict[str, Any]:
        """The agreement with provider ``key`` on ``day``: every line of the plan that it provides."""
        provider = self.providers[key]
        request = _sample("agreement-request")
        request["from_plan"]["lines"] = [
            {"index": index, "place": provider["place"], "schedule": provider["schedule"]}
            for index, line in enumerate(raw["services"])
            if line["provider"] == provider["name"]
        ]
        request["provider"] = {field: provider[field] for field in PROVIDER_FIELDS}
        request["date"] = day.isoformat()
        decision = f"{self.data['decision_series']}{next(self.decisions):03d}"
        request["decision"] = {"number": decision, "date": (day - dt.timedelta(days=1)).isoformat()}
        if any(raw["services"][line["index"]]["code"] == "APLP" for line in request["from_plan"]["lines"]):
            request["aplp_level"] = spec["aplp_level"]
        else:
            del request["aplp_level"]
        return request


def _goal(goal: dict[str, Any], start: dt.date) -> dict[str, Any]:
    """A group's goal with its short-term goals' deadlines counted from the plan's start."""
    short = [
        {key: value for key, value in item.items() if key != "months"}
        | {"deadline": month_end(_add_months(start, item["months"] - 1))}
        for item in goal["short_term"]
    ]
    return goal | {"short_term": short}


def _add_months(day: dt.date, ahead: int) -> dt.date:
    """>>> _add_months(dt.date(2020, 11, 1), 3)
    datetime.date(2021, 2, 1)
    """
    index = day.month - 1 + ahead
    return day.replace(year=day.year + index // 12, month=index % 12 + 1)


def _own_settings(session: Session, user: Principal) -> None:
    """The municipality's own settings of ``samples/municipality-settings.json`` (its head, clauses and
    logo), in force from the demo's first plans, unless it has settings versions already."""
    if settings_store.versions(session, user.municipality):
        return
    raw = _sample("municipality-settings")
    settings_store.save(session, user, SettingsSchema().load({**raw, "effective_from": SETTINGS_FROM}))


def load(session: Session, sealer: Sealer, user: Principal, templates: Templates, warn_percent: int) -> int:
    """The demo cases in ``user``'s municipality; how many clients were made (0 when it had some).
    ``warn_percent`` is the share of the period budget acceptance warns at."""
    if session.scalar(
        select(func.count()).select_from(Client).where(Client.municipality == user.municipality)
    ):
        return 0
    data = tomllib.loads(CASES.read_text(encoding="utf-8"))
    _own_settings(session, user)
    demo = Demo(session, sealer, user, templates, data)
    cases = [(demo.samples(), "")]
    cases += [(demo.case(spec), spec.get("override", "")) for spec in data["clients"]]
    first, last = last_finished_month(data["today"])
    since = min(contract.agreement.start for contracts, _ in cases for contract in contracts)
    delivered = [Month(period, period.start == first) for period in months(since, last)]
    deliveries = Deliveries(
        session,
        sealer,
        user,
        warn_percent,
        {p["registration_number"]: p["specialists"] for p in data["providers"]},
        data["social_worker"],
    )
    for contracts, override in cases:
        deliveries.client(contracts, delivered, override)
    return len(PLANS) + len(data["clients"])
