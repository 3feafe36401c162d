"""Security headers on every response, and ProxyFix when the service runs behind a reverse proxy.

Every response (API, problem+json errors, the Swagger UI page, static files) gets:

* ``Content-Security-Policy``: ``default-src 'none'`` for the API and the OpenAPI document; the Swagger
  UI page (``/docs``) and its assets may load scripts, styles, images (also ``data:``, which
  swagger-ui.css uses for its icons) and the OpenAPI document from this origin only; the web pages
  (``service.web``) may load scripts, styles and images from this origin and post forms only here. No
  inline script and no style attribute is allowed anywhere: ``service/templates/swagger_ui.html``
  starts Swagger UI from ``service/static/swagger-init.js``.
* ``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``
  (``same-origin`` on pages, so that a form's ``Origin`` reaches the CSRF check),
  ``Cross-Origin-Resource-Policy: same-origin`` and a ``Permissions-Policy`` that turns off the
  powerful browser features nothing here uses.
* ``Cache-Control: no-store`` on everything but the static assets: pages and answers carry health and
  personal data, which no browser or proxy cache may keep.
* ``Strict-Transport-Security`` only when the request came over HTTPS (``request.is_secure``).

Behind a reverse proxy that terminates TLS the service sees plain HTTP, so HSTS would never be sent.
Set ``BEHIND_PROXY`` (environment: ``VEIDLAPAS_BEHIND_PROXY``) and :func:`init_app` wraps the WSGI app
in werkzeug's ``ProxyFix`` trusting one proxy's ``X-Forwarded-For`` and ``X-Forwarded-Proto``. Only
enable it when a proxy is really in front: otherwise any client can claim to be on HTTPS or to come
from any address.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

EXTENSION = "veidlapas.security"

#: The API, errors, the OpenAPI document, redirects: nothing may load, frame or submit anything.
STRICT_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

#: Swagger UI: its bundle, its stylesheet, our starter script and the spec, from this origin only.
#: No 'unsafe-inline' and no 'unsafe-eval': Swagger UI sets styles through the DOM (allowed by CSP).
DOCS_POLICY = (
    "default-src 'none'; "
    "script-src 'self'; "
    "style-src 'self'; "
    "img-src 'self' data:; "
    "font-src 'self'; "
    "connect-src 'self'; "
    "frame-ancestors 'none'; "
    "base-uri 'none'; "
    "form-action 'self'"
)

#: Web pages: scripts, styles and images from this origin only — no inline script, no style attribute —
#: forms posted only here, never framed.
PAGE_POLICY = (
    "default-src 'none'; "
    "script-src 'self'; "
    "style-src 'self'; "
    "img-src 'self'; "
    "connect-src 'self'; "
    "frame-ancestors 'none'; "
    "base-uri 'none'; "
    "form-action 'self'"
)

PERMISSIONS_POLICY = "camera=(), geolocation=(), microphone=(), payment=(), usb=()"
HSTS = "max-age=31536000; includeSubDomains"

COMMON_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
}


def _docs_prefixes() -> tuple[str, ...]:
    """Paths served with the docs policy: the Swagger UI page, its assets and the app's static files."""
    config = current_app.config
    page = "/" + (config.get("OPENAPI_SWAGGER_UI_PATH") or "/docs").strip("/")
    assets = "/" + (config.get("OPENAPI_SWAGGER_UI_URL") or page + "/static/").strip("/") + "/"
    static = (current_app.static_url_path or "/static").rstrip("/") + "/"
    return page, page + "/", assets, static


def content_security_policy(path: str) -> str:
    """The policy for a response to ``path``: the docs policy for Swagger UI, the strict one for the API
    and the OpenAPI document, the page policy for everything else (the web pages and their assets)."""
    page, *prefixes = _docs_prefixes()
    if path == page or path.startswith(tuple(prefixes)):
        return DOCS_POLICY
    if path.startswith(API_PATHS):
        return STRICT_POLICY
    return PAGE_POLICY


#: Paths that are never a page.
API_PATHS = ("/api/", "/openapi")
#: Files that hold no one's data and may be cached: the pages' and Swagger UI's assets.
CACHEABLE = ("/assets/", "/docs/static/", "/static/")


def add_security_headers(response: Response) -> Response:
    """``after_request``: the headers described in this module's docstring."""
    headers = response.headers
    policy = content_security_policy(request.path)
    headers.setdefault("Content-Security-Policy", policy)
    if policy == PAGE_POLICY:
        # Pages post forms to themselves: with no-referrer Chromium sends "Origin: null", and the pages'
        # CSRF check wants to see the origin. No address leaves for another site either way.
        headers.setdefault("Referrer-Policy", "same-origin")
    for name, value in COMMON_HEADERS.items():
        headers.setdefault(name, value)
    if not request.path.startswith(CACHEABLE):
        headers["Cache-Control"] = "no-store"
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    """Add the security headers to every response of ``app`` (and ProxyFix when ``BEHIND_PROXY``).

    Calling it twice changes nothing.
    """
    if EXTENSION in app.extensions:
        return
    if app.config.get("BEHIND_PROXY"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)
    app.after_request(add_security_headers)
    app.extensions[EXTENSION] = {"behind_proxy": bool(app.config.get("BEHIND_PROXY"))}
