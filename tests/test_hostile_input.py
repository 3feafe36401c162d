"""Hostile input outside a JSON body's schema: each class of hole found once gets a test of its own.

(JSON bodies have their corpus in tests/test_hostile_json.py; the server's own errors and the logs are
tried against a real ``veidlapas serve`` in tests/test_server.py.)
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata

import pytest
from click.testing import CliRunner

from schemas.errors import problem
from service.cli import main
from service.config import UploadLimits
from service.documents import KINDS
from service.files import safe_file_name
from service.i18n import translate
from service.packs.archive import safe_member_name
from service.packs.tables import TableRejected, read_table_files
from tests.helpers import ADULT_SUPPORT_PERSON, SAMPLES, load_sample

HUGE_EXPONENT = "1e99999999999999999999"


# --- numbers whose exponent Decimal cannot hold ----------------------------------------------------------


def test_an_unreadable_number_in_a_packs_order_field_is_400_at_its_path(client):
    order = '{"project": "IBM", "period": "2020-09", "date": "2020-10-08", "lines": [{"units": %s}]}'
    response = client.post(
        "/api/v1/packs",
        data={
            "order": order % HUGE_EXPONENT,
            "lines": (io.BytesIO((SAMPLES / "pack-lines-bauska-2020-09.csv").read_bytes()), "rindas.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400, response.get_data(as_text=True)[:600]
    assert response.mimetype == "application/problem+json"
    assert [(e["path"], e["code"]) for e in response.json["errors"]] == [
        ("/lines/0/units", "body.number_out_of_range")
    ]


def test_an_unreadable_number_in_a_file_is_named_by_the_command_line_with_its_path(tmp_path):
    data = load_sample(ADULT_SUPPORT_PERSON)
    data["services"][0]["quantity"] = "@@"
    source = tmp_path / "plan.json"
    source.write_text(json.dumps(data).replace('"@@"', HUGE_EXPONENT), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", "support-plan", str(source), "--lang", "en"])
    assert result.exit_code == 1
    assert "/services/0/quantity: The number cannot be read" in result.output


# --- CSV fields beyond csv.field_size_limit(): the table's problem wherever the reader meets them --------

LINES_HEADER = "Līguma Nr.;Pakalpojuma kods;Datums;Vienības\r\n"
OVER_THE_CSV_LIMIT = "x" * (csv.field_size_limit() + 1)


def _table_problems(data: bytes) -> list[tuple[dict, str]]:
    with pytest.raises(TableRejected) as caught:
        read_table_files({"lines": data}, UploadLimits(max_bytes=5_000_000))
    return [(p.place, p.code) for p in caught.value.problems]


@pytest.mark.parametrize("quoted", [False, True])
def test_a_csv_header_field_over_the_csv_limit_is_the_tables_problem_at_row_1(quoted):
    field = f'"{OVER_THE_CSV_LIMIT}"' if quoted else OVER_THE_CSV_LIMIT
    data = (f"{field};{LINES_HEADER}" + "L-1;APLP;2020-09-01;1\r\n").encode()
    assert _table_problems(data) == [({"file": "lines", "row": 1}, "table.unreadable")]


def test_a_csv_row_field_over_the_csv_limit_is_placed_at_its_sheet_and_row():
    data = (
        LINES_HEADER + "L-1;APLP;2020-09-01;1\r\n" + f"L-1;{OVER_THE_CSV_LIMIT};2020-09-02;1\r\n"
    ).encode()
    assert _table_problems(data) == [({"file": "lines", "sheet": "Rindas", "row": 3}, "table.unreadable")]


def test_an_uploaded_csv_with_a_header_over_the_csv_limit_is_a_422_with_its_place(client):
    response = client.post(
        "/api/v1/packs",
        data={
            "order": json.dumps({"project": "IBM", "period": "2020-09", "date": "2020-10-08"}),
            "lines": (io.BytesIO(f"{OVER_THE_CSV_LIMIT};{LINES_HEADER}".encode()), "rindas.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422, response.get_data(as_text=True)[:600]
    assert [(e["code"], e.get("file"), e.get("row")) for e in response.json["errors"]] == [
        ("table.unreadable", "lines", 1)
    ]


# --- format characters (Cf): refused in lines of text, never in a file name ------------------------------

FORMAT_CHARACTERS = [chr(code) for code in range(0x110000) if unicodedata.category(chr(code)) == "Cf"]


def test_a_paragraph_keeps_soft_hyphens_and_zero_width_joiners_but_no_bidi_control(client):
    plan = load_sample(ADULT_SUPPORT_PERSON)
    plan["needs_assessment"]["strengths"] = "Patstāvīgi pārvie\u00adtojas; ie\u200dradumi"
    response = client.post("/api/v1/validate/support-plan", json=plan)
    assert response.status_code == 200, response.get_data(as_text=True)[:600]
    plan["needs_assessment"]["what_matters"] = "Ģimene \u202eun draugi"
    response = client.post("/api/v1/validate/support-plan", json=plan)
    assert response.status_code == 422
    assert [(e["path"], e["code"]) for e in response.json["errors"]] == [
        ("/needs_assessment/what_matters", "text.format_character")
    ]


def test_a_bidi_override_in_the_agreement_number_of_a_form_is_refused_before_a_file_is_named(client):
    request = load_sample("delivery-act-form-request")
    request["agreement"]["number"] = "L-2020/031\u202efdp.exe"
    response = client.post("/api/v1/forms/delivery-act", json=request)
    assert response.status_code == 422, response.get_data(as_text=True)[:600]
    assert ("/agreement/number", "text.format_character") in {
        (e["path"], e["code"]) for e in response.json["errors"]
    }


def test_the_format_character_problem_is_in_latvian_and_english():
    message = problem("text.format_character", char="U+202E")
    assert "U+202E" in translate(message, "en")[1] and "neredzam" in translate(message, "lv")[1]


@pytest.mark.parametrize("ascii_only", [False, True])
def test_no_file_name_the_service_makes_holds_a_format_character(ascii_only):
    assert len(FORMAT_CHARACTERS) > 150
    for char in FORMAT_CHARACTERS:
        name = safe_file_name(f"Akts 1{char}fdp.exe", ascii_only=ascii_only)
        assert name == ("Akts-1fdp.exe" if ascii_only else "Akts 1fdp.exe"), hex(ord(char))


def test_document_and_member_names_use_the_one_safe_file_name():
    values = {"number": "IAP-2020/014\u202e\u200b"}
    assert KINDS["support-plan"].file_name(values) == "Atbalsta plāns IAP-2020-014"
    assert safe_member_name("klienti", "Ēriks\u202e Gailītis\u2066") == "klienti/Eriks-Gailitis"
