"""The finance officer's own spreadsheets: dates and numbers as Latvian Excel writes them (15.09.2020, 2,5)
in XLSX text cells and ";"-separated CSVs read into the pack's request; forms that would need a guess
refused at their sheet, row and column; and a problem repeated on every line listed once, with its count
and every path and row — in the API, the command line and the packs page."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from decimal import Decimal

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from service.cli import main
from service.packs.order import OrderLimits, read_order
from service.packs.tables import AGREEMENTS, LINES, table_rows
from service.store import database, sealer
from tests.browser import check_page, sign_in
from tests.helpers import SAMPLES, load_sample
from tests.test_pack_tables import read
from tests.test_packs_service import PACK_OPTIONS, service_env
from tests.web_helpers import PASSWORD, add_web_user, form_token, page_client

BAUSKA = load_sample("reimbursement-request-bauska-2020-09")
HEADER = {"project": "IBM", "period": "2020-09", "date": "2020-10-08", "pdf": False}
LINES_CSV = (SAMPLES / "pack-lines-bauska-2020-09.csv").read_bytes()
AGREEMENTS_CSV = (SAMPLES / "pack-agreements-bauska-2020-09.csv").read_bytes()


def latvian_text(kind: str, value):
    """A sample's value as a person types it into a text cell in Latvia: 15.09.2020, 2,5."""
    if value is None:
        return None
    if kind == "date":
        return dt.date.fromisoformat(value).strftime("%d.%m.%Y")
    return value.replace(".", ",") if kind == "number" else value


def text_workbook(agreements, lines, typed: dict[tuple[int, str], str] | None = None) -> bytes:
    """Both sheets with every cell a text cell, dates and numbers typed the Latvian way; ``typed`` puts
    other text in cells of "Rindas" by (row, header)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for table, records in ((AGREEMENTS, agreements), (LINES, lines)):
        sheet = workbook.create_sheet(table.sheet)
        sheet.append([column.header for column in table.columns])
        for row in table_rows(table, records):
            sheet.append([latvian_text(c.kind, v) for c, v in zip(table.columns, row, strict=True)])
    for (row, header), text in (typed or {}).items():
        column = [c.header for c in LINES.columns].index(header) + 1
        workbook[LINES.sheet].cell(row, column).value = text
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def lines_csv(lines, encoding: str = "utf-8-sig") -> bytes:
    """Lines as Latvian Excel's CSV export: ";", dates DD.MM.YYYY, decimal commas, CRLF."""
    rows = [";".join(column.header for column in LINES.columns)]
    for row in table_rows(LINES, lines):
        rows.append(";".join(latvian_text(c.kind, v) or "" for c, v in zip(LINES.columns, row, strict=True)))
    return ("\r\n".join(rows) + "\r\n").encode(encoding)


def with_cell(data: bytes, row: int, header: str, text: str, encoding: str = "utf-8-sig") -> bytes:
    """A ";" CSV with the cell of ``header`` in ``row`` (the header is row 1) replaced by ``text``."""
    rows = data.decode(encoding).split("\r\n")
    cells = rows[row - 1].split(";")
    cells[rows[0].split(";").index(header)] = text
    rows[row - 1] = ";".join(cells)
    return "\r\n".join(rows).encode(encoding)


def wrong_period_lines(count: int = 300) -> list[dict]:
    """``count`` lines valid in June–September 2020, for an order of October: each outside its period."""
    months = [
        dict(line, date=line["date"].replace("2020-09", f"2020-{month:02}"))
        for month in (9, 8, 7, 6)
        for line in BAUSKA["lines"]
    ]
    return months[:count]


# --- reading ------------------------------------------------------------------------------------------


