"""The start page, the clients' list and a client's page, through Flask's test client."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from bench.cases import personal_code
from service.cases.client_order import sort_key
from service.store import database
from service.store.models import AuditEntry
from tests.case_helpers import AGREEMENT, CLIENT, approve, approved_plan, deliver, make_client
from tests.docx_text import docx_text
from tests.web_helpers import page_client

NAMES = [
    *("Žanis Ozols", "Zane Liepa", "Čaks Bērziņš", "Cēsis Kalns", "Ēriks Gailītis", "Edgars Ābols"),
    *("Šarlote Eglīte", "Sandra Kalniņa", "ģirts Zariņš", "Gints Kļava"),
]


def add_clients(client, headers, names, first=1):
    ids = []
    for index, name in enumerate(names, start=first):
        answer = client.post(
            "/api/v1/clients",
            json={**CLIENT, "name": name, "personal_code": personal_code(index)},
            headers=headers,
        )
        assert answer.status_code == 201, answer.json
        ids.append(answer.json["id"])
    return ids


def audit_of(app, action):
    with database(app).session() as session:
        return [(e.action, e.object_type, e.object_id, e.detail) for e in session.scalars(
            select(AuditEntry).where(AuditEntry.action == action)
        )]  # fmt: skip


def names_on(html: str) -> list[str]:
    return re.findall(r'<td><a href="/klienti/[0-9a-f]+">([^<]+)</a></td>', html)


def test_the_list_is_paged_by_fifty_in_latvian_order(app, anonymous, user_headers):
    headers = user_headers("social_worker")
    names = [f"{name} {index:02d}" for index in range(6) for name in NAMES]  # 60 clients
    add_clients(anonymous, headers, names)
    pages = page_client(app)
    first = pages.get("/klienti").get_data(as_text=True)
    second = pages.get("/klienti?lapa=2").get_data(as_text=True)
    expected = sorted(names, key=sort_key)
    assert names_on(first) == expected[:50]
    assert names_on(second) == expected[50:]
    assert expected[0].startswith("Cēsis") and expected[6].startswith("Čaks")  # č after c
    assert "lapa 1 no 2" in first and "Kopā klientu: 60" in first and "lapa=2" in first
    assert "lapa 2 no 2" in second and "Nākamā lapa" not in second
    assert pages.get("/klienti?lapa=abc").status_code == 200


def test_a_new_or_renamed_client_moves_into_its_place(app, anonymous, user_headers):
    headers = user_headers("social_worker")
    ids = add_clients(anonymous, headers, ["Anna Ozola", "Žanete Liepa"])
    pages = page_client(app)
    assert names_on(pages.get("/klienti").get_data(as_text=True)) == ["Anna Ozola", "Žanete Liepa"]
    add_clients(anonymous, headers, ["Zigrīda Kalna"], first=3)
    url = f"/api/v1/clients/{ids[0]}"
    etag = anonymous.get(url, headers=headers).headers["ETag"]
    renamed = {**CLIENT, "name": "Ādolfs Zvaigzne", "personal_code": personal_code(1)}
    assert anonymous.put(url, json=renamed, headers={**headers, "If-Match": etag}).status_code == 200
    shown = names_on(pages.get("/klienti").get_data(as_text=True))
    assert shown == ["Ādolfs Zvaigzne", "Zigrīda Kalna", "Žanete Liepa"]


def test_search_without_diacritics_and_by_code_is_audited_without_the_query(app, anonymous, user_headers):
    headers = user_headers("social_worker")
    add_clients(anonymous, headers, ["Ēriks Gailītis", "Ēriks Bērziņš", "Anna Gailīte"])
    pages = page_client(app)
    html = pages.get("/klienti?q=erik+gail").get_data(as_text=True)
    assert names_on(html) == ["Ēriks Gailītis"]
    assert "Atrasti: 1" in html
    by_code = pages.get(f"/klienti?q={personal_code(2)}").get_data(as_text=True)
    assert names_on(by_code) == ["Ēriks Bērziņš"]
    searched = audit_of(app, "searched")
    assert len(searched) == 2 and all("gail" not in entry[3] for entry in searched)
    assert json.loads(searched[0][3]) == {"found": 1, "query": True}
    short = pages.get("/klienti?q=er")
    assert short.status_code == 422
    text = short.get_data(as_text=True)
    assert "<title>Kļūda:" in text and 'href="#f-q"' in text and 'id="f-q"' in text


def test_reviewers_get_403_and_another_municipality_404(app, anonymous, user_headers):
    url = make_client(anonymous, user_headers("social_worker"))
    client_id = url.rsplit("/", 1)[1]
    reviewer = page_client(app, "reviewer")
    assert reviewer.get("/klienti").status_code == 403
    assert reviewer.get(f"/klienti/{client_id}").status_code == 403
    home = reviewer.get("/").get_data(as_text=True)
    assert "Darbi termiņā" not in home and "Klienti" not in home
    liepaja = page_client(app, "social_worker", "liepaja")
    assert liepaja.get(f"/klienti/{client_id}").status_code == 404
    assert names_on(liepaja.get("/klienti").get_data(as_text=True)) == []


def test_a_clients_page_shows_versions_changes_budget_and_is_audited(app, anonymous, user_headers):
    headers = user_headers("social_worker")
    plan_url = approved_plan(anonymous, headers)
    plan_id = plan_url.rsplit("/", 1)[1]
    agreement = anonymous.post(f"{plan_url}/versions/1/agreements", json=AGREEMENT, headers=headers)
    assert agreement.status_code == 201, agreement.json
    agreement_id = agreement.json["id"]
    assert anonymous.post(f"{plan_url}/draft", headers=headers).status_code == 201
    draft = anonymous.get(f"{plan_url}/draft", headers=headers)
    changed = draft.json["plan"]
    changed["services"][0]["quantity"] = "20"
    saved = anonymous.put(
        f"{plan_url}/draft", json=changed, headers={**headers, "If-Match": draft.headers["ETag"]}
    )
    assert saved.status_code == 200, saved.json
    approve(anonymous, headers, plan_url)
    client_id = anonymous.get(plan_url, headers=headers).json["client_id"]
    deliver(app, client_id, agreement_id, "2020-09", ("APLP", "10", "1234.50"))
    pages = page_client(app)
    html = pages.get(f"/klienti/{client_id}?plans={plan_id}&no=1&lidz=2").get_data(as_text=True)
    assert "<title>Ēriks Gailītis — Klienti — Veidlapas</title>" in html
    assert "Apstiprināts" in html and "Aizstāts" in html
    assert "Izmaiņas no 1. versijas uz 2. versiju" in html
    assert "→" in html  # the change's line
    assert 'role="img"' in html and '<title id="budget-chart-title">Budžets pa mēnešiem</title>' in html
    assert "style=" not in html
    assert "1\u00a0234,50\u00a0€" in html  # the delivered month, in the table
    footer = html[html.index("<tfoot>") : html.index("</tfoot>")]
    assert "Kopā" in footer and "1\u00a0234,50\u00a0€" in footer and "7\u00a0200,00\u00a0€" in footer
    assert "L-2020/001" in html and "09.2020." in html
    reads = audit_of(app, "read")
    assert any(entry[1] == "client" and entry[2] == client_id for entry in reads)
    assert pages.get(f"/klienti/{client_id}?plans={plan_id}&no=1&lidz=9").status_code == 200


def test_a_plan_versions_docx_holds_the_plan_in_latvian_and_is_audited(app, anonymous, user_headers):
    headers = user_headers("social_worker")
    plan_url = approved_plan(anonymous, headers)
    plan_id = plan_url.rsplit("/", 1)[1]
    pages = page_client(app)
    answer = pages.get(f"/plani/{plan_id}/versijas/1/dokuments")
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"].startswith("attachment")
    text = docx_text(answer.data)
    assert "Ēriks Gailītis" in text and "atbalsta plāns" in text.lower()
    assert pages.get(f"/plani/{plan_id}/versijas/7/dokuments").status_code == 404
    assert pages.get(f"/plani/{plan_id}/versijas/1/dokuments?formats=exe").status_code == 400
    downloads = audit_of(app, "downloaded")
    assert [entry[1] for entry in downloads] == ["plan_version"]


def test_the_start_page_names_the_municipality_and_what_is_due(app, anonymous, user_headers):
    make_client(anonymous, user_headers("social_worker"))
    html = page_client(app).get("/").get_data(as_text=True)
    assert "<title>Sākums — Veidlapas</title>" in html
    assert "Bauskas novada pašvaldība" in html
    assert "Darbi termiņā" in html and "Akti, kas gaida pieņemšanu" in html
    finance = page_client(app, "finance_officer").get("/").get_data(as_text=True)
    assert "Kompensāciju paketes" in finance


def test_the_pages_switch_to_english(app, anonymous, user_headers):
    url = make_client(anonymous, user_headers("social_worker"))
    pages = page_client(app)
    pages.set_cookie("lang", "en")
    listed = pages.get("/klienti").get_data(as_text=True)
    assert "Clients in total: 1" in listed and '<html lang="en">' in listed
    shown = pages.get("/klienti/" + url.rsplit("/", 1)[1]).get_data(as_text=True)
    assert "<title>Ēriks Gailītis — Clients — Veidlapas</title>" in shown
    assert "There is no approved plan, so no budget yet." in shown
