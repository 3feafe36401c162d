"""The plan editor in a real browser: a mistake shown and fixed, rows with and without JavaScript, the
keyboard alone, and axe on the editor (empty, with problems, saved) and on the conflict page."""

from __future__ import annotations

import pytest

from tests.browser import CHROMIUM_FLAGS, check_page, sign_in  # noqa: F401 (flags: the same browser)
from tests.case_helpers import make_plan
from tests.helpers import ADULT_SUPPORT_PERSON, load_sample
from tests.web_helpers import PASSWORD, add_web_user


@pytest.fixture
def api(app, user_headers):
    client = app.test_client()
    client.headers_ = user_headers("social_worker", "bauska")
    return client


def plan_of(api, valid=True) -> str:
    return make_plan(api, api.headers_, valid=valid).rsplit("/", 1)[1]


def draft_of(api, plan_id) -> dict:
    return api.get(f"/api/v1/plans/{plan_id}/draft", headers=api.headers_).json["plan"]


@pytest.fixture
def signed_in(app, browser_page):
    add_web_user(app, "ilze.bauska")
    sign_in(browser_page, "ilze.bauska", PASSWORD)
    return browser_page


def mark(page) -> None:
    """Something a reload would forget: a navigation is seen as its absence."""
    page.evaluate("window.__still_here = true")


def still_here(page) -> bool:
    return page.evaluate("window.__still_here === true")


def test_a_mistake_is_shown_in_the_summary_and_beside_the_field_then_fixed_and_approved(api, signed_in):
    page = signed_in
    plan_id = plan_of(api)
    page.goto(f"/plani/{plan_id}")
    assert page.title().startswith("Atbalsta plāns IAP-2020/014")
    page.locator("#f-date").fill("31.02.2020")
    page.get_by_role("button", name="Apstiprināt").click()
    page.wait_for_load_state()
    assert page.title().startswith("Kļūda:")
    summary = page.locator(".error-summary")
    assert "Kalendārā tādas dienas nav" in summary.inner_text()
    assert "Kalendārā tādas dienas nav" in page.locator("#f-date-error").inner_text()
    assert page.locator("#f-date").input_value() == "31.02.2020"
    check_page(page, "plans-editor-problems")  # with problems: the summary, the messages beside fields
    summary.get_by_role("link", name="Kalendārā tādas dienas nav", exact=False).click()
    assert page.evaluate("document.activeElement.id") == "f-date"
    page.locator("#f-date").fill("27.01.2020.")
    page.get_by_role("button", name="Apstiprināt").click()
    page.wait_for_load_state()
    assert not page.title().startswith("Kļūda:")
    assert "1." in page.locator("main").inner_text()
    plan = api.get(f"/api/v1/plans/{plan_id}", headers=api.headers_).json
    assert plan["latest_version"] == 1


def test_the_empty_editor_is_accessible_and_a_draft_with_problems_is_saved(api, signed_in):
    page = signed_in
    plan_id = plan_of(api, valid=False)
    page.goto(f"/plani/{plan_id}")
    assert page.locator("#f-client-name").input_value()  # from the client record
    check_page(page, "plans-editor-empty")
    page.locator("#f-number").fill("IAP-9")
    page.locator("#f-budget-monthly").fill("600,5x")
    page.get_by_role("button", name="Saglabāt melnrakstu", exact=True).click()
    page.wait_for_load_state()
    assert "Melnraksts saglabāts" in page.locator("#plan-notice").inner_text()
    assert "decimālkomat" in page.locator("#f-budget-monthly-error").inner_text()
    assert page.locator("#plan-problems li").count() > 5
    assert "Plāna datums: Šis lauks ir obligāts." in page.locator("#plan-problems").inner_text()
    assert draft_of(api, plan_id)["budget"]["monthly"] == "600,5x"


def test_service_rows_are_added_and_removed_in_the_page_with_javascript(api, signed_in):
    page = signed_in
    plan_id = plan_of(api)
    page.goto(f"/plani/{plan_id}")
    check_page(page, "plans-editor-saved")
    mark(page)
    page.get_by_role("button", name="Pievienot pakalpojumu").click()
    assert still_here(page)
    assert page.evaluate("document.activeElement.id") == "f-services-4-code"
    assert page.locator("#f-services-4").get_by_role("button").inner_text() == "Noņemt 5. pakalpojumu"
    # A function, not an expression: Playwright polls an expression with eval, which the page's CSP refuses.
    page.wait_for_function("() => document.querySelector('[data-announce]').textContent.includes('5. pakal')")
    page.locator("#f-services-4-provider").fill("Piektais sniedzējs")
    page.get_by_role("button", name="Noņemt 2. pakalpojumu").click()
    assert still_here(page)
    assert page.locator("#f-services [data-row]").count() == 4
    assert page.locator("#f-services-4").count() == 0
    assert page.locator("#f-services-3-provider").input_value() == "Piektais sniedzējs"
    assert page.locator("#f-services-1-code").input_value() == "SK-PSIH"
    assert page.evaluate("document.activeElement.id") == "f-services-1-code"
    page.get_by_role("button", name="Pievienot īstermiņa mērķi").first.click()
    page.locator("#f-goals-0-short_term-1-id").fill("M1.2")
    page.get_by_role("button", name="Noņemt 1. mērķi").click()  # the rows of goal 2 become goal 1's
    assert page.locator("#f-goals-0-short_term-1-id").input_value() == "M2.2"
    page.get_by_role("button", name="Saglabāt melnrakstu", exact=True).click()
    page.wait_for_load_state()
    stored = draft_of(api, plan_id)
    assert [line.get("code") for line in stored["services"]] == ["APLP", "SK-PSIH", "ATBG", None]
    assert stored["services"][3] == {"provider": "Piektais sniedzējs"}
    assert [goal["id"] for goal in stored["goals"]] == ["M2"]
    assert [short["id"] for short in stored["goals"][0]["short_term"]] == ["M2.1", "M2.2"]


