"""The agreement, the delivery act and the reimbursement request, rendered, opened and read back."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from service.documents import KINDS
from service.documents import templates as compiled_templates
from service.documents.formatting import amount_in_words, money
from tests.docx_text import docx_text
from tests.helpers import load_sample
from tests.test_support_plan_document import free_text_paths, set_path

NBSP = "\u00a0"
#: Every sample of every kind, as the registry names them.
SAMPLES = {name: [path.stem for path in kind.sample_files()] for name, kind in KINDS.items()}
# The free text a document does not print: an act names its agreement but does not repeat its clauses,
# parties' officials or addresses; the request names clients by personal code and the cover letter not at
# all; a client's detail is signed by the accountant and lists no attachments; the letter by the head. Only
# the letter writes the municipality's name in the genitive ("uz … kontu").
NOT_PRINTED = {
    "delivery-act": lambda path: path[0] == "agreement",
    "reimbursement-request": lambda path: path[0] == "agreements" or path == ("submitter", "name_genitive"),
    "client-detail": lambda path: (
        path[0] == "attachments"
        or path[:2] in {("submitter", "head"), ("submitter", "bank")}
        or path == ("submitter", "name_genitive")
    ),
    "cover-letter": lambda path: path[0] == "agreements" or path == ("submitter", "accountant"),
}


@pytest.fixture
def templates(app):
    return compiled_templates(app)


def rendered(templates, kind: str, data: dict) -> tuple[dict, str]:
    document_kind = KINDS[kind]
    values = document_kind.schema().load(data)
    return values, docx_text(templates.render(document_kind, values))


def assert_figure_and_words(text: str, amount: Decimal) -> None:
    """The amount in figures, and in words right after it, regenerated from the figure."""
    assert f"{money(amount)} ({amount_in_words(amount)})" in text.replace("\n", " ")


def test_every_kind_names_samples_that_are_valid():
    for name, kind in KINDS.items():
        assert kind.samples, name
        for sample in SAMPLES[name]:
            kind.schema().load(load_sample(sample))


def test_agreement_shows_parties_total_in_words_and_funding_split(templates):
    values, text = rendered(templates, "service-agreement", load_sample("service-agreement-adult-aplp"))
    assert values["totals"] == {
        "monthly": Decimal("234.00"),
        "total": Decimal("2758.00"),
        "esf": Decimal("2344.30"),
        "state": Decimal("413.70"),
    }
    for expected in (
        "LĪGUMS Nr. L-2020/031",
        'Biedrība "Atbalsta loks"',
        "Ēriks Gailītis",
        "Inese Bērziņa",
        "2020. gada 28. janvāra lēmumu Nr. SD-2020/118",
        f"2{NBSP}758,00{NBSP}€",
        f"2{NBSP}344,30{NBSP}€",
        f"413,70{NBSP}€",
        "LV87 HABA 0551 0123 4567 8",
        "Līguma parakstīšanas datums ir pēdējā pievienotā droša elektroniskā paraksta"
        " un tā laika zīmoga datums",
    ):
        assert expected in text, expected
    assert_figure_and_words(text, values["totals"]["total"])


def test_agreement_opens_with_the_place_and_date_in_the_locative_and_runs_until_the_dative(templates):
    values, text = rendered(templates, "service-agreement", load_sample("service-agreement-adult-aplp"))
    assert values["place_locative"] == "Bauskā"
    assert "\nBauskā, 2020. gada 30. janvārī\n" in text
    assert "termiņš ir no 2020. gada 1. februāra līdz 2021. gada 31. janvārim." in text


def test_agreement_in_liepaja_opens_liepaja_with_the_locative(templates):
    _, text = rendered(templates, "service-agreement", load_sample("service-agreement-child-care"))
    assert "\nLiepājā, 2019. gada 28. novembrī\n" in text
    assert "no 2019. gada 1. decembra līdz 2020. gada 30. novembrim." in text


def test_agreement_elsewhere_prints_the_place_as_given_or_its_given_locative(templates):
    data = load_sample("service-agreement-adult-aplp")
    data["place"] = "Iecava"
    values, text = rendered(templates, "service-agreement", data)
    assert "place_locative" not in values
    assert "\nIecava\t30.01.2020.\n" in text
    data["place_locative"] = "Iecavā"
    _, text = rendered(templates, "service-agreement", data)
    assert "\nIecavā, 2020. gada 30. janvārī\n" in text


@pytest.mark.parametrize("sample", SAMPLES["reimbursement-request"])
def test_request_names_its_month_after_par(templates, sample):
    _, text = rendered(templates, "reimbursement-request", load_sample(sample))
    assert "\npar 2020. gada septembri\n" in text


def test_paper_agreement_says_how_many_copies_instead_of_the_e_signature_clause(templates):
    data = load_sample("service-agreement-child-care")
    assert data["signing"] == "paper"
    _, text = rendered(templates, "service-agreement", data)
    assert "eksemplāros" in text
    assert "drošu elektronisko parakstu un satur laika zīmogu" not in text


def test_act_shows_every_session_and_planned_against_actual(templates):
    data = load_sample("delivery-act-adult-aplp")
    values, text = rendered(templates, "delivery-act", data)
    assert values["totals"]["amount"] == Decimal("228.25")
    assert [(s["code"], s["planned"], s["actual"]) for s in values["services"]] == [
        ("APLP", Decimal("16"), Decimal("15.50")),
        ("ATBG", Decimal("4"), Decimal("4")),
    ]
    for expected in ("PAKALPOJUMA SNIEGŠANAS AKTS Nr. AKTS-2020/09-031", "par 2020. gada septembri"):
        assert expected in text, expected
    assert text.count("Līga Žagare") >= 8 and "Ģirts Čaupjonoks" in text
    assert "10:00" in text and "neieradās" in text and "attālināti" in text
    assert_figure_and_words(text, values["totals"]["amount"])


@pytest.mark.parametrize("sample", SAMPLES["reimbursement-request"])
def test_request_rows_add_up_to_the_total_in_figures_and_words(templates, sample):
    values, text = rendered(templates, "reimbursement-request", load_sample(sample))
    rows = values["rows"]
    total = values["totals"]["amount"]
    assert sum(row["amount"] for row in rows) == total
    assert values["totals"]["esf"] + values["totals"]["state"] == total
    assert values["totals"]["esf"] == (total * Decimal("0.85")).quantize(Decimal("0.01"))
    for row in rows:
        assert money(row["amount"]) in text
    assert_figure_and_words(text, total)
    assert money(values["totals"]["esf"]) in text and money(values["totals"]["state"]) in text
    assert len(re.findall(r"^\d+\.$", text, re.MULTILINE)) >= len(rows)


@pytest.mark.parametrize(("kind", "sample"), [(k, s) for k, samples in SAMPLES.items() for s in samples])
def test_hostile_text_in_every_text_field_comes_out_verbatim(templates, kind, sample):
    data = load_sample(sample)
    schema = KINDS[kind].schema()
    hostile = {}
    for index, path in enumerate(free_text_paths(schema, data)):
        value = f"<b>&amp;\"'{{{{ 7*7 }}}}]]>#{index}#"
        hostile[path] = value
        set_path(data, path, value)
    if kind == "delivery-act":  # the receipt is signed by the client, whatever the name
        data["signatures"]["recipient"] = data["agreement"]["client"]["name"]
    _, text = rendered(templates, kind, data)
    missing = [path for path, value in hostile.items() if value not in text]
    expected_missing = [path for path in hostile if kind in NOT_PRINTED and NOT_PRINTED[kind](path)]
    assert len(hostile) > 10
    assert [path for path in missing if path not in expected_missing] == []