def test_xlsx_text_cells_typed_the_latvian_way_are_read_as_dates_and_numbers():
    data = text_workbook(BAUSKA["agreements"], BAUSKA["lines"])
    table = read({"file": data})
    assert table.unread == []
    assert table.lines == BAUSKA["lines"]  # "08.09.2020" → "2020-09-08", "2,5" → "2.5"
    assert {"2.5", "1.5"} <= {line["units"] for line in table.lines}
    assert table.agreements[0]["term"] == {"start": "2020-02-01", "end": "2021-01-31"}
    assert table.agreements[5]["client"]["birth_date"] == "2017-09-12"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1257"])
def test_a_semicolon_csv_with_decimal_commas_is_read(encoding):
    table = read({"lines": lines_csv(BAUSKA["lines"], encoding), "agreements": AGREEMENTS_CSV})
    assert table.unread == []
    assert table.lines == BAUSKA["lines"]
    assert [a["number"] for a in table.agreements] == [a["number"] for a in BAUSKA["agreements"]]


def test_the_sample_csvs_are_latvian_excel_exports():
    assert b";08.09.2020;2\r\n" in LINES_CSV and b";2,5\r\n" in LINES_CSV and b"2020-09" not in LINES_CSV
    assert ";01.02.2020;31.01.2021;".encode("cp1257") in AGREEMENTS_CSV


@pytest.mark.parametrize(
    ("column", "typed", "code"),
    [
        ("Datums", "09/15/2020", "input.date_order"),
        ("Datums", "15/09/2020", "input.date_order"),
        ("Datums", "15.09.20", "input.date_year"),
        ("Datums", "2020.09.15", "input.date"),
        ("Datums", "31.09.2020", "input.date_no_such_day"),
        ("Vienības", "1.234,5", "input.number_separators"),
        ("Vienības", "2,5,0", "input.number_separators"),
        ("Vienības", "1e3", "input.number"),
    ],
)
def test_a_form_that_would_need_a_guess_is_kept_with_its_problem_at_its_cell(column, typed, code):
    lines = BAUSKA["lines"][:3]
    key = {"Datums": "date", "Vienības": "units"}[column]
    for data in (
        with_cell(lines_csv(lines), 3, column, typed),
        text_workbook(BAUSKA["agreements"], lines, {(3, column): typed}),
    ):
        table = read({"lines": data})
        assert table.lines[1][key] == typed
        assert [(path, found.code) for path, found in table.unread] == [(("lines", 1, key), code)]
        assert table.place(("lines", 1, key)) == {"sheet": "Rindas", "row": 3, "column": column}


def test_an_agreement_value_that_cannot_be_read_is_placed_at_its_row():
    data = with_cell(AGREEMENTS_CSV, 3, "Pakalpojums no", "02/01/2020", "cp1257")  # agreement 0's 2nd service
    for row in (2, 3, 4, 5):  # agreement 0's rows give the same unreadable start, row 2 first
        data = with_cell(data, row, "Līgums no", "1.2.20", "cp1257")
    table = read({"agreements": data})
    found = {path: problem.code for path, problem in table.unread}
    assert found == {
        ("agreements", 0, "term", "start"): "input.date_year",
        ("agreements", 0, "services", 1, "start"): "input.date_order",
    }
    assert table.place(("agreements", 0, "services", 1, "start"))["row"] == 3
    assert table.place(("agreements", 0, "term", "start")) == {
        "sheet": "Līgumi",
        "row": 2,
        "column": "Līgums no",
    }


# --- the pack's request ------------------------------------------------------------------------------------


