"""Who is asking, what their role allows, and which municipality's objects they may see.

API access is by bearer token: a token is shown once when it is made and only its SHA-256 is stored;
it expires and can be revoked. Every ``/api/v1`` endpoint except the health check needs one (401
otherwise); a role that may not do something gets 403.

:class:`Scope` is the one place that decides visibility: every stored object carries its municipality
(``service.store.models.Scoped``) and every query for one goes through ``scope().select(Model)`` or
``scope().get(...)``; a user of one municipality gets 404 for another's objects and never sees them in
lists. Reviewers (ministry, planning region) read across municipalities.

Web pages use cookie sessions instead (:data:`SESSION_COOKIE`: Secure, HttpOnly, SameSite=Strict): the
cookie is a random secret of which only the SHA-256 is stored (``WebSession``), with the session's CSRF
token; it ends at sign-out, after ``WEB_IDLE_MINUTES`` without a request and after ``WEB_SESSION_HOURS``
in any case. :func:`authenticate` is the only place that turns a request into a user: a bearer token
under ``/api/``, the session cookie everywhere else — never the other way round, so no page is reached
with a token and no API call rides on a browser's cookie.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, current_app, g, request
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from schemas.errors import Problem, problem
from service.documents import KINDS
from service.store import database
from service.store.models import Scoped, Token, User, WebSession, utcnow

ROLES = ("social_worker", "finance_officer", "administrator", "reviewer")
TOKEN_PREFIX = "vl_"
DEFAULT_TOKEN_DAYS = 90
PUBLIC_ENDPOINTS = frozenset({"health.health"})
LAST_USE_RESOLUTION = dt.timedelta(minutes=5)
SESSION_COOKIE = "veidlapas_session"
#: A session's last request is written at most this often (its idle expiry is that much coarser).
SESSION_SEEN_RESOLUTION = dt.timedelta(seconds=30)

_READ = frozenset({"register:read", "reference:read"})
_PACKS = frozenset({"pack:create", "job:read"})
#: Keeping cases: clients, plans and their drafts, agreements (docs/security.md has the whole table).
_CASES = frozenset({"case:read", "case:write", "plan:approve"})

#: What each role may do besides rendering. ``render:<kind>`` (rendering and validating that kind) comes
#: from each kind's ``roles`` in the document registry; see :func:`permissions`.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "social_worker": _READ | _CASES,
    "finance_officer": _READ | _PACKS | {"case:read", "case:totals", "act:accept"},
    "administrator": _READ
    | {
        "register:delete",
        "audit:read",
        "case:export",
        "case:import",
        "case:totals",
        "act:accept",
        "budget:override",
        "template:manage",
        "user:manage",
    }
    | _PACKS
    | _CASES,
    "reviewer": _READ | {"job:read", "case:totals"},
}


def permissions(role: str) -> frozenset[str]:
    """Everything ``role`` may do: its own permissions and the document kinds the registry gives it."""
    rendering = {f"render:{kind.name}" for kind in KINDS.values() if role in kind.roles}
    return ROLE_PERMISSIONS.get(role, frozenset()) | rendering


M = TypeVar("M", bound=Scoped)


@dataclass(frozen=True)
class Principal:
    """The user behind a request (a plain copy, safe to keep after the session closes)."""

    id: int
    username: str
    role: str
    municipality: str
    #: The CSRF token of the user's web session; empty for a bearer token.
    csrf: str = ""

    def may(self, permission: str) -> bool:
        return permission in permissions(self.role)

    @property
    def reads_everywhere(self) -> bool:
        return self.role == "reviewer"


def digest(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: Session, user: User, *, days: int = DEFAULT_TOKEN_DAYS, label: str = "") -> str:
    """Make a token for ``user``; the returned text is the only time it exists in the clear."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = utcnow() + dt.timedelta(days=days)
    session.add(Token(user=user, digest=digest(token), label=label, expires_at=expires))
    return token


def authenticate() -> Principal:
    """The user of the current request: its bearer token under ``/api/``, its session cookie on every other
    path; :class:`Unauthorized` otherwise."""
    if request.path.startswith("/api/"):
        return _token_user()
    return _session_user()


