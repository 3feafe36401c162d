"""Stored agreements: made from the approved plan version, numbered from the municipality's series without
gaps or duplicates (also when requests come at once), amended under the same number, ended early — on
SQLite and on a real PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from service.api.case_schemas import AgreementRequestSchema
from service.store import database
from service.store.case_models import NumberSeries
from service.store.models import Submission
from tests.case_helpers import AGREEMENT as REQUEST
from tests.case_helpers import ENDING, agreement, approve, approved_plan
from tests.docx_text import docx_text

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


def test_an_agreement_is_made_from_the_approved_version_numbered_amended_and_ended(client):
    assert AgreementRequestSchema().load(REQUEST)  # the sample is the body the API documents
    plan_url = approved_plan(client, {})
    made = client.post(f"{plan_url}/versions/1/agreements", json=REQUEST)
    assert made.status_code == 201, made.json
    assert made.headers["Location"] == made.json["url"] and made.headers["ETag"] == '"1"'
    assert made.json["number"] == "L-2020/001" and made.json["state"] == "active"
    assert made.json["agreement"]["from_plan"]["plan"]["number"] == "IAP-2020/014"
    second = client.post(f"{plan_url}/versions/1/agreements", json=REQUEST)
    assert second.json["number"] == "L-2020/002"

    document = client.get(f"{made.json['url']}/versions/1/document")
    text = docx_text(document.data)
    assert "L-2020/001" in text and "Ēriks Gailītis" in text

    broken = client.post(f"{plan_url}/versions/1/agreements", json={**REQUEST, "decision": {"number": "X"}})
    assert broken.status_code == 422
    assert client.post(f"{plan_url}/versions/1/agreements", json=REQUEST).json["number"] == "L-2020/003"

    amended = client.post(
        f"{made.json['url']}/amend",
        json={**REQUEST, "decision": {"number": "SD-2020/119", "date": "2020-01-29"}},
        headers={"If-Match": made.headers["ETag"]},
    )
    assert amended.status_code == 200, amended.json
    assert amended.json["number"] == "L-2020/001" and [v["number"] for v in amended.json["versions"]] == [
        1,
        2,
    ]
    assert amended.json["agreement"]["decision"]["number"] == "SD-2020/119"

    assert client.post(f"{made.json['url']}/end", json=ENDING).status_code == 428
    ended = client.post(f"{made.json['url']}/end", json=ENDING, headers={"If-Match": amended.headers["ETag"]})
    assert ended.status_code == 200 and (ended.json["state"], ended.json["ended_on"]) == (
        "ended",
        "2020-09-30",
    )
    listed = client.get(f"/api/v1/clients/{made.json['client_id']}/agreements").json
    assert sorted(a["number"] for a in listed) == ["L-2020/001", "L-2020/002", "L-2020/003"]

    client.post(f"{plan_url}/draft")
    approve(client, {}, plan_url)
    stale = client.post(f"{plan_url}/versions/1/agreements", json=REQUEST)
    assert stale.status_code == 409 and stale.json["errors"][0]["code"] == "agreement.version_not_current"


def test_agreements_made_at_once_get_distinct_numbers_without_gaps(app, client, auth_headers):
    plan_url = approved_plan(client, {})
    numbers, failures = [], []

    def make():
        answer = app.test_client().post(
            f"{plan_url}/versions/1/agreements", json=REQUEST, headers=auth_headers
        )
        (numbers if answer.status_code == 201 else failures).append(answer.json.get("number", answer.json))

    threads = [threading.Thread(target=make) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(numbers) == [f"L-2020/{n:03d}" for n in range(1, 9)]
    with database(app).session() as session:
        assert session.get(NumberSeries, ("bauska", "L-2020/")).last == 8


def test_due_work_lists_reviews_endings_and_missing_acts(client):
    plan_url = approved_plan(client, {})  # review date 31.07.2020, agreement 01.02.2020–31.01.2021
    made = client.post(f"{plan_url}/versions/1/agreements", json=REQUEST).json
    due = client.get("/api/v1/due-work", query_string={"today": "2020-07-10"}).json
    assert due["act_month"] == "2020-06"
    assert [(r["plan_id"] in plan_url, r["review_date"], r["overdue"]) for r in due["reviews"]] == [
        (True, "2020-07-31", False)
    ]
    assert due["ending"] == []
    assert [a["number"] for a in due["missing_acts"]] == [made["number"]]
    assert (
        client.get("/api/v1/due-work", query_string={"today": "2020-06-10", "days": 7}).json["reviews"] == []
    )
    later = client.get("/api/v1/due-work", query_string={"today": "2021-01-04"}).json
    assert later["reviews"][0]["overdue"] is True
    assert [a["number"] for a in later["ending"]] == [made["number"]]
    before = client.get("/api/v1/due-work", query_string={"today": "2020-02-15"}).json
    assert before["missing_acts"] == []  # January 2020 was before the agreement


def test_another_municipality_sees_no_agreement_and_numbers_its_own(anonymous, user_headers):
    bauska, liepaja = user_headers("administrator", "bauska"), user_headers("administrator", "liepaja")
    url = agreement(anonymous, bauska)
    assert anonymous.get(url, headers=liepaja).status_code == 404
    ending = {**liepaja, "If-Match": '"1"'}
    assert anonymous.post(f"{url}/end", json=ENDING, headers=ending).status_code == 404
    assert anonymous.get(url, headers=bauska).json["state"] == "active"
    theirs = anonymous.get(agreement(anonymous, liepaja), headers=liepaja).json
    assert theirs["number"] == "LVP-L-2020/0001"


def test_acts_received_with_the_number_are_linked_when_the_agreement_is_stored(app, client):
    with database(app).session() as session:
        for municipality, number, sha in (
            ("bauska", "L-2020/001", "a"),
            ("bauska", "L-2020/002", "b"),
            ("liepaja", "L-2020/001", "c"),
        ):
            session.add(
                Submission(
                    municipality=municipality,
                    sha256=sha * 64,
                    size=1,
                    file_type="pdf",
                    month="2020-02",
                    provider="40009691053",
                    agreement_number=number,
                    sealed=b"",
                )
            )
    made = client.post(f"{approved_plan(client, {})}/versions/1/agreements", json=REQUEST).json
    with database(app).session() as session:
        linked = {
            s.sha256[0]: (s.agreement_id, s.client_id, s.agreement_version) for s in session.query(Submission)
        }
    assert linked == {"a": (made["id"], made["client_id"], 1), "b": (None,) * 3, "c": (None,) * 3}
