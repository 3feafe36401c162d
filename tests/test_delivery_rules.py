"""The monthly service delivery act: the sample loads with exact derived figures, every rule is enforced.

Each rule test changes one thing in a fresh copy of the sample act (or of an act built on the child-care
agreement) and compares the *whole* error report, ``{json pointer: [codes]}``, so a rule that also fires
somewhere it should not is caught too.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from schemas import delivery
from schemas.delivery import DeliveryActSchema
from tests.helpers import (
    SERVICES,
    delivery_errors,
    freeze_today,
    half_up,
    load_delivery,
    load_sample,
    problems_at,
    tariff_on,
)

ACT = "delivery-act-adult-aplp"
CHILD_AGREEMENT = "service-agreement-child-care"


def hours_between(start: str, end: str) -> Decimal:
    """Hours from HH:MM to HH:MM, to two places, computed here rather than by the schema."""
    (h1, m1), (h2, m2) = (map(int, start.split(":")), map(int, end.split(":")))
    return half_up(Decimal((h2 * 60 + m2) - (h1 * 60 + m1)) / 60)


def session(day: str, code: str = "APLP", start: str | None = "10:00", end: str | None = "12:00", **extra):
    """A raw session of the sample's support person (times unless ``None``)."""
    raw = {"date": day, "code": code, "specialist": "Līga Žagare", "form": "klatiene", "status": "notika"}
    if start:
        raw["start_time"] = start
    if end:
        raw["end_time"] = end
    return raw | extra


def with_day_service(act: dict) -> dict:
    """The sample act whose agreement also grants specialised workshops (SDARB, counted in days)."""
    act["agreement"]["services"].append(
        {
            "code": "SDARB",
            "unit": "diena",
            "quantity": "12",
            "start": "2020-02-01",
            "end": "2021-01-31",
            "place": "biedrības darbnīca, Rūpniecības iela 4, Bauska",
            "schedule": "darbdienās 9.00–15.00",
        }
    )
    return act


def workshop(day: str, **extra) -> dict:
    raw = {"date": day, "code": "SDARB", "specialist": "Ilze Ābele", "units": "1"}
    return raw | {"form": "klatiene", "status": "notika"} | extra


def child_act(sessions: list[dict]) -> dict:
    """An act on the child-care agreement sample (a minor represented by her mother)."""
    act = load_sample(ACT)
    act["number"] = "AKTS-2020/09-214"
    act["agreement"] = load_sample(CHILD_AGREEMENT)
    act["sessions"] = sessions
    act["signatures"]["recipient"] = "Žanete Ķirse"
    del act["progress"]
    return act


def care(day: str, start: str = "14:00", end: str = "16:00") -> dict:
    return {
        "date": day,
        "code": "APRB",
        "specialist": "Anna Kalniņa",
        "start_time": start,
        "end_time": end,
        "form": "majas",
        "status": "notika",
    }


# --- the sample -----------------------------------------------------------------------------


def test_sample_loads_with_exact_session_figures():
    act = load_delivery(load_sample(ACT))
    figures = [
        (s["date"].isoformat(), s["code"], str(s["units"]), str(s["unit_price"]), str(s["amount"]))
        for s in act["sessions"]
    ]
    assert figures == [
        ("2020-09-01", "ATBG", "1", "12.50", "12.50"),  # the agreement's price, below the 14.00 tariff
        ("2020-09-03", "APLP", "2.00", "11.50", "23.00"),  # 10:00-12:00, the APLP tariff
        ("2020-09-07", "APLP", "2.00", "11.50", "23.00"),
        ("2020-09-08", "ATBG", "1", "12.50", "12.50"),
        ("2020-09-10", "APLP", "2.50", "11.50", "28.75"),  # 14:00-16:30
        ("2020-09-14", "APLP", "1.50", "11.50", "17.25"),
        ("2020-09-15", "ATBG", "1", "12.50", "0.00"),  # did not come: nothing to pay
        ("2020-09-17", "APLP", "2.00", "11.50", "23.00"),
        ("2020-09-21", "APLP", "2.00", "11.50", "23.00"),
        ("2020-09-22", "ATBG", "1", "12.50", "12.50"),
        ("2020-09-24", "APLP", "2.00", "11.50", "23.00"),
        ("2020-09-28", "APLP", "1.50", "11.50", "17.25"),  # 09:30-11:00
        ("2020-09-29", "ATBG", "1", "12.50", "12.50"),
    ]