def test_service_rows_are_added_and_removed_with_javascript_off(app, api, browser, live_server):
    add_web_user(app, "ilze.bauska")
    context = browser.new_context(base_url=live_server.url, locale="lv-LV", java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, "ilze.bauska", PASSWORD)
        plan_id = plan_of(api)
        page.goto(f"/plani/{plan_id}")
        page.locator("#f-place").fill("Iecava")
        with page.expect_navigation():
            page.get_by_role("button", name="Pievienot pakalpojumu").click()
        assert page.locator("#f-services [data-row]").count() == 5
        assert page.locator("#f-place").input_value() == "Iecava"
        assert "Melnraksts saglabāts" in page.locator("#plan-notice").inner_text()
        assert page.evaluate("document.activeElement && document.activeElement.id") in (
            "f-services-4-code",
            "",
        )
        with page.expect_navigation():
            page.get_by_role("button", name="Noņemt 1. pakalpojumu").click()
        assert page.locator("#f-services [data-row]").count() == 4
        assert page.locator("#f-services-0-code").input_value() == "SDARB"
        stored = draft_of(api, plan_id)
        assert stored["place"] == "Iecava" and len(stored["services"]) == 4
    finally:
        context.close()


def test_the_editor_with_the_keyboard_only(api, signed_in):
    page = signed_in
    plan_id = plan_of(api)
    page.goto(f"/plani/{plan_id}")

    def tab_to(test: str, backwards: bool = False, limit: int = 600) -> None:
        for _ in range(limit):
            page.keyboard.press("Shift+Tab" if backwards else "Tab")
            if page.evaluate(f"(() => {{ const el = document.activeElement; return {test}; }})()"):
                return
        raise AssertionError(f"never reached: {test}")

    tab_to("el.id === 'f-number'")
    page.keyboard.press("Control+A")
    page.keyboard.type("IAP-K")
    tab_to("el.textContent.trim() === 'Pievienot mērķi'")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "f-goals-2-id"
    page.keyboard.type("M9")
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")  # on and back again
    assert page.evaluate("document.activeElement.id") == "f-goals-2-id"
    tab_to("el.id === 'f-goals-2-long_term'", limit=3)
    page.keyboard.type("Jauns ilgtermiņa mērķis")
    tab_to("el.textContent.trim() === 'Saglabāt melnrakstu' && el.offsetParent !== null")
    with page.expect_navigation():
        page.keyboard.press("Space")
    assert "Melnraksts saglabāts" in page.locator("#plan-notice").inner_text()
    stored = draft_of(api, plan_id)
    assert stored["number"] == "IAP-K"
    assert stored["goals"][2]["id"] == "M9" and stored["goals"][2]["long_term"] == "Jauns ilgtermiņa mērķis"
    # Enter in a text field saves (the form's first button is the hidden save, not a remove button)
    page.locator("#f-place").fill("Vecumnieki")
    with page.expect_navigation():
        page.locator("#f-place").press("Enter")
    assert "Melnraksts saglabāts" in page.locator("#plan-notice").inner_text()
    assert len(draft_of(api, plan_id)["goals"]) == 3 and draft_of(api, plan_id)["place"] == "Vecumnieki"


def test_the_conflict_page_shows_both_and_keeps_mine(api, signed_in):
    page = signed_in
    plan_id = plan_of(api)
    page.goto(f"/plani/{plan_id}")
    theirs = load_sample(ADULT_SUPPORT_PERSON) | {"place": "Viņu vieta"}
    etag = api.get(f"/api/v1/plans/{plan_id}/draft", headers=api.headers_).headers["ETag"]
    api.put(f"/api/v1/plans/{plan_id}/draft", json=theirs, headers={**api.headers_, "If-Match": etag})
    page.locator("#f-place").fill("Mana vieta")
    page.get_by_role("button", name="Saglabāt melnrakstu", exact=True).click()
    page.wait_for_load_state()
    table = page.locator("table.plan-conflict").inner_text()
    assert "Mana vieta" in table and "Viņu vieta" in table
    check_page(page, "plans-conflict")
    page.get_by_role("button", name="Saglabāt manu saglabātā melnraksta vietā").click()
    page.wait_for_load_state()
    assert "Melnraksts saglabāts" in page.locator("#plan-notice").inner_text()
    assert draft_of(api, plan_id)["place"] == "Mana vieta"
