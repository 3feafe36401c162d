"""The rendered support plan, opened and read: names, sums, dates in words, hostile text, determinism."""

from __future__ import annotations

import zipfile
from io import BytesIO

import pytest
from marshmallow import fields

from schemas.fields import Text
from schemas.plan import SupportPlanSchema
from service.documents import KINDS
from service.documents import templates as compiled_templates
from tests.docx_text import docx_text
from tests.helpers import ADULT_SUPPORT_PERSON, ADULT_TRUSTEE, CHILD_PARENT, PLAN_SAMPLES, load_sample

KIND = KINDS["support-plan"]
NBSP = "\u00a0"


@pytest.fixture
def templates(app):
    return compiled_templates(app)


def render(templates, data):
    return templates.render(KIND, SupportPlanSchema().load(data))


def test_adult_plan_shows_names_sums_and_dates_in_words(templates):
    text = docx_text(render(templates, load_sample(ADULT_SUPPORT_PERSON)))
    for expected in (
        "INDIVIDUĀLAIS ATBALSTA PLĀNS Nr. IAP-2020/014",
        "Ēriks Gailītis",
        "150385-12346",
        "15.03.1985.",  # birth date derived from the old-format personal code
        "Līga Žagare",
        "Ķēniņu iela 3, Bauska, LV-3901",
        'Biedrība "Atbalsta loks"',
        "atbalsta persona lēmumu pieņemšanā",
        f"184,00{NBSP}€",  # 16 h × 11,50 €
        f"235,20{NBSP}€",  # 12 days × 19,60 €
        f"75,00{NBSP}€",  # 2,5 h × 30,00 € (tariff from 2020-01-01)
        f"544,20{NBSP}€",  # monthly total
        f"55,80{NBSP}€",  # budget left
        f"600,00{NBSP}€",
        "seši simti euro un 00 centu",
        "septiņi tūkstoši divi simti euro un 00 centu",
        "2020. gada 1. februāris",
        "2021. gada 31. janvāris",
        "pilngadīga persona ar garīga rakstura traucējumiem",
        "Gunta Ņikitina",
    ):
        assert expected in text, expected


def test_child_plan_shows_the_parent_and_the_label_wording(templates):
    data = load_sample(CHILD_PARENT)
    text = docx_text(render(templates, data))
    assert data["client"]["name"] in text
    assert data["representative"]["name"] in text
    assert "vecāks" in text
    assert "bērns ar funkcionāliem traucējumiem" in text


def test_trustee_plan_shows_the_court_ruling_and_orphan_court(templates):
    data = load_sample(ADULT_TRUSTEE)
    text = docx_text(render(templates, data))
    assert "aizgādnis" in text
    assert "ierobežota rīcībspēja" in text
    assert data["legal_capacity"]["court_ruling_number"] in text
    assert data["representative"]["orphan_court_decision"] in text


def test_samples_use_every_latvian_letter():
    text = "".join((docx_sample := load_sample(name)) and str(docx_sample) for name in PLAN_SAMPLES)
    assert set("āčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽ") <= set(text)


# Text fields that refer to something else (a catalogue code, a goal, a project, an agreement that
# lines point to, the signer who must be the client): free text there is rightly refused.
REFERENCES = frozenset({"code", "unit", "goal", "id", "project", "aplp_level", "agreement", "recipient"})


def free_text_paths(schema, data, path=()):
    """Paths of the sample's values held by plain Text fields (not ids, codes or references)."""
    for name, field in schema.fields.items():
        if name not in data or field.dump_only:
            continue
        value = data[name]
        if isinstance(field, fields.Nested):
            yield from free_text_paths(field.schema, value, (*path, name))
        elif isinstance(field, fields.List):
            for index, item in enumerate(value):
                if isinstance(field.inner, fields.Nested):
                    yield from free_text_paths(field.inner.schema, item, (*path, name, index))
                elif type(field.inner) is Text:
                    yield (*path, name, index)
        elif type(field) is Text and name not in REFERENCES and path[-2:-1] != ("agreements",):
            yield (*path, name)


def set_path(data, path, value):
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


@pytest.mark.parametrize("sample", PLAN_SAMPLES)
def test_hostile_text_in_every_text_field_comes_out_verbatim(templates, sample):
    data = load_sample(sample)
    paths = list(free_text_paths(SupportPlanSchema(), data))
    assert len(paths) > 40
    hostile = {}
    for index, path in enumerate(paths):
        value = f"<b>&amp;\"'{{{{ 7*7 }}}}{{% x %}}]]>#{index}"
        hostile[path] = value
        set_path(data, path, value)
    document = render(templates, data)
    text = docx_text(document)
    missing = [path for path, value in hostile.items() if value not in text]
    assert missing == [], f"not printed verbatim: {missing}"


def test_multiline_text_keeps_its_line_breaks(templates):
    data = load_sample(ADULT_SUPPORT_PERSON)
    data["needs_assessment"]["strengths"] = "Pirmā rinda\nOtrā rinda"
    assert "Pirmā rinda\nOtrā rinda" in docx_text(render(templates, data))


def test_same_data_gives_the_same_bytes(templates):
    first = render(templates, load_sample(ADULT_TRUSTEE))
    second = render(templates, load_sample(ADULT_TRUSTEE))
    assert first == second


def test_document_is_a_valid_package(templates):
    document = render(templates, load_sample(CHILD_PARENT))
    with zipfile.ZipFile(BytesIO(document)) as package:
        assert package.testzip() is None
        assert "word/document.xml" in package.namelist()
        assert b"{{" not in package.read("word/document.xml")
