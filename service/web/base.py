"""What every page shares: who is asking, the CSRF check, the language, the filters and the error pages.

Every request for a page goes through :func:`_guard`: the language is chosen (the ``lang`` cookie,
Latvian by default), the user is found by ``service.auth.authenticate`` (the one place a request becomes
a user) unless the view is marked :func:`public`, and a form sent with POST must carry the CSRF token of
the user's session (public forms: the token of the ``veidlapas_form`` cookie, sent beside it). A refusal
is a page, never JSON: not signed in → the sign-in page (303, with where to come back), 403, 404, a
stale form → 400 with a way back.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, g, redirect, render_template, request, url_for
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException

from schemas.errors import N_, Problem, problem
from schemas.problem_groups import group_problems
from service.api.problems import PAGE_ERRORS
from service.auth import AccessRefused, Forbidden, Principal, Unauthorized, authenticate
from service.config import upload_limits
from service.i18n import DEFAULT_LANGUAGE, LANGUAGES, format_param, gettext, translate, translations

#: Static files and the pages' templates.
bp = Blueprint(
    "web", __name__, static_folder="static", static_url_path="/assets", template_folder="templates"
)

LANGUAGE_COOKIE = "lang"
FORM_COOKIE = "veidlapas_form"
CSRF_FIELD = "csrf_token"
#: Blueprints whose names start with this are pages.
PAGES = "web"


class CsrfRefused(Exception):
    """A form sent without the CSRF token of its session."""


def public(view: Callable) -> Callable:
    """Mark a view that a person reaches without signing in (sign-in, setting a password, statements)."""
    view.public = True
    return view


def takes_upload(view: Callable) -> Callable:
    """Mark a view whose form carries a file: its request may be as large as an upload (plus the form)."""
    view.takes_upload = True
    return view


def is_public(endpoint: str | None) -> bool:
    view = current_app.view_functions.get(endpoint or "")
    return bool(getattr(view, "public", False))


def language() -> str:
    """The page language: the ``lang`` cookie when it names one we have, else Latvian."""
    chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def lang() -> str:
    return g.get("lang") or DEFAULT_LANGUAGE


def _(message: str) -> str:
    """``message`` (an English message id) in the page's language, for views."""
    return gettext(message, lang())


def user() -> Principal:
    return g.user


def _form_token() -> str:
    """The CSRF token of a public form, kept in its cookie (set by :func:`_remember_form_token`)."""
    if "form_token" not in g:
        g.form_token = request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(32)
    return g.form_token


def csrf_token() -> str:
    """The token a form on this page must send back in its ``csrf_token`` field."""
    found = g.get("user")
    return found.csrf if found is not None and found.csrf else _form_token()


def _expected_token() -> str:
    found = g.get("user")
    if found is not None and found.csrf:
        return found.csrf
    return request.cookies.get(FORM_COOKIE, "")


def _same_origin() -> bool:
    """The ``Origin`` header, when the browser sends one, is this service."""
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


def check_csrf() -> None:
    """Refuse a form post whose token is missing or not the session's (and one from another origin)."""
    sent = request.form.get(CSRF_FIELD, "")
    expected = _expected_token()
    if not sent or not expected or not hmac.compare_digest(sent, expected) or not _same_origin():
        raise CsrfRefused()


def _guard() -> None:
    if not (request.blueprint or "").startswith(PAGES):
        return
    g.lang = language()
    if request.endpoint == "web.static":
        return
    if not is_public(request.endpoint):
        g.user = authenticate()
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        if getattr(current_app.view_functions.get(request.endpoint or ""), "takes_upload", False):
            request.max_content_length = upload_limits(current_app.config).max_bytes + 64 * 1024
        check_csrf()


def _remember_form_token(response: Response) -> Response:
    if "form_token" in g and not request.cookies.get(FORM_COOKIE):  # never rotated: open pages keep theirs
        response.set_cookie(FORM_COOKIE, g.form_token, secure=True, httponly=True, samesite="Strict")
    return response


