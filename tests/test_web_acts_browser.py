"""Agreements, delivery acts and packs in a real browser: an agreement made from an approved plan, its act
form downloaded, filled (by pdftk) and uploaded, accepted; a pack made from it, its bar followed to the end
and its ZIP downloaded; axe on every page on the way."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from tests.browser import check_page, sign_in
from tests.case_helpers import approved_plan
from tests.docx_text import docx_text
from tests.helpers import FILLED_ACT, fill_with_pdftk
from tests.test_web_acts import agreement_form
from tests.web_helpers import PASSWORD, add_web_user


def test_agreement_act_acceptance_and_pack_in_the_browser(app, client, browser_page, tmp_path):
    page = browser_page
    plan_id = approved_plan(client, {}).rsplit("/", 1)[1]
    add_web_user(app, "inese.bauska", "administrator")
    sign_in(page, "inese.bauska", PASSWORD)

    page.goto(f"/plani/{plan_id}/versijas/1/ligums")
    assert page.title().startswith("Jauns līgums")
    check_page(page, "acts-agreement-new")
    for name, value in agreement_form().items():
        field = f"#f-{name.replace('.', '-')}" if not name.startswith("lines-") else None
        if name.startswith("lines-"):
            parts = name.split("-")
            field = "#f-lines-" + "-".join(parts[1:])
            if len(parts) == 2:
                page.check(field)
                continue
        if name == "signing":
            page.select_option(field, value)
        else:
            page.fill(field, value)
    for unchosen in ("#f-lines-1", "#f-lines-2"):
        page.uncheck(unchosen)
    page.get_by_role("button", name="Sagatavot līgumu").click()
    page.wait_for_load_state()
    assert page.title().startswith("Līgums L-2020/001"), page.content()[:3000]
    check_page(page, "acts-agreement")

    with page.expect_download() as document:
        page.get_by_role("link", name="DOCX versija 1").click()
    assert "L-2020/001" in docx_text(Path(document.value.path()).read_bytes())

    page.fill("#f-month", "09.2020.")
    with page.expect_download() as blank:
        page.get_by_role("button", name="Lejupielādēt akta veidlapu").click()
    form = Path(blank.value.path()).read_bytes()
    filled = tmp_path / "akts.pdf"
    filled.write_bytes(fill_with_pdftk(form, FILLED_ACT | {"number": "AKTS-2020-09-001"}, tmp_path))

    page.goto("/akti")
    check_page(page, "acts-list")
    page.set_input_files("#f-file", str(filled))
    page.get_by_role("button", name="Augšupielādēt aktu").click()
    page.wait_for_load_state()
    assert "/akti/" in page.url and "Līga Žagare" in page.content()
    check_page(page, "acts-act")
    page.get_by_role("button", name="Pieņemt aktu").click()
    page.wait_for_load_state()
    assert "pieņemts" in page.locator("main").inner_text()
    check_page(page, "acts-act-accepted")

    page.goto("/paki")
    check_page(page, "acts-packs")
    page.select_option("#f-project", "IBM")
    page.fill("#f-period_from", "09.2020.")
    page.get_by_role("button", name="Pārbaudīt").click()
    page.wait_for_load_state()
    assert "KP-BNP-2020/09" in page.content()
    check_page(page, "acts-packs-preview")
    page.get_by_role("button", name="Sagatavot paketi").click()
    page.wait_for_load_state()
    assert "/paki/" in page.url
    check_page(page, "acts-pack-running")
    link = page.get_by_role("link", name="Lejupielādēt paketi (ZIP)")
    link.wait_for(timeout=120_000)
    bar = page.locator("progress")
    assert bar.get_attribute("value") == bar.get_attribute("max") != "0"
    check_page(page, "acts-pack-finished")
    with page.expect_download() as pack:
        link.click()
    names = zipfile.ZipFile(io.BytesIO(Path(pack.value.path()).read_bytes())).namelist()
    assert any(name.startswith("02-Kompensacijas-pieprasijums") for name in names), names
    assert any("/Akts-" in name for name in names)
