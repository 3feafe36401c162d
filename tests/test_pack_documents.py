"""The client's detail and the cover letter of a reimbursement pack, rendered, opened and read back."""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal
from urllib.parse import unquote

import pytest
from click.testing import CliRunner

from service.cli import main
from service.config import ROOT
from service.documents import KINDS, Templates
from service.documents.formatting import amount_in_words, date_numeric, money, plural
from tests.docx_text import docx_text
from tests.helpers import load_reimbursement, load_sample, reimbursement_errors, sample_text

BAUSKA = "reimbursement-request-bauska-2020-09"
NBSP = "\u00a0"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
UNNAMED = "210168-15275"  # the one client of the Bauska sample whose agreement gives no name
HOSTILE = '<b>&"=HYPERLINK("x")'


def render(kind: str, data: dict) -> tuple[dict, bytes]:
    values = load_reimbursement(data)
    return values, Templates.of(ROOT / "templates_lv").render(KINDS[kind], values)


def text_of(kind: str, data: dict) -> tuple[dict, str]:
    values, document = render(kind, data)
    return values, docx_text(document)


def one_client(data: dict, personal_code: str) -> dict:
    """The request restricted to one client: only their agreements and delivery lines."""
    agreements = [a for a in data["agreements"] if a["client"]["personal_code"] == personal_code]
    numbers = {a["number"] for a in agreements}
    return data | {"agreements": agreements, "lines": [x for x in data["lines"] if x["agreement"] in numbers]}


def page_breaks(document: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(document)) as package:
        return package.read("word/document.xml").decode("utf-8").count('<w:br w:type="page"/>')


def assert_figure_and_words(text: str, amount: Decimal) -> None:
    assert f"{money(amount)} ({amount_in_words(amount)})" in text.replace("\n", " ")


# --- the schema's part ------------------------------------------------------------------------------


def test_each_client_gets_their_name_rows_and_sorted_priced_lines():
    values = load_reimbursement(load_sample(BAUSKA))
    clients = values["by_client"]
    assert [c["name"] for c in clients] == [
        "Dārta Ķeņģe",
        "Kārlis Ūdris",
        "Elīna Grīnberga",
        None,
        "Roberts Ķuzis",
        "Estere Žīgure",
        "Edgars Vītoliņš",
    ]
    assert clients[3]["personal_code"] == UNNAMED
    assert sum(len(c["lines"]) for c in clients) == values["totals"]["lines"] == 96
    for client in clients:
        assert client["rows"] == [r for r in values["rows"] if r["personal_code"] == client["personal_code"]]
        assert sum(line["amount"] for line in client["lines"]) == client["amount"]
        keys = [(line["date"], line["code"], line["agreement"]) for line in client["lines"]]
        assert keys == sorted(keys)
        assert {line["agreement"] for line in client["lines"]} == set(client["agreements"])
    line = clients[0]["lines"][0]
    assert line["code"] == "SDARB" and line["date"].isoformat() == "2020-09-03"
    assert (line["name"], line["unit"], line["unit_forms"]["one"]) == (
        "specializētās darbnīcas",
        "diena",
        "diena",
    )
    assert (line["unit_price"], line["amount"]) == (Decimal("19.60"), Decimal("19.60"))


def test_the_name_is_optional_and_checked_like_any_name():
    data = load_sample(BAUSKA)
    for agreement in data["agreements"]:
        agreement["client"].pop("name", None)
    assert all(c["name"] is None for c in load_reimbursement(data)["by_client"])
    data["agreements"][0]["client"]["name"] = "x" * 121
    assert reimbursement_errors(data) == {"/agreements/0/client/name": ["text.too_long"]}


# --- client-detail.docx ------------------------------------------------------------------------------


def test_detail_prints_every_client_from_a_new_page_with_lines_rows_and_total_in_words():
    values, document = render("client-detail", load_sample(BAUSKA))
    text = docx_text(document)
    clients = values["by_client"]
    assert page_breaks(document) == len(clients) - 1
    assert text.count("KLIENTA PAKALPOJUMU IZKLĀSTS") == len(clients)
    for client in clients:
        assert client["personal_code"] in text
        for index, line in enumerate(client["lines"], start=1):
            cells = [
                f"{index}.",
                date_numeric(line["date"]),
                line["agreement"],
                f"{line['code']} — {line['name']}",
                plural(line["units"], line["unit_forms"]),
                money(line["unit_price"]),
                money(line["amount"]),
            ]
            assert "\n".join(cells) in text, cells
        for row in client["rows"]:
            assert f"{row['code']} — {row['name']}\n{plural(row['quantity'], row['unit_forms'])}" in text
        assert f"Kopā par klientu: {money(client['amount'])} ({amount_in_words(client['amount'])})." in text
    assert text.count("Vārds, uzvārds") == len([c for c in clients if c["name"]])