def safe_next(target: str | None, default: str = "/") -> str:
    """A path on this site to go back to; anything else (another host, a scheme) is the default.

    >>> safe_next("/klienti?lapa=2"), safe_next("https://evil.example/"), safe_next("//evil.example")
    ('/klienti?lapa=2', '/', '/')
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


# --- what pages show --------------------------------------------------------------------------------


def lv_date(value: dt.date | None) -> str:
    """A date as people here write it: 15.09.2020. (ISO in English)."""
    return "" if value is None else format_param(value, lang())


def money(value: Decimal | str | None) -> str:
    """An amount in euros: 1 234,50 € (1,234.50 € in English) — what ``format_param`` writes, without
    babel's pattern parsing on each call (a budget table prints a hundred amounts).

    >>> from flask import Flask
    >>> with Flask(__name__).test_request_context():
    ...     money(Decimal("-1234567.5")), money("0")
    ('-1\xa0234\xa0567,50\xa0€', '0,00\xa0€')
    """
    if value is None or value == "":
        return ""
    amount = Decimal(value).quantize(Decimal("0.01"))
    text = f"{amount:,.2f}"
    return (text.replace(",", "\u00a0").replace(".", ",") if lang() == "lv" else text) + "\u00a0€"


def number(value: Decimal | str | int | None) -> str:
    """A quantity with the language's decimal sign: 1,5."""
    if value is None or value == "":
        return ""
    return format_param(Decimal(str(value)).normalize() if not isinstance(value, int) else value, lang())


def page_url(endpoint: str, **values: Any) -> str | None:
    """The address of a page, or ``None`` while no area serves ``endpoint`` (templates link only when it
    exists, so an area can name a page of another before that one is built)."""
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **values)


def field_id(path: tuple | str) -> str:
    """The HTML id of the field that holds ``path`` (the error summary links to it).

    >>> field_id(("services", 2, "quantity")), field_id("client.name")
    ('f-services-2-quantity', 'f-client-name')
    """
    parts = path.split(".") if isinstance(path, str) else [str(part) for part in path]
    return "f-" + "-".join(parts)


@dataclass(frozen=True)
class PageProblem:
    """One problem as a page shows it: the field it belongs to (its id) and the message; a repeated
    problem is shown once, ``also`` saying where else it occurs, and ``fields`` holding every field it
    is at (the first is ``field``)."""

    path: tuple
    field: str
    code: str
    message: str
    also: str = ""
    fields: tuple[str, ...] = ()
    where: str = ""  # a table's sheet, row and column, for a problem of an uploaded table


def page_problems(
    errors: list[tuple[tuple, Problem]],
    places: list[dict[str, Any] | None] | None = None,
    anchor: Callable[[tuple], tuple] | None = None,
) -> list[PageProblem]:
    """Problems at their paths, translated into the page's language, in the order given; a repeated one
    (``schemas.problem_groups``, by the problems' own paths) once, followed by its other rows (from
    ``places``, one per problem, when the problems come from a file) and the count. ``anchor`` gives the
    path of the field a problem's path is shown at, when that is another."""
    shown = []
    for group in group_problems(errors, places):
        code, message = translate(group.problem, lang())
        paths = [tuple(anchor(path) if anchor else path) for path in group.paths]
        fields = tuple(dict.fromkeys(field_id(path) for path in paths if path))
        also = translate(group.also(), lang())[1] if group.count > 1 else ""
        field = field_id(paths[0]) if paths[0] else ""
        shown.append(PageProblem(paths[0], field, code, message, also, fields, _table_place(group.place)))
    return shown


def _table_place(place: dict[str, Any] | None) -> str:
    """Where in an uploaded table a problem is ("Rindas, 7. rinda, Datums"); empty for other places."""
    if not place or not place.get("row"):
        return ""
    sheet = place.get("sheet") or place.get("file")
    if place.get("column"):
        return _("{sheet}, row {row}, {column}").format(sheet=sheet, row=place["row"], column=place["column"])
    return _("{sheet}, row {row}").format(sheet=sheet, row=place["row"])


def problems_at(shown: list[PageProblem]) -> dict[str, list[str]]:
    """The messages of each field id, for the message beside the field (every field of a repeated one)."""
    by_field: dict[str, list[str]] = {}
    for item in shown:
        for field in item.fields or ([item.field] if item.field else []):
            by_field.setdefault(field, []).append(item.message)
    return by_field


def field_messages(field: str, errors_at: dict[str, list[str]]) -> Markup:
    """The messages shown beside a field. The forms call this (and :func:`field_described`,
    :func:`options`) as functions, not macros: a long form has hundreds of fields, and a macro call or a
    ``Markup.format`` costs many times more than escaping into an f-string."""
    messages = errors_at.get(field)
    if not messages:
        return Markup("")
    field, prefix = escape(field), escape(gettext("Error:", lang()))
    return Markup(
        "".join(
            f'<p class="field-error" id="{field}-error"><span class="visually-hidden">{prefix}</span> '
            f"{escape(message)}</p>"
            for message in messages
        )
    )


