"""The start page, the clients' list, a search and a client's page in a real browser: axe finds nothing,
the budget chart is drawn and visible, a plan version downloads as a DOCX in Latvian."""

from __future__ import annotations

from pathlib import Path

from tests.browser import check_page, sign_in
from tests.case_helpers import AGREEMENT, approved_plan, deliver
from tests.docx_text import docx_text
from tests.web_helpers import PASSWORD, add_web_user


def test_home_list_search_and_a_clients_page_are_accessible(app, anonymous, user_headers, browser_page):
    headers = user_headers("social_worker")
    plan_url = approved_plan(anonymous, headers)
    agreement = anonymous.post(f"{plan_url}/versions/1/agreements", json=AGREEMENT, headers=headers).json
    client_id = anonymous.get(plan_url, headers=headers).json["client_id"]
    deliver(app, client_id, agreement["id"], "2020-09", ("APLP", "10", "115.00"))
    add_web_user(app, "ilze.bauska")
    page = browser_page
    sign_in(page, "ilze.bauska", PASSWORD)
    assert page.title() == "Sākums — Veidlapas"
    check_page(page, "clients-home")

    page.get_by_role("link", name="Klienti").first.click()
    assert page.title() == "Klienti — Veidlapas"
    check_page(page, "clients-list")

    page.get_by_label("Meklēt klientu").fill("erik gail")
    page.get_by_role("button", name="Meklēt").click()
    assert page.title() == "Atrastie klienti — Veidlapas"
    assert "Atrasti: 1" in page.content()
    check_page(page, "clients-search")

    page.get_by_role("link", name="Ēriks Gailītis").click()
    assert page.title() == "Ēriks Gailītis — Klienti — Veidlapas"
    chart = page.locator("svg.chart")
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 100
    assert page.locator("rect.chart__bar--delivered").count() >= 12
    assert "115,00\u00a0€" in page.locator(".budget-table").inner_text()
    check_page(page, "clients-client")

    with page.expect_download() as download:
        page.get_by_role("link", name="DOCX (versija 1)").click()
    text = docx_text(Path(download.value.path()).read_bytes())
    assert "Ēriks Gailītis" in text