def test_sample_per_service_summary_and_totals():
    act = load_delivery(load_sample(ACT))
    summary = [
        (s["code"], s["unit"], str(s["planned"]), str(s["actual"]), str(s["unit_price"]), str(s["amount"]))
        for s in act["services"]
    ]
    assert summary == [
        ("APLP", "stunda", "16", "15.50", "11.50", "178.25"),
        ("ATBG", "reize", "4", "4", "12.50", "50.00"),  # the session not held is not counted
    ]
    assert act["services"][0]["name"] == SERVICES["APLP"]["name"]
    assert act["services"][1]["unit_forms"] == {"one": "reize", "other": "reizes", "zero": "reižu"}
    assert act["totals"] == {"amount": Decimal("228.25"), "sessions": 13, "delivered": 12}


def test_sample_figures_follow_the_times_and_the_agreements_prices():
    raw = load_sample(ACT)
    act = load_delivery(load_sample(ACT))
    prices = {line["code"]: line.get("unit_price") for line in raw["agreement"]["services"]}
    total = Decimal("0.00")
    for raw_session, loaded in zip(raw["sessions"], act["sessions"], strict=True):
        day = dt.date.fromisoformat(raw_session["date"])
        price = Decimal(prices[raw_session["code"]] or tariff_on(raw_session["code"], day))
        units = (
            Decimal(raw_session["units"])
            if "units" in raw_session
            else hours_between(raw_session["start_time"], raw_session["end_time"])
        )
        amount = half_up(units * price) if raw_session["status"] == "notika" else Decimal("0.00")
        assert (loaded["units"], loaded["unit_price"], loaded["amount"]) == (units, price, amount)
        assert loaded["amount"].as_tuple().exponent == -2
        total += amount
    assert act["totals"]["amount"] == total
    assert sum(s["amount"] for s in act["services"]) == total


@pytest.mark.parametrize(
    ("start", "end", "units", "amount"),
    [
        ("10:00", "12:30", "2.50", "28.75"),
        ("09:30", "11:00", "1.50", "17.25"),
        ("10:00", "10:15", "0.25", "2.88"),  # 2.875, half up
        ("08:00", "16:45", "8.75", "100.63"),  # 100.625, half up
    ],
)
def test_hours_come_from_the_times_and_the_amount_is_rounded_half_up(start, end, units, amount):
    act = load_sample(ACT)
    act["sessions"] = [session("2020-09-03", start=start, end=end)]
    loaded = load_delivery(act)["sessions"][0]
    assert (str(loaded["units"]), str(loaded["amount"])) == (units, amount)


@pytest.mark.parametrize("status", ["neieradas", "atcelts"])
def test_sessions_not_held_cost_nothing_and_do_not_count_as_delivered(status):
    act = load_sample(ACT)
    act["sessions"][1]["status"] = status  # APLP, 2 h on 3 September
    loaded = load_delivery(act)
    assert loaded["sessions"][1]["units"] == Decimal("2.00")
    assert loaded["sessions"][1]["amount"] == Decimal("0.00")
    assert loaded["services"][0]["actual"] == Decimal("13.50")
    assert loaded["services"][0]["amount"] == Decimal("155.25")
    assert loaded["totals"] == {"amount": Decimal("205.25"), "sessions": 13, "delivered": 11}


# --- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize("day", ["2020-08-31", "2020-10-01"])
def test_session_outside_the_acts_month(day):
    act = load_sample(ACT)
    act["sessions"][0]["date"] = day
    assert delivery_errors(act) == {"/sessions/0/date": ["delivery.outside_month"]}


@pytest.mark.parametrize(
    "month", ["2020-9", "2020-09-01", {"start": "2020-09-01", "end": "2020-09-30"}, "2020-13", 202009, None]
)
def test_month_not_written_yyyy_mm(month):
    act = load_sample(ACT)
    act["month"] = month
    assert delivery_errors(act) == {"/month": ["null" if month is None else "month.invalid"]}


