"""The service agreement: the samples load with exact derived figures, and every rule is enforced.

As for the plan, each rule test changes one thing in a fresh copy of a sample and compares the
*whole* error report, ``{json pointer: [codes]}``. Expected figures are worked out here from the TOML
data files and plain arithmetic, not through ``schemas.catalogue`` or ``schemas.projects``.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.lv import pvn

from schemas import personal_code, projects
from schemas.fields import Period
from tests.helpers import (
    ADULT_TRUSTEE,
    CATALOGUE,
    PROJECTS,
    SERVICES,
    agreement_errors,
    half_up,
    load_agreement,
    load_plan,
    load_sample,
    sample_text,
    tariff_on,
)

ADULT_APLP = "service-agreement-adult-aplp"
CHILD_CARE = "service-agreement-child-care"
FROM_PLAN = "service-agreement-from-plan"
WHOLE_AGREEMENTS = (ADULT_APLP, CHILD_CARE)
NEW_SAMPLES = (CHILD_CARE, FROM_PLAN)


def months_between(start: dt.date, end: dt.date) -> int:
    """Calendar months a span touches, counted one by one."""
    months, year, month = 0, start.year, start.month
    while (year, month) <= (end.year, end.month):
        months += 1
        year, month = year + month // 12, month % 12 + 1
    return months


def expected_line(line: dict) -> tuple[Decimal, Decimal, int, Decimal]:
    """(unit price, amount a month, months, total) a raw agreement line should load with."""
    start, end = dt.date.fromisoformat(line["start"]), dt.date.fromisoformat(line["end"])
    price = Decimal(line["unit_price"]) if "unit_price" in line else tariff_on(line["code"], start)
    amount = half_up(Decimal(str(line["quantity"])) * price)
    months = months_between(start, end)
    return price, amount, months, amount * months


def expected_split(total: Decimal, project: str) -> tuple[Decimal, Decimal]:
    esf = half_up(total * Decimal(PROJECTS[project]["esf_share"]) / 100)
    return esf, total - esf


def figures(agreement: dict) -> tuple:
    """The derived figures of a loaded agreement, as strings, to compare with worked-out values."""
    return (
        [
            (line["code"], str(line["unit_price"]), str(line["amount"]), line["months"], str(line["total"]))
            for line in agreement["services"]
        ],
        {key: str(value) for key, value in agreement["totals"].items()},
    )


# --- the samples ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", WHOLE_AGREEMENTS)
def test_sample_loads_and_its_figures_follow_the_catalogue_and_the_project(name):
    raw = load_sample(name)
    agreement = load_agreement(raw)
    monthly, total = Decimal("0.00"), Decimal("0.00")
    for raw_line, line in zip(raw["services"], agreement["services"], strict=True):
        price, amount, months, line_total = expected_line(raw_line)
        assert (line["unit_price"], line["amount"], line["months"], line["total"]) == (
            price,
            amount,
            months,
            line_total,
        )
        assert line["name"] == SERVICES[raw_line["code"]]["name"]
        monthly += amount
        total += line_total
    esf, state = expected_split(total, raw["project"])
    assert agreement["totals"] == {"monthly": monthly, "total": total, "esf": esf, "state": state}
    project = PROJECTS[raw["project"]]
    assert agreement["funding"] == {
        "project_name": project["name"],
        "project_number": project["number"],
        "esf_share": Decimal(project["esf_share"]),
        "state_share": 100 - Decimal(project["esf_share"]),
    }
    assert "from_plan" not in agreement


def test_child_care_sample_figures():
    agreement = load_agreement(load_sample(CHILD_CARE))
    assert figures(agreement) == (
        [
            # 42.25 h × 7.38 = 311.805: half up to 311.81 (half even would give 311.80); Dec–Nov
            ("APRB", "7.38", "311.81", 12, "3741.72"),
            # 2 × 43.65, January to November 2020
            ("ATELPA", "43.65", "87.30", 11, "960.30"),
        ],
        # ESF 85 %: 4702.02 × 0.85 = 3996.717 → 3996.72; the state pays the rest
        {"monthly": "399.11", "total": "4702.02", "esf": "3996.72", "state": "705.30"},
    )
    assert agreement["funding"]["project_name"] == "Sociālo pakalpojumu atbalsta sistēmas pilnveide"
    assert agreement["client"]["personal_code"] == "325719-40286"
    assert agreement["representative"]["role"] == "parent"
    assert (agreement["signing"], agreement["copies"]) == ("paper", 2)
    assert agreement["payment"] == {"act_due_day": 7, "payment_days": 20}


def test_adult_aplp_sample_figures():
    agreement = load_agreement(load_sample(ADULT_APLP))
    assert figures(agreement) == (
        [("APLP", "11.50", "184.00", 12, "2208.00"), ("ATBG", "12.50", "50.00", 11, "550.00")],
        {"monthly": "234.00", "total": "2758.00", "esf": "2344.30", "state": "413.70"},
    )
    assert agreement["copies"] == 2  # the default, unused with an e-signature
    assert agreement["payment"] == {"act_due_day": 5, "payment_days": 30}


def test_from_plan_sample_figures():
    agreement = load_agreement(load_sample(FROM_PLAN))
    assert figures(agreement) == (
        [
            ("GRM", "19.80", "594.00", 12, "7128.00"),
            # the plan's price: DAC starts 2020-03-02, before the 22.50 tariff of July
            ("DAC", "21.34", "426.80", 12, "5121.60"),
        ],
        # ESF 86.69 %: 12249.60 × 0.8669 = 10619.17824 → 10619.18
        {"monthly": "1020.80", "total": "12249.60", "esf": "10619.18", "state": "1630.42"},
    )
    assert agreement["funding"] == {
        "project_name": "Atver sirdi Zemgalē",
        "project_number": "9.2.2.1/15/I/001",
        "esf_share": Decimal("86.69"),
        "state_share": Decimal("13.31"),
    }


def test_from_plan_sample_takes_client_plan_project_and_term_from_the_plan():
    request = load_sample(FROM_PLAN)
    plan = load_plan(load_sample(ADULT_TRUSTEE))
    assert request["from_plan"]["plan"] == load_sample(ADULT_TRUSTEE)  # the whole plan, unchanged

    agreement = load_agreement(request)

    client_fields = ("name", "personal_code", "birth_date", "declared_address", "actual_address")
    assert {key: agreement["client"][key] for key in client_fields} == {
        key: plan["client"][key] for key in client_fields
    }
    assert agreement["client"]["target_group"] == plan["client"]["target_group"] == "adult_grt"
    assert agreement["client"]["birth_date"] == dt.date(1979, 3, 14)
    assert agreement["representative"] == plan["representative"]
    assert agreement["plan"] == {"number": "IAP-DI-2020/031", "date": dt.date(2020, 2, 24)}
    assert agreement["project"] == "ZEMGALE-DI"  # found by the plan's project number
    chosen = [plan["services"][choice["index"]] for choice in request["from_plan"]["lines"]]
    term = Period(min(line["start"] for line in chosen), max(line["end"] for line in chosen))
    assert agreement["term"] == term == plan["period"]
    assert agreement["municipality"] == plan["social_service"] | request["municipality"]


def test_from_plan_sample_lines_are_the_chosen_plan_lines_with_place_and_schedule():
    request = load_sample(FROM_PLAN)
    plan = load_plan(load_sample(ADULT_TRUSTEE))
    agreement = load_agreement(request)
    keys = ("code", "unit", "quantity", "unit_price", "start", "end", "amount")
    for choice, line in zip(request["from_plan"]["lines"], agreement["services"], strict=True):
        planned = plan["services"][choice["index"]]
        assert {key: line[key] for key in keys} == {key: planned[key] for key in keys}
        assert (line["place"], line["schedule"]) == (choice["place"], choice["schedule"])


@pytest.mark.parametrize("name", NEW_SAMPLES)
def test_new_samples_use_fictional_identifiers(name):
    agreement = load_sample(name)
    number = agreement["provider"]["registration_number"]
    assert number[0] == "4" and pvn.is_valid(number)
    text = sample_text(name)
    for code in re.findall(r'"personal_code": "([^"]*)"', text):
        digits = code.replace("-", "")
        if not personal_code.is_new_format(digits):
            assert personal_code.check_digit(digits[:10]) == digits[10]
    assert {domain.endswith("example.lv") for domain in re.findall(r"@([\w.-]+)", text)} == {True}
    assert set(re.findall(r'"phone": "([^"]*)"', text)) <= {f"+371 2000000{d}" for d in range(10)}


def test_child_care_sample_is_for_the_child_of_the_child_plan():
    agreement = load_agreement(load_sample(CHILD_CARE))
    plan = load_plan(load_sample("support-plan-child-parent"))
    assert agreement["client"] == {key: plan["client"][key] for key in agreement["client"]}
    assert agreement["representative"] == plan["representative"]
    assert agreement["plan"] == {"number": plan["number"], "date": plan["date"]}
    assert agreement["municipality"]["registration_number"] == plan["social_service"]["registration_number"]
    assert "Liepāja" in agreement["provider"]["address"]


# --- project and term -----------------------------------------------------------------------------


def test_unknown_project():
    agreement = load_sample(CHILD_CARE)
    agreement["project"] = "ESF-X"
    assert agreement_errors(agreement) == {"/project": ["project.unknown"]}


@pytest.mark.parametrize(
    "term",
    [
        {"start": "2015-12-31", "end": "2020-11-30"},  # IBM runs 2016-01-01 – 2023-12-31
        {"start": "2019-12-01", "end": "2024-01-31"},
    ],
)
def test_term_outside_the_project_window(term):
    agreement = load_sample(CHILD_CARE)
    agreement["term"] = term
    assert agreement_errors(agreement) == {"/term": ["project.outside_window"]}


def test_the_same_term_is_inside_another_projects_window():
    agreement = load_sample(CHILD_CARE)
    agreement["term"] = {"start": "2015-12-01", "end": "2020-11-30"}  # ZEMGALE-DI from 2015-12-01
    agreement["project"] = "ZEMGALE-DI"
    assert agreement_errors(agreement) == {}


def test_term_start_after_its_end():
    agreement = load_sample(CHILD_CARE)
    agreement["term"] = {"start": "2020-11-30", "end": "2019-12-01"}
    assert agreement_errors(agreement) == {"/term/end": ["period.reversed"]}


@pytest.mark.parametrize(("end", "day"), [("start", "2019-11-30"), ("end", "2020-12-01")])
def test_service_dates_outside_the_term(end, day):
    agreement = load_sample(CHILD_CARE)
    agreement["services"][0][end] = day
    assert agreement_errors(agreement) == {f"/services/0/{end}": ["service.outside_term"]}


def test_service_dates_on_both_ends_of_the_term_are_inside():
    agreement = load_sample(CHILD_CARE)
    agreement["services"][0]["start"] = "2019-12-01"
    assert load_agreement(agreement)["services"][0]["months"] == 12


# --- client, target group and representation -----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "index", "code", "unit"),
    [(CHILD_CARE, 1, "GRM", "diena"), (ADULT_APLP, 1, "APRB", "stunda")],
    ids=["adults-group-home-for-a-child", "child-care-for-an-adult"],
)
def test_service_for_another_target_group(name, index, code, unit):
    agreement = load_sample(name)
    line = agreement["services"][index]
    line.update(code=code, unit=unit, quantity="2")
    line.pop("unit_price")
    assert agreement_errors(agreement) == {f"/services/{index}/code": ["service.wrong_target_group"]}


def test_adult_target_group_for_a_minor():
    agreement = load_sample(CHILD_CARE)
    agreement["client"]["target_group"] = "adult_grt"
    assert agreement_errors(agreement) == {
        "/client/target_group": ["target_group.age_adult"],
        "/services/0/code": ["service.wrong_target_group"],  # APRB and ATELPA are children's services
        "/services/1/code": ["service.wrong_target_group"],
    }


def test_minor_without_representative():
    agreement = load_sample(CHILD_CARE)
    del agreement["representative"]
    assert agreement_errors(agreement) == {"/representative": ["representative.required_minor"]}


def test_minor_represented_by_a_trustee():
    agreement = load_sample(CHILD_CARE)
    agreement["representative"]["role"] = "trustee"
    assert agreement_errors(agreement) == {"/representative/role": ["representative.role_minor"]}


@pytest.mark.parametrize("role", ["guardian", "foster_family"])
def test_minor_may_be_represented_by_a_guardian_or_foster_family(role):
    agreement = load_sample(CHILD_CARE)
    agreement["representative"]["role"] = role
    assert agreement_errors(agreement) == {}


def test_minor_is_counted_on_the_first_day_of_the_term():
    agreement = load_sample(ADULT_APLP)  # term starts 2020-02-01
    agreement["client"]["personal_code"] = "329999-12345"
    agreement["client"]["birth_date"] = "2002-02-01"  # 18 that day
    assert agreement_errors(agreement) == {}
    agreement["client"]["birth_date"] = "2002-02-02"  # still 17
    assert agreement_errors(agreement) == {
        "/client/target_group": ["target_group.age_adult"],
        "/representative": ["representative.required_minor"],
    }


def test_new_format_personal_code_needs_birth_date():
    agreement = load_sample(CHILD_CARE)
    del agreement["client"]["birth_date"]
    assert agreement_errors(agreement) == {"/client/birth_date": ["birth_date.required"]}


def test_new_format_personal_code_of_the_representative_needs_birth_date():
    agreement = load_sample(CHILD_CARE)
    agreement["representative"]["personal_code"] = "381205-70013"
    assert agreement_errors(agreement) == {"/representative/birth_date": ["birth_date.required"]}
    agreement["representative"]["birth_date"] = "1983-07-22"
    assert agreement_errors(agreement) == {}


def test_birth_date_contradicting_an_old_format_code():
    agreement = load_sample(ADULT_APLP)
    agreement["client"]["birth_date"] = "1985-03-16"  # the code says 15 March 1985
    assert agreement_errors(agreement) == {"/client/birth_date": ["birth_date.mismatch"]}


# --- references, copies, payment ------------------------------------------------------------------


@pytest.mark.parametrize("reference", ["decision", "plan"])
def test_reference_dated_after_the_agreement(reference):
    agreement = load_sample(CHILD_CARE)  # dated 2019-11-28
    agreement[reference]["date"] = "2019-11-29"
    assert agreement_errors(agreement) == {f"/{reference}/date": ["reference.after_document"]}


@pytest.mark.parametrize("reference", ["decision", "plan"])
def test_reference_dated_the_same_day_as_the_agreement(reference):
    agreement = load_sample(CHILD_CARE)
    agreement[reference]["date"] = agreement["date"]
    assert agreement_errors(agreement) == {}


@pytest.mark.parametrize("copies", [-1, 0, 1, 5])
def test_paper_copies_out_of_two_to_four(copies):
    agreement = load_sample(CHILD_CARE)
    agreement["copies"] = copies
    assert agreement_errors(agreement) == {"/copies": ["number.range"]}


@pytest.mark.parametrize("copies", [2, 3, 4])
def test_paper_copies_from_two_to_four(copies):
    agreement = load_sample(CHILD_CARE)
    agreement["copies"] = copies
    assert load_agreement(agreement)["copies"] == copies


def test_copies_are_not_checked_with_an_e_signature():
    agreement = load_sample(ADULT_APLP)
    agreement["copies"] = 1
    assert agreement_errors(agreement) == {}


def test_copies_must_be_a_whole_number():
    agreement = load_sample(CHILD_CARE)
    agreement["copies"] = "2"
    assert agreement_errors(agreement) == {"/copies": ["type.integer"]}


@pytest.mark.parametrize(
    ("key", "value"),
    [("act_due_day", 0), ("act_due_day", 29), ("payment_days", 0), ("payment_days", 91)],
)
def test_payment_terms_out_of_range(key, value):
    agreement = load_sample(CHILD_CARE)
    agreement["payment"][key] = value
    assert agreement_errors(agreement) == {f"/payment/{key}": ["number.range"]}


@pytest.mark.parametrize(
    ("key", "value"),
    [("act_due_day", 1), ("act_due_day", 28), ("payment_days", 1), ("payment_days", 90)],
)
def test_payment_terms_on_the_ends_of_their_range(key, value):
    agreement = load_sample(CHILD_CARE)
    agreement["payment"][key] = value
    assert load_agreement(agreement)["payment"][key] == value


def test_payment_terms_out_of_range_are_reported_together():
    agreement = load_sample(CHILD_CARE)
    agreement["payment"] = {"act_due_day": 31, "payment_days": -5}
    assert agreement_errors(agreement) == {
        "/payment/act_due_day": ["number.range"],
        "/payment/payment_days": ["number.range"],
    }


def test_payment_terms_default_to_day_five_and_thirty_days():
    agreement = load_sample(CHILD_CARE)
    del agreement["payment"]
    assert load_agreement(agreement)["payment"] == {"act_due_day": 5, "payment_days": 30}
    agreement["payment"] = {"payment_days": 14}
    assert load_agreement(agreement)["payment"] == {"act_due_day": 5, "payment_days": 14}


# --- APLP ---------------------------------------------------------------------------------------


def test_aplp_without_a_support_level():
    agreement = load_sample(ADULT_APLP)
    del agreement["aplp_level"]
    assert agreement_errors(agreement) == {"/aplp_level": ["limit.aplp_level"]}


@pytest.mark.parametrize("level", ["4", "0", "II", "2 "])
def test_aplp_with_an_unknown_support_level(level):
    agreement = load_sample(ADULT_APLP)
    agreement["aplp_level"] = level
    assert agreement_errors(agreement) == {"/aplp_level": ["limit.aplp_level"]}


@pytest.mark.parametrize(("level", "hours"), [("1", "6.25"), ("2", "16.25"), ("3", "30.25"), ("1", "16")])
def test_aplp_hours_above_the_level(level, hours):
    agreement = load_sample(ADULT_APLP)
    agreement["aplp_level"] = level
    agreement["services"][0]["quantity"] = hours
    assert agreement_errors(agreement) == {"/services/0/quantity": ["limit.aplp_hours"]}


@pytest.mark.parametrize(("level", "hours"), [("1", "6"), ("2", "16"), ("3", "30")])
def test_aplp_hours_up_to_the_level(level, hours):
    agreement = load_sample(ADULT_APLP)
    agreement["aplp_level"] = level
    agreement["services"][0]["quantity"] = hours
    assert agreement_errors(agreement) == {}


def test_agreement_without_aplp_needs_no_support_level():
    agreement = load_sample(CHILD_CARE)
    assert "aplp_level" not in agreement
    assert agreement_errors(agreement) == {}


def test_a_missing_aplp_level_is_reported_once_for_several_aplp_lines():
    # One APLP service in two lines (e.g. a new schedule from August): one problem, not one per line.
    agreement = load_sample(ADULT_APLP)
    del agreement["aplp_level"]
    second = dict(agreement["services"][0], start="2020-08-01")
    agreement["services"][0]["end"] = "2020-07-31"
    agreement["services"].append(second)
    assert agreement_errors(agreement) == {"/aplp_level": ["limit.aplp_level"]}


def test_aplp_hours_of_overlapping_lines_add_up_within_a_month():
    # Level 2 allows 16 hours a month in all: 10 + 10 hours in the same months is 20.
    agreement = load_sample(ADULT_APLP)
    agreement["services"][0]["quantity"] = "10"
    agreement["services"].append(dict(agreement["services"][0], start="2020-06-01", end="2020-08-31"))
    errors = agreement_errors(agreement)
    assert [codes for codes in errors.values() if "limit.aplp_hours" in codes], errors


# --- child care by age --------------------------------------------------------------------------


def _child_care(born: str, hours: str, start: str = "2020-06-01", end: str = "2020-06-30") -> dict:
    """The child sample with the child born on ``born`` and one APRB line of ``hours`` a month."""
    agreement = load_sample(CHILD_CARE)
    agreement["client"]["birth_date"] = born  # a new-format code: the birth date is the given one
    agreement["services"][0].update(quantity=hours, start=start, end=end)
    return agreement


@pytest.mark.parametrize("hours", ["200", "80.25", "0.25"])
def test_a_three_year_old_may_have_up_to_200_hours_of_care(hours):
    agreement = _child_care("2016-09-01", hours, start="2019-12-09", end="2020-08-31")
    assert agreement_errors(agreement) == {}


def test_a_three_year_old_may_not_have_more_than_200_hours_of_care():
    agreement = _child_care("2016-09-01", "200.25", start="2019-12-09", end="2020-08-31")
    assert agreement_errors(agreement) == {"/services/0/quantity": ["limit.child_care_hours"]}


def test_a_six_year_old_may_have_up_to_80_hours_of_care():
    agreement = _child_care("2013-09-01", "80", start="2019-12-09", end="2020-08-31")
    assert agreement_errors(agreement) == {}


@pytest.mark.parametrize("hours", ["80.25", "200"])
def test_a_six_year_old_may_not_have_more_than_80_hours_of_care(hours):
    agreement = _child_care("2013-09-01", hours, start="2019-12-09", end="2020-08-31")
    assert agreement_errors(agreement) == {"/services/0/quantity": ["limit.child_care_hours"]}


def test_a_child_four_years_old_on_the_start_date_has_the_200_hour_band():
    agreement = _child_care("2015-06-02", "200")  # the fifth birthday is the day after the start
    assert agreement_errors(agreement) == {}
    agreement["services"][0]["quantity"] = "200.25"
    assert agreement_errors(agreement) == {"/services/0/quantity": ["limit.child_care_hours"]}


def test_a_child_five_years_old_on_the_start_date_has_the_80_hour_band():
    agreement = _child_care("2015-06-01", "80.25")  # the fifth birthday is the start date
    assert agreement_errors(agreement) == {"/services/0/quantity": ["limit.child_care_hours"]}
    agreement["services"][0]["quantity"] = "80"
    assert agreement_errors(agreement) == {}


def test_care_hours_of_the_younger_band_end_with_the_fifth_birthday():
    # 4 years old when the line starts, 5 from March 2020 until it ends in November: 200 hours a
    # month are allowed in the first months only, so the line asks for more than the rules allow.
    agreement = _child_care("2015-03-10", "200", start="2019-12-09", end="2020-11-30")
    assert agreement_errors(agreement) == {"/services/0/quantity": ["limit.child_care_hours"]}


def test_care_hours_of_overlapping_lines_add_up_within_a_month():
    # A child of nine: at most 80 hours a month in all; 42.25 + 40 hours from March to May is 82.25.
    agreement = load_sample(CHILD_CARE)
    extra = dict(agreement["services"][0], quantity="40", start="2020-03-01", end="2020-05-31")
    agreement["services"].append(extra)
    errors = agreement_errors(agreement)
    assert [codes for codes in errors.values() if "limit.child_care_hours" in codes], errors


# --- respite days a year ------------------------------------------------------------------------


def _respite(term: tuple[str, str], *lines: tuple[str, str, str]) -> dict:
    """The child sample over ``term`` with APRB for the whole term and ATELPA ``(days, start, end)`` lines."""
    agreement = load_sample(CHILD_CARE)
    agreement["term"] = {"start": term[0], "end": term[1]}
    care, respite = agreement["services"]
    care.update(start=term[0], end=term[1])
    agreement["services"] = [care] + [
        dict(respite, quantity=days, start=start, end=end) for days, start, end in lines
    ]
    return agreement


def test_respite_days_above_30_in_a_calendar_year():
    agreement = _respite(("2020-01-01", "2020-12-31"), ("3", "2020-01-01", "2020-12-31"))  # 3 × 12 = 36
    assert agreement_errors(agreement) == {"/services": ["limit.respite_days"]}


def test_respite_days_up_to_30_in_a_calendar_year():
    agreement = _respite(("2020-01-01", "2020-12-31"), ("3", "2020-01-01", "2020-10-31"))  # 3 × 10 = 30
    assert agreement_errors(agreement) == {}


def test_respite_days_of_several_lines_add_up_within_the_year():
    agreement = _respite(
        ("2020-01-01", "2020-12-31"),
        ("2", "2020-01-01", "2020-08-31"),  # 16
        ("2", "2020-05-01", "2020-12-31"),  # 16
    )
    assert agreement_errors(agreement) == {"/services": ["limit.respite_days"]}


def test_respite_spanning_two_years_is_counted_per_calendar_year():
    # 3 days a month for 20 months is 60 days, but 30 in 2020 (March–December) and 30 in 2021.
    agreement = _respite(("2020-03-01", "2021-10-31"), ("3", "2020-03-01", "2021-10-31"))
    assert agreement_errors(agreement) == {}


def test_respite_spanning_two_years_above_the_limit_in_one_of_them():
    # December 2019: 3 days; January–November 2020: 33 days.
    agreement = _respite(("2019-12-01", "2020-11-30"), ("3", "2019-12-01", "2020-11-30"))
    assert agreement_errors(agreement) == {"/services": ["limit.respite_days"]}


# --- days a month -------------------------------------------------------------------------------


def _with_day_care(days: str) -> dict:
    agreement = load_sample(CHILD_CARE)
    agreement["services"].append(
        {
            "code": "DAC",
            "unit": "diena",
            "quantity": days,
            "start": "2020-01-02",
            "end": "2020-05-31",
            "place": "dienas aprūpes centrs, Liepāja",
            "schedule": "darbdienās",
        }
    )
    return agreement


def test_days_above_31_a_month():
    assert agreement_errors(_with_day_care("32")) == {"/services/2/quantity": ["limit.days_in_month"]}


def test_days_up_to_31_a_month():
    assert agreement_errors(_with_day_care("31")) == {}


def test_hours_may_be_more_than_31_a_month():
    agreement = load_sample(CHILD_CARE)
    agreement["services"][0]["quantity"] = "80"  # APRB in hours, a child of nine
    assert agreement_errors(agreement) == {}


def test_times_are_not_days_so_more_than_31_sessions_a_month_are_allowed():
    # Intensive rehabilitation: two sessions every working day are about 44 "reizes" a month.
    agreement = load_sample(ADULT_APLP)
    agreement["services"][1].update(code="SREH", quantity="44", unit_price="28.00")
    assert agreement_errors(agreement) == {}


# --- from a plan --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "pointer", "code"),
    [
        (lambda plan: plan.update(review_date="2021-03-15"), "/review_date", "review_date.outside_period"),
        (
            lambda plan: plan["client"].update(personal_code="140379-13056"),
            "/client/personal_code",
            "personal_code.checksum",
        ),
        (lambda plan: plan.pop("representative"), "/representative", "representative.required_restricted"),
        (lambda plan: plan["services"][1].update(unit="reize"), "/services/1/unit", "service.unit_mismatch"),
    ],
    ids=["review-date", "personal-code", "no-trustee", "unit"],
)
def test_from_plan_with_a_broken_plan_reports_under_from_plan_plan(change, pointer, code):
    request = load_sample(FROM_PLAN)
    change(request["from_plan"]["plan"])
    assert agreement_errors(request) == {f"/from_plan/plan{pointer}": [code]}


def test_from_plan_with_a_plan_that_is_not_an_object():
    request = load_sample(FROM_PLAN)
    request["from_plan"]["plan"] = "IAP-DI-2020/031"
    assert agreement_errors(request) == {"/from_plan/plan": ["type.object"]}


@pytest.mark.parametrize("index", [4, 99, -1])
def test_from_plan_with_a_line_index_that_does_not_exist(index):
    request = load_sample(FROM_PLAN)  # the plan has 4 lines: 0 to 3
    request["from_plan"]["lines"].append(dict(request["from_plan"]["lines"][0], index=index))
    assert agreement_errors(request) == {"/from_plan/lines/2/index": ["agreement.no_plan_line"]}


def test_from_plan_line_choices_are_checked_like_any_object():
    request = load_sample(FROM_PLAN)
    del request["from_plan"]["lines"][0]["place"]
    request["from_plan"]["lines"][1]["index"] = "1"
    request["from_plan"]["lines"][1]["room"] = "12"
    assert agreement_errors(request) == {
        "/from_plan/lines/0/place": ["required"],
        "/from_plan/lines/1/index": ["type.integer"],
        "/from_plan/lines/1/room": ["unknown_field"],
    }


def test_from_plan_without_lines():
    request = load_sample(FROM_PLAN)
    request["from_plan"]["lines"] = []
    assert agreement_errors(request) == {"/from_plan/lines": ["list.too_short"]}


def test_from_plan_last_line_of_the_plan_may_be_chosen():
    request = load_sample(FROM_PLAN)
    request["from_plan"]["lines"] = [dict(request["from_plan"]["lines"][0], index=3)]  # SREH
    agreement = load_agreement(request)
    assert [line["code"] for line in agreement["services"]] == ["SREH"]
    assert agreement["term"] == Period(dt.date(2020, 3, 1), dt.date(2020, 12, 31))  # SREH's dates


def test_from_plan_explicit_fields_override_the_plans():
    request = load_sample(FROM_PLAN)
    plan = load_plan(load_sample(ADULT_TRUSTEE))
    client = dict(request["from_plan"]["plan"]["client"], actual_address="Ļaudonas iela 8-2, Dobele")
    request.update(
        client=client,
        plan={"number": "IAP-DI-2020/031-1", "date": "2020-02-26"},  # a revised plan
        project="IBM",
        term={"start": "2020-02-28", "end": "2021-03-31"},
    )
    request["municipality"]["phone"] = "+371 20000000"

    agreement = load_agreement(request)

    assert agreement["client"]["actual_address"] == "Ļaudonas iela 8-2, Dobele"
    assert agreement["client"]["phone"] == "+371 20000007"  # only sent explicitly; the plan's is dropped
    assert agreement["plan"] == {"number": "IAP-DI-2020/031-1", "date": dt.date(2020, 2, 26)}
    assert agreement["project"] == "IBM"
    assert agreement["funding"]["project_number"] == "9.2.2.2/16/I/001"
    assert agreement["term"] == Period(dt.date(2020, 2, 28), dt.date(2021, 3, 31))
    assert agreement["municipality"]["phone"] == "+371 20000000"
    assert agreement["municipality"]["name"] == plan["social_service"]["name"]  # the rest from the plan


def test_from_plan_explicit_services_replace_the_chosen_lines():
    request = load_sample(FROM_PLAN)
    request["services"] = [
        {
            "code": "SK-SOCD",
            "unit": "stunda",
            "quantity": "3",
            "start": "2020-03-01",
            "end": "2020-08-31",
            "place": "Dobeles novada Sociālais dienests",
            "schedule": "pirmdienās",
        }
    ]
    agreement = load_agreement(request)
    assert [line["code"] for line in agreement["services"]] == ["SK-SOCD"]
    # the term still comes from the chosen plan lines
    assert agreement["term"] == Period(dt.date(2020, 3, 1), dt.date(2021, 2, 28))


def test_from_plan_agreement_rules_still_apply():
    request = load_sample(FROM_PLAN)
    request["date"] = "2020-02-20"  # before the plan (2020-02-24) and the decision (2020-02-26)
    request["provider"]["iban"] = "LV63 HABA 0551 0386 4290 8"
    assert agreement_errors(request) == {
        "/decision/date": ["reference.after_document"],
        "/plan/date": ["reference.after_document"],
        "/provider/iban": ["iban.checksum"],
    }


def test_from_plan_with_a_municipality_that_is_not_an_object():
    request = load_sample(FROM_PLAN)
    request["municipality"] = "Dobeles novada Sociālais dienests"
    assert agreement_errors(request) == {"/municipality": ["type.object"]}


def test_from_plan_that_is_not_an_object():
    request = load_sample(CHILD_CARE)
    request["from_plan"] = "IAP-2019/087"
    assert agreement_errors(request) == {"/from_plan": ["type.object"]}


# --- structure ----------------------------------------------------------------------------------


def test_derived_figures_cannot_be_supplied():
    agreement = load_sample(CHILD_CARE)
    agreement["services"][0]["total"] = "1.00"
    agreement["services"][0]["months"] = 1
    agreement["totals"] = {"monthly": "1.00"}
    agreement["funding"] = {"esf_share": "100"}
    assert agreement_errors(agreement) == {
        "/services/0/total": ["unknown_field"],
        "/services/0/months": ["unknown_field"],
        "/totals": ["unknown_field"],
        "/funding": ["unknown_field"],
    }


def test_missing_required_parts():
    agreement = load_sample(CHILD_CARE)
    for key in ("number", "provider", "client", "decision", "plan", "services", "term", "signing"):
        del agreement[key]
    assert agreement_errors(agreement) == {
        f"/{key}": ["required"]
        for key in ("number", "provider", "client", "decision", "plan", "services", "term", "signing")
    }


def test_signing_is_paper_or_e_signature():
    agreement = load_sample(CHILD_CARE)
    agreement["signing"] = "fax"
    assert agreement_errors(agreement) == {"/signing": ["choice"]}


# --- everything at once -------------------------------------------------------------------------


def test_several_broken_rules_are_all_reported_at_once():
    agreement = load_sample(CHILD_CARE)
    agreement["nickname"] = "Elīziņa"  # unknown field
    agreement["copies"] = 5  # paper copies 2–4
    agreement["decision"]["date"] = "2019-12-02"  # after the agreement
    agreement["payment"]["act_due_day"] = 0
    del agreement["representative"]  # a minor without one
    agreement["services"][0]["quantity"] = "80.25"  # above the 80 hours of a child of nine
    agreement["services"][0]["end"] = "2020-12-31"  # after the term
    agreement["services"][1]["unit"] = "diena"  # ATELPA is counted in diennaktis
    agreement["provider"]["registration_number"] = "40103785916"  # wrong check digit
    assert agreement_errors(agreement) == {
        "/nickname": ["unknown_field"],
        "/provider/registration_number": ["registration_number.checksum"],
        "/payment/act_due_day": ["number.range"],
        "/representative": ["representative.required_minor"],
        "/decision/date": ["reference.after_document"],
        "/copies": ["number.range"],
        "/services/0/end": ["service.outside_term"],
        "/services/0/quantity": ["limit.child_care_hours"],
        "/services/1/unit": ["service.unit_mismatch"],
    }


def test_respite_limit_is_reported_together_with_an_error_in_a_line():
    # A problem of the whole list (/services) and one of a line (/services/0/...) in one report.
    agreement = load_sample(CHILD_CARE)
    agreement["services"][0]["end"] = "2020-12-31"  # after the term
    agreement["services"][1]["quantity"] = "3"  # 33 respite days in 2020
    assert agreement_errors(agreement) == {
        "/services/0/end": ["service.outside_term"],
        "/services": ["limit.respite_days"],
    }


def test_unknown_project_is_reported_together_with_other_rules():
    agreement = load_sample(ADULT_APLP)
    agreement["project"] = "ESF"
    agreement["aplp_level"] = "7"
    agreement["plan"]["date"] = "2020-02-01"
    assert agreement_errors(agreement) == {
        "/project": ["project.unknown"],
        "/aplp_level": ["limit.aplp_level"],
        "/plan/date": ["reference.after_document"],
    }


# --- properties: money adds up ------------------------------------------------------------------


@given(
    cents=st.integers(min_value=0, max_value=1_000_000_000),
    code=st.sampled_from(sorted(PROJECTS)),
)
def test_project_split_has_cents_and_adds_up_exactly(cents, code):
    total = Decimal(cents) / 100
    esf, state = projects.default()[code].split(total)
    assert esf.as_tuple().exponent == -2 and state.as_tuple().exponent == -2
    assert esf + state == total
    assert esf == half_up(total * Decimal(PROJECTS[code]["esf_share"]) / 100)
    assert 0 <= state <= total


TERM_START, TERM_END = dt.date(2019, 12, 1), dt.date(2020, 11, 30)  # the child sample's term
CARE, RESPITE = "APRB", "ATELPA"
CHILD_CODES = sorted(c for c, s in SERVICES.items() if "child_ft" in s["groups"] and c not in (CARE, RESPITE))


@st.composite
def agreement_lines(draw, code: str):
    """A valid raw agreement line of ``code`` within the child sample's term."""
    unit = SERVICES[code]["unit"]
    step = Decimal(CATALOGUE["units"][unit]["step"])
    # Hours up to the 80 of a child of nine for care, 744 otherwise; days and times up to 28
    # (fits every month); respite up to 2 a month (at most 24 a year in one line).
    most = {CARE: Decimal(80), RESPITE: Decimal(2)}.get(code) or (
        Decimal(744) if unit == "stunda" else Decimal(28)
    )
    quantity = step * draw(st.integers(min_value=1, max_value=int(most / step)))
    start = draw(st.dates(min_value=TERM_START, max_value=TERM_END))
    end = draw(st.dates(min_value=start, max_value=TERM_END))
    line = {
        "code": code,
        "unit": unit,
        "quantity": str(quantity),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "place": "Liepāja",
        "schedule": "pēc vienošanās",
    }
    if draw(st.booleans()):
        tariff = tariff_on(code, start)
        line["unit_price"] = str(Decimal(draw(st.integers(1, int(tariff * 100)))) / 100)
    return line


