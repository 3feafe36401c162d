"""A month of work through the pages alone, in a real browser, as the people who do it.

A social worker finds the client, fills the plan with a mistake, reads the Latvian message in the summary
and beside the field, fixes it, approves, downloads the plan and reads it, makes the agreement and takes
the month's act form; the finance officer uploads the filled act, accepts it, sees the client's budget
change, runs the month's pack, follows its bar to the end and downloads it; the administrator uploads a
template with a misspelt variable and sees the problem at its paragraph. Every page on the way passes
axe-core (WCAG 2.1 AA) and leaves a screenshot in tests/artifacts/.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from service.config import ROOT
from tests.browser import check_page, sign_in
from tests.case_helpers import make_client
from tests.docx_text import docx_text
from tests.helpers import ADULT_SUPPORT_PERSON, FILLED_ACT, fill_with_pdftk, load_sample
from tests.test_template_check import changed
from tests.test_web_acts import agreement_form
from tests.test_web_settings_browser import upload
from tests.web_helpers import PASSWORD, add_web_user


def sign_out(page) -> None:
    page.get_by_role("button", name="Iziet").click()
    page.wait_for_load_state()


def delivered_in_total(page) -> str:
    return page.locator(".budget-table tfoot td").nth(2).inner_text()


def fill_agreement(page) -> None:
    """The agreement's form, as a person types it (tests/test_web_acts.agreement_form)."""
    for name, value in agreement_form().items():
        if name.startswith("lines-"):
            parts = name.split("-")
            if len(parts) == 2:
                page.check(f"#f-lines-{parts[1]}")
            else:
                page.fill("#f-lines-" + "-".join(parts[1:]), value)
        elif name == "signing":
            page.select_option("#f-signing", value)
        else:
            page.fill(f"#f-{name.replace('.', '-')}", value)
    for unchosen in ("#f-lines-1", "#f-lines-2"):
        page.uncheck(unchosen)


def pack_the_month(page, prefix: str) -> list[str]:
    """On the packs page: September 2020 of the IBM project checked, packed, followed to the end and
    downloaded; the names in the ZIP."""
    page.select_option("#f-project", "IBM")
    page.fill("#f-period_from", "09.2020.")
    page.get_by_role("button", name="Pārbaudīt").click()
    page.wait_for_load_state()
    assert "KP-BNP-2020/09" in page.content()
    check_page(page, f"{prefix}-packs-preview")
    page.get_by_role("button", name="Sagatavot paketi").click()
    page.wait_for_load_state()
    assert "/paki/" in page.url
    check_page(page, f"{prefix}-pack-running")
    link = page.get_by_role("link", name="Lejupielādēt paketi (ZIP)")
    link.wait_for(timeout=120_000)
    bar = page.locator("progress")
    assert bar.get_attribute("value") == bar.get_attribute("max") != "0"
    check_page(page, f"{prefix}-pack-finished")
    with page.expect_download() as pack:
        link.click()
    names = zipfile.ZipFile(io.BytesIO(Path(pack.value.path()).read_bytes())).namelist()
    assert any(name.startswith("02-Kompensacijas-pieprasijums") for name in names), names
    return names


