"""Signing in to the pages: argon2id passwords, lockout and unlock, slowing per address, idle and absolute
expiry, signing out for good, the one-time link, where ``next`` may lead, and what the logs never hold."""

from __future__ import annotations

import datetime as dt
import logging
import re

from sqlalchemy import select, update

from service import signin
from service.auth import SESSION_COOKIE
from service.store import database
from service.store.models import AuditEntry, PasswordLink, User, WebSession
from tests.web_helpers import (
    PASSWORD,
    SUITE_SECRETS,
    add_web_user,
    csrf_of,
    form_token,
    page_client,
    sign_in,
)

USERS = "/administresana/lietotaji"
LINK = re.compile(r'id="f-link"[^>]* value="http://localhost(/parole\?kods=([^"]+))"')
NEW_PASSWORD = "vasarā ezerā peld zivis"
SUITE_SECRETS.add(NEW_PASSWORD)


def text(response) -> str:
    return response.get_data(as_text=True)


def attempt(client, username: str, password: str, address: str = "10.0.0.1"):
    """A sign-in from ``address``."""
    token = csrf_of(text(client.get("/ienakt")))
    return client.post(
        "/ienakt",
        data={"username": username, "password": password, "next": "/", "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


def actions(app, object_id: str | None = None) -> list[str]:
    with database(app).session() as session:
        statement = select(AuditEntry.action).order_by(AuditEntry.id)
        if object_id is not None:
            statement = statement.where(AuditEntry.object_type == "user", AuditEntry.object_id == object_id)
        return list(session.scalars(statement))


def user_of(app, username: str) -> User:
    with database(app).session() as session:
        found = session.scalar(select(User).where(User.username == username))
        session.expunge(found)
        return found


def give_link(app, admin, username: str) -> tuple[str, str]:
    """The path of a new one-time link for ``username`` as the administrator's page shows it, and its code."""
    number = user_of(app, username).id
    response = admin.post(f"{USERS}/{number}/saite", data={"csrf_token": form_token(admin, USERS)})
    path, code = LINK.search(text(response)).groups()
    SUITE_SECRETS.add(code)
    return path, code


def set_password(client, path: str, password: str, repeated: str | None = None):
    page = client.get(path)
    code = path.split("kods=", 1)[1]
    form = {"kods": code, "password": password, "repeated": password if repeated is None else repeated}
    return client.post("/parole", data={**form, "csrf_token": csrf_of(text(page))})


def test_a_password_set_through_a_link_is_kept_as_an_argon2id_hash_only(app):
    admin = page_client(app, "administrator")
    with database(app).session() as session:
        from service import accounts

        accounts.add_user(session, "ilze.bauska", "social_worker", "bauska", first_token=False)
    path, _ = give_link(app, admin, "ilze.bauska")
    response = set_password(app.test_client(), path, NEW_PASSWORD)
    assert response.status_code == 303 and response.headers["Location"] == "/ienakt?reason=password_set"
    stored = user_of(app, "ilze.bauska").password_hash
    assert stored.startswith("$argon2id$") and NEW_PASSWORD not in stored
    assert signin.HASHER.verify(stored, NEW_PASSWORD)
    assert "password_set" in actions(app, str(user_of(app, "ilze.bauska").id))
    assert sign_in(app.test_client(), "ilze.bauska", NEW_PASSWORD).status_code == 303


def test_repeated_failures_lock_the_account_until_an_administrator_unlocks_it(app):
    add_web_user(app, "ilze.bauska")
    number = str(user_of(app, "ilze.bauska").id)
    client = app.test_client()
    for attempt_number in range(signin.LOCK_AFTER):  # each from its own address: no slowing
        response = attempt(client, "ilze.bauska", "nepareiza parole", f"10.0.1.{attempt_number}")
        assert response.status_code == 401
        assert "Nepareizs lietotājvārds vai parole." in text(response)
    assert actions(app, number).count("signin_failed") == signin.LOCK_AFTER
    assert actions(app, number)[-1] == "locked"
    assert user_of(app, "ilze.bauska").locked_until is not None
    refused = attempt(client, "ilze.bauska", PASSWORD, "10.0.2.1")
    assert refused.status_code == 401 and "konts uz laiku ir bloķēts" in text(refused)
    assert "signed_in" not in actions(app, number)
    admin = page_client(app, "administrator")
    listing = text(admin.get(USERS))
    assert "Bloķēts līdz" in listing
    unlocked = admin.post(f"{USERS}/{number}/atbloket", data={"csrf_token": form_token(admin, USERS)})
    assert unlocked.status_code == 303
    assert "Konts ir atbloķēts" in text(admin.get(unlocked.headers["Location"]))
    assert actions(app, number)[-1] == "unlocked"
    assert attempt(client, "ilze.bauska", PASSWORD, "10.0.2.2").status_code == 303


def test_one_address_failing_again_and_again_is_slowed_with_retry_after(app):
    add_web_user(app, "ilze.bauska")
    client = app.test_client()
    for _ in range(signin.SLOW_AFTER):
        assert attempt(client, "nezinams", "nepareiza parole").status_code == 401
    slowed = attempt(client, "ilze.bauska", PASSWORD)  # even the right password waits
    assert slowed.status_code == 429
    assert int(slowed.headers["Retry-After"]) >= 1
    assert "pārāk daudz neveiksmīgu mēģinājumu" in text(slowed)
    assert attempt(client, "ilze.bauska", PASSWORD, "10.9.9.9").status_code == 303  # another address


def session_of(app, username: str):
    return update(WebSession).where(WebSession.user_id == user_of(app, username).id)


def test_a_session_ends_after_being_idle_and_after_its_longest_time(app):
    for moved, minutes in (
        ("last_seen_at", app.config["WEB_IDLE_MINUTES"] + 1),
        ("created_at", app.config["WEB_SESSION_HOURS"] * 60 + 1),
    ):
        client = page_client(app, "social_worker", "bauska" if moved == "last_seen_at" else "liepaja")
        username = f"web-social-worker.{'bauska' if moved == 'last_seen_at' else 'liepaja'}"
        assert client.get("/").status_code == 200
        back = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)
        with database(app).session() as session:
            session.execute(session_of(app, username).values({moved: back}))
        response = client.get("/")
        assert response.status_code == 303, moved
        assert response.headers["Location"] == "/ienakt?next=/&reason=auth.expired"
        notice = text(client.get(response.headers["Location"]))
        assert "Sesija beidzās" in notice, moved
        with database(app).session() as session:
            assert session.scalar(
                select(WebSession.ended_at).where(WebSession.user_id == user_of(app, username).id)
            )


def test_signing_out_ends_the_session_on_the_server(app):
    client = page_client(app)
    cookie = client.get_cookie(SESSION_COOKIE).value
    SUITE_SECRETS.add(cookie)
    out = client.post("/iziet", data={"csrf_token": form_token(client, "/")})
    assert out.status_code == 303 and out.headers["Location"] == "/ienakt?reason=signed_out"
    assert "Clear-Site-Data" in out.headers
    again = app.test_client()
    again.set_cookie(SESSION_COOKIE, cookie, secure=True, httponly=True)
    response = again.get("/")
    assert response.status_code == 303 and response.headers["Location"].startswith("/ienakt?")
    assert "Ienākt" in text(again.get(response.headers["Location"]))


def test_pages_are_never_cached_and_the_cookie_is_locked_down(app):
    add_web_user(app, "ilze.bauska")
    client = app.test_client()
    assert client.get("/ienakt").headers["Cache-Control"] == "no-store"
    signed = sign_in(client, "ilze.bauska")
    cookie = signed.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    for path in ("/", "/parole?kods=nav"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    assert page_client(app, "administrator").get(USERS).headers["Cache-Control"] == "no-store"


def test_the_one_time_link_works_once_and_not_after_72_hours(app):
    admin = page_client(app, "administrator")
    add_web_user(app, "ilze.bauska")
    path, _ = give_link(app, admin, "ilze.bauska")
    assert set_password(app.test_client(), path, NEW_PASSWORD).status_code == 303
    used = app.test_client().get(path)
    assert used.status_code == 404 and "Šī saite nav derīga" in text(used)
    path, _ = give_link(app, admin, "ilze.bauska")
    with database(app).session() as session:
        link = session.scalar(select(PasswordLink).where(PasswordLink.used_at.is_(None)))
        assert link.expires_at - link.created_at == dt.timedelta(hours=72)
        link.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    assert app.test_client().get(path).status_code == 404
    assert set_password(app.test_client(), path, NEW_PASSWORD).status_code == 404


def test_a_new_link_replaces_the_old_and_a_disabled_user_cannot_use_one(app):
    admin = page_client(app, "administrator")
    add_web_user(app, "ilze.bauska")
    old, _ = give_link(app, admin, "ilze.bauska")
    new, _ = give_link(app, admin, "ilze.bauska")
    assert set_password(app.test_client(), old, NEW_PASSWORD).status_code == 404
    number = user_of(app, "ilze.bauska").id
    admin.post(f"{USERS}/{number}/atspejot", data={"csrf_token": form_token(admin, USERS)})
    assert app.test_client().get(new).status_code == 404
    assert set_password(app.test_client(), new, NEW_PASSWORD).status_code == 404
    assert user_of(app, "ilze.bauska").password_hash is not None  # the old one, unchanged
    assert sign_in(app.test_client(), "ilze.bauska", NEW_PASSWORD).status_code == 401


def test_the_password_rules_are_shown_at_their_fields_in_latvian(app):
    admin = page_client(app, "administrator")
    add_web_user(app, "ilze.bauska")
    path, _ = give_link(app, admin, "ilze.bauska")
    cases = [
        ("īsa", None, "f-password", "Parolē jābūt vismaz 12 rakstzīmēm."),
        ("mana ilze.bauska parole", None, "f-password", "Parolē nedrīkst būt lietotājvārds."),
        (NEW_PASSWORD, NEW_PASSWORD + "!", "f-repeated", "Abas paroles atšķiras."),
    ]
    client = app.test_client()
    for password, repeated, field, message in cases:
        response = set_password(client, path, password, repeated)
        html = text(response)
        assert response.status_code == 422, field
        assert "<title>Kļūda:" in html and f'<a href="#{field}">{message}</a>' in html
        beside = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', html, re.S).group(1)
        assert message in beside
        assert password not in html  # a refused password is never sent back
    assert set_password(client, path, NEW_PASSWORD).status_code == 303  # the link stayed usable


def test_next_never_leads_off_the_site(app):
    add_web_user(app, "ilze.bauska")
    for target, expected in (
        ("/klienti?lapa=2", "/klienti?lapa=2"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ):
        response = sign_in(app.test_client(), "ilze.bauska", next=target)
        assert response.status_code == 303 and response.headers["Location"] == expected, target
    page = text(app.test_client().get("/ienakt?next=https://evil.example/"))
    assert 'name="next" value="/"' in page


def test_the_logs_of_sign_in_traffic_hold_no_password_username_or_code(app, caplog):
    caplog.set_level(logging.DEBUG)
    admin = page_client(app, "administrator")
    add_web_user(app, "ilze.bauska")
    path, code = give_link(app, admin, "ilze.bauska")
    set_password(app.test_client(), path, "īsa")
    set_password(app.test_client(), path, NEW_PASSWORD)
    attempt(app.test_client(), "ilze.bauska", "nepareiza parole")
    attempt(app.test_client(), "ilze.bauska", NEW_PASSWORD)
    logged = "\n".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    assert "POST /ienakt 401" in logged and "GET /parole 200" in logged
    for secret in (code, NEW_PASSWORD, PASSWORD, "nepareiza parole", "ilze.bauska", "kods="):
        assert secret not in logged, secret
