"""The template author's reference: a DOCX per kind with every variable of its data, an example value from
its sample, and every filter with what it prints."""

from __future__ import annotations

import io

import pytest
from docx import Document

from service.documents import KINDS, formatting
from service.documents.contract import used_paths

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def reference(client, kind: str) -> tuple[dict[str, str], dict[str, str]]:
    answer = client.get("/api/v1/template-reference", query_string={"kind": kind})
    assert answer.status_code == 200 and answer.mimetype == DOCX
    variables, filters = Document(io.BytesIO(answer.data)).tables
    return (
        {row.cells[0].text: row.cells[1].text for row in variables.rows[1:]},
        {row.cells[0].text: row.cells[2].text for row in filters.rows[1:]},
    )


def test_the_agreements_reference_lists_its_variables_with_the_samples_values_and_every_filter(client):
    variables, filters = reference(client, "service-agreement")
    assert variables["agreement.client.name"] == "Ēriks Gailītis"
    assert variables["agreement.services[].code"] == "APLP"
    assert variables["agreement.services"].startswith("(saraksts")
    assert set(filters) == set(formatting.FILTERS)
    assert filters["date_long"].endswith("→ 2020. gada 30. janvārī")
    assert filters["period_long"].endswith("→ par 2020. gada 3. ceturksni")
    assert filters["amount_in_words"].endswith("sešdesmit septiņi euro un 38 centi")


def test_every_reference_lists_the_municipality_with_the_sample_municipalitys_values(client):
    variables, _ = reference(client, "support-plan")
    assert variables["municipality.place_locative"] == "Bauskā"
    assert variables["municipality.name"] == "Bauskas novada pašvaldība"
    assert "{{r municipality.logo }}" in variables["municipality.logo"]
    assert variables["municipality.clauses.complaints"].startswith("(pašvaldības teksts")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_variable_a_standard_template_uses_is_in_its_reference(app, client, kind):
    from service.documents import templates

    variables, _ = reference(client, kind)
    with app.app_context():
        trees = templates().get(KINDS[kind]).asts.values()
    used = set().union(*(used_paths(tree, KINDS[kind].context) for tree in trees))
    listed = set(variables)
    assert {path for path in used if path != KINDS[kind].context and path not in listed} <= {
        p for p in used if any(v.endswith(".*") and p.startswith(v[:-1]) for v in listed)
    }


def test_an_unknown_kind_is_a_clear_problem(client):
    answer = client.get("/api/v1/template-reference", query_string={"kind": "nav"})
    assert answer.status_code == 400 and answer.mimetype == "application/problem+json"
    assert answer.json["errors"][0]["path"] == "/kind"