def field_described(field: str, hint: str, errors_at: dict[str, list[str]]) -> Markup:
    """A field's ``aria-describedby`` (its hint and its messages) and ``aria-invalid`` attributes.

    >>> str(field_described("f-date", "GGGG", {"f-date": ["Nav datums."]}))
    ' aria-describedby="f-date-hint f-date-error" aria-invalid="true"'
    """
    wrong = bool(errors_at.get(field))
    ids = [f"{escape(field)}-hint"] * bool(hint) + [f"{escape(field)}-error"] * wrong
    described = f' aria-describedby="{" ".join(ids)}"' if ids else ""
    return Markup(described + (' aria-invalid="true"' if wrong else ""))


def options(choices: Any, chosen: str) -> Markup:
    """``<option>`` elements of (value, text) pairs, ``chosen`` selected (kept as an option of its own
    when it is none of them, so a value typed elsewhere is never lost).

    >>> str(options([("a", "A & B"), ("b", "B")], "b"))
    '<option value="a">A &amp; B</option><option value="b" selected>B</option>'
    """
    html, found = [], False
    for value, text in choices:
        selected = value == chosen
        found = found or selected
        html.append(
            f'<option value="{escape(value)}"{" selected" if selected else ""}>{escape(text)}</option>'
        )
    if chosen and not found:
        html.append(f'<option value="{escape(chosen)}" selected>{escape(chosen)}</option>')
    return Markup("".join(html))


def page(template: str, status: int = 200, **values: Any) -> tuple[str, int]:
    """A page (``problems``: a list of :class:`PageProblem`, shown in the summary and beside each field)."""
    shown = values.setdefault("problems", [])
    values.setdefault("errors_at", problems_at(shown))
    return render_template(template, **values), status


# --- errors -----------------------------------------------------------------------------------------


def _error_page(error: BaseException) -> Response | tuple[str, int]:
    g.lang = g.get("lang") or language()
    if isinstance(error, Unauthorized):
        reason = error.reason.code if error.reason else "auth.signed_out"
        back = request.full_path.rstrip("?") if request.method == "GET" else request.referrer or "/"
        return redirect(url_for("web_signin.sign_in", next=safe_next(back), reason=reason), 303)
    if isinstance(error, Forbidden):
        return page(
            "error.html", 403, heading=_("Access is not allowed"), detail=_("Your role may not do this.")
        )
    if isinstance(error, AccessRefused):
        return page("error.html", 404, heading=_("Not found"), detail=_("There is nothing at this address."))
    if isinstance(error, CsrfRefused):
        message = translate(problem("csrf.invalid"), lang())[1]
        return page("error.html", 400, heading=_("The form has expired"), detail=message)
    if isinstance(error, HTTPException):
        status = error.code or 500
        if status == 404:
            return page(
                "error.html", 404, heading=_("Not found"), detail=_("There is nothing at this address.")
            )
        if status == 413:
            detail = _("The request body is larger than the service accepts.")
            return page("error.html", 413, heading=_("The request is too large"), detail=detail)
        if status < 500:
            return page("error.html", status, heading=_("The request is malformed"), detail=error.description)
    detail = _("The service failed to handle this request. It has been logged; try again later.")
    return page("error.html", 500, heading=_("Internal server error"), detail=detail)


def _csrf_refused(error: CsrfRefused) -> tuple[str, int]:
    return _error_page(error)


#: The main menu: (endpoint, label, permission needed or "").
NAVIGATION = (
    ("web_home.home", N_("Start"), ""),
    ("web_clients.clients", N_("Clients"), "case:read"),
    ("web_acts.acts", N_("Delivery acts"), "case:read"),
    ("web_packs.packs", N_("Reimbursement packs"), "pack:create"),
    ("web_reference.catalogue", N_("Reference"), ""),
    ("web_admin.users", N_("Administration"), "user:manage"),
)


def _context() -> dict[str, Any]:
    found = g.get("user")
    return {
        "navigation": [entry for entry in NAVIGATION if entry[0] in current_app.view_functions],
        "current_user": found,
        "lang": lang(),
        "may": (lambda permission: found is not None and found.may(permission)),
    }


def init_app(app: Flask) -> None:
    """The guard, the language, the filters and the error pages of every page."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(
        lambda message: gettext(message, lang()),
        lambda singular, plural, n: translations(lang()).ngettext(singular, plural, n),
        newstyle=False,
    )
    app.jinja_env.filters.update(lv_date=lv_date, money=money, number=number)
    app.jinja_env.globals.update(
        csrf_token=csrf_token,
        field_id=field_id,
        page_url=page_url,
        field_messages=field_messages,
        field_described=field_described,
        options=options,
    )
    app.before_request(_guard)
    app.after_request(_remember_form_token)
    app.context_processor(_context)
    app.register_error_handler(CsrfRefused, _csrf_refused)
    app.extensions[PAGE_ERRORS] = _error_page
    app.register_blueprint(bp)
