"""The administrators' pages in a real browser: a user added, their link opened in another browser, their
password set, and they sign in; every page checked by axe."""

from __future__ import annotations

from tests.browser import check_page, sign_in
from tests.web_helpers import PASSWORD, SUITE_SECRETS, add_web_user

NEW_PASSWORD = "rudenī lapas krīt lēnām"
SUITE_SECRETS.add(NEW_PASSWORD)


def test_an_administrator_adds_a_user_who_sets_a_password_and_signs_in(
    app, browser, live_server, browser_page
):
    add_web_user(app, "anna.admin", "administrator")
    add_web_user(app, "ilze.bauska")
    page = browser_page
    sign_in(page, "anna.admin", PASSWORD)
    page.get_by_role("link", name="Administrēšana").click()
    assert page.title() == "Lietotāji — Administrēšana — Veidlapas"
    assert "ilze.bauska" in page.locator("table").inner_text()
    check_page(page, "admin-users")

    page.get_by_role("button", name="Pievienot lietotāju").click()  # nothing typed
    assert page.title().startswith("Kļūda:")
    check_page(page, "admin-users-refused")
    page.get_by_label("Lietotājvārds").fill("maris.kalns")
    page.get_by_label("Loma").select_option(label="Finanšu speciālists")
    page.get_by_role("button", name="Pievienot lietotāju").click()
    assert page.title() == "Vienreizēja saite — maris.kalns — Veidlapas"
    link = page.get_by_label("Saite paroles iestatīšanai").input_value()
    SUITE_SECRETS.add(link.split("kods=", 1)[1])
    assert link.startswith(live_server.url + "/parole?kods=")
    assert "72 stundas" in page.content()
    check_page(page, "admin-link")

    other = browser.new_context(base_url=live_server.url, locale="lv-LV")
    try:
        visitor = other.new_page()
        visitor.goto(link)
        assert visitor.title() == "Paroles iestatīšana — Veidlapas"
        assert "maris.kalns" in visitor.locator("main").inner_text()
        check_page(visitor, "admin-set-password")
        visitor.get_by_label("Jaunā parole").fill(NEW_PASSWORD)
        visitor.get_by_label("Tā pati parole vēlreiz").fill(NEW_PASSWORD)
        visitor.get_by_role("button", name="Iestatīt paroli").click()
        assert "Parole ir iestatīta" in visitor.locator("main").inner_text()
        sign_in(visitor, "maris.kalns", NEW_PASSWORD)
        assert visitor.title() == "Sākums — Veidlapas"
        assert "maris.kalns" in visitor.locator("header").inner_text()
    finally:
        other.close()

    page.goto("/administresana/lietotaji")
    row = page.get_by_role("row").filter(has_text="maris.kalns")
    assert "Aktīvs" in row.inner_text() and "Finanšu speciālists" in row.inner_text()