def test_detail_header_latvian_letters_and_plural_units():
    _, text = text_of("client-detail", load_sample(BAUSKA))
    for expected in (
        "pie izmaksu kompensācijas pieprasījuma Nr. KP-BNP-2020/09",
        "par 2020. gada septembri",
        "no 01.09.2020. līdz 30.09.2020.",
        "Nr. KP-BNP-2020/09, 2020. gada 8. oktobris",
        "Bauskas novada pašvaldība",
        "Labklājības ministrija",
        "„Sociālo pakalpojumu atbalsta sistēmas pilnveide”, Nr. 9.2.2.2/16/I/001",
        "Nr. LM-2018/9.2.2.2/16/I/001/BNP",
        "Dārta Ķeņģe",
        "Estere Žīgure",
        "pilngadīga persona ar garīga rakstura traucējumiem",
        "bērns ar funkcionāliem traucējumiem",
        "BNP-IAP-2020/001",
        "SK-PSIH — psihologa konsultācija",
        f"1{NBSP}diena",
        f"2{NBSP}stundas",
        f"1,5{NBSP}stundas",
        f"14{NBSP}stundu",
        f"4{NBSP}reizes",
        "Sagatavoja",
        "Sandra Čākste",
        "08.10.2020.",
        "Ierobežotas pieejamības informācija",
        "Klienta pakalpojumu izklāsts pie pieprasījuma Nr. KP-BNP-2020/09",
    ):
        assert expected in text, expected
    assert_figure_and_words(text, Decimal("473.00"))  # the first client: 23 lines


@pytest.mark.parametrize(
    "personal_code", [c["client"]["personal_code"] for c in load_sample(BAUSKA)["agreements"]]
)
def test_a_one_client_request_gives_that_clients_detail_and_their_amount_of_the_whole(personal_code):
    data = load_sample(BAUSKA)
    whole = {c["personal_code"]: c for c in load_reimbursement(data)["by_client"]}
    values, document = render("client-detail", one_client(data, personal_code))
    text = docx_text(document)
    assert [c["personal_code"] for c in values["by_client"]] == [personal_code]
    (client,) = values["by_client"]
    assert client["amount"] == values["totals"]["amount"] == whole[personal_code]["amount"]
    assert client["lines"] == whole[personal_code]["lines"]
    assert_figure_and_words(text, whole[personal_code]["amount"])
    assert page_breaks(document) == 0 and text.count("KLIENTA PAKALPOJUMU IZKLĀSTS") == 1
    assert [code for code in whole if code in text] == [personal_code]
    others = [c["name"] for code, c in whole.items() if code != personal_code and c["name"]]
    assert [name for name in others if name in text] == []


def test_a_client_without_a_name_has_no_empty_name_row():
    _, text = text_of("client-detail", one_client(load_sample(BAUSKA), UNNAMED))
    assert "Vārds, uzvārds" not in text and "None" not in text
    assert f"Personas kods\n{UNNAMED}\nMērķa grupa" in text


def test_hostile_text_in_a_clients_name_comes_out_verbatim():
    data = load_sample(BAUSKA)
    data["agreements"][0]["client"]["name"] = HOSTILE
    code = data["agreements"][0]["client"]["personal_code"]
    _, text = text_of("client-detail", one_client(data, code))
    assert f"Vārds, uzvārds\n{HOSTILE}\nPersonas kods" in text


# --- cover-letter.docx -------------------------------------------------------------------------------


def test_cover_letter_states_total_funding_split_counts_and_attachments():
    data = load_sample(BAUSKA)
    values, text = text_of("cover-letter", data)
    totals = values["totals"]
    assert (totals["amount"], totals["esf"], totals["state"]) == (
        Decimal("2209.50"),
        Decimal("1878.08"),
        Decimal("331.42"),
    )
    flat = text.replace("\n", " ")
    for expected in (
        "Bauskas novada pašvaldība",
        "Reģ. Nr. 90009116327, Uzvaras iela 1, Bauska, Bauskas novads, LV-3901",
        "08.10.2020. Nr. KP-BNP-2020/09",
        "Labklājības ministrija",
        "Skolas iela 28, Rīga, LV-1331",
        "Par izmaksu kompensācijas pieprasījumu Nr. KP-BNP-2020/09 par 2020. gada septembri",
        "par sabiedrībā balstīto sociālo pakalpojumu izmaksām par 2020. gada septembri.",
        "īstenojot projektu „Sociālo pakalpojumu atbalsta sistēmas pilnveide”"
        " (projekta Nr. 9.2.2.2/16/I/001)",
        "vienošanos par projekta īstenošanu Nr. LM-2018/9.2.2.2/16/I/001/BNP",
        f"Eiropas Sociālā fonda finansējums 1{NBSP}878,08{NBSP}€ (85 %)",
        f"valsts budžeta finansējums 331,42{NBSP}€ (15 %)",
        f"pakalpojumus saņēma 7{NBSP}klienti",
        f"sniegti 96{NBSP}reizes",
        "uz Bauskas novada pašvaldības kontu LV87 UNLA 0050 0143 8710 1",
        "Pielikumā: izmaksu kompensācijas pieprasījums Nr. KP-BNP-2020/09 un tā pielikumi:",
        "Aivars Okmanis",
        "domes priekšsēdētājs",
        "Pavadvēstule Nr. KP-BNP-2020/09",
    ):
        assert expected in flat, expected
    assert_figure_and_words(text, Decimal("2209.50"))
    for index, attachment in enumerate(data["attachments"], start=1):
        assert f"{index}.\t{attachment}" in text, attachment
    assert "Ierobežotas pieejamības informācija" not in text  # it names no client
    assert all(agreement["client"]["personal_code"] not in text for agreement in data["agreements"])


