"""Signing in and out, setting a password through a one-time link, and choosing the language.

The link's secret travels in the query string (``/parole?kods=…``) and then in the form, never in the
path, because the request log keeps paths.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, g, make_response, redirect, request, url_for

from schemas.errors import problem
from service import audit, signin
from service.auth import SESSION_COOKIE, end_session, open_session
from service.i18n import LANGUAGES
from service.store import database, sealer
from service.web.base import LANGUAGE_COOKIE, _, page, page_problems, public, safe_next

bp = Blueprint("web_signin", __name__)

#: The notices the sign-in page shows when it is reached from elsewhere (``?reason=``).
NOTICES = ("auth.signed_out", "auth.expired", "signed_out", "password_set")


def address_tag() -> str:
    """The requesting address as a keyed hash (the address itself is never kept)."""
    return sealer().tag("signin-address", request.remote_addr or "unknown")


def _sign_in_page(status: int = 200, problems=(), username: str = "", notice: str = ""):
    return page(
        "signin.html",
        status,
        problems=page_problems(list(problems)),
        username=username,
        next=safe_next(request.values.get("next")),
        notice=notice,
    )


@bp.route("/ienakt", methods=["GET"])
@public
def sign_in():
    reason = request.args.get("reason", "")
    notice = ""
    if reason in ("auth.expired",):
        notice = page_problems([((), problem(reason))])[0].message
    elif reason == "signed_out":
        notice = _("You have signed out.")
    elif reason == "password_set":
        notice = _("Your password is set. Sign in with it.")
    return _sign_in_page(notice=notice)


@bp.route("/ienakt", methods=["POST"])
@public
def sign_in_post():
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    missing = [
        ((field,), problem("required"))
        for field, value in (("username", username), ("password", password))
        if not value
    ]
    if missing:
        return _sign_in_page(422, missing, username)
    refusal = None
    with database().session() as session:
        try:
            user = signin.sign_in(session, username, password, address_tag())
            cookie = open_session(session, user)
        except signin.SigninRefused as refused:
            refusal = refused
    if refusal is not None:
        status = 429 if refusal.wait else 401
        body, code = _sign_in_page(status, [(("password",), refusal.reason)], username)
        response = make_response(body, code)
        if refusal.wait:
            response.headers["Retry-After"] = str(refusal.wait)
        return response
    response = redirect(safe_next(request.form.get("next")), 303)
    response.set_cookie(SESSION_COOKIE, cookie, secure=True, httponly=True, samesite="Strict")
    return response


@bp.route("/iziet", methods=["POST"])
def sign_out():
    """End the session here and in the browser: its cookie, and every page it cached."""
    with database().session() as session:
        if end_session(session, request.cookies.get(SESSION_COOKIE, "")) is not None:
            audit.record(session, g.user, "signed_out", "user", str(g.user.id))
    response = redirect(url_for("web_signin.sign_in", reason="signed_out"), 303)
    response.delete_cookie(SESSION_COOKIE, secure=True, httponly=True, samesite="Strict")
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.route("/parole", methods=["GET", "POST"])
@public
def set_password():
    """Set one's own password through the one-time link an administrator gave."""
    token = request.values.get("kods", "")
    with database().session() as session:
        holder = signin.link_holder(session, token)
        if holder is None:
            return page(
                "password.html",
                404,
                link_valid=False,
                problems=page_problems([((), problem("link.invalid"))]),
            )
        if request.method == "GET":
            return page("password.html", link_valid=True, token=token, username=holder.username)
        password = request.form.get("password", "")
        repeated = request.form.get("repeated", "")
        errors = [(("password",), found) for found in signin.password_problems(password, holder.username)]
        if not errors and not hmac.compare_digest(password.encode(), repeated.encode()):
            errors = [(("repeated",), problem("password.mismatch"))]
        if not errors:
            errors = [(("password",), found) for found in signin.use_link(session, token, password)]
    if errors:
        return page(
            "password.html",
            422,
            link_valid=True,
            token=token,
            username=holder.username,
            problems=page_problems(errors),
        )
    return redirect(url_for("web_signin.sign_in", reason="password_set"), 303)


@bp.route("/valoda/<code>", methods=["POST"])
@public
def choose_language(code: str):
    """Switch the pages' language (a cookie) and go back to the page it was chosen on."""
    response = redirect(safe_next(request.form.get("next")), 303)
    if code in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600, secure=True, samesite="Lax")
    return response
