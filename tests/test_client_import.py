"""Clients imported from a CSV or XLSX file, all or none: every problem with its path and its sheet, row
and column; the administrator's alone; the command line too — on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from schemas.personal_code import check_digit
from service.cli import main
from service.store import database
from service.store.models import AuditEntry
from tests.helpers import SAMPLES

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)

SAMPLE = SAMPLES / "clients-import.csv"
HEADER = ["Vārds, uzvārds", "Personas kods", "Dzimšanas datums", "Deklarētā adrese", "Mērķa grupa"]
IMPORT = "/api/v1/client-imports"


@pytest.fixture
def admin(client):
    """An administrator of Bauska: the suite's signed-in client, named for the role these tests need."""
    return client


def send(api, data: bytes, name: str = "klienti.csv", headers=None):
    return api.post(IMPORT, data={"file": (io.BytesIO(data), name)}, headers=headers or {})


def csv_bytes(rows: list[list[str]], delimiter: str = ";", encoding: str = "cp1257") -> bytes:
    """The rows under the headers, as Excel writes CSV (fields quoted where they must be)."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows([HEADER, *rows])
    return out.getvalue().encode(encoding)


def code(first_ten: str) -> str:
    return f"{first_ten[:6]}-{first_ten[6:]}{check_digit(first_ten)}"


def names(api, query: str) -> list[str]:
    return [c["name"] for c in api.get("/api/v1/clients", query_string={"q": query}).json]


def test_the_sample_imports_every_client_into_the_importers_municipality(admin, app, user_headers):
    answer = send(admin, SAMPLE.read_bytes())
    assert answer.status_code == 201, answer.json
    assert answer.json["imported"] == 4 and len(answer.json["clients"]) == 4
    assert names(admin, "Kimene") == ["Elīza Ķimene"] and names(admin, "ozoli") == ["Ilze Ozoliņa"]
    child = admin.get(answer.json["clients"][2]["url"]).json
    assert child["municipality"] == "bauska" and child["target_group"] == "child_ft"
    assert child["data"]["representatives"] == [
        {
            "role": "parent",
            "name": "Dace Ķimene",
            "personal_code": "071185-12098",
            "basis_document": "Dzimšanas apliecība",
        }
    ]
    assert admin.get(answer.json["clients"][1]["url"]).json["target_group"] == "adult_grt"  # by its name
    assert admin.get(answer.json["clients"][3]["url"]).json["data"]["birth_date"] == "1995-11-04"
    other = app.test_client()
    other.environ_base["HTTP_AUTHORIZATION"] = user_headers("administrator", "liepaja")["Authorization"]
    assert names(other, "Kimene") == [] and other.get(answer.json["clients"][0]["url"]).status_code == 404
    with database(app).session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "imported")).one()
        assert (entry.outcome, json.loads(entry.detail)) == ("ok", {"count": 4})


def test_utf8_with_a_bom_and_commas(admin):
    rows = [["Kārlis Zīle", code("0303801234"), "", "Liepu iela 1, Bauska", "adult_grt"]]
    answer = send(admin, csv_bytes(rows, ",", "utf-8-sig"))
    assert answer.status_code == 201, answer.json
    assert names(admin, "Zīle") == ["Kārlis Zīle"]


def test_the_template_filled_in_is_imported(admin):
    template = admin.get("/api/v1/client-imports/template.xlsx")
    assert template.status_code == 200 and template.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(template.data))
    assert book.sheetnames == ["Norādes", "Klienti", "Kodi"]
    sheet = book["Klienti"]
    headers = [cell.value for cell in sheet[1]]
    assert headers[:2] == ["Vārds, uzvārds", "Personas kods"] and "Pārstāvības pamatojums" in headers
    values = {
        "Vārds, uzvārds": "Rūta Priede",
        "Personas kods": code("3206881234"),
        "Dzimšanas datums": dt.datetime(1988, 6, 6),
        "Deklarētā adrese": "Upes iela 3, Bauska",
        "Mērķa grupa": "pilngadīga persona ar garīga rakstura traucējumiem",
    }
    for column, title in enumerate(headers, start=1):
        sheet.cell(2, column).value = values.get(title)
    out = io.BytesIO()
    book.save(out)
    answer = send(admin, out.getvalue(), "klienti.xlsx")
    assert answer.status_code == 201, answer.json
    made = admin.get(answer.json["clients"][0]["url"]).json
    assert made["data"]["birth_date"] == "1988-06-06" and made["target_group"] == "adult_grt"


def test_every_problem_is_placed_and_nothing_is_stored(admin):
    good = code("0404801234")
    rows = [
        ["Laura Egle", code("0505801234"), "", "Meža iela 2, Bauska", "adult_grt"],
        ["Oskars Bērzs", "050580-12341", "", "Meža iela 3, Bauska", "adult_grt"],  # a wrong check digit
        ["Anna Kļava", code("3201901234"), "31.02.1990.", "Meža iela 4, Bauska", "adult_grt"],
        ["Pēteris Ozols", good, "", "Meža iela 5, Bauska", "adult_grt"],
        ["Pēteris Ozols", good, "", "Meža iela 5, Bauska", "adult_grt"],
        ["Inese Vītola", code("0606801234"), "", "", "kids"],
    ]
    answer = send(admin, csv_bytes(rows))
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    found = {(e["path"], e["code"]): (e["sheet"], e["row"], e["column"]) for e in answer.json["errors"]}
    assert found[("/clients/1/personal_code", "personal_code.checksum")] == ("Klienti", 3, "Personas kods")
    assert found[("/clients/2/birth_date", "input.date_no_such_day")] == ("Klienti", 4, "Dzimšanas datums")
    assert found[("/clients/4/personal_code", "client.import_twice")] == ("Klienti", 6, "Personas kods")
    assert found[("/clients/5/declared_address", "required")][1:] == (7, "Deklarētā adrese")
    assert ("/clients/5/target_group", "choice") in found
    twice = next(e for e in answer.json["errors"] if e["code"] == "client.import_twice")
    assert "5" in twice["message"]  # the row where the code is first
    assert names(admin, "Egle") == []


def test_codes_already_recorded_are_problems_at_their_rows(admin, app):
    assert send(admin, SAMPLE.read_bytes()).status_code == 201
    again = send(admin, SAMPLE.read_bytes())
    assert again.status_code == 422
    [error] = again.json["errors"]  # the same problem on every row is listed once, with all its rows
    assert (error["path"], error["code"], error["row"], error["count"]) == (
        "/clients/0/personal_code",
        "client.exists",
        2,
        4,
    )
    assert error["paths"] == [f"/clients/{i}/personal_code" for i in range(4)]
    assert error["rows"] == [2, 3, 4, 5]
    assert len(admin.get("/api/v1/clients").json) == 4
    with database(app).session() as session:
        details = [
            json.loads(e.detail)
            for e in session.scalars(select(AuditEntry).where(AuditEntry.action == "imported"))
        ]
    assert details == [{"count": 4}, {"problems": 4}]


def test_bad_files_are_refused_with_their_status(admin, app):
    assert admin.post(IMPORT, data={}).json["errors"][0]["code"] == "client.import_missing"
    assert send(admin, b"").status_code == 400
    pdf = send(admin, (SAMPLES / "delivery-act-filled.pdf").read_bytes(), "klienti.csv")
    assert pdf.status_code == 415 and pdf.json["errors"][0]["code"] == "table.unknown_type"
    missing = send(admin, "Vārds, uzvārds;Personas kods\r\nA B;010180-11117\r\n".encode())
    assert missing.status_code == 422
    assert {(e["code"], e["row"]) for e in missing.json["errors"]} == {("table.missing_column", 1)}
    empty = send(admin, csv_bytes([]))
    assert empty.status_code == 422 and empty.json["errors"][0]["path"] == "/clients"
    app.config["MAX_UPLOAD_BYTES"] = 200
    large = send(admin, SAMPLE.read_bytes())
    assert large.status_code == 413 and large.mimetype == "application/problem+json"


@pytest.mark.parametrize("role", ["social_worker", "finance_officer", "reviewer"])
def test_only_administrators_import(app, user_headers, role):
    api = app.test_client()
    headers = user_headers(role, "bauska")
    assert send(api, SAMPLE.read_bytes(), headers=headers).status_code == 403
    assert api.get("/api/v1/client-imports/template.xlsx", headers=headers).status_code == 403


def test_a_thousand_clients_take_seconds(admin):
    rows = [
        [f"Klients Nr{n:04d}", code(f"0101{50 + n // 100:02d}1{n % 100:02d}0"), "", "Iela 1", "adult_grt"]
        for n in range(1000)
    ]
    started = time.monotonic()
    answer = send(admin, csv_bytes(rows))
    assert answer.status_code == 201, answer.json["errors"][:3]
    assert answer.json["imported"] == 1000 and time.monotonic() - started < 60
    found = admin.get("/api/v1/clients", query_string={"q": "klients", "limit": 1000}).json
    assert len(found) == 1000


def test_the_command_imports_or_prints_every_problem_and_exits_1(app, admin, monkeypatch, tmp_path):
    import service

    monkeypatch.setattr(service, "create_app", lambda: app)
    done = CliRunner().invoke(main, ["clients", "import", str(SAMPLE), "--municipality", "bauska"])
    assert done.exit_code == 0, done.output
    assert "4" in done.output and "Ozoliņa" not in done.output
    assert names(admin, "Liepiņ") == ["Jānis Liepiņš"]
    again = CliRunner().invoke(
        main, ["clients", "import", str(SAMPLE), "--municipality", "bauska", "--lang", "en"]
    )
    assert again.exit_code == 1
    assert "client.exists" in again.output and "Klienti, 2. rinda, Personas kods" in again.output
