"""Passwords for the web pages: signing in, slowing repeated failures, locking, one-time links.

A password is kept only as its argon2 hash (``argon2-cffi``, its default parameters; a hash made with
older parameters is replaced at the next sign-in). Nobody chooses a password for someone else: an
administrator makes a one-time link (shown once, valid :data:`LINK_HOURS`) and the user sets their
own password through it.

Failures are answered two ways. From one address, after :data:`SLOW_AFTER` failures within
:data:`WINDOW`, each further try must wait twice as long as the one before (up to :data:`LONGEST_WAIT`)
and is refused unread until then — the address is kept only as a keyed hash. For one account,
:data:`LOCK_AFTER` failures in a row lock it for :data:`LOCK_FOR` (audited); an administrator may
unlock it earlier. The answer to a wrong username, a wrong password and a disabled account is the same.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from schemas.errors import Problem, problem
from service import audit
from service.auth import Principal, as_utc
from service.store.models import PasswordLink, SigninFailure, User, utcnow

SLOW_AFTER = 3
WINDOW = dt.timedelta(minutes=15)
LONGEST_WAIT = dt.timedelta(minutes=5)
LOCK_AFTER = 5
LOCK_FOR = dt.timedelta(minutes=15)
LINK_HOURS = 72
SHORTEST_PASSWORD = 12
LONGEST_PASSWORD = 256

HASHER = PasswordHasher()
#: Verified against when the username is unknown, so that the answer takes as long as for a known one.
_NOBODY = HASHER.hash(secrets.token_urlsafe(16))


class SigninRefused(Exception):
    """A sign-in the service refuses; ``reason`` says why, ``wait`` how long to wait (seconds)."""

    def __init__(self, reason: Problem, wait: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


def _as(user: User) -> Principal:
    return Principal(user.id, user.username, user.role, user.municipality)


def address_wait(session: Session, address: str, now: dt.datetime) -> int:
    """Seconds the address must still wait before its next try (0: it may try now)."""
    since = now - WINDOW
    count, last = session.execute(
        select(func.count(), func.max(SigninFailure.at)).where(
            SigninFailure.address == address, SigninFailure.at > since
        )
    ).one()
    if count < SLOW_AFTER or last is None:
        return 0
    wait = min(dt.timedelta(seconds=2 ** (count - SLOW_AFTER)), LONGEST_WAIT)
    remaining = as_utc(last) + wait - now
    return max(0, int(remaining.total_seconds() + 0.999))


def _failed(session: Session, address: str, now: dt.datetime) -> None:
    session.execute(delete(SigninFailure).where(SigninFailure.at <= now - WINDOW))
    session.add(SigninFailure(address=address, at=now))


def locked(user: User, now: dt.datetime) -> bool:
    return user.locked_until is not None and as_utc(user.locked_until) > now


def sign_in(session: Session, username: str, password: str, address: str) -> Principal:
    """The user whose password this is; :class:`SigninRefused` otherwise (the caller commits either way,
    so that failures are counted)."""
    now = utcnow()
    if wait := address_wait(session, address, now):
        raise SigninRefused(problem("signin.slow", seconds=wait), wait)
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    usable = user is not None and user.disabled_at is None and user.password_hash is not None
    if usable and locked(user, now):
        raise SigninRefused(problem("signin.locked"))
    try:
        HASHER.verify(user.password_hash if usable else _NOBODY, password)
    except (VerificationError, InvalidHashError):
        _failed(session, address, now)
        if usable:
            _count_failure(session, user, now)
        raise SigninRefused(problem("signin.invalid")) from None
    if not usable:  # the stand-in hash matched: never a way in
        raise SigninRefused(problem("signin.invalid"))
    user.failed_signins, user.locked_until = 0, None
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = HASHER.hash(password)
    audit.record(session, _as(user), "signed_in", "user", str(user.id))
    return _as(user)


def _count_failure(session: Session, user: User, now: dt.datetime) -> None:
    user.failed_signins += 1
    audit.record(session, _as(user), "signin_failed", "user", str(user.id), outcome="refused")
    if user.failed_signins >= LOCK_AFTER:
        user.failed_signins, user.locked_until = 0, now + LOCK_FOR
        audit.record(
            session, _as(user), "locked", "user", str(user.id), detail={"minutes": LOCK_FOR.seconds // 60}
        )


def unlock(session: Session, by: Principal, user: User) -> None:
    """An administrator ends a lock before its time."""
    user.failed_signins, user.locked_until = 0, None
    audit.record(session, by, "unlocked", "user", str(user.id))


def password_problems(password: str, username: str) -> list[Problem]:
    """What is wrong with a new password (nothing: an empty list).

    >>> [p.code for p in password_problems("īss", "ilze")]
    ['password.short']
    >>> password_problems("garš un labs teikums", "ilze")
    []
    """
    if len(password) < SHORTEST_PASSWORD:
        return [problem("password.short", min=SHORTEST_PASSWORD)]
    if len(password) > LONGEST_PASSWORD:
        return [problem("password.long", max=LONGEST_PASSWORD)]
    if username.lower() in password.lower():
        return [problem("password.has_username")]
    return []


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_link(session: Session, by: Principal, user: User) -> str:
    """A one-time link's secret for ``user`` (returned once; only its hash is kept). Links made before
    for the same user stop working."""
    now = utcnow()
    for earlier in session.scalars(
        select(PasswordLink).where(PasswordLink.user_id == user.id, PasswordLink.used_at.is_(None))
    ):
        earlier.used_at = now
    token = secrets.token_urlsafe(32)
    session.add(
        PasswordLink(
            digest=_digest(token),
            user_id=user.id,
            created_by=by.id or None,
            created_at=now,
            expires_at=now + dt.timedelta(hours=LINK_HOURS),
        )
    )
    audit.record(session, by, "password_link_issued", "user", str(user.id), detail={"hours": LINK_HOURS})
    return token


@dataclass(frozen=True)
class LinkHolder:
    """Whom a valid link is for."""

    user_id: int
    username: str


def link_holder(session: Session, token: str) -> LinkHolder | None:
    """Whom an unused, unexpired link is for; ``None`` for any other text."""
    link = session.get(PasswordLink, _digest(token)) if token else None
    if link is None or link.used_at is not None or as_utc(link.expires_at) <= utcnow():
        return None
    if link.user.disabled_at is not None:
        return None
    return LinkHolder(link.user_id, link.user.username)


def use_link(session: Session, token: str, password: str) -> list[Problem]:
    """Set the password through a link; the problems when it cannot be set (the link stays usable then,
    unless it is not valid at all: ``link.invalid``)."""
    holder = link_holder(session, token)
    if holder is None:
        return [problem("link.invalid")]
    if problems := password_problems(password, holder.username):
        return problems
    link = session.get(PasswordLink, _digest(token))
    user = link.user
    link.used_at = utcnow()
    user.password_hash = HASHER.hash(password)
    user.failed_signins, user.locked_until = 0, None
    audit.record(session, _as(user), "password_set", "user", str(user.id))
    return []
