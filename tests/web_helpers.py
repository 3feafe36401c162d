"""Signing in to the pages in tests: users with passwords, and a test client signed in as one of them."""

from __future__ import annotations

import re
from functools import cache

from service import accounts, signin
from service.auth import SESSION_COOKIE
from service.store import database

PASSWORD = "pareiza zirga baterija"
#: Passwords, usernames, one-time codes and session cookies the suite's traffic carried: none may appear
#: in its logs (tests/test_zz_logs.py). Tests that make others add them.
SUITE_SECRETS: set[str] = {PASSWORD}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@cache
def password_hash() -> str:
    """The argon2 hash of :data:`PASSWORD`, made once for the whole run (each hash costs ~0,1–0,5 s)."""
    return signin.HASHER.hash(PASSWORD)


def add_web_user(app, username: str, role: str = "social_worker", municipality: str = "bauska") -> str:
    """A user who can sign in with :data:`PASSWORD`; returns the username."""
    with database(app).session() as session:
        user, _ = accounts.add_user(session, username, role, municipality)
        user.password_hash = password_hash()
    SUITE_SECRETS.add(username)
    return username


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client, username: str, password: str = PASSWORD, next: str = "/"):
    """Sign ``client`` in through the sign-in page; returns the response to the form."""
    token = csrf_of(client.get("/ienakt").get_data(as_text=True))
    SUITE_SECRETS.update({username, password})
    return client.post(
        "/ienakt", data={"username": username, "password": password, "next": next, "csrf_token": token}
    )


def page_client(app, role: str = "social_worker", municipality: str = "bauska"):
    """A test client signed in to the pages as a new user of ``role`` in ``municipality``."""
    client = app.test_client()
    username = add_web_user(app, f"web-{role.replace('_', '-')}.{municipality}", role, municipality)
    response = sign_in(client, username)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    SUITE_SECRETS.add(client.get_cookie(SESSION_COOKIE).value)
    return client


def form_token(client, path: str) -> str:
    """The CSRF token on the page at ``path``."""
    return csrf_of(client.get(path).get_data(as_text=True))
