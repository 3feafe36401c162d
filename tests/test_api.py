"""The HTTP API: success, every error status as problem+json, languages, OpenAPI."""

from __future__ import annotations

import io
import json
from urllib.parse import unquote

import pytest
from docx import Document
from openapi_spec_validator import validate

from tests.helpers import ADULT_SUPPORT_PERSON, PLAN_SAMPLES, load_sample, sample_text

PROBLEM = "application/problem+json"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def post_json(client, url, data, **kwargs):
    body = data if isinstance(data, str | bytes) else json.dumps(data, ensure_ascii=False)
    return client.post(url, data=body, content_type="application/json", **kwargs)


def assert_problem(response, status):
    assert response.status_code == status
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["title"]
    assert body["instance"] == response.request.path
    return body


def test_health_lists_the_documents(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert "support-plan" in response.json["documents"]


@pytest.mark.parametrize("sample", PLAN_SAMPLES)
def test_support_plan_renders_to_docx_with_latvian_file_name(client, sample):
    data = load_sample(sample)
    response = post_json(client, "/api/v1/documents/support-plan", sample_text(sample))
    assert response.status_code == 200
    assert response.mimetype == DOCX
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    expected = "Atbalsta plāns " + data["number"].replace("/", "-") + ".docx"
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == expected
    text = "\n".join(p.text for p in Document(io.BytesIO(response.data)).paragraphs)
    assert data["number"] in text


def test_validate_returns_derived_figures(client):
    response = post_json(client, "/api/v1/validate/support-plan", sample_text(ADULT_SUPPORT_PERSON))
    assert response.status_code == 200
    document = response.json["document"]
    assert response.json["valid"] is True
    assert document["totals"] == {"monthly": "544.20", "budget_left": "55.80"}
    assert [line["amount"] for line in document["services"]] == ["184.00", "235.20", "75.00", "50.00"]


def test_invalid_plan_lists_every_problem_in_latvian(client):
    data = load_sample(ADULT_SUPPORT_PERSON)
    data["client"]["personal_code"] = "150385-12345"
    data["services"][2]["unit"] = "diena"
    data["review_date"] = "2022-01-01"
    data["nickname"] = "Ēris"
    body = assert_problem(post_json(client, "/api/v1/validate/support-plan", data), 422)
    found = {(e["path"], e["code"]) for e in body["errors"]}
    assert found == {
        ("/client/personal_code", "personal_code.checksum"),
        ("/services/2/unit", "service.unit_mismatch"),
        ("/review_date", "review_date.outside_period"),
        ("/nickname", "unknown_field"),
    }
    messages = {e["code"]: e["message"] for e in body["errors"]}
    assert messages["personal_code.checksum"] == "Personas koda kontrolcipars nav pareizs."
    assert "01.02.2020." in messages["review_date.outside_period"]
    assert body["title"] == "Dati nav derīgi"


def test_english_on_request(client):
    data = load_sample(ADULT_SUPPORT_PERSON)
    data["client"]["personal_code"] = "150385-12345"
    response = post_json(
        client, "/api/v1/documents/support-plan", data, headers={"Accept-Language": "en-GB,en;q=0.9"}
    )
    body = assert_problem(response, 422)
    assert response.headers["Content-Language"] == "en"
    assert body["errors"][0]["message"] == "The check digit of the personal code is wrong."


def test_unknown_language_falls_back_to_latvian(client):
    response = client.get("/api/v1/nowhere", headers={"Accept-Language": "de"})
    assert assert_problem(response, 404)["title"] == "Nav atrasts"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("{", "body.json"),
        ("", "body.empty"),
        ('{"a": 1, "a": 2}', "body.duplicate_key"),
        ('{"a": NaN}', "body.constant"),
        ("[" * 100_000, "body.too_deep"),
        ('{"a": ' + "[" * 25 + "1" + "]" * 25 + "}", "body.too_deep"),
        (b"\xff\xfe{}", "body.encoding"),
    ],
)
def test_malformed_bodies_are_400(client, body, code):
    problem = assert_problem(post_json(client, "/api/v1/validate/support-plan", body), 400)
    assert [e["code"] for e in problem["errors"]] == [code]


def test_wrong_body_type_is_422_at_the_root(client):
    problem = assert_problem(post_json(client, "/api/v1/validate/support-plan", "[1, 2]"), 422)
    assert problem["errors"] == [
        {"path": "", "code": "type.object", "message": "Jābūt objektam."},
    ]


def test_not_json_is_415(client):
    response = client.post("/api/v1/documents/support-plan", data="x", content_type="text/plain")
    assert assert_problem(response, 415)["errors"][0]["code"] == "body.media_type"


def test_too_large_is_413(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = post_json(client, "/api/v1/documents/support-plan", sample_text(ADULT_SUPPORT_PERSON))
    assert_problem(response, 413)


def test_unknown_address_is_404(client):
    assert_problem(client.get("/api/v1/documents/nothing"), 404)


def test_wrong_method_is_405_with_allow(client):
    response = client.get("/api/v1/documents/support-plan")
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


def test_unexpected_failure_is_500_without_details(app, client, caplog):
    def explode():
        raise RuntimeError("Ēriks Gailītis 150385-12346")

    app.add_url_rule("/api/v1/boom", "boom", explode)
    response = client.get("/api/v1/boom")
    body = assert_problem(response, 500)
    assert "Ēriks" not in response.get_data(as_text=True)
    assert body["detail"].startswith("Pakalpojums nevarēja")
    assert "RuntimeError" in caplog.text
    assert "Ēriks" not in caplog.text and "150385" not in caplog.text


def test_openapi_document_is_valid_and_describes_the_plan(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json
    validate(spec)
    operation = spec["paths"]["/api/v1/documents/support-plan"]["post"]
    schema_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    plan = spec["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert {"client", "services", "period", "signatures"} <= set(plan["properties"])
    assert "422" in operation["responses"]


def test_swagger_ui_is_served_without_external_assets(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert b"/docs/static/swagger-ui-bundle.js" in page.data
    assert client.get("/docs/static/swagger-ui-bundle.js").status_code == 200
