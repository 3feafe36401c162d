"""A municipality's letterhead and clauses in the standard documents: the logo printed as a picture in the
header (its media part, relationship and content type written), nothing added without one, the agreement's
and the plan's clauses in place of or beside the standard wording; and the template contract that knows
``municipality.*``."""

from __future__ import annotations

import io
import zipfile

import pikepdf
import pytest
from docx import Document
from PIL import Image

from schemas.municipal_settings import read_logo
from service.config import ROOT
from service.documents import KINDS, Templates
from service.documents.inputs import DocumentInputs
from service.documents.labels import STANDARD_LABELS, load_labels
from service.documents.logo import RELATIONSHIP_ID
from service.documents.municipal import MunicipalSettings
from service.documents.uploaded import check_template
from tests.docx_text import docx_text
from tests.helpers import load_sample
from tests.test_pdf_conversion import started_pool
from tests.test_template_check import BODY, PLAN, first_in, paragraph, run

#: The clauses' headings, as the standard templates print them.
CLAUSES = load_labels(STANDARD_LABELS)["clause"]

AGREEMENT = KINDS["service-agreement"]
LETTERHEADS = ("service-agreement", "support-plan", "reimbursement-request", "client-detail", "cover-letter")


def png(width: int = 300, height: int = 100) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (0, 80, 160)).save(buffer, "PNG")
    return buffer.getvalue()


LOGO = read_logo(png())


@pytest.fixture(scope="module")
def templates() -> Templates:
    return Templates.of(ROOT / "templates_lv")


def render(templates: Templates, kind: str, **settings) -> bytes:
    document_kind = KINDS[kind]
    values = document_kind.schema().load(load_sample(document_kind.sample_files()[0].stem))
    return templates.render(document_kind, values, DocumentInputs(MunicipalSettings("bauska", **settings)))


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return {name: package.read(name) for name in package.namelist()}


def agreement_text(templates: Templates, **clauses: str) -> str:
    return docx_text(render(templates, "service-agreement", clauses=clauses))


def test_the_agreement_with_a_logo_has_the_picture_its_relationship_and_a_drawing_in_the_header(templates):
    package = members(render(templates, "service-agreement", logo=LOGO))
    assert package["word/media/veidlapas-logo.png"] == LOGO.data
    rels = package["word/_rels/header1.xml.rels"].decode()
    assert f'Id="{RELATIONSHIP_ID}"' in rels and 'Target="media/veidlapas-logo.png"' in rels
    assert '<Default Extension="png" ContentType="image/png"/>' in package["[Content_Types].xml"].decode()
    header = package["word/header1.xml"].decode()
    assert "<w:drawing" in header and f'r:embed="{RELATIONSHIP_ID}"' in header
    assert '<wp:extent cx="1620000" cy="540000"/>' in header  # 1.5 cm high, three times as wide
    assert RELATIONSHIP_ID not in package["word/_rels/document.xml.rels"].decode()  # the body prints none


def test_python_docx_opens_it_and_finds_the_logo_behind_the_headers_relationship(templates):
    document = Document(io.BytesIO(render(templates, "service-agreement", logo=LOGO)))
    header = document.sections[0].header
    assert header.part.related_parts[RELATIONSHIP_ID].blob == LOGO.data
    assert "Ierobežotas pieejamības informācija" in [p.text for p in header.paragraphs]


@pytest.mark.parametrize("kind", LETTERHEADS)
def test_every_letterhead_prints_the_logo_and_its_part_relates_to_it(templates, kind):
    package = members(render(templates, kind, logo=LOGO))
    marker = RELATIONSHIP_ID.encode()
    printing = [name for name, data in package.items() if "_rels" not in name and marker in data]
    assert printing, kind
    for part in printing:
        folder, _, file = part.rpartition("/")
        assert RELATIONSHIP_ID in package[f"{folder}/_rels/{file}.rels"].decode(), part


@pytest.mark.parametrize("kind", LETTERHEADS)
def test_without_a_logo_nothing_is_added_and_the_header_is_as_before(templates, kind):
    with_settings = render(templates, kind)
    package = members(with_settings)
    assert not [name for name in package if name.startswith("word/media/")]
    assert all(RELATIONSHIP_ID.encode() not in data for data in package.values())
    with zipfile.ZipFile(ROOT / "templates_lv" / KINDS[kind].template) as template:
        assert package["[Content_Types].xml"] == template.read("[Content_Types].xml")
    if "word/header1.xml" in package:
        header = Document(io.BytesIO(with_settings)).sections[0].header
        assert [p.text for p in header.paragraphs] == ["Ierobežotas pieejamības informācija"]


