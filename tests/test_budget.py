"""A client's budget: planned, contracted and delivered per month and service, against the monthly and
the period budget — as JSON, as XLSX and from the command line, on SQLite and on a real PostgreSQL.

The case is made through the API: a plan of two services over three months (September–November 2020),
an agreement for each, one amended (12 hours in place of 16), one ended early (15 October). Delivered
lines stand in for accepted acts: rows with their submission, as acceptance writes them.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from service.cases.budget import in_force, plan_in_force, versions_of
from service.cli import main
from service.store import database
from service.store.models import AuditEntry
from tests.case_helpers import AGREEMENT, ENDING, deliver, make_client
from tests.helpers import ADULT_SUPPORT_PERSON, load_sample

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


def three_month_plan() -> dict:
    """The adult sample narrowed to APLP (16 h) from September and a group (4 × 12,50 €) from October."""
    plan = load_sample(ADULT_SUPPORT_PERSON)
    plan["period"] = {"start": "2020-09-01", "end": "2020-11-30"}
    plan["review_date"] = "2020-11-15"
    plan["budget"] = dict(plan["budget"], monthly="250.00", period="360.00")
    aplp, group = plan["services"][0], plan["services"][3]
    plan["services"] = [
        dict(aplp, start="2020-09-01", end="2020-11-30"),
        dict(group, start="2020-10-01", end="2020-11-30"),
    ]
    for goal in plan["goals"]:
        for short in goal["short_term"]:
            short["deadline"] = "2020-11-30"
    return plan


@pytest.fixture
def case(app, user_headers):
    """The client, its approved plan and two agreements: (client id, {"aplp": id, "group": id})."""
    api, headers = app.test_client(), user_headers("social_worker", "bauska")
    client_url = make_client(api, headers)
    plan_url = api.post(f"{client_url}/plans", headers=headers).json["url"]
    etag = api.get(f"{plan_url}/draft", headers=headers).headers["ETag"]
    saved = api.put(f"{plan_url}/draft", json=three_month_plan(), headers={**headers, "If-Match": etag})
    assert saved.status_code == 200 and saved.json["problems"] == [], saved.json
    approved = api.post(f"{plan_url}/approve", headers={**headers, "If-Match": saved.headers["ETag"]})
    assert approved.status_code == 201, approved.json
    made = {}
    for name, index in (("aplp", 0), ("group", 1)):
        request = copy.deepcopy(AGREEMENT)
        request["from_plan"]["lines"] = [dict(AGREEMENT["from_plan"]["lines"][0], index=index)]
        answer = api.post(f"{plan_url}/versions/1/agreements", json=request, headers=headers)
        assert answer.status_code == 201, answer.json
        made[name] = answer.json
    amendment = copy.deepcopy(AGREEMENT)
    amendment["from_plan"]["lines"] = amendment["from_plan"]["lines"][:1]
    amendment["services"] = [
        {
            "code": "APLP",
            "unit": "stunda",
            "quantity": "12",
            "start": "2020-09-01",
            "end": "2020-11-30",
            "place": "klienta dzīvesvieta",
            "schedule": "pirmdienās",
        }
    ]
    aplp = made["aplp"]
    amended = api.post(f"{aplp['url']}/amend", json=amendment, headers={**headers, "If-Match": '"1"'})
    assert amended.status_code == 200 and amended.json["versions"][-1]["number"] == 2, amended.json
    ending = dict(ENDING, date="2020-10-15")
    group = made["group"]
    ended = api.post(f"{group['url']}/end", json=ending, headers={**headers, "If-Match": '"1"'})
    assert ended.status_code == 200, ended.json
    return aplp["client_id"], {"aplp": aplp["id"], "group": group["id"]}


@pytest.fixture
def delivered(app, case):
    client_id, agreements = case
    deliver(app, client_id, agreements["aplp"], "2020-09", ("APLP", "16", "184.00"))
    deliver(app, client_id, agreements["aplp"], "2020-10", ("APLP", "10", "115.00"))
    deliver(app, client_id, agreements["group"], "2020-10", ("ATBG", "2", "25.00"))
    return client_id, agreements


def reader(app, user_headers, role="finance_officer", municipality="bauska"):
    api = app.test_client()
    api.environ_base["HTTP_AUTHORIZATION"] = user_headers(role, municipality)["Authorization"]
    return api


def services_of(month: dict) -> dict[str, dict]:
    return {service["code"]: service for service in month["services"]}


def test_planned_contracted_and_delivered_add_up_per_month_and_service(app, user_headers, delivered):
    client_id, _ = delivered
    answer = reader(app, user_headers).get(f"/api/v1/clients/{client_id}/budget")
    assert answer.status_code == 200, answer.json
    budget = answer.json
    assert budget["plan"]["period_start"] == "2020-09-01" and budget["plan"]["period_budget"] == "360.00"
    assert [m["month"] for m in budget["months"]] == ["2020-09", "2020-10", "2020-11"]
    september, october, november = budget["months"]

    # The group starts in October; the amended agreement counts 12 hours, the ended one only October.
    assert set(services_of(september)) == {"APLP"}
    aplp = services_of(september)["APLP"]
    assert aplp["name"] == "atbalsta persona lēmumu pieņemšanā" and aplp["unit"] == "stunda"
    assert (aplp["planned_units"], aplp["planned_amount"]) == ("16.00", "184.00")
    assert (aplp["contracted_units"], aplp["contracted_amount"]) == ("12.00", "138.00")
    assert (aplp["delivered_units"], aplp["delivered_amount"]) == ("16.00", "184.00")
    group = services_of(october)["ATBG"]
    assert (group["planned_amount"], group["contracted_amount"], group["delivered_amount"]) == (
        "50.00",
        "50.00",
        "25.00",
    )
    assert services_of(november)["ATBG"]["contracted_units"] == "0.00"

    assert [(m["planned"], m["contracted"], m["delivered"]) for m in budget["months"]] == [
        ("184.00", "138.00", "184.00"),
        ("234.00", "188.00", "140.00"),
        ("234.00", "138.00", "0.00"),
    ]
    assert [(m["monthly_budget"], m["remaining"], m["month_over"]) for m in budget["months"]] == [
        ("250.00", "66.00", False),
        ("250.00", "110.00", False),
        ("250.00", "250.00", False),
    ]
    assert [
        (m["delivered_cumulative"], m["period_remaining"], m["percent_used"]) for m in budget["months"]
    ] == [
        ("184.00", "176.00", "51.1"),
        ("324.00", "36.00", "90.0"),
        ("324.00", "36.00", "90.0"),
    ]
    assert [m["warning"] for m in budget["months"]] == [False, True, True]  # 90 % is the default

    periods = {service["code"]: service for service in budget["services"]}
    assert (periods["APLP"]["planned_amount"], periods["APLP"]["remaining_amount"]) == ("552.00", "253.00")
    assert (periods["ATBG"]["remaining_units"], periods["ATBG"]["contracted_amount"]) == ("6.00", "50.00")
    assert budget["totals"] == {
        "planned": "652.00",
        "contracted": "464.00",
        "delivered": "324.00",
        "delivered_cumulative": "324.00",
        "period_remaining": "36.00",
        "percent_used": "90.0",
        "warning": True,
        "over": False,
    }


def test_past_the_monthly_and_the_period_budget_is_flagged(app, user_headers, delivered):
    client_id, agreements = delivered
    deliver(app, client_id, agreements["aplp"], "2020-11", ("APLP", "16", "184.00"), ("ATBG", "8", "100.00"))
    budget = reader(app, user_headers).get(f"/api/v1/clients/{client_id}/budget").json
    november = budget["months"][2]
    assert (november["delivered"], november["remaining"], november["month_over"]) == (
        "284.00",
        "-34.00",
        True,
    )
    assert (november["percent_used"], november["period_remaining"], november["over"]) == (
        "168.9",
        "-248.00",
        True,
    )
    assert budget["months"][0]["over"] is False
    assert budget["totals"]["over"] is True and budget["totals"]["warning"] is True


def test_the_spreadsheet_holds_the_same_figures(app, user_headers, delivered):
    client_id, _ = delivered
    api = reader(app, user_headers, "social_worker")
    answer = api.get(f"/api/v1/clients/{client_id}/budget.xlsx")
    assert answer.status_code == 200
    assert answer.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert f"{client_id}.xlsx" in answer.headers["Content-Disposition"]
    assert "Gail" not in answer.headers["Content-Disposition"]
    assert api.get(f"/api/v1/clients/{client_id}/budget.xlsx").data == answer.data  # deterministic

    book = openpyxl.load_workbook(io.BytesIO(answer.data))
    assert book.sheetnames == ["Budžets", "Kopsavilkums"]
    sheet = book["Budžets"]
    assert sheet.freeze_panes == "A2"
    header = [cell.value for cell in sheet[1]]
    assert header[:9] == [
        "Mēnesis",
        "Pakalpojums",
        "Vienība",
        "Plānots (vien.)",
        "Plānots (EUR)",
        "Līgumos (vien.)",
        "Līgumos (EUR)",
        "Sniegts (vien.)",
        "Sniegts (EUR)",
    ]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    assert [(row[0].strftime("%Y-%m"), row[1]) for row in rows] == [
        ("2020-09", "APLP atbalsta persona lēmumu pieņemšanā"),
        ("2020-09", "Kopā mēnesī"),
        ("2020-10", "APLP atbalsta persona lēmumu pieņemšanā"),
        ("2020-10", "ATBG atbalsta grupa / grupu nodarbība"),
        ("2020-10", "Kopā mēnesī"),
        ("2020-11", "APLP atbalsta persona lēmumu pieņemšanā"),
        ("2020-11", "ATBG atbalsta grupa / grupu nodarbība"),
        ("2020-11", "Kopā mēnesī"),
    ]
    assert rows[0][2:9] == ["stunda", 16, 184, 12, 138, 16, 184]
    october = rows[4]
    assert october[4:15:2] == [234, 188, 140, 110, 36, "tuvu perioda budžetam"]
    assert october[9:14] == [250, 110, 324, 36, 90]
    assert sheet.cell(2, 5).number_format == '#,##0.00 "€"' and sheet.cell(2, 4).number_format == "#,##0.00"

    summary = {row[0].value: row[1].value for row in book["Kopsavilkums"].iter_rows() if row[0].value}
    assert summary["Klients"] == "Ēriks Gailītis" and summary["Klienta ID"] == client_id
    assert summary["Periods"] == "01.09.2020.–30.11.2020."
    assert summary["Perioda budžets (EUR)"] == 360 and summary["Perioda atlikums (EUR)"] == 36
    assert summary["Izlietots (%)"] == 90 and summary["Stāvoklis"] == "tuvu perioda budžetam"


def test_a_client_without_a_plan_has_an_empty_budget(app, user_headers):
    api = reader(app, user_headers, "social_worker")
    client_id = make_client(api, {}).rsplit("/", 1)[1]
    budget = api.get(f"/api/v1/clients/{client_id}/budget").json
    assert budget == {
        "client_id": client_id,
        "warn_percent": 90,
        "plan": None,
        "months": [],
        "services": [],
        "totals": None,
    }
    sheet = openpyxl.load_workbook(io.BytesIO(api.get(f"/api/v1/clients/{client_id}/budget.xlsx").data))
    assert sheet["Budžets"]["A2"].value == "Klientam nav apstiprināta atbalsta plāna."


def test_the_budget_is_a_read_of_the_case_other_municipalities_and_reviewers_get_none(
    app, user_headers, case
):
    client_id, _ = case
    for path in ("budget", "budget.xlsx"):
        url = f"/api/v1/clients/{client_id}/{path}"
        assert reader(app, user_headers, "finance_officer", "liepaja").get(url).status_code == 404
        assert reader(app, user_headers, "reviewer", "lm").get(url).status_code == 403
        assert reader(app, user_headers, "administrator").get(url).status_code == 200
    with database(app).session() as session:
        reads = session.scalars(select(AuditEntry.object_type).where(AuditEntry.object_id == client_id)).all()
    assert reads.count("budget") == 2  # the administrator's two; refused requests read nothing


def test_the_month_asked_for_picks_its_plan_and_the_rule_is_the_acceptance_stops(app, user_headers, case):
    client_id, _ = case
    api = reader(app, user_headers)
    assert api.get(f"/api/v1/clients/{client_id}/budget?month=2020-10").json["plan"]["version"] == 1
    assert api.get(f"/api/v1/clients/{client_id}/budget?month=2020-13").status_code == 422
    with database(app).session() as session:
        versions = versions_of(session, client_id)
        for month in ("2020-08", "2020-09", "2020-11", "2020-12"):
            found = plan_in_force(session, client_id, month)
            assert found is in_force(versions, month), month
        assert plan_in_force(session, client_id, "2020-12") is None


def test_the_command_line_writes_the_spreadsheet_or_prints_json(app, delivered, tmp_path, monkeypatch):
    import service

    client_id, _ = delivered
    monkeypatch.setattr(service, "create_app", lambda: app)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    target = tmp_path / "budzets.xlsx"
    done = runner.invoke(main, ["budget", client_id, "--municipality", "bauska", "--output", str(target)])
    assert done.exit_code == 0, done.output
    book = openpyxl.load_workbook(target)
    assert book["Budžets"]["I2"].value == 184

    printed = runner.invoke(main, ["budget", client_id, "--municipality", "bauska", "--json"])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.output)["totals"]["delivered"] == "324.00"

    elsewhere = runner.invoke(main, ["budget", client_id, "--municipality", "liepaja", "--json"])
    assert elsewhere.exit_code == 1 and client_id in elsewhere.output
    unknown = runner.invoke(main, ["budget", "0" * 32, "--municipality", "bauska"])
    assert unknown.exit_code == 1 and not list(tmp_path.glob("Budžets*"))
    month = runner.invoke(main, ["budget", client_id, "--municipality", "bauska", "--month", "2020-13"])
    assert month.exit_code == 1 and month.output.startswith("--month: ")
    default = runner.invoke(main, ["budget", client_id, "--municipality", "bauska", "--month", "2020-10"])
    assert default.exit_code == 0 and (tmp_path / f"Budžets {client_id}.xlsx").exists(), default.output


def test_delivered_lines_outside_the_period_do_not_count(app, user_headers, case):
    client_id, agreements = case
    deliver(app, client_id, agreements["aplp"], "2020-12", ("APLP", "16", "184.00"))
    budget = reader(app, user_headers).get(f"/api/v1/clients/{client_id}/budget").json
    assert budget["totals"]["delivered"] == "0.00"
    assert dt.date.fromisoformat(budget["plan"]["period_end"]) == dt.date(2020, 11, 30)


def test_a_revised_plan_rules_every_month_of_its_period(app, user_headers, case):
    client_id, _ = case
    api = reader(app, user_headers, "social_worker")
    url = f"/api/v1/plans/{api.get(f'/api/v1/clients/{client_id}/budget').json['plan']['plan_id']}"
    draft = api.post(f"{url}/draft")
    plan = draft.json["plan"]
    plan["budget"]["monthly"], plan["services"][1]["quantity"] = "300.00", "6"
    saved = api.put(f"{url}/draft", json=plan, headers={"If-Match": draft.headers["ETag"]})
    assert api.post(f"{url}/approve", headers={"If-Match": saved.headers["ETag"]}).status_code == 201

    budget = api.get(f"/api/v1/clients/{client_id}/budget").json
    assert budget["plan"]["version"] == 2
    assert [(m["plan_version"], m["monthly_budget"]) for m in budget["months"]] == [(2, "300.00")] * 3
    group = services_of(budget["months"][1])["ATBG"]
    assert (group["planned_units"], group["planned_amount"], group["contracted_units"]) == (
        "6.00",
        "75.00",
        "4.00",
    )