@st.composite
def agreement_services(draw):
    lines = draw(st.lists(st.sampled_from(CHILD_CODES).flatmap(agreement_lines), max_size=6))
    for code in (CARE, RESPITE):  # one line each at most, so the yearly and monthly caps hold
        if draw(st.booleans()):
            lines.insert(draw(st.integers(0, len(lines))), draw(agreement_lines(code)))
    if not lines:
        lines.append(draw(agreement_lines(CARE)))
    return lines


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=agreement_services(), project=st.sampled_from(sorted(PROJECTS)))
def test_agreement_totals_are_the_sums_of_rounded_lines_and_the_parts_add_up(lines, project):
    agreement = load_sample(CHILD_CARE)
    agreement["services"] = lines
    agreement["project"] = project

    loaded = load_agreement(agreement)

    expected = [expected_line(line) for line in lines]
    assert [
        (line["unit_price"], line["amount"], line["months"], line["total"]) for line in loaded["services"]
    ] == (expected)
    totals = loaded["totals"]
    assert totals["monthly"] == sum((amount for _, amount, _, _ in expected), Decimal("0.00"))
    assert totals["total"] == sum((line["total"] for line in loaded["services"]), Decimal("0.00"))
    assert (totals["esf"], totals["state"]) == expected_split(totals["total"], project)
    assert totals["esf"] + totals["state"] == totals["total"]
    for figure in (*totals.values(), *(line["total"] for line in loaded["services"])):
        assert isinstance(figure, Decimal) and figure.as_tuple().exponent == -2
