"""The support plan (IAP): the samples load with exact derived figures, and every rule is enforced.

Each rule test changes one thing in a fresh copy of a sample and compares the *whole* error report,
``{json pointer: [codes]}``, so a rule that also fires somewhere it should not is caught too.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.lv import pvn

from schemas import personal_code
from tests.helpers import (
    ADULT_SUPPORT_PERSON,
    ADULT_TRUSTEE,
    CATALOGUE,
    CENT,
    CHILD_PARENT,
    PLAN_SAMPLES,
    SERVICES,
    half_up,
    load_plan,
    load_sample,
    plan_errors,
    sample_text,
    tariff_on,
)


def expected_line(line: dict) -> tuple[Decimal, Decimal]:
    """(unit price, amount) a raw sample line should load with."""
    start = dt.date.fromisoformat(line["start"])
    price = Decimal(line["unit_price"]) if "unit_price" in line else tariff_on(line["code"], start)
    return price, half_up(Decimal(str(line["quantity"])) * price)


# --- the samples ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", PLAN_SAMPLES)
def test_sample_loads_and_its_figures_follow_the_catalogue(name):
    raw = load_sample(name)
    plan = load_plan(raw)
    total = Decimal("0.00")
    for raw_line, line in zip(raw["services"], plan["services"], strict=True):
        price, amount = expected_line(raw_line)
        assert line["unit_price"] == price
        assert line["amount"] == amount
        assert line["name"] == SERVICES[raw_line["code"]]["name"]
        unit = CATALOGUE["units"][SERVICES[raw_line["code"]]["unit"]]
        assert line["unit_forms"] == {k: unit[k] for k in ("one", "other", "zero")}
        total += amount
    assert plan["totals"]["monthly"] == total
    assert plan["totals"]["budget_left"] == Decimal(raw["budget"]["monthly"]) - total
    assert plan["totals"]["budget_left"] >= 0


def _figures(plan):
    return (
        [(line["code"], str(line["unit_price"]), str(line["amount"])) for line in plan["services"]],
        str(plan["totals"]["monthly"]),
        str(plan["totals"]["budget_left"]),
    )


def test_adult_support_person_sample_figures():
    plan = load_plan(load_sample(ADULT_SUPPORT_PERSON))
    assert _figures(plan) == (
        [
            ("APLP", "11.50", "184.00"),  # 16 h × 11.50
            ("SDARB", "19.60", "235.20"),  # 12 days × 19.60
            ("SK-PSIH", "30.00", "75.00"),  # 2.5 h × the 2020 tariff 30.00, not 28.00
            ("ATBG", "12.50", "50.00"),  # explicit price below the 14.00 tariff is kept
        ],
        "544.20",
        "55.80",
    )
    assert plan["client"]["birth_date"] == dt.date(1985, 3, 15)


def test_child_parent_sample_figures():
    plan = load_plan(load_sample(CHILD_PARENT))
    assert _figures(plan) == (
        [
            ("SK-LOG", "26.00", "104.00"),  # starts 2020-01-02: the 2020 tariff, not 24.00
            ("SK-ERGO", "23.75", "59.38"),  # 2.5 × 23.75 = 59.375, half up
            ("APRB", "7.40", "296.00"),
            ("ATELPA", "45.00", "90.00"),
        ],
        "549.38",
        "50.62",
    )
    assert plan["client"]["personal_code"] == "325719-40286"
    assert plan["client"]["birth_date"] == dt.date(2010, 3, 14)  # given: a new code carries none


def test_adult_trustee_sample_figures():
    plan = load_plan(load_sample(ADULT_TRUSTEE))
    assert _figures(plan) == (
        [
            ("GRM", "19.80", "594.00"),
            ("DAC", "21.34", "426.80"),  # starts 2020-03-02, before the 22.50 tariff of July
            ("SK-SOCD", "18.00", "36.00"),
            ("SREH", "28.45", "113.80"),
        ],
        "1170.60",
        "79.40",
    )
    assert plan["client"]["personal_code"] == "140379-13055"  # loaded in display form
    assert plan["client"]["birth_date"] == dt.date(1979, 3, 14)  # from the code


def test_samples_use_every_latvian_letter_with_a_diacritic():
    text = "".join(sample_text(name) for name in PLAN_SAMPLES)
    letters = "āčēģīķļņšūž"
    missing = [c for c in letters + letters.upper() if c not in text]
    assert missing == []


@pytest.mark.parametrize("name", [CHILD_PARENT, ADULT_TRUSTEE])
def test_new_samples_use_fictional_identifiers(name):
    plan = load_sample(name)
    number = plan["social_service"]["registration_number"]
    assert number[0] in "456789" and pvn.is_valid(number)
    people = [plan["client"], plan["representative"]]
    for person in people:
        code = person["personal_code"].replace("-", "")
        if not personal_code.is_new_format(code):
            assert personal_code.check_digit(code[:10]) == code[10]
    text = sample_text(name)
    assert set(re.findall(r"@[\w.-]+", text)) == {"@example.lv"}
    assert set(re.findall(r'"phone": "([^"]*)"', text)) <= {f"+371 2000000{d}" for d in range(10)}


# --- dates ----------------------------------------------------------------------------------


def test_plan_period_start_after_end_is_reported_at_the_end():
    plan = load_sample(CHILD_PARENT)
    plan["period"] = {"start": "2020-11-30", "end": "2019-12-01"}
    assert plan_errors(plan) == {"/period/end": ["period.reversed"]}


@pytest.mark.parametrize("review", ["2019-11-30", "2020-12-01"])
def test_review_date_outside_the_plan_period(review):
    plan = load_sample(CHILD_PARENT)
    plan["review_date"] = review
    assert plan_errors(plan) == {"/review_date": ["review_date.outside_period"]}


@pytest.mark.parametrize("review", ["2019-12-01", "2020-11-30"])
def test_review_date_on_either_end_of_the_period_is_inside(review):
    plan = load_sample(CHILD_PARENT)
    plan["review_date"] = review
    assert plan_errors(plan) == {}


def test_plan_period_may_be_a_calendar_month():
    plan = load_sample(CHILD_PARENT)
    plan["period"] = "2020-02"
    plan["review_date"] = "2020-02-29"
    for goal in plan["goals"]:
        for short in goal["short_term"]:
            short["deadline"] = "2020-02-29"
    for line in plan["services"]:
        line["start"], line["end"] = "2020-02-01", "2020-02-29"
    loaded = load_plan(plan)
    assert (loaded["period"].start, loaded["period"].end) == (dt.date(2020, 2, 1), dt.date(2020, 2, 29))


# --- personal codes and birth dates ---------------------------------------------------------


def test_new_format_personal_code_needs_birth_date():
    plan = load_sample(CHILD_PARENT)
    del plan["client"]["birth_date"]
    assert plan_errors(plan) == {"/client/birth_date": ["birth_date.required"]}


def test_new_format_personal_code_of_the_representative_needs_birth_date():
    plan = load_sample(CHILD_PARENT)
    plan["representative"]["personal_code"] = "381205-70013"
    assert plan_errors(plan) == {"/representative/birth_date": ["birth_date.required"]}
    plan["representative"]["birth_date"] = "1983-07-22"
    assert plan_errors(plan) == {}


def test_birth_date_contradicting_an_old_format_code():
    plan = load_sample(ADULT_TRUSTEE)
    plan["client"]["birth_date"] = "1979-03-15"  # the code says 14 March 1979
    assert plan_errors(plan) == {"/client/birth_date": ["birth_date.mismatch"]}
    plan["client"]["birth_date"] = "1979-03-14"
    assert plan_errors(plan) == {}


def test_representative_birth_date_contradicting_an_old_format_code():
    plan = load_sample(ADULT_TRUSTEE)
    plan["representative"]["birth_date"] = "1976-11-06"  # the code says 5 November 1976
    assert plan_errors(plan) == {"/representative/birth_date": ["birth_date.mismatch"]}


def test_invalid_personal_code_is_reported_at_the_code():
    plan = load_sample(ADULT_TRUSTEE)
    plan["client"]["personal_code"] = "140379-13056"
    assert plan_errors(plan) == {"/client/personal_code": ["personal_code.checksum"]}


# --- representation ---------------------------------------------------------------------------


def test_minor_without_representative():
    plan = load_sample(CHILD_PARENT)
    del plan["representative"]
    assert plan_errors(plan) == {"/representative": ["representative.required_minor"]}


def test_minor_represented_by_a_trustee():
    plan = load_sample(CHILD_PARENT)
    plan["representative"]["role"] = "trustee"
    assert plan_errors(plan) == {"/representative/role": ["representative.role_minor"]}


@pytest.mark.parametrize("role", ["parent", "guardian", "foster_family"])
def test_minor_may_be_represented_by_a_parent_guardian_or_foster_family(role):
    plan = load_sample(CHILD_PARENT)
    plan["representative"]["role"] = role
    assert plan_errors(plan) == {}


def test_restricted_capacity_without_representative():
    plan = load_sample(ADULT_TRUSTEE)
    del plan["representative"]
    assert plan_errors(plan) == {"/representative": ["representative.required_restricted"]}


@pytest.mark.parametrize("role", ["parent", "guardian", "foster_family"])
def test_restricted_capacity_represented_by_someone_other_than_a_trustee(role):
    plan = load_sample(ADULT_TRUSTEE)
    plan["representative"]["role"] = role
    assert plan_errors(plan) == {"/representative/role": ["representative.role_restricted"]}


def test_trustee_without_orphan_court_decision():
    plan = load_sample(ADULT_TRUSTEE)
    del plan["representative"]["orphan_court_decision"]
    assert plan_errors(plan) == {
        "/representative/orphan_court_decision": ["representative.orphan_court_decision"]
    }


@pytest.mark.parametrize("missing", ["court_ruling_number", "court_ruling_date"])
def test_restricted_capacity_without_court_ruling(missing):
    plan = load_sample(ADULT_TRUSTEE)
    del plan["legal_capacity"][missing]
    assert plan_errors(plan) == {"/legal_capacity": ["legal_capacity.court_ruling"]}


def test_adult_with_full_capacity_needs_no_representative():
    plan = load_sample(ADULT_TRUSTEE)
    plan["legal_capacity"] = {"status": "full"}
    del plan["representative"]
    assert plan_errors(plan) == {}


# --- age and target group -----------------------------------------------------------------------


def test_child_target_group_for_an_adult():
    plan = load_sample(ADULT_TRUSTEE)
    plan["client"]["target_group"] = "child_ft"
    errors = plan_errors(plan)
    assert errors.pop("/client/target_group") == ["target_group.age_child"]
    # the group home (GRM) is an adults' service as well
    assert errors == wrong_group_errors(plan, "child_ft")


def test_adult_target_group_for_a_minor():
    plan = load_sample(CHILD_PARENT)
    plan["client"]["target_group"] = "adult_grt"
    errors = plan_errors(plan)
    assert errors.pop("/client/target_group") == ["target_group.age_adult"]
    assert errors == wrong_group_errors(plan, "adult_grt")


def wrong_group_errors(plan, group):
    """The errors expected for every service line the catalogue does not offer to ``group``."""
    return {
        f"/services/{i}/code": ["service.wrong_target_group"]
        for i, line in enumerate(plan["services"])
        if group not in SERVICES[line["code"]]["groups"]
    }


def test_a_service_for_another_target_group_is_refused():
    plan = load_sample(ADULT_SUPPORT_PERSON)
    plan["services"][0]["code"] = "APRB"  # care for a child, in an adult's plan
    assert plan_errors(plan) == {"/services/0/code": ["service.wrong_target_group"]}


def test_age_is_counted_on_the_first_day_of_the_plan_period():
    plan = load_sample(ADULT_SUPPORT_PERSON)  # period starts 2020-02-01
    plan["client"]["personal_code"] = "329999-12345"
    plan["client"]["birth_date"] = "2002-02-01"  # 18 that day
    assert plan_errors(plan) == {}
    plan["client"]["birth_date"] = "2002-02-02"  # still 17
    assert plan_errors(plan) == {
        "/client/target_group": ["target_group.age_adult"],
        "/representative": ["representative.required_minor"],
    }


# --- service lines ----------------------------------------------------------------------------


def test_unknown_service_code():
    plan = load_sample(CHILD_PARENT)
    plan["services"][0]["code"] = "SK-MASZ"
    assert plan_errors(plan) == {"/services/0/code": ["service.unknown_code"]}


def test_wrong_unit_for_the_service():
    plan = load_sample(CHILD_PARENT)
    plan["services"][1]["unit"] = "reize"  # SK-ERGO is measured in hours
    assert plan_errors(plan) == {"/services/1/unit": ["service.unit_mismatch"]}


@pytest.mark.parametrize("quantity", ["2.10", "0.1", "1.3", 0.5 + 0.2])
def test_hours_must_be_in_quarter_hour_steps(quantity):
    plan = load_sample(CHILD_PARENT)
    plan["services"][1]["quantity"] = quantity  # SK-ERGO, hours
    assert plan_errors(plan) == {"/services/1/quantity": ["number.step"]}


@pytest.mark.parametrize("quantity", ["0.25", "2.75", "0.5", 3])
def test_quarter_hours_are_accepted(quantity):
    plan = load_sample(CHILD_PARENT)
    plan["services"][1]["quantity"] = quantity
    assert plan_errors(plan) == {}


@pytest.mark.parametrize(
    ("index", "quantity"),
    [(0, "29.5"), (1, "0.25"), (3, "4.5")],  # GRM and DAC in days, SREH in times
)
def test_days_and_times_must_be_whole(index, quantity):
    plan = load_sample(ADULT_TRUSTEE)
    plan["services"][index]["quantity"] = quantity
    assert plan_errors(plan) == {f"/services/{index}/quantity": ["number.step"]}


def test_respite_days_must_be_whole():
    plan = load_sample(CHILD_PARENT)
    plan["services"][3]["quantity"] = "1.5"  # ATELPA, diennakts
    assert plan_errors(plan) == {"/services/3/quantity": ["number.step"]}


@pytest.mark.parametrize("quantity", ["0", "-1", "745"])
def test_quantity_must_be_positive_and_at_most_744(quantity):
    plan = load_sample(CHILD_PARENT)
    plan["services"][2]["quantity"] = quantity
    expected = {"0": "number.not_positive", "-1": "number.negative", "745": "number.too_large"}
    assert plan_errors(plan) == {"/services/2/quantity": [expected[quantity]]}


@pytest.mark.parametrize(
    ("end", "day"), [("start", "2019-11-30"), ("end", "2020-12-01"), ("start", "2021-01-01")]
)
def test_service_dates_outside_the_plan_period(end, day):
    plan = load_sample(CHILD_PARENT)
    plan["services"][2][end] = day
    if end == "start" and day > plan["services"][2]["end"]:
        plan["services"][2]["end"] = "2021-01-31"
        assert plan_errors(plan) == {
            "/services/2/start": ["service.outside_period"],
            "/services/2/end": ["service.outside_period"],
        }
    else:
        assert plan_errors(plan) == {f"/services/2/{end}": ["service.outside_period"]}


def test_service_line_start_after_its_end():
    plan = load_sample(CHILD_PARENT)
    plan["services"][2]["start"] = "2020-06-01"
    plan["services"][2]["end"] = "2020-05-31"
    assert plan_errors(plan) == {"/services/2/end": ["period.reversed"]}


@pytest.mark.parametrize("goal", ["G9.9", "G1", "g1.1"])
def test_service_linked_to_an_unknown_short_term_goal(goal):
    plan = load_sample(CHILD_PARENT)
    plan["services"][0]["goal"] = goal  # a long-term id ("G1") is not a short-term goal
    assert plan_errors(plan) == {"/services/0/goal": ["service.unknown_goal"]}


def test_unit_price_above_the_tariff():
    plan = load_sample(CHILD_PARENT)
    plan["services"][0]["unit_price"] = "26.01"  # SK-LOG: 26.00 from 2020-01-01
    assert plan_errors(plan) == {"/services/0/unit_price": ["service.price_above_tariff"]}
    plan["services"][0]["unit_price"] = "26.00"
    assert plan_errors(plan) == {}


def test_unit_price_is_checked_against_the_tariff_in_force_on_the_start_date():
    plan = load_sample(CHILD_PARENT)
    plan["services"][0]["start"] = "2019-12-31"  # SK-LOG still at 24.00
    plan["services"][0]["unit_price"] = "26.00"
    assert plan_errors(plan) == {"/services/0/unit_price": ["service.price_above_tariff"]}
    del plan["services"][0]["unit_price"]
    assert load_plan(plan)["services"][0]["unit_price"] == Decimal("24.00")


def _move_child_plan_to(start: str, end: str, review: str, lines_from: str) -> dict:
    """The child sample moved in time: every goal, review and service date inside the new period."""
    plan = load_sample(CHILD_PARENT)
    plan["period"] = {"start": start, "end": end}
    plan["review_date"] = review
    for goal in plan["goals"]:
        for short in goal["short_term"]:
            short["deadline"] = end
    for line in plan["services"]:
        line["start"], line["end"] = lines_from, end
    return plan


def test_no_tariff_in_force_when_the_line_starts_before_the_first_tariff():
    # Every tariff starts 2016-01-01: move the whole plan so the line is inside it but earlier.
    plan = _move_child_plan_to("2015-07-01", "2016-06-30", "2016-01-15", lines_from="2016-01-04")
    assert plan_errors(plan) == {}  # the moved plan itself is fine
    plan["services"][0]["start"] = "2015-12-31"
    assert plan_errors(plan) == {"/services/0/start": ["service.no_tariff"]}


def test_monthly_total_above_the_budget():
    plan = load_sample(CHILD_PARENT)  # lines add up to 549.38
    plan["budget"]["monthly"] = "549.37"
    assert plan_errors(plan) == {"/services": ["budget.monthly_exceeded"]}


def test_monthly_total_equal_to_the_budget_leaves_nothing():
    plan = load_sample(CHILD_PARENT)
    plan["budget"]["monthly"] = "549.38"
    assert load_plan(plan)["totals"] == {"monthly": Decimal("549.38"), "budget_left": Decimal("0.00")}


# --- goals ------------------------------------------------------------------------------------


def test_duplicate_short_term_goal_id():
    plan = load_sample(CHILD_PARENT)
    duplicate = dict(plan["goals"][2]["short_term"][0], id="G1.1")
    plan["goals"][2]["short_term"].append(duplicate)
    assert plan_errors(plan) == {"/goals/2/short_term/1/id": ["goal.duplicate_id"]}


@pytest.mark.parametrize("deadline", ["2019-11-30", "2020-12-01"])
def test_goal_deadline_outside_the_plan_period(deadline):
    plan = load_sample(CHILD_PARENT)
    plan["goals"][1]["short_term"][0]["deadline"] = deadline
    assert plan_errors(plan) == {"/goals/1/short_term/0/deadline": ["goal.deadline_outside_period"]}


# --- structure ----------------------------------------------------------------------------------


def test_unknown_field_at_top_level():
    plan = load_sample(CHILD_PARENT)
    plan["nickname"] = "Elīziņa"
    assert plan_errors(plan) == {"/nickname": ["unknown_field"]}


def test_unknown_nested_field_is_reported_at_its_pointer():
    plan = load_sample(CHILD_PARENT)
    plan["client"]["nickname"] = "Elīziņa"
    plan["services"][1]["discount"] = "5"
    assert plan_errors(plan) == {
        "/client/nickname": ["unknown_field"],
        "/services/1/discount": ["unknown_field"],
    }


def test_derived_figures_cannot_be_supplied():
    plan = load_sample(CHILD_PARENT)
    plan["services"][0]["amount"] = "1.00"
    plan["totals"] = {"monthly": "1.00", "budget_left": "599.00"}
    assert plan_errors(plan) == {"/services/0/amount": ["unknown_field"], "/totals": ["unknown_field"]}


@pytest.mark.parametrize(
    ("pointer", "value", "code"),
    [
        ("services", "SK-LOG", "type.list"),
        ("commitments", "Apmeklēt nodarbības.", "type.list"),
        ("place", 5, "type.string"),
        ("number", 87, "type.string"),
        ("client", "Elīza Ķirse", "type.object"),
        ("period", 2020, "period.invalid"),
        ("programme", "esf", "choice"),
        ("date", "20.11.2019", "date.invalid"),
    ],
)
def test_wrong_type_at_top_level(pointer, value, code):
    plan = load_sample(CHILD_PARENT)
    plan[pointer] = value
    assert plan_errors(plan) == {f"/{pointer}": [code]}


def test_wrong_types_nested():
    plan = load_sample(CHILD_PARENT)
    plan["client"]["name"] = 42
    plan["budget"]["monthly"] = True
    plan["disability"]["special_care"] = "jā"
    plan["needs_assessment"]["functioning_areas"] = "Runa un saziņa"
    plan["services"][2]["quantity"] = [40]
    assert plan_errors(plan) == {
        "/client/name": ["type.string"],
        "/budget/monthly": ["type.number"],
        "/disability/special_care": ["type.boolean"],
        "/needs_assessment/functioning_areas": ["type.list"],
        "/services/2/quantity": ["type.number"],
    }


@pytest.mark.parametrize(
    ("pointer", "broken"),
    [
        ("/goals", lambda plan: plan.update(goals="G1")),
        ("/goals/0/short_term", lambda plan: plan["goals"][0].update(short_term="G1.1")),
    ],
    ids=["goals", "short_term"],
)
def test_goals_of_the_wrong_type_report_only_the_type_error(pointer, broken):
    # Goals that did not load are unknown, not missing: no service line's goal is "unknown" then.
    plan = load_sample(CHILD_PARENT)
    broken(plan)
    assert plan_errors(plan) == {pointer: ["type.list"]}


def test_missing_required_parts():
    plan = load_sample(CHILD_PARENT)
    for key in ("number", "client", "services", "period", "signatures"):
        del plan[key]
    assert plan_errors(plan) == {
        "/number": ["required"],
        "/client": ["required"],
        "/services": ["required"],
        "/period": ["required"],
        "/signatures": ["required"],
    }


# --- everything at once -----------------------------------------------------------------------


def test_several_broken_rules_are_all_reported_at_once():
    plan = load_sample(CHILD_PARENT)
    plan["nickname"] = "Elīziņa"  # unknown field
    plan["review_date"] = "2021-01-15"  # outside the period
    del plan["representative"]  # a minor without one
    plan["client"]["target_group"] = "adult_grt"  # a minor in an adult group
    plan["goals"][0]["short_term"][0]["deadline"] = "2021-01-31"  # outside the period
    plan["goals"][2]["short_term"].append(dict(plan["goals"][2]["short_term"][0], id="G2.1"))
    plan["services"][0]["quantity"] = "4.1"  # not a quarter hour
    plan["services"][1]["unit_price"] = "25.01"  # above the SK-ERGO tariff 25.00
    plan["services"][2]["end"] = "2020-12-31"  # outside the period
    plan["services"][3]["goal"] = "G4.1"  # no such goal
    plan["social_service"]["email"] = 5  # wrong type
    assert plan_errors(plan) == wrong_group_errors(plan, "adult_grt") | {
        "/nickname": ["unknown_field"],
        "/social_service/email": ["email.invalid"],
        "/services/0/quantity": ["number.step"],
        "/services/1/unit_price": ["service.price_above_tariff"],
        "/review_date": ["review_date.outside_period"],
        "/client/target_group": ["target_group.age_adult"],
        "/representative": ["representative.required_minor"],
        "/goals/0/short_term/0/deadline": ["goal.deadline_outside_period"],
        "/goals/2/short_term/1/id": ["goal.duplicate_id"],
        "/services/2/end": ["service.outside_period"],
        "/services/3/goal": ["service.unknown_goal"],
    }


def test_budget_exceeded_is_reported_together_with_other_broken_rules():
    plan = load_sample(CHILD_PARENT)
    plan["review_date"] = "2021-01-15"
    plan["budget"]["monthly"] = "500.00"  # lines add up to 549.38
    assert plan_errors(plan) == {
        "/review_date": ["review_date.outside_period"],
        "/services": ["budget.monthly_exceeded"],
    }


# --- property: totals are exact -----------------------------------------------------------------

PLAN_START, PLAN_END = dt.date(2019, 12, 1), dt.date(2020, 11, 30)  # the child sample's period
SHORT_TERM_GOALS = ("G1.1", "G2.1", "G3.1")
MOST_PER_MONTH = {
    "stunda": Decimal(744),
    "diena": Decimal(31),
    "reize": Decimal(31),
    "diennakts": Decimal(31),
}


@st.composite
def service_lines(draw):
    """A valid raw service line and the amount it must load with."""
    code = draw(st.sampled_from(sorted(c for c, s in SERVICES.items() if "child_ft" in s["groups"])))
    unit = SERVICES[code]["unit"]
    step = Decimal(CATALOGUE["units"][unit]["step"])
    quantity = step * draw(st.integers(min_value=1, max_value=int(MOST_PER_MONTH[unit] / step)))
    start = draw(st.dates(min_value=PLAN_START, max_value=PLAN_END))
    end = draw(st.dates(min_value=start, max_value=PLAN_END))
    tariff = tariff_on(code, start)
    line = {
        "code": code,
        "goal": draw(st.sampled_from(SHORT_TERM_GOALS)),
        "provider": 'SIA "Pakalpojumi"',
        "unit": unit,
        # JSON numbers as well as strings: quarter multiples are exact as floats
        "quantity": draw(
            st.sampled_from([str(quantity), int(quantity) if quantity % 1 == 0 else float(quantity)])
        ),
        "start": start.isoformat(),
        "end": end.isoformat(),
    }
    price = tariff
    if draw(st.booleans()):
        price = Decimal(draw(st.integers(min_value=1, max_value=int(tariff * 100)))) / 100
        line["unit_price"] = str(price)
    return line, price, half_up(quantity * price)


def busiest_month_total(lines):
    """Reference figure: per month of the period, add the lines whose dates touch it; the largest."""
    totals = []
    for year, month in [(2019, 12)] + [(2020, m) for m in range(1, 12)]:
        first = dt.date(year, month, 1)
        last = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
        touching = [
            amount
            for line, amount in lines
            if line["start"] <= last.isoformat() and line["end"] >= first.isoformat()
        ]
        totals.append(sum(touching, Decimal("0.00")))
    return max(totals)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(service_lines(), min_size=1, max_size=8),
    spare_cents=st.integers(min_value=0, max_value=100_000),
)
def test_monthly_total_is_the_busiest_months_sum_of_rounded_lines_and_budget_left_is_exact(
    lines, spare_cents
):
    total = busiest_month_total([(line, amount) for line, _, amount in lines])
    budget = max(total + Decimal(spare_cents) / 100, CENT)
    plan = load_sample(CHILD_PARENT)
    plan["services"] = [line for line, _, _ in lines]
    plan["budget"]["monthly"] = str(budget)

    loaded = load_plan(plan)

    assert [line["unit_price"] for line in loaded["services"]] == [price for _, price, _ in lines]
    assert [line["amount"] for line in loaded["services"]] == [amount for _, _, amount in lines]
    assert loaded["totals"]["monthly"] == total
    assert loaded["totals"]["budget_left"] == budget - total
    for figure in (*loaded["totals"].values(), *(line["amount"] for line in loaded["services"])):
        assert isinstance(figure, Decimal) and figure.as_tuple().exponent == -2

    if total > CENT:
        plan["budget"]["monthly"] = str(total - CENT)
        assert plan_errors(plan) == {"/services": ["budget.monthly_exceeded"]}