@pytest.mark.parametrize(
    ("kept", "times"),
    [(None, "23\u00a0reizes"), (1, "1\u00a0reizi"), (11, "11\u00a0reizes"), (2, "2\u00a0reizes")],
)
def test_cover_letter_of_one_client_says_1_klients_and_counts_the_lines_in_latvian(kept, times):
    data = one_client(load_sample(BAUSKA), "150385-16347")
    data["lines"] = data["lines"][:kept]
    _, text = text_of("cover-letter", data)
    assert f"pakalpojumus saņēma 1{NBSP}klients, un pakalpojumi kopā sniegti {times};" in text


def test_cover_letter_without_attachments_names_only_the_request_and_shows_the_basis():
    data = load_sample(BAUSKA)
    data["attachments"] = []
    data["submitter"]["head"]["basis"] = "pilnvara Nr. 12"
    _, text = text_of("cover-letter", data)
    assert "Pielikumā: izmaksu kompensācijas pieprasījums Nr. KP-BNP-2020/09." in text
    assert "un tā pielikumi" not in text
    assert "domes priekšsēdētājs (pilnvara Nr. 12)" in text


@pytest.mark.parametrize("kind", ["cover-letter", "client-detail", "reimbursement-request"])
def test_a_quarter_is_written_par_2020_gada_3_ceturksni(kind):
    data = load_sample(BAUSKA)
    data["period"] = {"start": "2020-07-01", "end": "2020-09-30"}
    _, text = text_of(kind, data)
    assert "par 2020. gada 3. ceturksni" in text.replace("\n", " ")


def test_cover_letter_without_the_genitive_asks_to_pay_to_the_municipalitys_account():
    data = load_sample(BAUSKA)
    del data["submitter"]["name_genitive"]
    _, text = text_of("cover-letter", data)
    assert "uz pašvaldības kontu LV87 UNLA 0050 0143 8710 1" in text.replace("\n", " ")


# --- through the API and the command line ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "file_name", "expected"),
    [
        ("cover-letter", "Pavadvēstule KP-BNP-2020-09.docx", "Par izmaksu kompensācijas pieprasījumu"),
        ("client-detail", "Klienta izklāsts KP-BNP-2020-09.docx", "KLIENTA PAKALPOJUMU IZKLĀSTS"),
    ],
)
def test_the_api_renders_both_kinds_for_finance_officers(app, user_headers, kind, file_name, expected):
    client = app.test_client()
    for role in ("administrator", "finance_officer"):
        response = client.post(
            f"/api/v1/documents/{kind}",
            data=sample_text(BAUSKA),
            content_type="application/json",
            headers=user_headers(role, "bauska"),
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == DOCX
        assert unquote(response.headers["Content-Disposition"].split("filename*=UTF-8''")[1]) == file_name
        assert expected in docx_text(response.data)
    forbidden = client.post(
        f"/api/v1/documents/{kind}",
        data=sample_text(BAUSKA),
        content_type="application/json",
        headers=user_headers("social_worker", "bauska"),
    )
    assert forbidden.status_code == 403


def test_validate_shows_each_clients_name_and_lines(client):
    response = client.post(
        "/api/v1/validate/client-detail", data=sample_text(BAUSKA), content_type="application/json"
    )
    assert response.status_code == 200
    first = response.json["document"]["by_client"][0]
    assert first["name"] == "Dārta Ķeņģe"
    assert first["lines"][0] == {
        "agreement": "BNP-L-2020/001",
        "code": "SDARB",
        "date": "2020-09-03",
        "units": "1",
        "unit_price": "19.60",
        "amount": "19.60",
        "name": "specializētās darbnīcas",
        "unit": "diena",
        "unit_forms": {"one": "diena", "other": "dienas", "zero": "dienu"},
    }
    assert [row["amount"] for row in first["rows"]] == ["161.00", "56.00", "196.00", "60.00"]


def test_the_cli_renders_the_cover_letter(tmp_path):
    source = tmp_path / "request.json"
    source.write_text(json.dumps(load_sample(BAUSKA), ensure_ascii=False), encoding="utf-8")
    target = tmp_path / "letter.docx"
    result = CliRunner().invoke(main, ["render", "cover-letter", str(source), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert f"pakalpojumus saņēma 7{NBSP}klienti" in docx_text(target.read_bytes())