def test_latvian_spreadsheets_make_the_same_request_as_the_json(app):
    limits = OrderLimits.of(app.config)
    with app.app_context(), database().session() as session:
        body = {"municipality": "bauska", **HEADER}
        xlsx = read_order(
            json.dumps(body), {"lines": text_workbook(BAUSKA["agreements"], BAUSKA["lines"])}, limits
        )
        csvs = read_order(json.dumps(body), {"lines": LINES_CSV, "agreements": AGREEMENTS_CSV}, limits)
        from_json = read_order(
            json.dumps(body | {"agreements": BAUSKA["agreements"], "lines": BAUSKA["lines"]}), {}, limits
        )
        taken = [inputs.take(session, sealer()) for inputs in (xlsx, csvs, from_json)]
    assert taken[0].raw["request"]["lines"] == taken[1].raw["request"]["lines"] == BAUSKA["lines"]
    assert taken[0].sha256 == taken[1].sha256 == taken[2].sha256
    request = taken[0].request
    assert request["lines"][0]["date"] == dt.date(2020, 9, 8)
    assert Decimal("2.5") in {line["units"] for line in request["lines"]}
    assert request["totals"]["amount"] == taken[2].request["totals"]["amount"]
    assert request["totals"]["lines"] == 96


def post_order(client, files: dict[str, bytes], header=None, lang="lv"):
    return client.post(
        "/api/v1/packs",
        data={"order": json.dumps(header or HEADER)}
        | {name: (io.BytesIO(data), f"{name}.csv") for name, data in files.items()},
        content_type="multipart/form-data",
        headers={"Accept-Language": lang},
    )


def test_an_ambiguous_date_answers_its_input_problem_at_its_row_and_column(client):
    data = with_cell(LINES_CSV, 6, "Datums", "09/15/2020")
    response = post_order(client, {"lines": data, "agreements": AGREEMENTS_CSV})
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    [error] = response.json["errors"]
    assert error == {
        "path": "/lines/4/date",
        "code": "input.date_order",
        "message": "Nav skaidrs, kur ir diena un kur mēnesis: ierakstiet datumu, sākot ar dienu, "
        "formā DD.MM.GGGG., piemēram, 15.09.2020.",
        "sheet": "Rindas",
        "row": 6,
        "column": "Datums",
    }  # a problem that occurs once is as it always was: no count, no paths
    assert client.get("/api/v1/jobs").json == []


def test_the_same_wrong_period_on_300_lines_is_one_problem_with_every_row(client):
    response = post_order(
        client,
        {"lines": lines_csv(wrong_period_lines()), "agreements": AGREEMENTS_CSV},
        HEADER | {"period": "2020-10"},
    )
    assert response.status_code == 422
    [error] = response.json["errors"]
    assert error["code"] == "reimbursement.outside_period" and error["count"] == 300
    assert error["path"] == "/lines/0/date" and (error["row"], error["column"]) == (2, "Datums")
    assert error["paths"] == [f"/lines/{index}/date" for index in range(300)]
    assert error["rows"] == list(range(2, 302))
    assert error["places"][299] == {"sheet": "Rindas", "row": 301, "column": "Datums"}
    assert "01.10.2020." in error["message"]  # the first's message, in Latvian


def test_different_problems_stay_apart_and_json_orders_group_by_path(client):
    body = load_sample("pack-order-bauska-2020-09") | {"pdf": False}
    for index in (3, 7, 9):
        body["lines"][index]["agreement"] = "NAV-TĀDA"
    body["lines"][11]["agreement"] = "CITS"
    body["lines"][12]["units"] = "-1"
    errors = client.post("/api/v1/packs", json=body).json["errors"]
    unknown = [e for e in errors if e["code"] == "reimbursement.unknown_agreement"]
    assert [(e["path"], e.get("count"), e.get("paths")) for e in unknown] == [
        ("/lines/3/agreement", 3, ["/lines/3/agreement", "/lines/7/agreement", "/lines/9/agreement"]),
        ("/lines/11/agreement", None, None),  # another number: another problem
    ]
    assert "rows" not in unknown[0] and "places" not in unknown[0]  # from JSON: no places in a file
    assert any(e["path"] == "/lines/12/units" and "count" not in e for e in errors)


# --- the command line -----------------------------------------------------------------------------------


