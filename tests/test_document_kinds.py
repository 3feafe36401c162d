"""Adding a document kind touches four places — its schema, its template, its registry entry and its
sample — and everything else follows from the registry.

A toy kind (a notice to a client) is made here from exactly those four things, registered for the test,
and the application serves it: its routes render and validate it, its OpenAPI comes from its schema, the
roles the entry names may render it and others may not, ``/templates`` and ``/health`` list it, the template
contract and the templates README check read it, and the tests' kind-to-sample helpers find its sample.
"""

from __future__ import annotations

import json
import shutil

import pytest
from docx import Document

from schemas.base import Strict
from schemas.fields import Date, Text
from service import create_app
from service.auth import permissions
from service.config import ROOT
from service.documents import KINDS, DocumentKind, templates
from service.documents.contract import missing_paths
from service.documents.registry import safe_file_name
from service.store import database
from tests.docx_text import docx_text
from tests.helpers import kind_samples
from tests.test_templates import undocumented

TOY = "toy-notice"


class ToyNoticeSchema(Strict):
    """1. The schema: what a notice holds."""

    number = Text(required=True, max_length=40)
    date = Date(required=True)
    client = Text(required=True, max_length=120)


@pytest.fixture
def toy_kind(tmp_path, monkeypatch):
    """2. the template, 3. the registry entry and 4. the sample — nothing else."""
    folder = tmp_path / "templates"
    shutil.copytree(ROOT / "templates_lv", folder)
    document = Document()
    for text in (
        "PAZIŅOJUMS Nr. {{ notice.number }}",
        "Datums: {{ notice.date|date_numeric }}",
        "Klients: {{ notice.client }}",
    ):
        document.add_paragraph(text)
    document.save(folder / "toy-notice.docx")
    sample = tmp_path / "toy-notice-bauska.json"
    sample.write_text(
        json.dumps({"number": "P-2020/7", "date": "2020-09-15", "client": "Ēriks Ķirse"}), encoding="utf-8"
    )
    kind = DocumentKind(
        name=TOY,
        title="Paziņojums klientam",
        schema=ToyNoticeSchema,
        template="toy-notice.docx",
        context="notice",
        file_name=lambda notice: f"Paziņojums {safe_file_name(notice['number'])}",
        roles=frozenset({"social_worker", "administrator"}),
        samples=(str(sample),),
    )
    monkeypatch.setitem(KINDS, TOY, kind)
    return kind, folder


@pytest.fixture
def toy_app(toy_kind, tmp_path):
    _, folder = toy_kind
    app = create_app(
        {"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'toy.db'}", "TEMPLATES_DIR": folder}
    )
    yield app
    database(app).engine.dispose()


@pytest.fixture
def headers(toy_app):
    from service import accounts

    made = {}
    with database(toy_app).session() as session:
        for role in ("social_worker", "finance_officer"):
            _, token = accounts.add_user(session, f"toy-{role.replace('_', '-')}", role, "bauska")
            made[role] = {"Authorization": f"Bearer {token}"}
    return made


def test_the_toy_kind_is_rendered_and_validated_from_its_sample(toy_app, headers):
    from tests.test_access import render

    client = toy_app.test_client()
    response = render(client, TOY, headers["social_worker"])
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Pazi%C5%86ojums%20P-2020-7.docx" in response.headers["Content-Disposition"]
    text = docx_text(response.data)
    assert "PAZIŅOJUMS Nr. P-2020/7" in text and "15.09.2020." in text and "Ēriks Ķirse" in text
    report = client.post(
        f"/api/v1/validate/{TOY}", json=kind_samples(TOY)[0], headers=headers["social_worker"]
    )
    assert report.json == {
        "valid": True,
        "kind": TOY,
        "document": {"number": "P-2020/7", "date": "2020-09-15", "client": "Ēriks Ķirse"},
    }
    bad = client.post(f"/api/v1/validate/{TOY}", json={"number": "P-1"}, headers=headers["social_worker"])
    assert bad.status_code == 422
    assert {(e["path"], e["code"]) for e in bad.json["errors"]} == {
        ("/date", "required"),
        ("/client", "required"),
    }


def test_only_the_roles_the_entry_names_may_render_the_toy_kind(toy_app, headers):
    from tests.test_access import render

    assert f"render:{TOY}" in permissions("social_worker")
    assert f"render:{TOY}" not in permissions("finance_officer")
    response = render(toy_app.test_client(), TOY, headers["finance_officer"])
    assert response.status_code == 403 and response.json["errors"][0]["code"] == "auth.forbidden"


def test_the_toy_kinds_openapi_comes_from_its_schema(toy_app):
    spec = toy_app.test_client().get("/openapi.json").json
    render = spec["paths"][f"/api/v1/documents/{TOY}"]["post"]
    assert render["operationId"] == "render_toy_notice"
    assert render["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ToyNotice"
    }
    assert set(spec["components"]["schemas"]["ToyNotice"]["properties"]) == {"number", "date", "client"}
    validate = spec["paths"][f"/api/v1/validate/{TOY}"]["post"]
    assert validate["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ToyNoticeReport"
    }


def test_the_listings_the_contract_and_the_readme_check_read_the_toy_kind(toy_app, toy_kind, headers):
    kind, folder = toy_kind
    client = toy_app.test_client()
    assert TOY in client.get("/api/v1/health").json["documents"]
    listed = {t["kind"]: t for t in client.get("/api/v1/templates", headers=headers["social_worker"]).json}
    assert listed[TOY]["variables"] == ["notice.client", "notice.date", "notice.number"]
    assert listed[TOY]["missing"] == []
    tree = templates(toy_app).get(kind).asts["word/document.xml"]
    assert missing_paths(tree, "notice", ToyNoticeSchema) == []
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert undocumented(readme, templates(toy_app)) == ["notice.client", "notice.date", "notice.number"]
    documented = readme + "\n`notice.number` `notice.date` `notice.client`\n"
    assert undocumented(documented, templates(toy_app)) == []
