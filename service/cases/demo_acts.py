"""The demo's monthly delivery acts: each agreement's sessions of a month, kept as a received act is kept
and accepted against the budget as a finance officer accepts one.

The sessions follow the agreement's lines: hours in sessions of one, two or four hours, days and times
one a weekday, spread over the month's weekdays; now and then a client does not come or a session is
cancelled, and in April 2020 (the lockdown) consultations were remote. Acts are not uploaded files:
each is kept with the SHA-256 of its canonical JSON in place of a file's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from schemas.agreement import AgreementSchema
from schemas.delivery import DeliveryActSchema
from schemas.fields import Period
from service import audit, submissions
from service.auth import Principal
from service.cases import acts, agreements
from service.store import Sealer
from service.store.case_models import Agreement
from service.store.models import Submission

AT_HOME = ("APRB", "APRM", "GASIST")
HOURS = "stunda"
LOCKDOWN = 4  # April 2020: consultations were held remotely


@dataclass(frozen=True)
class Contract:
    """A demo agreement: from which day each of its versions is in force, and its last month's act."""

    agreement: Agreement
    versions: tuple[tuple[dt.date, int], ...]
    last_act: str = "accepted"

    def version_on(self, day: dt.date) -> int:
        return max(number for since, number in self.versions if since <= day)


@dataclass(frozen=True)
class Month:
    """The demo's month: its days, and whether it is the last finished one (its acts still coming in)."""

    period: Period
    last: bool


