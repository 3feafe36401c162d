"""Templates: checked at load time, sandboxed at render time, and in contract with their schemas."""

from __future__ import annotations

import shutil

import pytest
from docx import Document
from jinja2.exceptions import SecurityError, UndefinedError

from schemas.plan import SupportPlanSchema
from service.config import ROOT
from service.documents import KINDS, Templates
from service.documents import templates as compiled_templates
from service.documents.contract import missing_paths, used_paths
from service.documents.docx import TemplateDefect
from service.documents.formatting import FILTERS
from tests.docx_text import docx_text
from tests.helpers import ADULT_SUPPORT_PERSON, load_sample

KIND = KINDS["support-plan"]


def templates_with(tmp_path, *paragraphs: str) -> Templates:
    """A templates folder whose support-plan template has these paragraphs (each one run)."""
    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(tmp_path / KIND.template)
    shutil.copy(ROOT / "templates_lv" / "labels.toml", tmp_path / "labels.toml")
    return Templates(tmp_path)


def plan():
    return SupportPlanSchema().load(load_sample(ADULT_SUPPORT_PERSON))


def test_a_broken_tag_names_its_paragraph(tmp_path):
    templates = templates_with(tmp_path, "Ievads", "Plāns Nr. {{ plan.number }", "Beigas")
    with pytest.raises(TemplateDefect) as failure:
        templates.load_all()
    assert "support-plan.docx" in str(failure.value)
    assert "«Plāns Nr. {{ plan.number }" in str(failure.value)


def test_an_unclosed_block_is_a_defect(tmp_path):
    templates = templates_with(tmp_path, "{% if plan.representative %}", "Pārstāvis")
    with pytest.raises(TemplateDefect, match=r"support-plan\.docx"):
        templates.load_all()


def test_a_tag_word_split_across_runs_still_works(tmp_path):
    document = Document()
    paragraph = document.add_paragraph("Nr. ")
    for piece, bold in (("{{ plan.", False), ("num", True), ("ber }}", False)):
        paragraph.add_run(piece).bold = bold
    document.save(tmp_path / KIND.template)
    shutil.copy(ROOT / "templates_lv" / "labels.toml", tmp_path / "labels.toml")
    assert "Nr. IAP-2020/014" in docx_text(Templates(tmp_path).render(KIND, plan()))


def test_smart_quotes_inside_a_tag_are_read_as_straight(tmp_path):
    templates = templates_with(tmp_path, "{{ plan.client.target_group|label(“target_group”) }}")
    assert "pilngadīga persona" in docx_text(templates.render(KIND, plan()))


def test_the_sandbox_keeps_templates_away_from_python_internals(tmp_path):
    templates = templates_with(tmp_path, "{{ cycler.__init__.__globals__.os.getcwd() }}")
    with pytest.raises((SecurityError, UndefinedError)):
        templates.render(KIND, plan())


def test_a_template_without_tags_is_a_defect(tmp_path):
    with pytest.raises(TemplateDefect, match="no template tags"):
        templates_with(tmp_path, "Tikai teksts").load_all()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_template_variable_exists_in_the_schema(app, kind):
    document_kind = KINDS[kind]
    compiled = compiled_templates(app).get(document_kind)
    for part, tree in compiled.asts.items():
        assert missing_paths(tree, document_kind.context, document_kind.schema) == [], part


def test_the_contract_catches_a_variable_the_schema_lacks(tmp_path):
    templates = templates_with(
        tmp_path,
        "{{ plan.client.nickname }}",
        "{%p for s in plan.services %}",
        "{{ s.colour }}",
        "{%p endfor %}",
    )
    tree = templates.get(KIND).asts["word/document.xml"]
    assert missing_paths(tree, "plan", SupportPlanSchema) == [
        "plan.client.nickname",
        "plan.services[].colour",
    ]


def test_the_contract_checks_the_municipality_for_every_kind(tmp_path):
    templates = templates_with(
        tmp_path,
        "{{ municipality.place_locative }}",
        "{{ municipality.clauses.complaints }}",
        "{{ municipality.bank_name }}",
    )
    tree = templates.get(KIND).asts["word/document.xml"]
    assert missing_paths(tree, "plan", SupportPlanSchema) == ["municipality.bank_name"]


def undocumented(readme: str, templates: Templates) -> list[str]:
    """The variables of every registered kind's template, and the filters, that ``readme`` does not name."""
    missing = [
        path
        for kind in KINDS.values()
        for tree in templates.get(kind).asts.values()
        for path in sorted(used_paths(tree, kind.context))
        if f"`{path}`" not in readme
    ]
    filters = templates.environment.filters.keys() & {*FILTERS, "label"}
    return missing + [name for name in sorted(filters) if f"`{name}" not in readme]


def test_the_templates_readme_lists_every_variable_and_filter(app):
    readme = (ROOT / "templates_lv" / "README.md").read_text(encoding="utf-8")
    assert undocumented(readme, compiled_templates(app)) == []
