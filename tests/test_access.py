"""Access: tokens, roles, and the municipality scope of every endpoint — on SQLite and on PostgreSQL.

The route tests walk the application's URL map, so a new endpoint is covered the day it is added: it
must refuse a request without a token, and an endpoint that shows one stored object must be listed
in SCOPED_ROUTES with how to make such an object, so that the test proves other municipalities get 404.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import select, update

from service.auth import PUBLIC_ENDPOINTS, ROLES, permissions
from service.documents import KINDS
from service.store import blob_store, blobs, database, keep_documents
from service.store.models import AuditEntry, RegisteredDocument, Token
from tests.case_helpers import CASE_ROUTES, received_act
from tests.helpers import FILLED_ACT, blank_act_form, fill_with_pdftk, kind_sample_text, load_sample, upload

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)

PROBLEM = "application/problem+json"


def api_routes(app):
    """(rule, method) of every API endpoint."""
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def url_of(rule, value="0" * 32):
    return re.sub(r"<[^>]+>", value, rule.rule)


def render(client, kind="support-plan", headers=None):
    return client.post(
        f"/api/v1/documents/{kind}",
        data=kind_sample_text(kind),
        content_type="application/json",
        headers=headers or {},
    )


def render_and_locate(client, headers):
    response = render(client, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.headers["Location"]


def submit_and_locate(client, headers):
    import tempfile

    form = blank_act_form(client, headers)
    response = upload(client, fill_with_pdftk(form, FILLED_ACT, Path(tempfile.mkdtemp())), headers=headers)
    # 200 is the same file received again: the same submission
    assert response.status_code in (200, 201), response.get_data(as_text=True)[:500]
    return f"/api/v1/submissions/{response.json['id']}"


def pack_and_locate(client, headers):
    from tests.test_packs import finished, order

    body = order()
    body["agreements"] = body["agreements"][:1]
    body["lines"] = [line for line in body["lines"] if line["agreement"] == body["agreements"][0]["number"]]
    response = client.post("/api/v1/packs", json=body, headers=headers)
    assert response.status_code in (200, 202), response.get_data(as_text=True)[:500]
    assert finished(client, response.json["url"], headers)["state"] == "succeeded"
    return response.json["url"]


#: Endpoints that show or change one stored object: how to make one (returns the object's URL).
SCOPED_ROUTES = {
    "/api/v1/jobs/<job_id>": pack_and_locate,
    "/api/v1/jobs/<job_id>/result": lambda client, headers: pack_and_locate(client, headers) + "/result",
    "/api/v1/submissions/<submission_id>": submit_and_locate,
    "/api/v1/submissions/<submission_id>/accept": lambda client, headers: (
        f"/api/v1/submissions/{received_act(client, headers, Path(tempfile.mkdtemp()))['id']}/accept"
    ),
    "/api/v1/register/<document_id>": render_and_locate,
    "/api/v1/register/<document_id>/content": lambda client, headers: (
        render_and_locate(client, headers) + "/content"
    ),
}


def test_every_api_endpoint_but_health_needs_a_token(app, anonymous):
    checked = 0
    for rule, method in api_routes(app):
        response = anonymous.open(url_of(rule), method=method)
        if rule.endpoint in PUBLIC_ENDPOINTS:
            assert response.status_code == 200
            continue
        assert response.status_code == 401, (method, rule.rule)
        assert response.mimetype == PROBLEM
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.json["errors"][0]["code"] == "auth.missing"
        checked += 1
    assert checked >= 12


@pytest.mark.parametrize(
    "token", ["", "Bearer", "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer vl_" + "x" * 43]
)
def test_a_wrong_token_is_401(anonymous, token):
    response = anonymous.get("/api/v1/catalogue", headers={"Authorization": token})
    assert response.status_code == 401
    assert response.json["errors"][0]["code"] in ("auth.missing", "auth.invalid")


def test_an_expired_or_revoked_token_is_401(app, anonymous, user_headers):
    headers = user_headers("social_worker", "bauska")
    assert anonymous.get("/api/v1/catalogue", headers=headers).status_code == 200
    db = database(app)
    with db.session() as session:
        session.execute(update(Token).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    assert anonymous.get("/api/v1/catalogue", headers=headers).json["errors"][0]["code"] == "auth.invalid"
    with db.session() as session:
        session.execute(update(Token).values(expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1)))
    assert anonymous.get("/api/v1/catalogue", headers=headers).status_code == 200
    with db.session() as session:
        session.execute(update(Token).values(revoked_at=dt.datetime.now(dt.UTC)))
    assert anonymous.get("/api/v1/catalogue", headers=headers).status_code == 401


def test_only_the_hash_of_a_token_is_stored(app, user_headers):
    token = user_headers("reviewer", "lm")["Authorization"].removeprefix("Bearer ")
    with database(app).session() as session:
        digests = session.scalars(select(Token.digest)).all()
    assert token not in digests and all(len(d) == 64 for d in digests)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_role_renders_and_validates_only_what_it_may(anonymous, user_headers, role, kind):
    headers = user_headers(role, "bauska")
    allowed = f"render:{kind}" in permissions(role)
    for action in ("validate", "documents"):
        response = anonymous.post(
            f"/api/v1/{action}/{kind}",
            data=kind_sample_text(kind),
            content_type="application/json",
            headers=headers,
        )
        assert response.status_code == (200 if allowed else 403), (role, kind, action)
        if not allowed:
            assert response.json["errors"][0]["code"] == "auth.forbidden"


@pytest.mark.parametrize("role", ROLES)
def test_reading_endpoints_are_open_to_every_role_and_audit_to_administrators(anonymous, user_headers, role):
    headers = user_headers(role, "bauska")
    for url in ("/api/v1/catalogue", "/api/v1/projects", "/api/v1/templates", "/api/v1/register"):
        assert anonymous.get(url, headers=headers).status_code == 200, url
    assert anonymous.get("/api/v1/audit", headers=headers).status_code == (
        200 if role == "administrator" else 403
    )


def test_every_endpoint_with_an_object_is_scoped(app, anonymous, user_headers):
    bauska, liepaja = user_headers("administrator", "bauska"), user_headers("administrator", "liepaja")
    reviewer = user_headers("reviewer", "lm")
    keep_documents(app, blobs(app) or blob_store(app))
    routes = {rule.rule for rule, _ in api_routes(app) if "<" in rule.rule}
    cases = {rule for rule, _ in CASE_ROUTES}
    assert routes == set(SCOPED_ROUTES) | cases, "a new endpoint with an object: add it to SCOPED_ROUTES"
    for rule, method in api_routes(app):
        if "<" not in rule.rule or rule.rule in cases:
            continue
        url = SCOPED_ROUTES[rule.rule](anonymous, bauska)
        if method == "GET":
            assert anonymous.get(url, headers=reviewer).status_code == 200, rule.rule
        assert anonymous.open(url, method=method, headers=liepaja).status_code == 404, (method, rule.rule)
        assert anonymous.open(url, method=method, headers=bauska).status_code in (200, 204), (
            method,
            rule.rule,
        )


@pytest.mark.parametrize("route", sorted(CASE_ROUTES), ids=" ".join)
def test_every_case_endpoint_is_scoped_and_hidden_from_reviewers(app, anonymous, user_headers, route):
    """Case records: another municipality gets 404, a reviewer 403 (reviewers see totals, never a case)."""
    rule, method = route
    bauska, liepaja = user_headers("administrator", "bauska"), user_headers("administrator", "liepaja")
    reviewer = user_headers("reviewer", "lm")
    url, body, query = CASE_ROUTES[route](anonymous, bauska)
    assert {r.rule for r, m in api_routes(app) if m == method} >= {rule}

    def send(headers):
        return anonymous.open(
            url, method=method, json=body, query_string=query, headers={**headers, "If-Match": "*"}
        )

    assert send(liepaja).status_code == 404
    assert send(reviewer).status_code == 403
    assert send(bauska).status_code in (200, 201), send(bauska).json


def test_lists_show_only_the_users_municipality_and_reviewers_see_all(anonymous, user_headers):
    bauska, liepaja = user_headers("social_worker", "bauska"), user_headers("social_worker", "liepaja")
    reviewer = user_headers("reviewer", "lm")
    render(anonymous, headers=bauska)
    render(anonymous, headers=bauska)
    render(anonymous, "service-agreement", headers=liepaja)
    listed = {
        name: [d["municipality"] for d in anonymous.get("/api/v1/register", headers=h).json]
        for name, h in (("bauska", bauska), ("liepaja", liepaja), ("reviewer", reviewer))
    }
    assert listed["bauska"] == ["bauska", "bauska"]
    assert listed["liepaja"] == ["liepaja"]
    assert sorted(listed["reviewer"]) == ["bauska", "bauska", "liepaja"]
    kinds = anonymous.get("/api/v1/register?kind=service-agreement", headers=reviewer).json
    assert [d["kind"] for d in kinds] == ["service-agreement"]


def test_a_rendered_document_is_registered_with_its_hash_not_its_content(app, client):
    import hashlib

    response = render(client)
    entry = client.get(response.headers["Location"]).json
    assert entry["sha256"] == hashlib.sha256(response.data).hexdigest()
    assert entry["size"] == len(response.data)
    assert entry["kind"] == "support-plan" and entry["municipality"] == "bauska"
    assert entry["stored"] is False
    assert client.get(response.headers["Location"] + "/content").status_code == 404


def test_stored_documents_can_be_downloaded_and_deleted(app, client):
    keep_documents(app, blob_store(app))
    response = render(client)
    location = response.headers["Location"]
    download = client.get(location + "/content")
    assert download.status_code == 200 and download.data == response.data
    assert client.delete(location).status_code == 204
    assert client.get(location).status_code == 404


def test_the_audit_trail_records_every_action_with_identifiers_only(app, client):
    data = load_sample("support-plan-adult-support-person")
    render(client)
    client.post("/api/v1/validate/support-plan", json=data)
    data["client"]["personal_code"] = "1"
    client.post("/api/v1/validate/support-plan", json=data)
    trail = client.get("/api/v1/audit").json
    assert [(e["action"], e["outcome"]) for e in trail][:3] == [
        ("validated", "invalid"),
        ("validated", "valid"),
        ("rendered", "ok"),
    ]
    assert json.loads(trail[0]["detail"]) == {"problems": 1}
    assert client.get("/api/v1/audit?action=rendered").json[0]["object_type"] == "document"
    with database(app).session() as session:
        stored = " ".join(
            f"{e.detail} {e.object_id} {e.username}" for e in session.scalars(select(AuditEntry))
        ) + " ".join(d.file_name for d in session.scalars(select(RegisteredDocument)))
    for personal in (data["client"]["name"], "150385-12346", "Gailītis"):
        assert personal not in stored


def test_bad_query_parameters_are_coded_problems(client):
    response = client.get("/api/v1/audit?limit=0&since=yesterday")
    assert response.status_code == 422
    assert {e["path"] for e in response.json["errors"]} == {"/limit", "/since"}