def test_a_month_of_work_through_the_pages(app, client, user_headers, browser_page, tmp_path):
    page = browser_page
    headers = user_headers("social_worker", "bauska")
    make_client(client, headers)
    add_web_user(app, "ilze.bauska", "social_worker")
    add_web_user(app, "janis.bauska", "finance_officer")
    add_web_user(app, "anna.bauska", "administrator")

    # The social worker finds the client and starts the plan.
    sign_in(page, "ilze.bauska", PASSWORD)
    check_page(page, "journey-home")
    page.get_by_role("link", name="Klienti").first.click()
    page.get_by_label("Meklēt klientu").fill("erik gail")
    page.get_by_role("button", name="Meklēt").click()
    check_page(page, "journey-search")
    page.get_by_role("link", name="Ēriks Gailītis").click()
    assert page.title().startswith("Ēriks Gailītis")
    page.get_by_role("button", name="Jauns plāna melnraksts").click()
    page.wait_for_load_state()
    plan_id = page.url.rstrip("/").rsplit("/", 1)[1]

    # What was agreed at the meeting is typed in (the API's sample stands for the long form), with a
    # mistake in the plan's date.
    draft = client.get(f"/api/v1/plans/{plan_id}/draft", headers=headers)
    saved = client.put(
        f"/api/v1/plans/{plan_id}/draft",
        json=load_sample(ADULT_SUPPORT_PERSON),
        headers={**headers, "If-Match": draft.headers["ETag"]},
    )
    assert saved.status_code == 200
    page.reload()
    page.locator("#f-date").fill("31.02.2020")
    page.locator("#f-place").fill("Bauska")
    page.get_by_role("button", name="Apstiprināt").click()
    page.wait_for_load_state()
    assert page.title().startswith("Kļūda:")
    assert "Kalendārā tādas dienas nav" in page.locator(".error-summary").inner_text()
    assert "Kalendārā tādas dienas nav" in page.locator("#f-date-error").inner_text()
    check_page(page, "journey-plan-refused")
    page.locator(".error-summary").get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "f-date"
    page.locator("#f-date").fill("27.01.2020.")
    page.get_by_role("button", name="Apstiprināt").click()
    page.wait_for_load_state()
    assert not page.title().startswith("Kļūda:")
    assert page.title().startswith("Ēriks Gailītis")  # back on the client's page, version 1 listed
    check_page(page, "journey-client-approved")

    with page.expect_download() as plan_document:
        page.get_by_role("link", name="DOCX (versija 1)").click()
    text = docx_text(Path(plan_document.value.path()).read_bytes())
    assert "Ēriks Gailītis" in text and "27.01.2020." in text

    # The agreement from the approved version, and the month's act form for the provider.
    page.get_by_role("link", name="Jauns līgums (versija 1)").click()
    check_page(page, "journey-agreement-new")
    fill_agreement(page)
    page.get_by_role("button", name="Sagatavot līgumu").click()
    page.wait_for_load_state()
    assert page.title().startswith("Līgums L-2020/001")
    check_page(page, "journey-agreement")
    with page.expect_download() as agreement_document:
        page.get_by_role("link", name="DOCX versija 1").click()
    assert "L-2020/001" in docx_text(Path(agreement_document.value.path()).read_bytes())
    page.fill("#f-month", "09.2020.")
    with page.expect_download() as blank:
        page.get_by_role("button", name="Lejupielādēt akta veidlapu").click()
    filled = tmp_path / "akts.pdf"
    filled.write_bytes(
        fill_with_pdftk(Path(blank.value.path()).read_bytes(), FILLED_ACT | {"number": "AKTS-1"}, tmp_path)
    )
    page.get_by_role("link", name="Klienta lieta").click()
    client_page = page.url
    assert delivered_in_total(page) == "0,00\u00a0€"
    sign_out(page)

    # The finance officer receives the filled act, accepts it and sees the budget used.
    sign_in(page, "janis.bauska", PASSWORD)
    page.get_by_role("link", name="Pakalpojumu sniegšanas akti").first.click()
    check_page(page, "journey-acts")
    page.set_input_files("#f-file", str(filled))
    page.get_by_role("button", name="Augšupielādēt aktu").click()
    page.wait_for_load_state()
    assert "Līga Žagare" in page.content()
    check_page(page, "journey-act")
    page.get_by_role("button", name="Pieņemt aktu").click()
    page.wait_for_load_state()
    assert "pieņemts" in page.locator("main").inner_text()
    check_page(page, "journey-act-accepted")
    page.goto(client_page)
    assert delivered_in_total(page) != "0,00\u00a0€"
    check_page(page, "journey-client-delivered")

    # The month's pack, followed to the end and downloaded.
    page.get_by_role("link", name="Kompensāciju paketes").first.click()
    check_page(page, "journey-packs")
    assert any("/Akts-" in name for name in pack_the_month(page, "journey"))
    sign_out(page)

    # The administrator's own agreement template, with a misspelt variable.
    sign_in(page, "anna.bauska", PASSWORD)
    page.get_by_role("link", name="Administrēšana").first.click()
    page.get_by_role("link", name="Veidnes", exact=True).first.click()
    bad = changed(
        (ROOT / "templates_lv" / "service-agreement.docx").read_bytes(),
        "word/document.xml",
        lambda xml: xml.replace("agreement.provider.name", "agreement.provider.nmae", 1),
    )
    upload(page, bad)
    assert page.title().startswith("Kļūda:")
    finding = page.locator("#check-service-agreement-1")
    assert finding.locator("mark").inner_text() == "{{ agreement.provider.nmae }}"
    assert "“agreement.provider.name”" in finding.inner_text()
    check_page(page, "journey-template-problem")