def test_session_after_today_is_in_the_future(monkeypatch):
    freeze_today(monkeypatch, delivery, dt.date(2020, 9, 28))
    assert delivery_errors(load_sample(ACT)) == {"/sessions/12/date": ["delivery.future"]}


def test_session_on_today_is_not_in_the_future(monkeypatch):
    freeze_today(monkeypatch, delivery, dt.date(2020, 9, 29))
    assert delivery_errors(load_sample(ACT)) == {}


def test_session_after_the_real_today_is_in_the_future():
    day = dt.date.today() + dt.timedelta(days=1)
    act = load_sample(ACT)
    act["month"] = day.strftime("%Y-%m")
    act["date"] = day.isoformat()
    act["sessions"] = [session(day.isoformat())]
    # every agreement ends inside its project's window, which ends in 2023
    assert delivery_errors(act) == {
        "/sessions/0/date": ["delivery.future", "delivery.outside_agreement", "project.outside_window"]
    }


def test_act_dated_before_its_last_session():
    act = load_sample(ACT)
    act["date"] = "2020-09-28"  # the last session is on 29 September
    assert delivery_errors(act) == {"/date": ["delivery.act_before_last_session"]}


def test_act_dated_on_its_last_session_day_is_accepted():
    act = load_sample(ACT)
    act["date"] = "2020-09-29"
    assert delivery_errors(act) == {}


# --- times and units ------------------------------------------------------------------------


@pytest.mark.parametrize("end", ["09:59", "10:00"])
def test_end_time_not_after_the_start_time(end):
    act = load_sample(ACT)
    act["sessions"][1]["end_time"] = end  # starts 10:00
    assert delivery_errors(act) == {"/sessions/1/end_time": ["delivery.time_reversed"]}


@pytest.mark.parametrize(("removed", "reported"), [("end_time", "end_time"), ("start_time", "start_time")])
def test_only_one_of_the_two_times(removed, reported):
    act = load_sample(ACT)
    del act["sessions"][1][removed]
    assert delivery_errors(act) == {f"/sessions/1/{reported}": ["required"]}


@pytest.mark.parametrize("keep_times", [False, True])
def test_units_required_for_a_reize_service(keep_times):
    # With the times kept, 17:00-18:30 must not be counted as 1.5 reizes (and so above the 4 agreed).
    act = load_sample(ACT)
    del act["sessions"][0]["units"]  # ATBG is counted in reizes: times do not give the count
    if not keep_times:
        del act["sessions"][0]["start_time"], act["sessions"][0]["end_time"]
    assert delivery_errors(act) == {"/sessions/0/units": ["delivery.units_required"]}


def test_units_required_for_a_day_service_without_times():
    act = with_day_service(load_sample(ACT))
    act["sessions"].append(workshop("2020-09-02"))
    del act["sessions"][13]["units"]
    assert delivery_errors(act) == {"/sessions/13/units": ["delivery.units_required"]}


def test_units_required_for_an_hourly_service_without_times():
    act = load_sample(ACT)
    del act["sessions"][1]["start_time"], act["sessions"][1]["end_time"]
    assert delivery_errors(act) == {"/sessions/1/units": ["delivery.units_required"]}


def test_hourly_units_given_without_times_are_accepted():
    act = load_sample(ACT)
    del act["sessions"][1]["start_time"], act["sessions"][1]["end_time"]
    act["sessions"][1]["units"] = "1.75"
    assert load_delivery(act)["sessions"][1]["amount"] == Decimal("20.13")  # 20.125, half up


@pytest.mark.parametrize("units", ["1.1", "0.3", "2.01"])
def test_hours_given_as_units_must_be_in_quarter_steps(units):
    act = load_sample(ACT)
    del act["sessions"][1]["start_time"], act["sessions"][1]["end_time"]
    act["sessions"][1]["units"] = units
    assert delivery_errors(act) == {"/sessions/1/units": ["number.step"]}


@pytest.mark.parametrize("end", ["11:10", "10:20", "11:59"])
def test_hours_from_times_must_be_in_quarter_steps(end):
    act = load_sample(ACT)
    act["sessions"][1]["end_time"] = end  # starts 10:00
    assert delivery_errors(act) == {"/sessions/1/end_time": ["number.step"]}