def months(start: dt.date, until: dt.date) -> list[Period]:
    """The calendar months from ``start``'s to ``until``'s.

    >>> [m.start.month for m in months(dt.date(2020, 11, 15), dt.date(2021, 1, 31))]
    [11, 12, 1]
    """
    found, year, month = [], start.year, start.month
    while dt.date(year, month, 1) <= until:
        found.append(Period.month(year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def _chunks(quantity: Decimal, unit: str) -> list[Decimal]:
    """A month's quantity as sessions: hours in sessions of 1, 2 or 4 hours, anything else one by one.

    >>> _chunks(Decimal("2.5"), "stunda"), _chunks(Decimal("3"), "reize")
    ([Decimal('1'), Decimal('1'), Decimal('0.5')], [Decimal('1'), Decimal('1'), Decimal('1')])
    """
    size = Decimal(1 if unit != HOURS or quantity <= 4 else 2 if quantity <= 20 else 4)
    whole, rest = divmod(quantity, size)
    return [size] * int(whole) + ([rest] if rest else [])


def _status(index: int, month: int) -> str:
    """Mostly held; now and then the client did not come or the session was cancelled."""
    turn = (index + month) % 11
    return "neieradas" if turn == 10 else "atcelts" if turn == 7 else "notika"


def sessions(
    agreement: dict[str, Any], month: Period, until: dt.date, specialists: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The month's sessions of every line of the loaded ``agreement`` running in it, up to ``until``."""
    found = []
    for line in agreement["services"]:
        weekdays = [
            day
            for day in _days(month)
            if day.weekday() < 5 and line["start"] <= day <= min(line["end"], until)
        ]
        chunks = _chunks(line["quantity"], line["unit"])[: len(weekdays)]
        for index, units in enumerate(chunks):
            day = weekdays[index * len(weekdays) // len(chunks)]
            found.append(_session(line, day, units, index, specialists[line["code"]]))
    return sorted(found, key=lambda s: (s["date"], s["code"]))


def _days(month: Period) -> list[dt.date]:
    return [month.start + dt.timedelta(days=n) for n in range((month.end - month.start).days + 1)]


def _session(line: dict, day: dt.date, units: Decimal, index: int, specialist: str) -> dict[str, Any]:
    code = line["code"]
    if code in AT_HOME:
        form = "majas"
    elif line["unit"] == HOURS and day.month == LOCKDOWN:
        form = "attalinati"
    else:
        form = "klatiene"
    made = {"date": day.isoformat(), "code": code, "specialist": specialist, "form": form}
    made["status"] = _status(index, day.month)
    if line["unit"] != HOURS:
        return made | {"units": str(units)}
    minutes = int(units * 60)
    end = dt.datetime(2000, 1, 1, 10) + dt.timedelta(minutes=minutes)
    return made | {"start_time": "10:00", "end_time": f"{end:%H:%M}"}


def act(
    raw_agreement: dict[str, Any],
    agreement: dict[str, Any],
    month: Period,
    made: list[dict[str, Any]],
    social_worker: dict[str, str],
) -> dict[str, Any]:
    """The month's act, as a provider fills in the fillable act of this agreement version."""
    number = f"{agreement['number']}-{month.start:%m}"
    filled = submissions.blank_act(raw_agreement, agreement, month, number)
    filled["date"] = (month.end + dt.timedelta(days=2)).isoformat()
    filled["sessions"] = made
    filled["signatures"]["social_worker"] = dict(social_worker)
    return filled


@dataclass
class Deliveries:
    """Acts made, kept and accepted for one user of the municipality."""

    session: Session
    sealer: Sealer
    user: Principal
    warn_percent: int
    specialists: Mapping[str, Mapping[str, str]]
    social_worker: dict[str, str]
    loaded: dict[tuple[str, int], tuple[dict, dict]] = field(default_factory=dict, init=False)

    def client(self, contracts: list[Contract], demo_months: list[Month], override: str = "") -> None:
        """Every month's act of the client's agreements, accepted in order; the first act past the
        period budget is accepted with ``override`` (when given), the rest past it stay received."""
        for month in demo_months:
            for contract in contracts:
                if month.last and contract.last_act == "missing":
                    continue
                made = self._act(contract, month.period)
                if made is None or (month.last and contract.last_act == "received"):
                    continue
                if self._accept(made, override):
                    override = ""

    def _version(self, agreement: Agreement, number: int) -> tuple[dict, dict]:
        """An agreement version as stored and loaded (loaded once)."""
        if (agreement.id, number) not in self.loaded:
            raw = agreements.body(agreement.versions[number - 1], self.sealer)
            self.loaded[agreement.id, number] = raw, AgreementSchema().load(raw)
        return self.loaded[agreement.id, number]

    def _act(self, contract: Contract, month: Period) -> Submission | None:
        agreement = contract.agreement
        if acts.month_problem(agreement, month):
            return None
        number = contract.version_on(month.start)
        raw, values = self._version(agreement, number)
        until = agreement.ended_on or agreement.end
        made = sessions(values, month, until, self.specialists[values["provider"]["registration_number"]])
        if not made:
            return None
        filled = act(raw, values, month, made, self.social_worker)
        return self._keep(filled, acts.Match(agreement, number))

    def _keep(self, filled: dict[str, Any], found: acts.Match) -> Submission:
        data = json.dumps(filled, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
        form = submissions.ReadForm("json", hashlib.sha256(data).hexdigest(), len(data), filled, [], [])
        submission, _ = submissions.keep(
            self.session, self.user, self.sealer, form, DeliveryActSchema().load(filled)
        )
        acts.link(submission, found)
        audit.record(self.session, self.user, "uploaded", "submission", submission.id, sha256=form.sha256)
        return submission

    def _accept(self, submission: Submission, override: str) -> bool:
        """Accept the act; past the budget only with ``override``. True when the override was used."""
        try:
            self._accept_with(submission, None)
        except acts.BudgetExceeded:
            if not override:
                return False
            accepted = self._accept_with(submission, override)
            detail = {"percent": str(accepted.use.percent_after)}
            audit.record(self.session, self.user, "overridden", "submission", submission.id, detail=detail)
            return True
        return False

    def _accept_with(self, submission: Submission, reason: str | None) -> acts.Acceptance:
        accepted = acts.accept(
            self.session,
            self.sealer,
            self.user,
            submission,
            warn_percent=self.warn_percent,
            override_reason=reason,
        )
        audit.record(
            self.session, self.user, "accepted", "submission", submission.id, sha256=submission.sha256
        )
        return accepted
