"""The settings, templates and reference pages in a real browser: a template's problem at its paragraph,
the sample's picture, and axe on every page of the area."""

from __future__ import annotations

from service.config import ROOT
from tests.browser import check_page, sign_in
from tests.test_template_check import changed
from tests.web_helpers import PASSWORD, add_web_user

AGREEMENT = (ROOT / "templates_lv" / "service-agreement.docx").read_bytes()
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def upload(page, data: bytes) -> None:
    section = page.locator("#kind-service-agreement")
    section.get_by_label("Veidne (DOCX)").set_input_files(
        {"name": "ligums.docx", "mimeType": DOCX, "buffer": data}
    )
    section.get_by_label("Spēkā no").last.fill("01.01.2021.")
    section.get_by_role("button", name="Pārbaudīt veidni").click()
    page.wait_for_load_state()


def test_an_administrator_sees_a_templates_problem_at_its_paragraph_then_the_sample(app, browser_page):
    add_web_user(app, "anna.bauska", "administrator")
    sign_in(browser_page, "anna.bauska", PASSWORD)
    browser_page.goto("/administresana/veidnes")
    assert browser_page.title() == "Pašvaldības veidnes — Veidlapas"
    bad = changed(
        AGREEMENT,
        "word/document.xml",
        lambda xml: xml.replace("agreement.provider.name", "agreement.provider.nmae", 1),
    )
    upload(browser_page, bad)
    assert browser_page.title().startswith("Kļūda:")
    finding = browser_page.locator("#check-service-agreement-1")
    message = finding.locator(".finding__message").inner_text()
    assert "“agreement.provider.nmae”" in message and "“agreement.provider.name”" in message
    assert finding.locator("mark").inner_text() == "{{ agreement.provider.nmae }}"
    assert "pamatteksts (word/document.xml)" in finding.inner_text()
    browser_page.locator(".error-summary").get_by_role("link").first.click()
    assert browser_page.evaluate("document.activeElement.id") == "check-service-agreement-1"
    check_page(browser_page, "settings-templates-problems")

    upload(browser_page, AGREEMENT)
    picture = browser_page.get_by_role(
        "img", name="Ar augšupielādēto veidni sagatavotā parauga dokumenta pirmā lapa"
    )
    picture.wait_for()
    browser_page.wait_for_function("() => document.querySelector('.template-preview img').naturalWidth > 0")
    check_page(browser_page, "settings-templates-sample")
    with browser_page.expect_download() as download:
        browser_page.get_by_role("link", name="Lejupielādēt paraugu PDF formātā").click()
    with open(download.value.path(), "rb") as sample:
        assert sample.read(5) == b"%PDF-"
    browser_page.get_by_role("button", name="Pieņemt").click()
    browser_page.wait_for_load_state()
    assert "Veidne ir saglabāta kā nākamā versija." in browser_page.locator("main").inner_text()
    check_page(browser_page, "settings-templates")


def test_the_settings_and_reference_pages_are_accessible(app, browser_page):
    add_web_user(app, "anna.bauska", "administrator")
    sign_in(browser_page, "anna.bauska", PASSWORD)
    browser_page.goto("/administresana/iestatijumi")
    browser_page.get_by_label("IBAN").fill("LV00BANK0000435195001")
    browser_page.get_by_role("button", name="Saglabāt jauno versiju").click()
    browser_page.wait_for_load_state()
    assert browser_page.title() == "Kļūda: Pašvaldības iestatījumi — Veidlapas"
    check_page(browser_page, "settings-refused")
    browser_page.get_by_label("IBAN").fill("LV80BANK0000435195001")
    browser_page.get_by_role("button", name="Saglabāt jauno versiju").click()
    browser_page.wait_for_load_state()
    assert "Jaunā iestatījumu versija ir saglabāta." in browser_page.locator("main").inner_text()
    check_page(browser_page, "settings")
    for url, title, name in (
        ("/uzzinas/pakalpojumi", "Pakalpojumi un tarifi", "reference-catalogue"),
        ("/uzzinas/projekti", "Projekti", "reference-projects"),
        ("/uzzinas/dokumenti", "Dokumenti un veidņu mainīgie", "reference-documents"),
        ("/pieklustamiba", "Piekļūstamības paziņojums", "accessibility"),
    ):
        browser_page.goto(url)
        assert browser_page.title() == f"{title} — Veidlapas"
        check_page(browser_page, name)


def test_the_statement_and_the_upload_form_work_with_the_keyboard(app, browser_page):
    browser_page.goto("/pieklustamiba")
    browser_page.keyboard.press("Tab")
    assert browser_page.evaluate("document.activeElement.textContent") == "Pāriet uz galveno saturu"
    browser_page.keyboard.press("Enter")
    assert browser_page.evaluate("document.activeElement.id") == "main"
    add_web_user(app, "anna.bauska", "administrator")
    sign_in(browser_page, "anna.bauska", PASSWORD)
    browser_page.goto("/administresana/veidnes")
    reached = []
    for _ in range(60):
        browser_page.keyboard.press("Tab")
        reached.append(
            browser_page.evaluate("document.activeElement.id || document.activeElement.textContent")
        )
        if reached[-1] == "Pārbaudīt veidni":
            break
    assert "f-support-plan-file" in reached and "f-support-plan-effective_from" in reached
    assert reached[-1] == "Pārbaudīt veidni"
