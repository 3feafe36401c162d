"""The plan editor through the test client: the form codec both ways, typed dates and amounts, rows
without JavaScript, saving with problems, approval refused and granted, a conflict, the preview."""

from __future__ import annotations

import copy
import json
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from service.store import database
from service.store.models import AuditEntry
from service.web import plan_form
from tests.case_helpers import make_plan
from tests.helpers import ADULT_SUPPORT_PERSON, SAMPLES, load_sample
from tests.web_helpers import csrf_of, page_client

SAMPLE_PLANS = sorted(SAMPLES.glob("support-plan-*.json"))
REVISION = re.compile(r'name="_revision" value="([0-9]+)"')


class FormReader(HTMLParser):
    """The fields of the plan form as a browser would post them (name → value), and every id."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self.ids: set[str] = set()
        self._select: str | None = None
        self._textarea: str | None = None
        self._template = 0
        self._form = False

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if "id" in found and not self._template:
            self.ids.add(found["id"])
        if tag == "template":
            self._template += 1
        if tag == "form" and "data-plan-form" in found:
            self._form = True
        if self._template or not self._form:
            return
        name = found.get("name")
        if tag == "input" and name and found.get("type") != "submit":
            self.values[name] = found.get("value", "")
        elif tag == "select":
            self._select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in found:
            self.values[self._select] = found.get("value", "")
        elif tag == "textarea":
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag):
        if tag == "template":
            self._template -= 1
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._form = False

    def handle_data(self, data):
        if self._textarea and not self._template:
            self.values[self._textarea] += data


def read_page(html: str) -> FormReader:
    reader = FormReader()
    reader.feed(html)
    # a browser drops the first newline of a textarea, as Jinja's output starts right after the tag
    return reader


@pytest.fixture
def api(anonymous, user_headers):
    headers = user_headers("social_worker", "bauska")

    def draft(plan_id):
        return anonymous.get(f"/api/v1/plans/{plan_id}/draft", headers=headers)

    anonymous.headers_ = headers
    anonymous.draft = draft
    return anonymous


def new_plan(api, valid=True) -> str:
    return make_plan(api, api.headers_, valid=valid).rsplit("/", 1)[1]


@pytest.fixture
def web(app):
    return page_client(app)


def post(web, plan_id, values, action="save", revision=None):
    html = web.get(f"/plani/{plan_id}").get_data(as_text=True)
    data = dict(values)
    data.update(
        csrf_token=csrf_of(html),
        _revision=revision if revision is not None else REVISION.search(html).group(1),
        action=action,
    )
    return web.post(f"/plani/{plan_id}", data=data)


def shown_form(web, plan_id) -> dict[str, str]:
    return read_page(web.get(f"/plani/{plan_id}").get_data(as_text=True)).values


@pytest.mark.parametrize("sample", SAMPLE_PLANS, ids=lambda path: path.stem)
def test_the_codec_gives_back_each_sample(sample):
    raw = json.loads(sample.read_text(encoding="utf-8"))
    values, counts = plan_form.encode(raw)
    assert plan_form.decode(values) == raw
    assert values["date"] == ".".join(reversed(raw["date"].split("-"))) + "."
    assert counts["services"] == len(raw["services"])


def test_a_sample_shown_in_the_form_and_posted_back_is_the_same_json(api, web):
    plan_id = new_plan(api)
    values = shown_form(web, plan_id)
    assert values["budget.monthly"] == "600,00"
    assert values["services.2.quantity"] == "2,5"
    assert values["needs_assessment.date"] == "15.01.2020."
    answer = post(web, plan_id, values)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Melnraksts saglabāts" in html
    figures = re.sub(r"[ \n]+", " ", re.search(r'id="plan-figures">(.*?)</dl>', html, re.S).group(1))
    assert "544,20\u00a0€" in figures and "55,80\u00a0€" in figures  # the schema's peak month, budget left
    assert "APLP — atbalsta persona lēmumu pieņemšanā (stunda, 11,50\u00a0€)" in html
    assert "Summa mēnesī: <strong>184,00\u00a0€</strong>" in html
    assert api.draft(plan_id).json["plan"] == load_sample(ADULT_SUPPORT_PERSON)
    for sample in SAMPLE_PLANS:  # the others too, through the same draft
        raw = json.loads(sample.read_text(encoding="utf-8"))
        etag = api.draft(plan_id).headers["ETag"]
        api.put(f"/api/v1/plans/{plan_id}/draft", json=raw, headers={**api.headers_, "If-Match": etag})
        assert post(web, plan_id, shown_form(web, plan_id)).status_code == 200
        assert api.draft(plan_id).json["plan"] == raw, sample.name


def test_the_figures_of_a_draft_with_problems_count_the_lines_that_load():
    from schemas.plan import draft_figures

    raw = load_sample(ADULT_SUPPORT_PERSON)
    assert (draft_figures(raw).monthly, draft_figures(raw).budget_left) == (
        Decimal("544.20"),
        Decimal("55.80"),
    )
    raw["services"][1]["quantity"] = "daudz"
    found = draft_figures(raw)
    assert found.amounts[1] is None and found.amounts[0] == Decimal("184.00")
    assert found.monthly == Decimal("309.00") and found.budget_left == Decimal("291.00")
    del raw["period"]
    assert draft_figures(raw).monthly is None


def test_dates_day_first_or_iso_and_amounts_with_a_decimal_comma(api, web):
    plan_id = new_plan(api)
    values = shown_form(web, plan_id)
    values.update(
        {
            "date": "5.2.2020.",
            "period.start": "2020-02-01",
            "budget.monthly": "1 234,50",
            "services.0.quantity": "12,5",
        }
    )
    post(web, plan_id, values)
    stored = api.draft(plan_id).json["plan"]
    assert stored["date"] == "2020-02-05"
    assert stored["period"]["start"] == "2020-02-01"
    assert stored["budget"]["monthly"] == "1234.50"
    assert stored["services"][0]["quantity"] == "12.5"
    again = shown_form(web, plan_id)
    assert again["budget.monthly"] == "1234,50" and again["date"] == "05.02.2020."


def test_a_wrong_date_keeps_its_text_with_the_message_beside_it(api, web):
    plan_id = new_plan(api)
    values = shown_form(web, plan_id) | {"date": "31.02.2020", "budget.monthly": "12,34,5"}
    html = post(web, plan_id, values).get_data(as_text=True)
    page = read_page(html)
    assert page.values["date"] == "31.02.2020"
    assert page.values["budget.monthly"] == "12,34,5"
    beside = re.search(r'id="f-date-error">(.*?)</p>', html, re.S).group(1)
    assert "Kalendārā tādas dienas nav" in beside
    assert 'id="f-budget-monthly-error"' in html
    assert api.draft(plan_id).json["plan"]["date"] == "31.02.2020"
    # opened again later, the text and its message are still there
    later = web.get(f"/plani/{plan_id}").get_data(as_text=True)
    assert 'value="31.02.2020"' in later and "Kalendārā tādas dienas nav" in later


def test_rows_are_added_and_removed_without_javascript_keeping_what_was_typed(api, web):
    plan_id = new_plan(api)
    values = shown_form(web, plan_id) | {"place": "Iecava", "services.3.provider": "Jauns sniedzējs"}
    added = post(web, plan_id, values, action="add:services")
    html = added.get_data(as_text=True)
    assert added.status_code == 200
    page = read_page(html)
    assert "f-services-4-code" in page.ids and "f-services-5-code" not in page.ids
    assert page.values["place"] == "Iecava" and page.values["services.3.provider"] == "Jauns sniedzējs"
    assert "autofocus" in re.search(r'<select[^>]*id="f-services-4-code"[^>]*>', html).group()
    stored = api.draft(plan_id).json["plan"]
    assert len(stored["services"]) == 5 and stored["services"][4] == {} and stored["place"] == "Iecava"

    page.values["services.4.provider"] = "Piektais"
    removed = post(web, plan_id, page.values, action="remove:services:1")
    assert removed.status_code == 200
    stored = api.draft(plan_id).json["plan"]
    assert [line.get("code") for line in stored["services"]] == ["APLP", "SK-PSIH", "ATBG", None]
    assert stored["services"][3] == {"provider": "Piektais"}
    text = re.sub(r"<[^>]+>", "", removed.get_data(as_text=True))
    assert "Noņemt 4. pakalpojumu" in text and "Noņemt 5. pakalpojumu" not in text

    nested = post(web, plan_id, shown_form(web, plan_id), action="add:goals.1.short_term")
    assert 'id="f-goals-1-short_term-2-id"' in nested.get_data(as_text=True)
    assert len(api.draft(plan_id).json["plan"]["goals"][1]["short_term"]) == 3


def test_saving_a_draft_with_problems_says_saved_and_lists_them(api, web):
    plan_id = new_plan(api, valid=False)
    values = shown_form(web, plan_id)
    assert values["client.name"]  # the client's fields come from the client record
    answer = post(web, plan_id, values | {"number": "IAP-7"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Melnraksts saglabāts" in html
    assert "<title>Kļūda:" not in html and "error-summary" not in html
    problems = re.search(r'id="plan-problems">(.*?)</div>', html, re.S).group(1)
    assert "Šis lauks ir obligāts." in problems
    assert api.draft(plan_id).json["plan"]["number"] == "IAP-7"


def test_approval_refused_shows_the_summary_linking_to_fields(api, web):
    plan_id = new_plan(api, valid=False)
    values = shown_form(web, plan_id) | {"date": "32.01.2020", "programme": "ibm"}
    answer = post(web, plan_id, values, action="approve")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert re.search(r"<title>Kļūda: ", html)
    summary = re.search(r'class="error-summary".*?</div>', html, re.S).group()
    targets = re.findall(r'href="#([^"]+)"', summary)
    assert len(targets) > 5 and "f-date" in targets and "f-project" in targets
    ids = read_page(html).ids
    assert [target for target in targets if target not in ids] == []
    assert 'id="f-date-error"' in html
    assert api.get(f"/api/v1/plans/{plan_id}", headers=api.headers_).json["latest_version"] == 0


def test_approval_makes_version_one(app, api, web):
    plan_id = new_plan(api)
    answer = post(web, plan_id, shown_form(web, plan_id), action="approve")
    assert answer.status_code == 303
    plan = api.get(f"/api/v1/plans/{plan_id}", headers=api.headers_).json
    assert plan["latest_version"] == 1 and plan["draft"] is None
    assert plan["versions"][0]["plan_number"] == "IAP-2020/014"
    with database(app).session() as session:
        done = session.scalars(
            select(AuditEntry.action).where(AuditEntry.object_id == plan_id, AuditEntry.object_type == "plan")
        ).all()
    assert "approved" in done and "saved" in done and "read" in done
    # the plan has no draft now: the editor offers a new one, started from version 1
    html = web.get(f"/plani/{plan_id}").get_data(as_text=True)
    assert "melnraksta" in html.lower()
    client_id = plan["client_id"]
    started = web.post(f"/klienti/{client_id}/plani", data={"csrf_token": csrf_of(html)})
    assert started.status_code == 303 and started.headers["Location"].endswith(f"/plani/{plan_id}")
    assert api.draft(plan_id).json["plan"]["number"] == "IAP-2020/014"


def test_a_new_client_plan_is_started_with_the_client_record(api, web):
    plan_url = make_plan(api, api.headers_, valid=False)
    client_id = api.get(plan_url, headers=api.headers_).json["client_id"]
    token = csrf_of(web.get("/").get_data(as_text=True))
    # the client has a plan with a draft already: the same plan's editor
    again = web.post(f"/klienti/{client_id}/plani", data={"csrf_token": token})
    assert again.status_code == 303 and again.headers["Location"].endswith(plan_url.rsplit("/", 1)[1])


def test_someone_else_saving_in_between_shows_both_and_keeps_mine(api, web):
    plan_id = new_plan(api)
    html = web.get(f"/plani/{plan_id}").get_data(as_text=True)
    old_revision = REVISION.search(html).group(1)
    mine = read_page(html).values | {"place": "Mana vieta"}
    theirs = copy.deepcopy(load_sample(ADULT_SUPPORT_PERSON)) | {"place": "Viņu vieta"}
    etag = api.draft(plan_id).headers["ETag"]
    api.put(f"/api/v1/plans/{plan_id}/draft", json=theirs, headers={**api.headers_, "If-Match": etag})
    answer = post(web, plan_id, mine, revision=old_revision)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert "Mana vieta" in page and "Viņu vieta" in page
    assert api.draft(plan_id).json["plan"]["place"] == "Viņu vieta"  # nothing overwritten yet
    kept = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    assert kept["place"] == "Mana vieta" and kept["services.2.quantity"] == "2,5"
    kept["action"] = "save"
    saved = web.post(f"/plani/{plan_id}", data=kept)
    assert saved.status_code == 200
    assert api.draft(plan_id).json["plan"]["place"] == "Mana vieta"


def test_reviewers_may_not_open_the_editor_and_others_may_not_change_it(app, api):
    plan_id = new_plan(api, valid=False)
    assert page_client(app, "reviewer").get(f"/plani/{plan_id}").status_code == 403
    finance = page_client(app, "finance_officer")
    html = finance.get(f"/plani/{plan_id}").get_data(as_text=True)
    assert "Saglabāt melnrakstu" not in html
    refused = finance.post(f"/plani/{plan_id}", data={"csrf_token": csrf_of(html), "action": "save"})
    assert refused.status_code == 403


def test_the_preview_is_a_png_of_the_first_page(api, web):
    unfinished = new_plan(api, valid=False)
    message = web.get(f"/plani/{unfinished}/prieksskatijums.png")
    assert message.mimetype == "text/html" and "priekšskatījum" in message.get_data(as_text=True).lower()
    plan_id = new_plan(api)
    html = web.get(f"/plani/{plan_id}?skats=prieksskatijums").get_data(as_text=True)
    image = re.search(r'<img[^>]*class="plan-preview__image"[^>]*>', html).group()
    assert 'alt="' in image and "prieksskatijums.png" in image
    picture = web.get(f"/plani/{plan_id}/prieksskatijums.png")
    assert picture.status_code == 200 and picture.mimetype == "image/png"
    assert picture.data.startswith(b"\x89PNG\r\n\x1a\n") and len(picture.data) > 1000


def test_an_approval_in_between_keeps_what_was_typed_as_a_new_draft(api, web):
    plan_id = new_plan(api)
    html = web.get(f"/plani/{plan_id}").get_data(as_text=True)
    mine = read_page(html).values | {"place": "Mana vieta"}
    etag = api.draft(plan_id).headers["ETag"]
    assert (
        api.post(f"/api/v1/plans/{plan_id}/approve", headers={**api.headers_, "If-Match": etag}).status_code
        == 201
    )
    answer = post(web, plan_id, mine, revision=REVISION.search(html).group(1))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409 and "1. versija" in page and "Mana vieta" in page
    kept = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)) | {"action": "save"}
    assert web.post(f"/plani/{plan_id}", data=kept).status_code == 200
    assert api.draft(plan_id).json["plan"]["place"] == "Mana vieta"
    assert api.draft(plan_id).json["base_version"] == 1


def test_a_closed_case_is_not_changed_and_what_was_typed_stays(api, web):
    from tests.case_helpers import CLOSING

    plan_url = make_plan(api, api.headers_)
    plan_id = plan_url.rsplit("/", 1)[1]
    values = shown_form(web, plan_id) | {"place": "Pēc slēgšanas"}
    client_url = "/api/v1/clients/" + api.get(plan_url, headers=api.headers_).json["client_id"]
    revision = api.get(client_url, headers=api.headers_).headers["ETag"]
    closed = api.post(f"{client_url}/close", json=CLOSING, headers={**api.headers_, "If-Match": revision})
    assert closed.status_code == 200
    answer = post(web, plan_id, values)
    assert answer.status_code == 409
    assert read_page(answer.get_data(as_text=True)).values["place"] == "Pēc slēgšanas"
    assert api.draft(plan_id).json["plan"]["place"] == "Bauska"