def test_days_must_be_whole():
    act = with_day_service(load_sample(ACT))
    act["sessions"].append(workshop("2020-09-02", units="1.5"))
    assert delivery_errors(act) == {"/sessions/13/units": ["number.step"]}


def test_reizes_must_be_whole():
    act = load_sample(ACT)
    act["sessions"][0]["units"] = "0.5"
    assert delivery_errors(act) == {"/sessions/0/units": ["number.step"]}


@pytest.mark.parametrize("units", ["2.5", "1.75", "1.5"])
def test_hourly_units_contradicting_the_times(units):
    act = load_sample(ACT)
    act["sessions"][1]["units"] = units  # 10:00-12:00 is 2 hours
    assert delivery_errors(act) == {"/sessions/1/units": ["delivery.units_time_mismatch"]}


@pytest.mark.parametrize("units", ["2", "2.00", 2])
def test_hourly_units_agreeing_with_the_times_are_accepted(units):
    act = load_sample(ACT)
    act["sessions"][1]["units"] = units
    assert load_delivery(act)["sessions"][1]["units"] == Decimal(2)


# --- the agreement --------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["SK-PSIH", "NOPE"])
def test_service_not_in_the_agreement(code):
    act = load_sample(ACT)
    act["sessions"][1]["code"] = code
    assert delivery_errors(act) == {"/sessions/1/code": ["delivery.service_not_agreed"]}


def test_date_outside_the_agreements_service_line():
    act = load_sample(ACT)
    act["agreement"]["services"][1]["start"] = "2020-09-10"  # ATBG from 10 September only
    assert delivery_errors(act) == {
        "/sessions/0/date": ["delivery.outside_agreement"],
        "/sessions/3/date": ["delivery.outside_agreement"],
    }


def test_term_shorter_than_the_service_lines_is_reported_inside_the_agreement():
    # A session outside the term but inside its line cannot be built: the agreement itself keeps its
    # lines inside the term, so such an act is refused for its agreement.
    act = load_sample(ACT)
    act["agreement"]["term"]["end"] = "2020-09-30"
    assert delivery_errors(act) == {
        "/agreement/services/0/end": ["service.outside_term"],
        "/agreement/services/1/end": ["service.outside_term"],
    }


@pytest.mark.parametrize(
    ("project", "codes"),
    [
        ("IBM", ["delivery.outside_agreement", "project.outside_window"]),  # IBM starts 2016-01-01
        ("ZEMGALE-DI", ["delivery.outside_agreement"]),  # starts 2015-12-01
    ],
)
def test_date_outside_the_project_window(project, codes):
    # The agreement's term must lie inside the window, so a session outside the window is always
    # outside the agreement too: the window rule cannot fire alone.
    act = load_sample(ACT)
    act["agreement"]["project"] = project
    act["month"] = "2015-12"
    act["date"] = "2016-01-04"
    act["sessions"] = [session("2015-12-14")]
    assert delivery_errors(act) == {"/sessions/0/date": codes}


def test_child_turning_18_during_the_month_is_refused_from_the_birthday():
    act = child_act([care("2020-09-14"), care("2020-09-15"), care("2020-09-16")])
    act["agreement"]["client"]["birth_date"] = "2002-09-15"  # 17 when the term starts
    assert delivery_errors(act) == {
        "/sessions/1/date": ["target_group.age_child"],
        "/sessions/2/date": ["target_group.age_child"],
    }


def test_child_act_loads_with_the_agreements_price():
    act = load_delivery(child_act([care("2020-09-14"), care("2020-09-15", "14:00", "15:45")]))
    assert [(str(s["units"]), str(s["amount"])) for s in act["sessions"]] == [
        ("2.00", "14.76"),
        ("1.75", "12.92"),  # 1.75 × 7.38 = 12.915, half up
    ]
    assert [(s["code"], str(s["planned"]), str(s["actual"])) for s in act["services"]] == [
        ("APRB", "42.25", "3.75"),
        ("ATELPA", "2", "0"),
    ]


# --- overlaps, days and the plan ------------------------------------------------------------


