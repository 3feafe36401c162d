"""What changed between two versions of a support plan: goals, services, quantities, prices, budget, dates.

Both versions are loaded plans (``SupportPlanSchema`` values). Each change is a coded message with its
parameters (``schemas.errors.MESSAGES``, "change.*"), so it reads as a Latvian line ("SK-PSIH: 2,5 → 4
stundas mēnesī") or English one through the same catalogues as validation, and as JSON with the place,
the value before and the value after.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from schemas.errors import Problem, problem
from service.documents.formatting import plural_form


@dataclass(frozen=True)
class Change:
    """One difference: where (a JSON pointer into the plan), before, after (as JSON writes them: amounts
    and dates as text), and the line that says it."""

    path: str
    before: Any
    after: Any
    message: Problem

    def __post_init__(self) -> None:
        object.__setattr__(self, "before", plain(self.before))
        object.__setattr__(self, "after", plain(self.after))


def plain(value: Any) -> Any:
    """``value`` with amounts and dates as the text JSON carries them.

    >>> plain({"quantity": Decimal("2.5"), "start": dt.date(2020, 2, 1), "code": "APLP"})
    {'quantity': '2.5', 'start': '2020-02-01', 'code': 'APLP'}
    """
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, Decimal | dt.date):
        return str(value) if isinstance(value, Decimal) else value.isoformat()
    return value


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """Every difference from ``before`` to ``after``, in the plan's order: dates, budget, goals, services."""
    found: list[Change] = []
    found += _dates(before, after)
    found += _budget(before, after)
    found += _goals(before, after)
    found += _services(before, after)
    return found


def _dates(before: dict, after: dict) -> list[Change]:
    found = []
    if before["period"] != after["period"]:
        found.append(
            Change(
                "/period",
                _period(before["period"]),
                _period(after["period"]),
                problem(
                    "change.period",
                    start_before=before["period"].start,
                    end_before=before["period"].end,
                    start=after["period"].start,
                    end=after["period"].end,
                ),
            )
        )
    if before.get("review_date") != after.get("review_date"):
        old, new = before.get("review_date"), after.get("review_date")
        found.append(
            Change(
                "/review_date", old, new, problem("change.review_date", before=old or "—", after=new or "—")
            )
        )
    return found


def _period(period) -> dict[str, Any]:
    return {"start": period.start, "end": period.end}


def _budget(before: dict, after: dict) -> list[Change]:
    found = []
    for key in ("monthly", "period"):
        old, new = before["budget"][key], after["budget"][key]
        if old != new:
            found.append(
                Change(f"/budget/{key}", old, new, problem(f"change.budget_{key}", before=old, after=new))
            )
    old, new = before["budget"].get("support_level"), after["budget"].get("support_level")
    if old != new:
        found.append(
            Change(
                "/budget/support_level",
                old,
                new,
                problem("change.support_level", before=old or "—", after=new or "—"),
            )
        )
    return found


def _goal_texts(plan: dict) -> dict[str, str]:
    texts = {}
    for goal in plan.get("goals") or ():
        texts[goal["id"]] = goal["long_term"]
        for short in goal.get("short_term") or ():
            texts[short["id"]] = short["goal"]
    return texts


def _goals(before: dict, after: dict) -> list[Change]:
    old, new = _goal_texts(before), _goal_texts(after)
    found = []
    for goal_id in [*old, *(key for key in new if key not in old)]:
        path = f"/goals/{goal_id}"
        if goal_id not in new:
            found.append(Change(path, old[goal_id], None, problem("change.goal_removed", id=goal_id)))
        elif goal_id not in old:
            found.append(
                Change(path, None, new[goal_id], problem("change.goal_added", id=goal_id, text=new[goal_id]))
            )
        elif old[goal_id] != new[goal_id]:
            found.append(
                Change(
                    path,
                    old[goal_id],
                    new[goal_id],
                    problem("change.goal_changed", id=goal_id, before=old[goal_id], after=new[goal_id]),
                )
            )
    return found


