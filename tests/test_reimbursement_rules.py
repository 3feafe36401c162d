"""The reimbursement request: both samples load with exact derived figures, every rule is enforced.

Each rule test changes one thing in a fresh copy of a sample and compares the *whole* error report,
``{json pointer: [codes]}``. Expected figures are computed here from the TOML data files, not through
``schemas.catalogue`` or ``schemas.projects``, so a mistake there cannot hide itself.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import catalogue, reimbursement
from schemas.reimbursement import ReimbursementRequestSchema
from tests.helpers import (
    CATALOGUE,
    DATA,
    PROJECTS,
    SERVICES,
    freeze_today,
    half_up,
    load_reimbursement,
    load_sample,
    problems_at,
    reimbursement_errors,
    tariff_on,
)

BAUSKA = "reimbursement-request-bauska-2020-09"
LIEPAJA = "reimbursement-request-liepaja-2020-09"
Q3 = {"start": "2020-07-01", "end": "2020-09-30"}


def step_of(code: str) -> Decimal:
    return Decimal(CATALOGUE["units"][SERVICES[code]["unit"]]["step"])


def expected_figures(raw: dict) -> dict:
    """Lines, rows and totals a raw request should load with, computed independently."""
    lines = []
    groups: dict[tuple, list] = defaultdict(list)
    for line in raw["lines"]:
        day = dt.date.fromisoformat(line["date"])
        price = tariff_on(line["code"], day)
        units = Decimal(str(line["units"]))
        amount = half_up(units * price)
        lines.append((price, amount))
        groups[(line["agreement"], line["code"], price)].append((units, amount))
    rows = [
        (number, code, price, sum(u for u, _ in members), sum(a for _, a in members))
        for (number, code, price), members in sorted(groups.items())
    ]
    total = sum((amount for *_, amount in rows), Decimal("0.00"))
    esf = half_up(total * Decimal(PROJECTS[raw["project"]]["esf_share"]) / 100)
    return {"lines": lines, "rows": rows, "amount": total, "esf": esf, "state": total - esf}


def row_figures(request: dict) -> list[tuple]:
    return [(r["agreement"], r["code"], r["unit_cost"], r["quantity"], r["amount"]) for r in request["rows"]]


def codes(problems: dict) -> dict[str, list[str]]:
    return {pointer: [p.code for p in found] for pointer, found in problems.items()}


def indices(
    raw: dict, agreement: str, code: str | None = None, before: str = "9999", since: str = ""
) -> list:
    """Indices of the raw lines of ``agreement`` (and ``code``) dated in [since, before)."""
    return [
        index
        for index, line in enumerate(raw["lines"])
        if line["agreement"] == agreement and code in (None, line["code"]) and since <= line["date"] < before
    ]


def line(agreement: str, code: str, day: str, units: str = "1") -> dict:
    return {"agreement": agreement, "code": code, "date": day, "units": units}


# --- the samples ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", [BAUSKA, LIEPAJA])
def test_sample_loads_and_every_figure_follows_the_tariffs(name):
    raw = load_sample(name)
    request = load_reimbursement(load_sample(name))
    expected = expected_figures(raw)
    assert [(x["unit_price"], x["amount"]) for x in request["lines"]] == expected["lines"]
    assert row_figures(request) == expected["rows"]
    assert request["totals"]["amount"] == expected["amount"]
    assert (request["totals"]["esf"], request["totals"]["state"]) == (expected["esf"], expected["state"])
    assert request["totals"]["lines"] == len(raw["lines"])
    assert request["totals"]["clients"] == len({a["client"]["personal_code"] for a in raw["agreements"]})
    for figure in (*request["totals"].values(), *(r["amount"] for r in request["rows"])):
        assert not isinstance(figure, Decimal) or figure.as_tuple().exponent == -2


def test_bauska_sample_figures():
    request = load_reimbursement(load_sample(BAUSKA))
    rows = [
        (r["agreement"][-3:], r["code"], str(r["quantity"]), str(r["unit_cost"]), str(r["amount"]))
        for r in request["rows"]
    ]
    assert rows == [
        ("001", "APLP", "14.0", "11.50", "161.00"),
        ("001", "ATBG", "4", "14.00", "56.00"),
        ("001", "SDARB", "10", "19.60", "196.00"),
        ("001", "SK-PSIH", "2", "30.00", "60.00"),  # the 2020 tariff, not 28.00
        ("002", "SDARB", "10", "19.60", "196.00"),
        ("002", "SK-PSIH", "2", "30.00", "60.00"),
        ("003", "APLP", "14.0", "11.50", "161.00"),
        ("003", "ATBG", "4", "14.00", "56.00"),
        ("004", "DAC", "15", "22.50", "337.50"),  # the tariff of July 2020, not 21.34
        ("004", "SK-SOCD", "4", "18.00", "72.00"),
        ("005", "APRB", "60", "7.40", "444.00"),
        ("005", "SK-LOG", "4", "26.00", "104.00"),
        ("006", "ATELPA", "2", "45.00", "90.00"),
        ("006", "SK-ERGO", "4", "25.00", "100.00"),
        ("007", "ATBG", "4", "14.00", "56.00"),
        ("007", "SK-PSIH", "2", "30.00", "60.00"),
    ]
    assert request["totals"] == {
        "amount": Decimal("2209.50"),
        "esf": Decimal("1878.08"),  # 85 % is 1878.075: half up
        "state": Decimal("331.42"),
        "clients": 7,
        "lines": 96,
    }
    assert request["recipient"]["name"] == "Labklājības ministrija"
    assert request["funding"]["esf_share"] == Decimal("85.00")
    assert request["funding"]["state_share"] == Decimal("15.00")


def test_liepaja_sample_figures():
    request = load_reimbursement(load_sample(LIEPAJA))
    assert [(r["code"], str(r["amount"])) for r in request["rows"]] == [
        ("APRB", "444.00"),
        ("ATELPA", "90.00"),
        ("SK-ERGO", "100.00"),
        ("SK-LOG", "104.00"),
        ("SK-FIZ", "100.00"),
        ("SK-LOG", "104.00"),
        ("APRB", "444.00"),
        ("APLP", "161.00"),
        ("SK-PSIH", "60.00"),
        ("SDARB", "215.60"),
        ("ATELPA", "90.00"),
        ("SK-ERGO", "100.00"),
    ]
    assert request["totals"] == {
        "amount": Decimal("2012.60"),
        "esf": Decimal("1710.71"),
        "state": Decimal("301.89"),
        "clients": 6,
        "lines": 74,
    }


def test_zemgale_project_splits_86_69_per_cent_esf():
    raw = load_sample(BAUSKA)
    raw["project"] = "ZEMGALE-DI"
    request = load_reimbursement(raw)
    assert request["totals"]["amount"] == Decimal("2209.50")
    assert request["totals"]["esf"] == Decimal("1915.42")  # 1915.41555
    assert request["totals"]["state"] == Decimal("294.08")
    assert request["funding"] == {
        "project_name": "Atver sirdi Zemgalē",
        "project_number": "9.2.2.1/15/I/001",
        "esf_share": Decimal("86.69"),
        "state_share": Decimal("13.31"),
    }
    assert request["recipient"]["name"] == "Zemgales plānošanas reģions"


@pytest.mark.parametrize(
    ("period", "days", "price"),
    [
        ({"start": "2020-04-01", "end": "2020-06-30"}, ["2020-04-01", "2020-06-30"], "21.34"),
        (Q3, ["2020-07-01", "2020-09-30"], "22.50"),
        ("2020-06", ["2020-06-30"], "21.34"),
        ("2020-07", ["2020-07-01"], "22.50"),
    ],
)
def test_each_line_is_priced_at_the_tariff_in_force_on_its_date(period, days, price):
    raw = load_sample(BAUSKA)
    raw["period"] = period
    raw["lines"] = [line("BNP-L-2020/004", "DAC", day) for day in days]
    request = load_reimbursement(raw)
    assert [str(x["unit_price"]) for x in request["lines"]] == [price] * len(days)
    assert row_figures(request) == [
        ("BNP-L-2020/004", "DAC", Decimal(price), len(days), Decimal(price) * len(days))
    ]


def test_a_tariff_change_inside_the_period_makes_one_row_per_unit_cost(monkeypatch, tmp_path):
    text = (DATA / "catalogue.toml").read_text(encoding="utf-8")
    psih = '  { from = 2020-01-01, price = "30.00" },\n'
    assert text.count(psih) == 1  # SK-PSIH's 2020 tariff
    changed = tmp_path / "catalogue.toml"
    changed.write_text(
        text.replace(psih, psih + '  { from = 2020-09-16, price = "32.00" },\n'), encoding="utf-8"
    )
    with_change = catalogue.load(changed)
    monkeypatch.setattr(catalogue, "default", lambda: with_change)
    request = load_reimbursement(load_sample(BAUSKA))
    psih_rows = [row for row in row_figures(request) if row[1] == "SK-PSIH"]
    assert psih_rows == [
        ("BNP-L-2020/001", "SK-PSIH", Decimal("30.00"), 1, Decimal("30.00")),  # 7 September
        ("BNP-L-2020/001", "SK-PSIH", Decimal("32.00"), 1, Decimal("32.00")),  # 22 September
        ("BNP-L-2020/002", "SK-PSIH", Decimal("30.00"), 1, Decimal("30.00")),
        ("BNP-L-2020/002", "SK-PSIH", Decimal("32.00"), 1, Decimal("32.00")),
        ("BNP-L-2020/007", "SK-PSIH", Decimal("32.00"), 2, Decimal("64.00")),
    ]
    assert request["totals"]["amount"] == Decimal("2217.50")  # 2209.50 + 4 × 2.00


def test_rows_are_sorted_by_agreement_service_and_unit_cost_whatever_the_line_order():
    raw = load_sample(BAUSKA)
    raw["lines"].reverse()
    request = load_reimbursement(raw)
    assert row_figures(request) == row_figures(load_reimbursement(load_sample(BAUSKA)))


# --- project and period ---------------------------------------------------------------------


def test_unknown_project():
    raw = load_sample(BAUSKA)
    raw["project"] = "LATGALE-DI"
    assert reimbursement_errors(raw) == {"/project": ["project.unknown"]}


def keep_lines_in(raw: dict, start: str, end: str) -> dict:
    raw["lines"] = [x for x in raw["lines"] if start <= x["date"] <= end]
    return raw


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2020-08-01", "2020-10-31"),  # three months, not a calendar quarter
        ("2020-08-02", "2020-09-01"),  # a month's length, not a calendar month
        ("2020-09-01", "2020-09-29"),  # not the whole month
        ("2020-09-02", "2020-09-30"),
        ("2020-09-01", "2020-10-31"),  # two months
        ("2020-07-01", "2020-12-31"),  # half a year
        ("2020-09-15", "2020-09-15"),  # one day
    ],
)
def test_period_not_a_calendar_month_or_quarter(start, end):
    raw = keep_lines_in(load_sample(BAUSKA), start, end)
    raw["period"] = {"start": start, "end": end}
    assert reimbursement_errors(raw) == {"/period": ["period.month_or_quarter"]}


@pytest.mark.parametrize(
    "period",
    [
        "2020-09",
        {"start": "2020-09-01", "end": "2020-09-30"},
        Q3,
        {"start": "2020-07-01", "end": "2020-09-30"},
    ],
)
def test_calendar_month_or_quarter_is_accepted(period):
    raw = load_sample(BAUSKA)
    raw["period"] = period
    assert reimbursement_errors(raw) == {}


def shifted_request(period, day: str) -> dict:
    """The Bauska request with every agreement running Oct 2023 - Dec 2024 and one line on ``day``."""
    raw = load_sample(BAUSKA)
    raw["period"] = period
    for agreement in raw["agreements"]:
        agreement["term"] = {"start": "2023-10-01", "end": "2024-12-31"}
        for service in agreement["services"]:
            service["start"], service["end"] = "2023-10-01", "2024-12-31"
    raw["lines"] = [line("BNP-L-2020/001", "APLP", day, "2")]
    return raw


def test_period_outside_the_project_window():
    raw = shifted_request("2024-01", "2024-01-08")  # the IBM project ends 2023-12-31
    assert reimbursement_errors(raw) == {"/period": ["project.outside_window"]}


def test_period_at_the_end_of_the_project_window_is_accepted():
    raw = shifted_request({"start": "2023-10-01", "end": "2023-12-31"}, "2023-12-29")
    assert load_reimbursement(raw)["totals"]["amount"] == Decimal("23.00")


# --- lines against agreements ---------------------------------------------------------------


def test_line_with_an_unknown_agreement_is_an_error_not_a_zero():
    raw = load_sample(BAUSKA)
    raw["lines"][0]["agreement"] = "BNP-L-2020/999"
    assert reimbursement_errors(raw) == {"/lines/0/agreement": ["reimbursement.unknown_agreement"]}


def test_line_for_a_service_not_in_its_agreement():
    raw = load_sample(BAUSKA)
    raw["lines"][0]["code"] = "DAC"  # agreement 001 has no day-care centre
    assert reimbursement_errors(raw) == {"/lines/0/code": ["delivery.service_not_agreed"]}


def test_line_with_a_code_not_in_the_catalogue():
    raw = load_sample(BAUSKA)
    raw["lines"][0]["code"] = "NOPE"
    assert reimbursement_errors(raw) == {
        "/lines/0/code": ["service.unknown_code", "delivery.service_not_agreed"]
    }


def test_line_before_its_agreed_service_starts():
    raw = load_sample(BAUSKA)
    raw["agreements"][0]["services"][0]["start"] = "2020-09-10"  # APLP of 001 from 10 September
    assert reimbursement_errors(raw) == {"/lines/0/date": ["delivery.outside_agreement"]}


def test_line_after_the_agreements_term_ends():
    raw = load_sample(BAUSKA)
    raw["agreements"][1]["term"]["end"] = "2020-09-20"
    # the agreement's own services now run past its term, and say so too
    services_past_the_term = {
        f"/agreements/1/services/{j}/end": ["service.outside_term"]
        for j in range(len(raw["agreements"][1]["services"]))
    }
    assert reimbursement_errors(raw) == services_past_the_term | {
        f"/lines/{i}/date": ["delivery.outside_agreement"]
        for i in indices(raw, "BNP-L-2020/002", since="2020-09-21")
    }


@pytest.mark.parametrize("day", ["2020-08-31", "2020-10-01"])
def test_line_outside_the_request_period(day):
    raw = load_sample(BAUSKA)
    raw["lines"][0]["date"] = day
    assert reimbursement_errors(raw) == {"/lines/0/date": ["reimbursement.outside_period"]}


def test_line_after_today_is_in_the_future(monkeypatch):
    freeze_today(monkeypatch, reimbursement, dt.date(2020, 9, 29))
    raw = load_sample(BAUSKA)
    last_day = [i for i, x in enumerate(raw["lines"]) if x["date"] == "2020-09-30"]
    assert last_day
    assert reimbursement_errors(raw) == {f"/lines/{i}/date": ["delivery.future"] for i in last_day}


def test_line_on_today_is_not_in_the_future(monkeypatch):
    freeze_today(monkeypatch, reimbursement, dt.date(2020, 9, 30))
    assert reimbursement_errors(load_sample(BAUSKA)) == {}


def test_line_after_the_real_today_is_in_the_future():
    raw = load_sample(BAUSKA)
    raw["lines"][0]["date"] = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    assert reimbursement_errors(raw) == {
        "/lines/0/date": ["reimbursement.outside_period", "delivery.future", "delivery.outside_agreement"]
    }


@pytest.mark.parametrize(
    ("index", "units"),
    [
        (0, "1.1"),  # APLP hours: quarter steps
        (0, "2.3"),
        (7, "1.5"),  # ATBG reizes: whole
        (11, "0.5"),  # SDARB days: whole
        (84, "1.25"),  # ATELPA diennaktis: whole
    ],
)
def test_units_not_in_the_units_steps(index, units):
    raw = load_sample(BAUSKA)
    assert raw["lines"][84]["code"] == "ATELPA"
    raw["lines"][index]["units"] = units
    assert reimbursement_errors(raw) == {f"/lines/{index}/units": ["number.step"]}


@pytest.mark.parametrize(("index", "code"), [(11, "SDARB"), (47, "DAC"), (84, "ATELPA")])
def test_a_day_service_twice_on_one_day(index, code):
    raw = load_sample(BAUSKA)
    assert raw["lines"][index]["code"] == code
    raw["lines"].append(dict(raw["lines"][index]))
    raw["lines"][-1]["units"] = "1"
    if code != "SDARB":  # as many agreed as delivered: make room for the extra one
        raw["lines"].pop(index + 1)
    problems = problems_at(ReimbursementRequestSchema(), raw)
    last = len(raw["lines"]) - 1
    assert codes(problems) == {f"/lines/{last}/date": ["delivery.duplicate_day"]}
    assert problems[f"/lines/{last}/date"][0].params == {"other": index}


def test_the_same_day_service_for_two_clients_on_one_day_is_fine():
    raw = load_sample(BAUSKA)
    assert raw["lines"][13]["date"] == "2020-09-08" and raw["lines"][13]["code"] == "SDARB"
    raw["lines"].append(line("BNP-L-2020/002", "SDARB", "2020-09-08"))  # 002 has 10 of 12 days
    assert reimbursement_errors(raw) == {}


def test_a_reize_service_twice_on_one_day_is_not_a_duplicate():
    raw = load_sample(BAUSKA)
    assert [x["code"] for x in raw["lines"][7:9]] == ["ATBG", "ATBG"]
    raw["lines"][8]["date"] = raw["lines"][7]["date"]  # two group sessions on 4 September
    assert reimbursement_errors(raw) == {}


def test_monthly_units_above_the_agreed_quantity_are_reported_at_the_first_line():
    raw = load_sample(BAUSKA)
    raw["lines"].append(line("BNP-L-2020/001", "APLP", "2020-09-29", "3"))  # 14 + 3 > 16 hours
    problems = problems_at(ReimbursementRequestSchema(), raw)
    assert codes(problems) == {"/lines/0/units": ["delivery.above_plan"]}
    assert problems["/lines/0/units"][0].params == {
        "code": "APLP",
        "actual": Decimal("17.0"),
        "planned": Decimal("16"),
    }


def test_monthly_units_equal_to_the_agreed_quantity_are_accepted():
    raw = load_sample(BAUSKA)
    raw["lines"].append(line("BNP-L-2020/001", "APLP", "2020-09-29", "2"))  # exactly 16 hours
    assert reimbursement_errors(raw) == {}


def test_agreed_quantity_is_per_calendar_month_in_a_quarter():
    raw = load_sample(BAUSKA)
    raw["period"] = Q3
    raw["lines"] = [
        line("BNP-L-2020/002", "SK-PSIH", day, "1")
        for day in ("2020-07-06", "2020-07-20", "2020-08-03", "2020-08-17", "2020-09-07", "2020-09-21")
    ]
    assert reimbursement_errors(raw) == {}  # 2 a month, 6 in the quarter
    raw["lines"].append(line("BNP-L-2020/002", "SK-PSIH", "2020-08-31", "1"))
    assert reimbursement_errors(raw) == {"/lines/2/units": ["delivery.above_plan"]}


def respite_quarter(days_a_month: int) -> dict:
    raw = load_sample(BAUSKA)
    raw["period"] = Q3
    raw["agreements"][5]["services"][1]["quantity"] = "11"  # ATELPA of 006
    raw["lines"] = [
        line("BNP-L-2020/006", "ATELPA", f"2020-{month:02}-{day:02}")
        for month in (7, 8, 9)
        for day in range(1, days_a_month + 1)
    ]
    return raw


def test_respite_days_over_30_a_calendar_year():
    problems = problems_at(ReimbursementRequestSchema(), respite_quarter(11))
    assert codes(problems) == {"/lines": ["limit.respite_days"]}
    assert problems["/lines"][0].params == {"year": 2020, "days": Decimal(33), "max": Decimal(30)}


def test_respite_days_of_30_a_year_are_accepted():
    request = load_reimbursement(respite_quarter(10))
    assert row_figures(request) == [("BNP-L-2020/006", "ATELPA", Decimal("45.00"), 30, Decimal("1350.00"))]


# --- clients ---------------------------------------------------------------------------------


def test_child_turning_18_in_the_period_is_refused_from_the_birthday():
    raw = load_sample(BAUSKA)
    raw["agreements"][5]["client"]["birth_date"] = "2002-09-12"  # new-format code, child_ft
    adult_days = indices(raw, "BNP-L-2020/006", since="2020-09-12")
    assert len(adult_days) == 3
    assert reimbursement_errors(raw) == {f"/lines/{i}/date": ["target_group.age_child"] for i in adult_days}


def test_adult_group_client_under_18_is_refused_until_the_birthday():
    raw = load_sample(BAUSKA)
    raw["agreements"][6]["client"] = {
        "personal_code": "329876-54321",
        "birth_date": "2002-09-25",
        "target_group": "adult_grt",
    }
    minor_days = indices(raw, "BNP-L-2020/007", before="2020-09-25")
    assert len(minor_days) == 2
    assert reimbursement_errors(raw) == {f"/lines/{i}/date": ["target_group.age_adult"] for i in minor_days}


def test_duplicate_agreement_numbers():
    raw = load_sample(BAUSKA)
    raw["agreements"].append(dict(raw["agreements"][0]))
    assert reimbursement_errors(raw) == {"/agreements/7/number": ["list.duplicate"]}


def test_new_format_personal_code_in_an_agreement_needs_a_birth_date():
    raw = load_sample(BAUSKA)
    del raw["agreements"][5]["client"]["birth_date"]
    assert reimbursement_errors(raw) == {"/agreements/5/client/birth_date": ["birth_date.required"]}


def test_birth_date_contradicting_an_old_format_code_in_an_agreement():
    raw = load_sample(BAUSKA)
    raw["agreements"][0]["client"]["birth_date"] = "1985-03-16"  # the code says 15 March
    assert reimbursement_errors(raw) == {"/agreements/0/client/birth_date": ["birth_date.mismatch"]}


# --- broken data and everything at once -----------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            lambda r: r["lines"][0].update(units="two"),
            {"/lines/0/units": ["type.number"]},
            id="units not a number",
        ),
        pytest.param(
            lambda r: r["lines"][0].pop("date"), {"/lines/0/date": ["required"]}, id="line without date"
        ),
        pytest.param(
            lambda r: r["lines"][0].update(code=5), {"/lines/0/code": ["type.string"]}, id="code not text"
        ),
        pytest.param(lambda r: r.update(lines=["x"]), {"/lines/0": ["type.object"]}, id="line not an object"),
        pytest.param(lambda r: r.pop("lines"), {"/lines": ["required"]}, id="no lines"),
        pytest.param(
            lambda r: r["agreements"][0]["services"][0].update(quantity="x"),
            {"/agreements/0/services/0/quantity": ["type.number"]},
            id="agreed quantity not a number",
        ),
    ],
)
def test_broken_fields_are_reported_without_a_crash(change, expected):
    raw = load_sample(BAUSKA)
    change(raw)
    assert reimbursement_errors(raw) == expected


def test_units_above_the_agreed_quantity_are_reported_together_with_other_problems():
    raw = load_sample(BAUSKA)
    raw["lines"].append(line("BNP-L-2020/001", "APLP", "2020-09-29", "3"))  # 17 of 16 hours
    raw["lines"][20]["date"] = "2020-10-01"  # outside the period
    assert reimbursement_errors(raw) == {
        "/lines/0/units": ["delivery.above_plan"],
        "/lines/20/date": ["reimbursement.outside_period"],
    }


def test_several_broken_rules_are_all_reported_at_once():
    raw = load_sample(BAUSKA)
    raw["note"] = "steidzami"  # unknown field
    raw["period"] = {"start": "2020-09-01", "end": "2020-10-31"}  # two months
    raw["lines"][0]["agreement"] = "BNP-L-2020/999"  # no such agreement
    raw["lines"][1]["units"] = "2.1"  # not a quarter hour
    raw["lines"][21]["code"] = "DAC"  # not agreed in 001
    raw["lines"][23]["date"] = "2020-08-31"  # outside the period
    raw["agreements"][3]["services"][0]["start"] = "2020-09-05"  # DAC of 004 from 5 September
    raw["agreements"][5]["client"]["birth_date"] = "2002-09-12"  # turns 18 on 12 September
    raw["lines"].append(line("BNP-L-2020/002", "SDARB", "2020-09-09"))  # the same day twice
    raw["lines"].append(line("BNP-L-2020/003", "APLP", "2020-09-30", "3"))  # 14 + 3 > 16 hours
    assert reimbursement_errors(raw) == {
        "/note": ["unknown_field"],
        "/period": ["period.month_or_quarter"],
        "/lines/0/agreement": ["reimbursement.unknown_agreement"],
        "/lines/1/units": ["number.step"],
        "/lines/21/code": ["delivery.service_not_agreed"],
        "/lines/23/date": ["reimbursement.outside_period"],
        "/lines/46/date": ["delivery.outside_agreement"],  # 3 September
        **{
            f"/lines/{i}/date": ["target_group.age_child"]
            for i in indices(raw, "BNP-L-2020/006", since="2020-09-12")
        },
        f"/lines/{len(raw['lines']) - 2}/date": ["delivery.duplicate_day"],
        f"/lines/{indices(raw, 'BNP-L-2020/003', 'APLP')[0]}/units": ["delivery.above_plan"],
    }


# --- properties: the money adds up ----------------------------------------------------------

AGREEMENTS = load_sample(BAUSKA)["agreements"]
PERIODS = [
    (dt.date(2020, 4, 1), dt.date(2020, 6, 30)),  # DAC at 21.34
    (dt.date(2020, 7, 1), dt.date(2020, 9, 30)),  # DAC at 22.50
    (dt.date(2020, 9, 1), dt.date(2020, 9, 30)),
    (dt.date(2020, 10, 1), dt.date(2020, 12, 31)),
]
WEEKDAYS = {
    period: [
        period[0] + dt.timedelta(days=n)
        for n in range((period[1] - period[0]).days + 1)
        if (period[0] + dt.timedelta(days=n)).weekday() < 5
    ]
    for period in PERIODS
}


@st.composite
def requests(draw):
    """A valid request on the Bauska agreements: agreed services on weekdays of the period, units in
    the unit's steps, each month within the agreed quantity, a day unit at most once a day."""
    period = draw(st.sampled_from(PERIODS))
    picks = draw(
        st.lists(
            st.tuples(
                st.sampled_from(range(len(AGREEMENTS))),
                st.integers(min_value=0, max_value=3),
                st.sampled_from(WEEKDAYS[period]),
                st.integers(min_value=1, max_value=32),
            ),
            min_size=1,
            max_size=40,
        )
    )
    used: dict[tuple, Decimal] = defaultdict(Decimal)
    days: set[tuple] = set()
    lines = []
    for agreement_index, service_index, day, count in picks:
        agreement = AGREEMENTS[agreement_index]
        service = agreement["services"][service_index % len(agreement["services"])]
        code, step = service["code"], step_of(service["code"])
        month = (agreement["number"], code, day.year, day.month)
        if step >= 1 and (agreement["number"], code, day) in days:
            continue
        units = min(step * count if step < 1 else Decimal(1), Decimal(service["quantity"]) - used[month])
        if units <= 0:
            continue
        used[month] += units
        days.add((agreement["number"], code, day))
        lines.append(
            {
                "agreement": agreement["number"],
                "code": code,
                "date": day.isoformat(),
                "units": draw(st.sampled_from([str(units), int(units) if units % 1 == 0 else float(units)])),
            }
        )
    raw = load_sample(BAUSKA)
    raw["project"] = draw(st.sampled_from(sorted(PROJECTS)))
    raw["period"] = {"start": period[0].isoformat(), "end": period[1].isoformat()}
    raw["lines"] = lines
    return raw


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=requests())
def test_rows_add_up_to_the_total_and_the_total_splits_exactly(raw):
    request = load_reimbursement(raw)
    expected = expected_figures(raw)
    total = request["totals"]["amount"]
    assert [(x["unit_price"], x["amount"]) for x in request["lines"]] == expected["lines"]
    assert sum((row["amount"] for row in request["rows"]), Decimal("0.00")) == total == expected["amount"]
    groups: dict[tuple, list] = defaultdict(list)
    for x in request["lines"]:
        groups[(x["agreement"], x["code"], x["unit_price"])].append(x)
    for row in request["rows"]:
        members = groups[(row["agreement"], row["code"], row["unit_cost"])]
        assert row["amount"] == sum(x["amount"] for x in members)
    assert request["totals"]["esf"] + request["totals"]["state"] == total
    share = Decimal(PROJECTS[raw["project"]]["esf_share"])
    assert request["totals"]["esf"] == half_up(total * share / 100)
    assert request["totals"]["state"] == total - half_up(total * share / 100)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=requests())