def test_overlapping_sessions_of_one_specialist_are_reported_at_the_later_one():
    act = load_sample(ACT)
    act["sessions"].insert(2, session("2020-09-03", start="11:30", end="12:00"))  # session 1: 10-12
    problems = problems_at(DeliveryActSchema(), act)
    assert {pointer: [p.code for p in found] for pointer, found in problems.items()} == {
        "/sessions/2/start_time": ["delivery.overlap"]
    }
    assert problems["/sessions/2/start_time"][0].params == {"other": 1}


def test_overlap_is_reported_at_the_session_listed_later_even_when_it_starts_earlier():
    act = load_sample(ACT)
    act["sessions"][1]["end_time"] = "11:00"  # session 1: 10-11
    act["sessions"].append(session("2020-09-03", start="09:00", end="10:15"))
    problems = problems_at(DeliveryActSchema(), act)
    assert {pointer: [p.code for p in found] for pointer, found in problems.items()} == {
        "/sessions/13/start_time": ["delivery.overlap"]
    }
    assert problems["/sessions/13/start_time"][0].params == {"other": 1}


@pytest.mark.parametrize(
    "other",
    [
        session("2020-09-03", start="12:00", end="12:30"),  # starts when the other ends
        session("2020-09-03", start="09:30", end="10:00"),  # ends when the other starts
        session("2020-09-03", start="10:00", end="10:30", specialist="Ilze Ābele"),  # another specialist
        session("2020-09-04", start="10:00", end="10:30"),  # another day
    ],
)
def test_sessions_that_only_touch_or_belong_to_others_do_not_overlap(other):
    act = load_sample(ACT)
    act["sessions"].append(other)
    assert delivery_errors(act) == {}


def test_the_same_day_service_twice_on_one_day():
    act = with_day_service(load_sample(ACT))
    act["sessions"] += [workshop("2020-09-02"), workshop("2020-09-04"), workshop("2020-09-02")]
    problems = problems_at(DeliveryActSchema(), act)
    assert {pointer: [p.code for p in found] for pointer, found in problems.items()} == {
        "/sessions/15/date": ["delivery.duplicate_day"]
    }
    assert problems["/sessions/15/date"][0].params == {"other": 13}


def test_a_reize_service_twice_on_one_day_is_not_a_duplicate():
    act = load_sample(ACT)
    act["sessions"][3].update(date="2020-09-01", start_time="10:00", end_time="11:30")  # ATBG twice
    assert delivery_errors(act) == {}


def test_a_day_service_not_held_does_not_count_twice():
    act = with_day_service(load_sample(ACT))
    act["sessions"] += [workshop("2020-09-02", status="atcelts"), workshop("2020-09-02")]
    loaded = load_delivery(act)
    assert [(s["code"], str(s["actual"]), str(s["amount"])) for s in loaded["services"]][2] == (
        "SDARB",
        "1",
        "19.60",
    )


def test_delivered_units_above_the_agreed_monthly_quantity():
    act = load_sample(ACT)
    act["sessions"].append(session("2020-09-30", start="10:00", end="11:00"))  # 15.5 + 1 > 16
    problems = problems_at(DeliveryActSchema(), act)
    assert {pointer: [p.code for p in found] for pointer, found in problems.items()} == {
        "/sessions": ["delivery.above_plan"]
    }
    assert problems["/sessions"][0].params == {
        "code": "APLP",
        "actual": Decimal("16.50"),
        "planned": Decimal("16"),
    }


def test_delivered_units_equal_to_the_agreed_quantity_are_accepted():
    act = load_sample(ACT)
    act["sessions"].append(session("2020-09-30", start="10:00", end="10:30"))  # exactly 16
    assert load_delivery(act)["services"][0]["actual"] == Decimal("16.00")


def test_sessions_not_held_do_not_count_against_the_agreed_quantity():
    act = load_sample(ACT)
    act["sessions"].append(session("2020-09-30", start="10:00", end="13:00", status="atcelts"))
    act["sessions"].append(dict(act["sessions"][0], date="2020-09-30", status="neieradas"))  # 5th ATBG
    assert delivery_errors(act) == {}


# --- signatures -----------------------------------------------------------------------------


def test_receipt_signed_by_someone_other_than_the_client():
    act = load_sample(ACT)
    act["signatures"]["recipient"] = "Kārlis Ūdris"
    assert delivery_errors(act) == {"/signatures/recipient": ["signature.recipient"]}


