"""The pages in a real browser: signing in and out, the language, accessibility of every page shown."""

from __future__ import annotations

from tests.browser import check_page, sign_in
from tests.web_helpers import PASSWORD, add_web_user


def test_sign_in_page_is_accessible_and_in_latvian(browser_page):
    browser_page.goto("/")
    assert browser_page.url.endswith("/ienakt?next=/&reason=auth.signed_out")
    assert browser_page.title() == "Ienākt — Veidlapas"
    assert browser_page.locator("html").get_attribute("lang") == "lv"
    check_page(browser_page, "signin")


def test_a_wrong_password_is_shown_in_the_summary_and_beside_the_field(app, browser_page):
    add_web_user(app, "ilze.bauska")
    sign_in(browser_page, "ilze.bauska", "nepareiza parole")
    assert browser_page.title().startswith("Kļūda:")
    summary = browser_page.locator(".error-summary")
    assert "Nepareizs lietotājvārds vai parole." in summary.inner_text()
    beside = browser_page.locator("#f-password-error").inner_text()
    assert beside.endswith("Nepareizs lietotājvārds vai parole.")
    check_page(browser_page, "signin-refused")
    summary.get_by_role("link").click()
    assert browser_page.evaluate("document.activeElement.id") == "f-password"


def test_sign_in_then_sign_out_and_the_back_button_shows_nothing(app, browser_page):
    add_web_user(app, "ilze.bauska")
    sign_in(browser_page, "ilze.bauska", PASSWORD)
    assert browser_page.title() == "Sākums — Veidlapas"
    assert "ilze.bauska" in browser_page.locator("header").inner_text()
    check_page(browser_page, "home")
    browser_page.get_by_role("button", name="Iziet").click()
    assert "Jūs izgājāt no sistēmas." in browser_page.content()
    browser_page.go_back()
    browser_page.wait_for_load_state()
    assert "ilze.bauska" not in browser_page.content()
    assert "/ienakt" in browser_page.url


def test_english_is_one_click_away(browser_page):
    browser_page.goto("/ienakt")
    browser_page.get_by_role("button", name="English").click()
    assert browser_page.title() == "Sign in — Veidlapas"
    assert browser_page.locator("html").get_attribute("lang") == "en"
    check_page(browser_page, "signin-en")
