"""Users and tokens: made, listed and revoked from the command line, the administrators' pages (and the
tests); users disabled and enabled again."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.errors import Problem, problem
from service import audit
from service.auth import DEFAULT_TOKEN_DAYS, ROLES, Principal, as_utc, issue_token
from service.store.models import User, WebSession, utcnow

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
MUNICIPALITY = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
#: Who acts when an operator runs the command line.
OPERATOR = Principal(0, "cli", "administrator", "-")


class AccountError(ValueError):
    """A request about accounts that cannot be carried out; the message says why (in English, for the
    command line), ``problem`` the same for a page, at the field ``field``."""

    def __init__(self, message: str, reason: Problem, field: str = "") -> None:
        super().__init__(message)
        self.problem = reason
        self.field = field


def add_user(
    session: Session,
    username: str,
    role: str,
    municipality: str,
    *,
    days: int = DEFAULT_TOKEN_DAYS,
    first_token: bool = True,
    by: Principal | None = None,
):
    """A new user and their first token (returned in the clear, once; ``None`` with ``first_token=False``:
    a user of the web pages, who signs in with a password). ``by``: who adds them (the operator when
    left out)."""
    if not USERNAME.match(username):
        raise AccountError(
            "a username is 2-80 lowercase letters, digits, '.', '_' or '-'",
            problem("user.username_format"),
            "username",
        )
    if role not in ROLES:
        raise AccountError(f"the role must be one of {', '.join(ROLES)}", problem("user.role"), "role")
    if not MUNICIPALITY.match(municipality):
        raise AccountError(
            "a municipality code is 2-40 lowercase letters, digits or '-', e.g. bauska",
            problem("municipality.unknown", code=municipality),
        )
    if session.scalar(select(User).where(User.username == username)):
        raise AccountError(f"the user {username} exists already", problem("user.taken"), "username")
    user = User(username=username, role=role, municipality=municipality)
    session.add(user)
    token = issue_token(session, user, days=days, label="first") if first_token else None
    session.flush()
    audit.record(
        session, by or _operator_in(municipality), "user_created", "user", str(user.id), detail={"role": role}
    )
    return user, token


def disable(session: Session, by: Principal, user: User) -> None:
    """Stop ``user`` from working: their tokens answer 401 and their open web sessions end now. Nobody
    disables themselves (the municipality would be left without its administrator)."""
    if user.id == by.id:
        raise AccountError("you cannot disable yourself", problem("user.disable_self"))
    if user.disabled_at is not None:
        return
    now = utcnow()
    user.disabled_at = now
    ended = 0
    for open_session in session.scalars(
        select(WebSession).where(WebSession.user_id == user.id, WebSession.ended_at.is_(None))
    ):
        open_session.ended_at = now
        ended += 1
    audit.record(session, by, "user_disabled", "user", str(user.id), detail={"sessions": ended})


def enable(session: Session, by: Principal, user: User) -> None:
    """Let a disabled user work again (their unexpired tokens too; a web session they sign in anew)."""
    if user.disabled_at is None:
        return
    user.disabled_at = None
    audit.record(session, by, "user_enabled", "user", str(user.id))


def new_token(session: Session, username: str, *, days: int = DEFAULT_TOKEN_DAYS, label: str = "") -> str:
    """Another token for an existing user."""
    user = user_named(session, username)
    token = issue_token(session, user, days=days, label=label)
    session.flush()
    audit.record(session, _operator_in(user.municipality), "token_issued", "user", str(user.id))
    return token


def revoke(session: Session, username: str) -> int:
    """Revoke every live token of a user; returns how many."""
    user = user_named(session, username)
    now = utcnow()
    live = [t for t in user.tokens if t.revoked_at is None]
    for token in live:
        token.revoked_at = now
    audit.record(
        session,
        _operator_in(user.municipality),
        "token_revoked",
        "user",
        str(user.id),
        detail={"tokens": len(live)},
    )
    return len(live)


def users(session: Session) -> list[tuple[User, int]]:
    """Every user with their number of live tokens."""
    now = utcnow()
    listing = []
    for user in session.scalars(select(User).order_by(User.municipality, User.username)):
        live = sum(1 for t in user.tokens if t.revoked_at is None and as_utc(t.expires_at) > now)
        listing.append((user, live))
    return listing


def user_named(session: Session, username: str) -> User:
    """The user called ``username``; :class:`AccountError` when there is none."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"no user {username}", problem("user.unknown"))
    return user


def _operator_in(municipality: str) -> Principal:
    return Principal(OPERATOR.id, OPERATOR.username, OPERATOR.role, municipality)