def test_the_pack_command_lists_the_repeated_problem_once(tmp_path, monkeypatch):
    for key, value in service_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    lines = tmp_path / "rindas.csv"
    lines.write_bytes(lines_csv(wrong_period_lines()))
    agreements = tmp_path / "ligumi.csv"
    agreements.write_bytes(AGREEMENTS_CSV)
    options = [o if o != "2020-09" else "2020-10" for o in PACK_OPTIONS]
    target = tmp_path / "pack.zip"
    result = CliRunner().invoke(
        main, [*options, "--date", "2020-10-08", str(lines), str(agreements), "-o", str(target)]
    )
    assert result.exit_code == 1, result.output
    assert result.output.count("reimbursement.outside_period") == 1
    assert "/lines/0/date" in result.output and "Rindas, 2. rinda, Datums" in result.output
    assert "Tas pats arī rindās 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 … (kopā 300)." in result.output
    assert "/lines/1/date" not in result.output and not target.exists()


# --- the packs page -------------------------------------------------------------------------------------


def page_order(finance, files: list[tuple[bytes, str]], **fields):
    form = {"csrf_token": form_token(finance, "/paki"), "project": "IBM", "period_from": "10.2020."}
    data = form | fields | {"tables": [(io.BytesIO(content), name) for content, name in files]}
    return finance.post("/paki", data=data, content_type="multipart/form-data")


def test_the_packs_page_takes_spreadsheets_and_shows_a_repeated_problem_once(app):
    finance = page_client(app, "finance_officer")
    checked = page_order(
        finance,
        [(LINES_CSV, "rindas.csv"), (AGREEMENTS_CSV, "līgumi.csv")],
        period_from="09.2020.",
        parbaudit="1",
    )
    html = checked.get_data(as_text=True)
    assert checked.status_code == 200, html[:3000]
    assert "KP-BNP-2020/09" in html and "Rindas" in html
    refused = page_order(
        finance, [(lines_csv(wrong_period_lines()), "rindas.csv"), (AGREEMENTS_CSV, "l.csv")], parbaudit="1"
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    summary = html[
        html.index('class="error-summary"') : html.index("</div>", html.index('class="error-summary"'))
    ]
    items = re.findall(r"<li>(.*?)</li>", summary, re.S)
    assert len(items) == 1, items
    text = " ".join(re.sub(r"<[^>]+>", " ", items[0]).split())
    assert text.startswith("Rindas, 2. rinda, Datums: Datumam jābūt pieprasījuma periodā")
    assert text.endswith("Tas pats arī rindās 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 … (kopā 300).")
    unreadable = page_order(
        finance, [(with_cell(LINES_CSV, 2, "Datums", "09/08/2020"), "r.csv")], parbaudit="1"
    )
    assert unreadable.status_code == 422
    assert "Rindas, 2. rinda, Datums: Nav skaidrs, kur ir diena" in unreadable.get_data(as_text=True)


def test_the_repeated_problem_in_the_browser_is_accessible(app, browser_page, tmp_path):
    add_web_user(app, "inga.bauska", "finance_officer")
    sign_in(browser_page, "inga.bauska", PASSWORD)
    browser_page.goto("/paki")
    browser_page.get_by_label("Projekts").select_option("IBM")
    browser_page.get_by_label("Mēnesis (vai pirmais mēnesis)").fill("10.2020.")
    lines, agreements = tmp_path / "rindas.csv", tmp_path / "ligumi.csv"
    lines.write_bytes(lines_csv(wrong_period_lines()))
    agreements.write_bytes(AGREEMENTS_CSV)
    browser_page.get_by_label("Rindas no izklājlapas").set_input_files([str(lines), str(agreements)])
    browser_page.get_by_role("button", name="Pārbaudīt").click()
    summary = browser_page.locator(".error-summary")
    assert summary.locator("li").count() == 1
    assert "(kopā 300)" in summary.inner_text()
    check_page(browser_page, "packs-repeated-problem")