def test_row_quantity_is_the_sum_of_its_lines_units(raw):
    request = load_reimbursement(raw)
    units: dict[tuple, Decimal] = defaultdict(Decimal)
    for x in request["lines"]:
        units[(x["agreement"], x["code"], x["unit_price"])] += x["units"]
    assert {(r["agreement"], r["code"], r["unit_cost"]): r["quantity"] for r in request["rows"]} == units
    assert [(r["agreement"], r["code"], r["unit_cost"]) for r in request["rows"]] == sorted(units)
    assert sum(r["quantity"] for r in request["rows"]) == sum(Decimal(str(x["units"])) for x in raw["lines"])


def test_services_of_an_accepted_agreement_are_checked_themselves():
    raw = load_sample(BAUSKA)
    services = raw["agreements"][0]["services"]
    services[0]["code"] = "GASIST"  # a child's family assistant, in an adult's agreement
    services[1]["start"], services[1]["end"] = "2020-12-01", "2020-11-30"
    services[2]["end"] = "2021-06-30"  # after the agreement's term
    errors = reimbursement_errors(raw)
    assert errors["/agreements/0/services/0/code"] == ["service.wrong_target_group"]
    assert errors["/agreements/0/services/1/end"] == ["period.reversed"]
    assert errors["/agreements/0/services/2/end"] == ["service.outside_term"]