def test_the_same_input_gives_the_same_bytes_with_a_logo(templates):
    first = render(templates, "service-agreement", logo=LOGO, clauses={"additional": "Cits."})
    assert first == render(templates, "service-agreement", logo=LOGO, clauses={"additional": "Cits."})


def test_a_jpeg_logo_gets_its_own_extension_and_content_type(templates):
    buffer = io.BytesIO()
    Image.new("RGB", (100, 100), (200, 0, 0)).save(buffer, "JPEG")
    package = members(render(templates, "cover-letter", logo=read_logo(buffer.getvalue())))
    assert "word/media/veidlapas-logo.jpeg" in package
    assert 'Extension="jpeg" ContentType="image/jpeg"' in package["[Content_Types].xml"].decode()
    assert RELATIONSHIP_ID in package["word/_rels/document.xml.rels"].decode()  # the letter's body prints it


def test_libreoffice_converts_the_agreement_and_its_first_page_has_the_picture(templates):
    pool = started_pool(size=1)
    try:
        pdf = pool.convert(render(templates, "service-agreement", logo=LOGO))
    finally:
        pool.close()
    with pikepdf.open(io.BytesIO(pdf)) as document:
        resources = document.pages[0].obj.Resources
        images = [x for x in resources.get("/XObject", {}).values() if x.get("/Subtype") == "/Image"]
    assert images and (images[0].Width, images[0].Height) == (300, 100)


def test_the_agreement_prints_a_set_clause_under_its_heading_and_the_standard_wording_otherwise(templates):
    standard = agreement_text(templates)
    assert "10. Strīdu risināšana" in standard and CLAUSES["complaints"] not in standard
    assert "Puses neizpauž trešajām personām informāciju" in standard
    assert "3.6." not in standard and CLAUSES["additional"] not in standard
    assert "14. Pušu rekvizīti un paraksti" in standard and "Līguma 14. sadaļā" in standard

    own = agreement_text(
        templates,
        payment_terms="Rēķinu apmaksā līdz mēneša 20. datumam.",
        confidentiality="Pirmā rindkopa par datiem.\nOtrā rindkopa par datiem.",
        complaints="Sūdzības izskata domes Sociālo jautājumu komiteja.",
        additional="Līgumam pievienoti iekšējie noteikumi.",
    )
    assert "3.6.\tRēķinu apmaksā līdz mēneša 20. datumam." in own
    assert "5. Konfidencialitāte un personas datu aizsardzība" in own
    assert "5.1.\tPirmā rindkopa par datiem.\nOtrā rindkopa par datiem." in own
    assert "Puses neizpauž trešajām personām informāciju" not in own
    assert f"10. {CLAUSES['complaints']}" in own and "10. Strīdu risināšana" not in own
    assert "10.1.\tSūdzības izskata domes Sociālo jautājumu komiteja." in own
    assert f"14. {CLAUSES['additional']}\n14.1.\tLīgumam pievienoti iekšējie noteikumi." in own
    assert "15. Pušu rekvizīti un paraksti" in own and "Līguma 15. sadaļā" in own


def test_one_clause_leaves_the_other_standard_wording_in_place(templates):
    text = agreement_text(templates, complaints="Sūdzības izskata dome.")
    assert "Puses neizpauž trešajām personām informāciju" in text and "14. Pušu rekvizīti" in text


def test_the_plan_prints_confidentiality_before_the_signatures_when_set(templates):
    standard = docx_text(render(templates, "support-plan"))
    assert "15. Paraksti" in standard and CLAUSES["confidentiality"] not in standard
    own = docx_text(render(templates, "support-plan", clauses={"confidentiality": "Dati glabājas drošībā."}))
    assert f"15. {CLAUSES['confidentiality']}\nDati glabājas drošībā.\n16. Paraksti" in own


def test_an_uploaded_template_with_an_unknown_municipality_variable_is_refused_with_a_near_name():
    result = check_template(first_in(BODY, paragraph(run("{{ municipality.nam }}"))), PLAN)
    (found,) = result.problems
    assert found.problem.code == "template.unknown_variable_near"
    assert found.problem.params == {"name": "municipality.nam", "near": "municipality.name"}


def test_an_uploaded_template_may_use_the_municipality_and_its_logo():
    data = first_in(
        BODY, paragraph(run("{{r municipality.logo }}")) + paragraph(run("{{ municipality.place_locative }}"))
    )
    result = check_template(data, PLAN)
    assert result.accepted, result.problems


def test_an_uploaded_template_printing_the_logo_inside_text_is_refused():
    result = check_template(first_in(BODY, paragraph(run("Logo: {{ municipality.logo }}"))), PLAN)
    assert [found.problem.code for found in result.problems] == ["template.logo_in_text"]
