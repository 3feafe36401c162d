"""The administrators' pages: the users of their municipality — added, disabled and enabled, given a
one-time link to set their password, unlocked after failed sign-ins.

Only ``user:manage`` (administrators) reaches them, and only their own municipality's users (``scope()``):
another municipality's user is 404. A user added here gets no API token (tokens are for programs and are
made with ``veidlapas users token``); they get a one-time link instead, shown once on the page that
answers the form, never stored in the clear, valid :data:`service.signin.LINK_HOURS` hours.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import Blueprint, redirect, request, url_for
from sqlalchemy import select

from schemas.errors import N_, problem
from service import accounts, signin
from service.auth import as_utc, authorize, scope
from service.store import database
from service.store.models import PasswordLink, User, utcnow
from service.web.base import _, lv_date, page, page_problems

bp = Blueprint("web_admin", __name__, url_prefix="/administresana/lietotaji")

#: Where the municipality is: the times people read are Latvian time.
LOCAL = ZoneInfo("Europe/Riga")
#: The roles an administrator gives on these pages; reviewers (ministry, planning region) read across
#: municipalities, so no municipality makes them: the operator does (``veidlapas users add``).
ROLE_CHOICES = (
    ("social_worker", N_("Social worker")),
    ("finance_officer", N_("Finance officer")),
    ("administrator", N_("Administrator")),
)
ROLE_NAMES = (*ROLE_CHOICES, ("reviewer", N_("Reviewer")))
#: What the list says after an action (``?done=``).
DONE = (
    ("disabled", N_("The user is disabled: their sessions have ended and their tokens no longer work.")),
    ("enabled", N_("The user is enabled again.")),
    ("unlocked", N_("The account is unlocked: the user may sign in again.")),
)


def local_moment(moment: dt.datetime) -> str:
    """A stored moment (UTC) as Latvian time: ``03.12.2026. 14:05``.

    >>> local_moment(dt.datetime(2026, 12, 3, 12, 5, tzinfo=dt.UTC))
    '03.12.2026. 14:05'
    """
    local = as_utc(moment).astimezone(LOCAL)
    return f"{local:%d.%m.%Y. %H:%M}"


def role_name(role: str) -> str:
    return _(dict(ROLE_NAMES).get(role, role))


@dataclass(frozen=True)
class UserRow:
    """One user as the list shows them."""

    id: int
    username: str
    role: str
    state: str
    state_text: str
    created: str
    yourself: bool


def _row(user: User, me: int, now: dt.datetime) -> UserRow:
    if user.disabled_at is not None:
        state, text = "disabled", _("Disabled")
    elif signin.locked(user, now):
        state, text = "locked", _("Locked until {moment}").format(moment=local_moment(user.locked_until))
    elif user.password_hash is None:
        state, text = "no_password", _("No password set yet")
    else:
        state, text = "active", _("Active")
    created = lv_date(as_utc(user.created_at).astimezone(LOCAL).date())
    return UserRow(user.id, user.username, role_name(user.role), state, text, created, user.id == me)


def _users_page(status: int = 200, problems=(), values=None, done: str = ""):
    me = authorize("user:manage")
    now = utcnow()
    with database().session() as session:
        found = session.scalars(scope().select(User).order_by(User.username))
        rows = [_row(user, me.id, now) for user in found]
    return page(
        "admin_users.html",
        status,
        rows=rows,
        roles=[(code, _(label)) for code, label in ROLE_CHOICES],
        values=values or {},
        problems=page_problems(list(problems)),
        done=_(dict(DONE)[done]) if done in dict(DONE) else "",
    )


@bp.route("", methods=["GET"])
def users():
    """The municipality's users and the form to add one."""
    return _users_page(done=request.args.get("done", ""))


@bp.route("", methods=["POST"])
def add():
    """Add a user of the municipality and show their first one-time link."""
    me = authorize("user:manage")
    typed = request.form.get("username", "").strip()
    username, role = typed.lower(), request.form.get("role", "")
    values = {"username": typed, "role": role}
    errors = []
    if not username:
        errors.append((("username",), problem("required")))
    if role not in dict(ROLE_CHOICES):
        errors.append((("role",), problem("user.role")))
    if errors:
        return _users_page(422, errors, values)
    try:
        with database().session() as session:
            user, _token = accounts.add_user(
                session, username, role, me.municipality, first_token=False, by=me
            )
            shown = _link_page(session, user)
    except accounts.AccountError as refused:
        return _users_page(422, [((refused.field,) if refused.field else (), refused.problem)], values)
    return shown


def _user(session, user_id: int) -> User:
    return scope().get(session, User, user_id)


def _link_page(session, user: User):
    """Make a one-time link for ``user`` and the page that shows it, once."""
    token = signin.issue_link(session, authorize("user:manage"), user)
    session.flush()
    link = session.scalar(
        select(PasswordLink).where(PasswordLink.user_id == user.id, PasswordLink.used_at.is_(None))
    )
    return page(
        "admin_link.html",
        username=user.username,
        role=role_name(user.role),
        link=request.host_url + "parole?kods=" + token,
        hours=signin.LINK_HOURS,
        until=local_moment(link.expires_at),
    )


@bp.route("/<int:user_id>/saite", methods=["POST"])
def link(user_id: int):
    """A new one-time link for a user (the ones given before stop working)."""
    authorize("user:manage")
    with database().session() as session:
        user = _user(session, user_id)
        if user.disabled_at is None:
            return _link_page(session, user)
    return _users_page(409, [((), problem("user.disabled"))])


@bp.route("/<int:user_id>/atspejot", methods=["POST"])
def disable(user_id: int):
    """Disable a user: their web sessions end, their tokens stop working."""
    me = authorize("user:manage")
    try:
        with database().session() as session:
            accounts.disable(session, me, _user(session, user_id))
    except accounts.AccountError as refused:
        return _users_page(409, [((), refused.problem)])
    return redirect(url_for(".users", done="disabled"), 303)


@bp.route("/<int:user_id>/iespejot", methods=["POST"])
def enable(user_id: int):
    me = authorize("user:manage")
    with database().session() as session:
        accounts.enable(session, me, _user(session, user_id))
    return redirect(url_for(".users", done="enabled"), 303)


@bp.route("/<int:user_id>/atbloket", methods=["POST"])
def unlock(user_id: int):
    """End a lock after failed sign-ins before its time."""
    me = authorize("user:manage")
    with database().session() as session:
        signin.unlock(session, me, _user(session, user_id))
    return redirect(url_for(".users", done="unlocked"), 303)