def test_receipt_for_a_represented_client_is_signed_by_the_representative():
    act = child_act([care("2020-09-14")])
    assert delivery_errors(act) == {}
    act["signatures"]["recipient"] = "Elīza Ķirse"  # the child herself
    assert delivery_errors(act) == {"/signatures/recipient": ["signature.recipient"]}


# --- the agreement inside the act, and everything at once ----------------------------------


def broken(id_: str, change, expected: dict) -> object:
    return pytest.param(change, expected, id=id_)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        broken(
            "unknown project", lambda a: a.update(project="NOPE"), {"/agreement/project": ["project.unknown"]}
        ),
        broken(
            "client code checksum",
            lambda a: a["client"].update(personal_code="150385-12345"),
            {"/agreement/client/personal_code": ["personal_code.checksum"]},
        ),
        broken(
            "APLP hours above the level",  # level 2 allows 16 h
            lambda a: a["services"][0].update(quantity="17"),
            {"/agreement/services/0/quantity": ["limit.aplp_hours"]},
        ),
        broken(
            "quantity not a number",
            lambda a: a["services"][0].update(quantity="many"),
            {"/agreement/services/0/quantity": ["type.number"]},
        ),
        broken(
            "line start not a date",
            lambda a: a["services"][1].update(start="1.3.2020"),
            {"/agreement/services/1/start": ["date.invalid"]},
        ),
        broken(
            "line without code",
            lambda a: a["services"][0].pop("code"),
            {"/agreement/services/0/code": ["required"]},
        ),
        broken("no services", lambda a: a.pop("services"), {"/agreement/services": ["required"]}),
        broken("term not a period", lambda a: a.update(term="2020"), {"/agreement/term": ["period.invalid"]}),
        broken("project not text", lambda a: a.update(project=5), {"/agreement/project": ["type.string"]}),
        broken("no client", lambda a: a.pop("client"), {"/agreement/client": ["required"]}),
        broken(
            "client without name", lambda a: a["client"].pop("name"), {"/agreement/client/name": ["required"]}
        ),
        broken(
            "client without target group",
            lambda a: a["client"].pop("target_group"),
            {"/agreement/client/target_group": ["required"]},
        ),
    ],
)
def test_invalid_agreement_inside_the_act_is_reported_under_agreement(change, expected):
    act = load_sample(ACT)
    change(act["agreement"])
    assert delivery_errors(act) == expected


def test_several_broken_rules_are_all_reported_at_once():
    act = with_day_service(load_sample(ACT))
    act["nickname"] = "Ēriks"  # unknown field
    act["date"] = "2020-09-25"  # before the last session
    act["sessions"][0]["date"] = "2020-10-01"  # outside the month (and after the act's date)
    act["sessions"][1]["end_time"] = "09:30"  # before the start
    act["sessions"][2]["units"] = "3"  # 09:00-11:00 is 2 hours
    act["sessions"][4]["code"] = "SK-PSIH"  # not agreed
    act["sessions"][5]["units"] = "1.4"  # 10:00-11:30, and not a quarter
    act["sessions"][7]["form"] = "telefoniski"  # not a form
    act["sessions"] += [workshop("2020-09-02"), workshop("2020-09-02")]  # one day counted twice
    act["sessions"].append(session("2020-09-17", start="11:00", end="13:00"))  # overlaps session 7
    act["sessions"].append(session("2020-09-30", start="09:00", end="12:00"))  # above the 16 h
    act["signatures"]["recipient"] = "Līga Žagare"
    assert delivery_errors(act) == {
        "/nickname": ["unknown_field"],
        "/sessions/7/form": ["choice"],
        "/sessions/0/date": ["delivery.outside_month"],
        "/sessions/1/end_time": ["delivery.time_reversed"],
        "/sessions/2/units": ["delivery.units_time_mismatch"],
        "/sessions/4/code": ["delivery.service_not_agreed"],
        "/sessions/5/units": ["number.step", "delivery.units_time_mismatch"],
        "/date": ["delivery.act_before_last_session"],
        "/sessions/14/date": ["delivery.duplicate_day"],
        "/sessions/15/start_time": ["delivery.overlap"],
        "/sessions": ["delivery.above_plan"],
        "/signatures/recipient": ["signature.recipient"],
    }
