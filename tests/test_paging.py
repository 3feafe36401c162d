"""Every listing pages with ``limit`` and ``offset`` as a query string carries them: as text.

Six rows a minute apart are stored for each listing; ``?limit=3&offset=1`` must answer the second to the
fourth newest. A filter narrows each listing to the rows the test made.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable

import pytest

from service.store import database, sealer
from service.store.models import AuditEntry, Job, RegisteredDocument, Submission, new_id

START = dt.datetime(2031, 1, 1, 9, 0, tzinfo=dt.UTC)


def _hash(at: dt.datetime) -> str:
    return hashlib.sha256(at.isoformat().encode()).hexdigest()


def _document(at: dt.datetime) -> RegisteredDocument:
    return RegisteredDocument(
        municipality="bauska",
        kind="support-plan",
        file_name="Atbalsta plāns.docx",
        created_at=at,
        sha256=_hash(at),
        size=1,
    )


def _audit(at: dt.datetime) -> AuditEntry:
    return AuditEntry(municipality="bauska", at=at, username="x", action="paged", object_type="test")


def _submission(at: dt.datetime) -> Submission:
    return Submission(
        municipality="bauska",
        received_at=at,
        sha256=_hash(at),
        size=1,
        file_type="pdf",
        month="2031-01",
        provider="40003245752",
        agreement_number="L-1",
        sealed=b"",  # sealed by _store
    )


def _job(at: dt.datetime) -> Job:
    return Job(
        municipality="bauska", backend="local", created_at=at, input_sha256=_hash(at), state="cancelled"
    )


LISTINGS: dict[str, tuple[str, Callable[[dt.datetime], object]]] = {
    "register": ("/api/v1/register?kind=support-plan", _document),
    "audit": ("/api/v1/audit?action=paged", _audit),
    "submissions": ("/api/v1/submissions?month=2031-01", _submission),
    "jobs": ("/api/v1/jobs?state=cancelled", _job),
}


def _store(app, make: Callable[[dt.datetime], object]) -> list[str]:
    """Six rows a minute apart; their ids, newest first."""
    with database(app).session() as session:
        rows = [make(START + dt.timedelta(minutes=minute)) for minute in range(6)]
        for row in rows:
            if isinstance(row, Submission):
                row.id = new_id()
                row.sealed = sealer(app).seal_json({}, row.seal_context())
        session.add_all(rows)
        session.flush()
        ids = [str(row.id) for row in reversed(rows)]
    return ids


@pytest.mark.parametrize("listing", sorted(LISTINGS))
def test_every_listing_pages_by_limit_and_offset_in_the_query_string(app, client, listing):
    url, make = LISTINGS[listing]
    newest_first = _store(app, make)
    response = client.get(f"{url}&limit=3&offset=1")
    assert response.status_code == 200, response.get_data(as_text=True)[:600]
    assert [str(item["id"]) for item in response.json] == newest_first[1:4]
    assert [str(item["id"]) for item in client.get(url).json] == newest_first


@pytest.mark.parametrize("listing", sorted(LISTINGS))
@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("limit=3.0", "type.integer"),
        ("limit=+3", "type.integer"),
        ("limit=%203", "type.integer"),
        ("limit=3_0", "type.integer"),
        ("limit=", "type.integer"),
        ("offset=-1", "number.range"),
        ("limit=1001", "number.range"),
        ("limit=99999999999999999999", "type.integer"),
    ],
)
def test_a_page_number_that_is_not_plain_digits_is_a_coded_problem(client, listing, query, code):
    url, _ = LISTINGS[listing]
    response = client.get(f"{url}&{query}")
    assert response.status_code == 422, response.get_data(as_text=True)[:600]
    name = query.split("=")[0]
    assert [(e["path"], e["code"]) for e in response.json["errors"]] == [(f"/{name}", code)]
