"""Users and tokens: made, listed and revoked from the command line (and by the tests)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import audit
from service.auth import DEFAULT_TOKEN_DAYS, ROLES, Principal, as_utc, issue_token
from service.store.models import User, utcnow

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
MUNICIPALITY = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
#: Who acts when an operator runs the command line.
OPERATOR = Principal(0, "cli", "administrator", "-")


class AccountError(ValueError):
    """A request about accounts that cannot be carried out; the message says why."""


def add_user(
    session: Session, username: str, role: str, municipality: str, *, days: int = DEFAULT_TOKEN_DAYS
):
    """A new user and their first token (returned in the clear, once)."""
    if not USERNAME.match(username):
        raise AccountError("a username is 2-80 lowercase letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise AccountError(f"the role must be one of {', '.join(ROLES)}")
    if not MUNICIPALITY.match(municipality):
        raise AccountError("a municipality code is 2-40 lowercase letters, digits or '-', e.g. bauska")
    if session.scalar(select(User).where(User.username == username)):
        raise AccountError(f"the user {username} exists already")
    user = User(username=username, role=role, municipality=municipality)
    session.add(user)
    token = issue_token(session, user, days=days, label="first")
    session.flush()
    audit.record(
        session, _operator_in(municipality), "user_created", "user", str(user.id), detail={"role": role}
    )
    return user, token


def new_token(session: Session, username: str, *, days: int = DEFAULT_TOKEN_DAYS, label: str = "") -> str:
    """Another token for an existing user."""
    user = _user(session, username)
    token = issue_token(session, user, days=days, label=label)
    session.flush()
    audit.record(session, _operator_in(user.municipality), "token_issued", "user", str(user.id))
    return token


def revoke(session: Session, username: str) -> int:
    """Revoke every live token of a user; returns how many."""
    user = _user(session, username)
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


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"no user {username}")
    return user


def _operator_in(municipality: str) -> Principal:
    return Principal(OPERATOR.id, OPERATOR.username, OPERATOR.role, municipality)