def _keyed_services(plan: dict) -> dict[str, dict]:
    """Services by code; a code planned twice is told apart by its goal (``SK-PSIH@M2.2``)."""
    counts: dict[str, int] = {}
    for service in plan["services"]:
        counts[service["code"]] = counts.get(service["code"], 0) + 1
    return {
        (
            service["code"]
            if counts[service["code"]] == 1
            else f"{service['code']}@{service.get('goal', '')}"
        ): service
        for service in plan["services"]
    }


def _services(before: dict, after: dict) -> list[Change]:
    old, new = _keyed_services(before), _keyed_services(after)
    found = []
    for key in [*old, *(key for key in new if key not in old)]:
        path = f"/services/{key}"
        if key not in new:
            found.append(Change(path, _line(old[key]), None, problem("change.service_removed", code=key)))
        elif key not in old:
            service = new[key]
            found.append(
                Change(
                    path,
                    None,
                    _line(service),
                    problem(
                        "change.service_added",
                        code=key,
                        quantity=service["quantity"],
                        unit=_unit(service),
                        start=service["start"],
                    ),
                )
            )
        else:
            found += _service_changes(key, old[key], new[key])
    return found


def _service_changes(key: str, old: dict, new: dict) -> list[Change]:
    path = f"/services/{key}"
    found = []
    if old["quantity"] != new["quantity"]:
        found.append(
            Change(
                f"{path}/quantity",
                old["quantity"],
                new["quantity"],
                problem(
                    "change.quantity",
                    code=key,
                    before=old["quantity"],
                    after=new["quantity"],
                    unit=_unit(new),
                ),
            )
        )
    if old["unit_price"] != new["unit_price"]:
        found.append(
            Change(
                f"{path}/unit_price",
                old["unit_price"],
                new["unit_price"],
                problem("change.unit_price", code=key, before=old["unit_price"], after=new["unit_price"]),
            )
        )
    if (old["start"], old["end"]) != (new["start"], new["end"]):
        found.append(
            Change(
                f"{path}/dates",
                {"start": old["start"], "end": old["end"]},
                {"start": new["start"], "end": new["end"]},
                problem(
                    "change.service_dates",
                    code=key,
                    start_before=old["start"],
                    end_before=old["end"],
                    start=new["start"],
                    end=new["end"],
                ),
            )
        )
    if old.get("provider") != new.get("provider"):
        found.append(
            Change(
                f"{path}/provider",
                old.get("provider"),
                new.get("provider"),
                problem(
                    "change.provider",
                    code=key,
                    before=old.get("provider") or "—",
                    after=new.get("provider") or "—",
                ),
            )
        )
    return found


def _line(service: dict) -> dict[str, Any]:
    return {
        key: service.get(key) for key in ("code", "quantity", "unit", "unit_price", "amount", "start", "end")
    }


def _unit(service: dict) -> str:
    """The unit's word for the quantity, as the catalogue writes it ("stundas" for 4, "stundu" for 10)."""
    return plural_form(service["quantity"], service["unit_forms"])


def raw_differences(mine: Any, stored: Any, path: str = "") -> list[dict[str, Any]]:
    """Where two JSON documents differ (as typed, valid or not): each place's pointer, and both values.

    >>> raw_differences({"a": 1, "b": [1, 2]}, {"a": 1, "b": [1, 3], "c": "x"})
    [{'path': '/b/1', 'yours': 2, 'stored': 3}, {'path': '/c', 'yours': None, 'stored': 'x'}]
    """
    if isinstance(mine, dict) and isinstance(stored, dict):
        found = []
        for key in [*mine, *(key for key in stored if key not in mine)]:
            found += raw_differences(mine.get(key), stored.get(key), f"{path}/{_escaped(key)}")
        return found
    if isinstance(mine, list) and isinstance(stored, list):
        found = []
        for index in range(max(len(mine), len(stored))):
            found += raw_differences(
                mine[index] if index < len(mine) else None,
                stored[index] if index < len(stored) else None,
                f"{path}/{index}",
            )
        return found
    return [] if mine == stored else [{"path": path, "yours": mine, "stored": stored}]


def _escaped(key: str) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")