def _token_user() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(problem("auth.missing"))
    with database().session() as session:
        found = session.scalar(select(Token).where(Token.digest == digest(token.strip())))
        now = utcnow()
        if (
            found is None
            or found.revoked_at is not None
            or as_utc(found.expires_at) <= now
            or found.user.disabled_at is not None
        ):
            raise Unauthorized(problem("auth.invalid"))
        if found.last_used_at is None or as_utc(found.last_used_at) < now - LAST_USE_RESOLUTION:
            found.last_used_at = now  # not on every request: one write per token per few minutes
        user = found.user
        return Principal(user.id, user.username, user.role, user.municipality)


def _session_user() -> Principal:
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if not cookie:
        raise Unauthorized(problem("auth.signed_out"))
    config = current_app.config
    idle = dt.timedelta(minutes=config["WEB_IDLE_MINUTES"])
    longest = dt.timedelta(hours=config["WEB_SESSION_HOURS"])
    with database().session() as session:
        found = session.get(WebSession, digest(cookie))
        now = utcnow()
        if found is None or found.ended_at is not None or found.user.disabled_at is not None:
            reason = problem("auth.signed_out")
        elif as_utc(found.last_seen_at) + idle <= now or as_utc(found.created_at) + longest <= now:
            found.ended_at, reason = now, problem("auth.expired")
        else:
            if as_utc(found.last_seen_at) < now - SESSION_SEEN_RESOLUTION:
                found.last_seen_at = now
            user = found.user
            return Principal(user.id, user.username, user.role, user.municipality, found.csrf)
    raise Unauthorized(reason)


def open_session(session: Session, user: Principal) -> str:
    """A new web session for ``user``; the returned cookie value is the only time it exists in the clear."""
    cookie = secrets.token_urlsafe(32)
    session.add(WebSession(digest=digest(cookie), user_id=user.id, csrf=secrets.token_urlsafe(32)))
    return cookie


def end_session(session: Session, cookie: str) -> int | None:
    """End the web session of ``cookie``; the id of its user, or ``None`` when it was not open."""
    found = session.get(WebSession, digest(cookie)) if cookie else None
    if found is None or found.ended_at is not None:
        return None
    found.ended_at = utcnow()
    return found.user_id


def as_utc(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class AccessRefused(Exception):
    """A request this module refuses; ``service.api`` answers each kind with its HTTP status."""

    def __init__(self, reason: Problem | None = None) -> None:
        super().__init__(*([reason] if reason else []))
        self.reason = reason


class Unauthorized(AccessRefused):
    """No valid token: the API answers 401 with a Bearer challenge."""


class Forbidden(AccessRefused):
    """The user's role may not do this: 403."""


class NotVisible(AccessRefused):
    """The object does not exist or belongs to another municipality: 404, never 403, so that its
    existence is not given away."""


def current_user() -> Principal:
    """The authenticated user of this request."""
    return g.user


def authorize(permission: str) -> Principal:
    """The current user, if their role allows ``permission``; :class:`Forbidden` otherwise."""
    user = current_user()
    if not user.may(permission):
        raise Forbidden(problem("auth.forbidden", role=user.role))
    return user


class Scope:
    """What one user may see: their municipality's objects, or every municipality's for reviewers."""

    def __init__(self, user: Principal) -> None:
        self.user = user

    def select(self, model: type[M]) -> Select[Any]:
        """``select(model)`` narrowed to what the user may see."""
        statement = select(model)
        if not self.user.reads_everywhere:
            statement = statement.where(model.municipality == self.user.municipality)
        return statement

    def get(self, session: Session, model: type[M], key: Any) -> M:
        """The object with primary key ``key`` if the user may see it; :class:`NotVisible` otherwise."""
        found = session.scalar(self.select(model).where(model.__mapper__.primary_key[0] == key))
        if found is None:
            raise NotVisible()
        return found


def scope() -> Scope:
    """The scope of the current request's user."""
    return Scope(current_user())


def init_app(app: Flask) -> None:
    """Require a token on every API endpoint but the public ones; a document kind that names a role
    nobody has stops start-up."""
    for kind in KINDS.values():
        if unknown := kind.roles - set(ROLES):
            raise ValueError(f"document kind {kind.name}: unknown role(s) {', '.join(sorted(unknown))}")

    @app.before_request
    def _require_token() -> None:
        if not request.path.startswith("/api/") or request.url_rule is None:
            return
        if request.endpoint in PUBLIC_ENDPOINTS or request.method == "OPTIONS":
            return
        g.user = authenticate()
