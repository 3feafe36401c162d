"""Access to the pages, walked from the URL map so that a new page is covered the day it is added.

Every page but the public ones sends a visitor who has not signed in to the sign-in page; every form post
without its CSRF token is refused; every page with an object in its address is listed in
``tests/page_routes.SCOPED_PAGES`` and shows another municipality's object to no one (404).
"""

from __future__ import annotations

import re

import pytest

from tests.page_routes import SCOPED_PAGES
from tests.web_helpers import form_token, page_client

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


def page_rules(app):
    """(rule, method) of every page: everything outside the API, its documentation and static files."""
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/api/", "/docs", "/openapi", "/static/", "/assets/")):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def url_of(rule, value="0" * 32):
    return re.sub(r"<(?:int:)?[^>]+>", lambda found: "1" if "int:" in found.group() else value, rule.rule)


def is_public(app, rule) -> bool:
    return bool(getattr(app.view_functions[rule.endpoint], "public", False))


def test_every_page_but_the_public_ones_sends_a_stranger_to_sign_in(app, anonymous):
    checked = 0
    for rule, method in page_rules(app):
        if is_public(app, rule):
            continue
        response = anonymous.open(url_of(rule), method=method)
        if method == "GET":
            assert response.status_code == 303, (method, rule.rule)
            assert response.headers["Location"].startswith("/ienakt?"), rule.rule
        else:  # a post from someone with no session: refused before anything is read
            assert response.status_code in (303, 400), (method, rule.rule)
        checked += 1
    assert checked >= 2


def test_the_public_pages_are_few_and_known(app):
    public = {rule.rule for rule, _ in page_rules(app) if is_public(app, rule)}
    assert public == {"/ienakt", "/parole", "/valoda/<code>", "/pieklustamiba"}


def test_every_form_post_without_its_token_is_refused(app):
    client = page_client(app, "administrator")
    posts = [rule for rule, method in page_rules(app) if method == "POST"]
    assert posts
    for rule in posts:
        response = client.post(url_of(rule), data={})
        assert response.status_code == 400, rule.rule
        assert "Formas derīgums ir beidzies" in response.get_data(as_text=True), rule.rule


def test_every_page_with_an_object_is_scoped(app, anonymous, user_headers):
    """Pages that show an object are opened by both; a form that changes one is posted by Liepāja only
    (with Liepāja's own token), and must not find it."""
    methods = {}
    for rule, method in page_rules(app):
        if "<" in rule.rule and not is_public(app, rule):
            methods.setdefault(rule.rule, set()).add(method)
    assert set(methods) == set(SCOPED_PAGES), "a page with an object: list it in tests/page_routes.py"
    bauska = page_client(app, "administrator", "bauska")
    liepaja = page_client(app, "administrator", "liepaja")
    liepaja_token = form_token(liepaja, "/")
    headers = user_headers("administrator", "bauska")
    for rule in sorted(methods):
        url = SCOPED_PAGES[rule](anonymous, headers)
        if "GET" in methods[rule]:
            assert liepaja.get(url).status_code == 404, rule
            assert bauska.get(url).status_code in (200, 303), rule
        if "POST" in methods[rule]:
            assert liepaja.post(url, data={"csrf_token": liepaja_token}).status_code == 404, rule
