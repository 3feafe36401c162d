"""Security headers on every kind of response; HSTS only over HTTPS; no inline script on /docs."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from service import create_app, security
from service.store import database
from tests.helpers import ADULT_SUPPORT_PERSON, sample_text

PROBLEM = "application/problem+json"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
COMMON = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}
HSTS = "Strict-Transport-Security"


@pytest.fixture(autouse=True)
def _secured(app):
    """The headers come from create_app once it calls security.init_app; until then, add them here."""
    if security.EXTENSION not in app.extensions:
        security.init_app(app)
    return app


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy as ``{directive: [sources]}``."""
    header = response.headers.get("Content-Security-Policy")
    assert header, "no Content-Security-Policy"
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def assert_secured(response) -> dict[str, list[str]]:
    """The headers every response has; returns the parsed CSP for more specific checks."""
    page = response.headers.get("Content-Security-Policy") == security.PAGE_POLICY
    for name, value in COMMON.items():
        if page and name == "Referrer-Policy":
            value = "same-origin"  # a page's forms send their Origin to the CSRF check; nothing leaves
        assert response.headers.get(name) == value, name
    permissions = response.headers.get("Permissions-Policy", "")
    assert "camera=()" in permissions and "geolocation=()" in permissions and "microphone=()" in permissions
    csp = policy(response)
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    for sources in csp.values():
        assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources and "*" not in sources
    assert HSTS not in response.headers  # the test client speaks plain http unless told otherwise
    return csp


def assert_strict(response) -> None:
    csp = assert_secured(response)
    assert csp["default-src"] == ["'none'"]
    assert set(csp) <= {"default-src", "frame-ancestors", "base-uri", "form-action"}


def assert_not_cached(response) -> None:
    assert response.headers.get("Cache-Control") == "no-store"


def test_api_json_response(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert_strict(response)
    assert_not_cached(response)


def test_problem_json_404_under_the_api(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == PROBLEM
    assert_strict(response)
    assert_not_cached(response)


def assert_page(response) -> None:
    """A web page's policy: its own scripts, styles and images, forms posted only here, never cached."""
    csp = assert_secured(response)
    assert csp["default-src"] == ["'none'"]
    for directive in ("script-src", "style-src", "img-src", "form-action"):
        assert csp[directive] == ["'self'"], directive
    assert_not_cached(response)


def test_outside_the_api_a_missing_page_is_a_page(client):
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "<h1>Nav atrasts</h1>" in response.get_data(as_text=True)
    assert_page(response)


def test_refused_requests_are_covered_too(client):
    wrong_method = client.get("/api/v1/documents/support-plan")
    assert wrong_method.status_code == 405
    assert_strict(wrong_method)
    assert_not_cached(wrong_method)
    redirect = client.get("/")  # a page, and the client has no session: to the sign-in page
    assert redirect.status_code == 303 and redirect.headers["Location"].startswith("/ienakt?")
    assert_page(redirect)


def test_unexpected_failure_500(app, auth_headers):
    def explode():
        raise RuntimeError("boom")

    app.add_url_rule("/api/v1/boom", "boom_for_headers", explode)
    app.add_url_rule("/boom", "boom_outside", explode)
    client = app.test_client()
    outside = client.get("/boom")
    assert outside.status_code == 500
    assert outside.mimetype == "text/html" and "RuntimeError" not in outside.get_data(as_text=True)
    assert_page(outside)
    inside = client.get("/api/v1/boom", headers=auth_headers)
    assert inside.status_code == 500
    assert inside.mimetype == PROBLEM
    assert_strict(inside)
    assert_not_cached(inside)


def test_docx_download(client, auth_headers):
    response = client.post(
        "/api/v1/documents/support-plan",
        data=sample_text(ADULT_SUPPORT_PERSON),
        content_type="application/json",
        headers=auth_headers,
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == DOCX
    assert_strict(response)
    assert_not_cached(response)  # send_file's own caching headers are replaced


def test_docs_page_policy_lets_swagger_ui_work_from_self_only(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    csp = assert_secured(response)
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert set(csp["img-src"]) == {"'self'", "data:"}
    assert csp["connect-src"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]


@pytest.mark.parametrize(
    "url",
    ["/static/swagger-init.js", "/docs/static/swagger-ui-bundle.js", "/docs/static/swagger-ui.css"],
)
def test_static_assets(client, url):
    response = client.get(url)
    assert response.status_code == 200
    # nosniff: browsers run scripts and apply styles only with the right media type
    assert response.mimetype in ("text/javascript", "application/javascript", "text/css")
    csp = assert_secured(response)
    assert csp["script-src"] == ["'self'"]
    response.close()


def test_openapi_document_gets_the_strict_policy(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert_strict(response)


def test_hsts_only_over_https(client):
    assert HSTS not in client.get("/api/v1/health").headers
    secure = client.get("/api/v1/health", base_url="https://localhost")
    assert secure.headers[HSTS] == "max-age=31536000; includeSubDomains"
    assert client.get("/docs", base_url="https://localhost").headers[HSTS].startswith("max-age=31536000")
    missing = client.get("/api/v1/nothing", base_url="https://localhost")
    assert missing.status_code == 404 and HSTS in missing.headers


def test_forwarded_proto_is_ignored_without_the_proxy_setting(client):
    response = client.get("/api/v1/health", headers={"X-Forwarded-Proto": "https"})
    assert HSTS not in response.headers


def test_forwarded_proto_is_trusted_behind_a_proxy(tmp_path, database_url):
    app = create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "BLOBS_DIR": tmp_path / "blobs", "BEHIND_PROXY": True}
    )
    security.init_app(app)  # a no-op once create_app does it
    client = app.test_client()
    try:
        assert HSTS in client.get("/api/v1/health", headers={"X-Forwarded-Proto": "https"}).headers
        assert HSTS not in client.get("/api/v1/health", headers={"X-Forwarded-Proto": "http"}).headers
    finally:
        database(app).engine.dispose()


def test_init_app_twice_changes_nothing(app):
    security.init_app(app)
    security.init_app(app)
    assert app.after_request_funcs[None].count(security.add_security_headers) == 1


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict] = []
        self.inline_handlers: list[str] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.inline_handlers += [name for name in attributes if name.startswith("on")]
        if tag == "script":
            self._open = {"src": attributes.get("src"), "text": ""}
            self.scripts.append(self._open)
        if tag == "a" and (attributes.get("href") or "").lower().startswith("javascript:"):
            self.inline_handlers.append("href=javascript:")

    def handle_data(self, data):
        if self._open is not None:
            self._open["text"] += data

    def handle_endtag(self, tag):
        if tag == "script":
            self._open = None


def test_docs_page_has_no_inline_script(client):
    page = client.get("/docs")
    parser = _Scripts()
    parser.feed(page.get_data(as_text=True))
    assert parser.scripts, "the page loads Swagger UI"
    for script in parser.scripts:
        assert script["src"], "inline <script> without src"
        assert not script["text"].strip()
        assert not script["src"].startswith(("http:", "https:", "//")), "scripts come from this origin"
        assert client.get(script["src"]).status_code == 200
    assert parser.inline_handlers == []
    # our template, not flask-smorest's: the spec URL travels in a data- attribute
    assert b'data-spec-url="/openapi.json"' in page.data
    assert b"/static/swagger-init.js" in page.data
