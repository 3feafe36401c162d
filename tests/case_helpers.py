"""Making case records through the API for tests: a client, a plan with a valid draft, an approved plan.

Each maker returns what a test needs to address the record; ``CASE_ROUTES`` gives, for every case
endpoint, how to make an object it acts on and the request that acts on it (for the access tests).
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
from decimal import Decimal
from pathlib import Path

from service.config import ROOT
from service.store import database
from service.store.case_models import DeliveredService
from service.store.models import Submission, new_id
from tests.helpers import ADULT_SUPPORT_PERSON, FILLED_ACT, SAMPLES, fill_with_pdftk, load_sample, upload

CLIENT = json.loads((SAMPLES / "client-adult.json").read_text(encoding="utf-8"))
CLOSING = json.loads((SAMPLES / "client-closing.json").read_text(encoding="utf-8"))
AGREEMENT = json.loads((SAMPLES / "agreement-request.json").read_text(encoding="utf-8"))
ENDING = json.loads((SAMPLES / "agreement-ending.json").read_text(encoding="utf-8"))


def make_client(api, headers, data=None) -> str:
    """A new client's URL (a fresh personal code each time is not needed: one per test application)."""
    answer = api.post("/api/v1/clients", json=data or CLIENT, headers=headers)
    if answer.status_code == 409:  # the sample client exists already in this application
        found = api.get("/api/v1/clients", query_string={"q": CLIENT["personal_code"]}, headers=headers)
        return found.json[0]["url"]
    assert answer.status_code == 201, answer.json
    return answer.json["url"]


def make_plan(api, headers, *, valid: bool = True) -> str:
    """A plan's URL; its draft holds the adult sample when ``valid``."""
    client_url = make_client(api, headers)
    plan_url = api.post(f"{client_url}/plans", headers=headers).json["url"]
    if valid:
        etag = api.get(f"{plan_url}/draft", headers=headers).headers["ETag"]
        saved = api.put(
            f"{plan_url}/draft", json=load_sample(ADULT_SUPPORT_PERSON), headers={**headers, "If-Match": etag}
        )
        assert saved.status_code == 200 and saved.json["problems"] == [], saved.json
    return plan_url


def approve(api, headers, plan_url: str) -> dict:
    etag = api.get(f"{plan_url}/draft", headers=headers).headers["ETag"]
    answer = api.post(f"{plan_url}/approve", headers={**headers, "If-Match": etag})
    assert answer.status_code == 201, answer.json
    return answer.json


def approved_plan(api, headers) -> str:
    plan_url = make_plan(api, headers)
    approve(api, headers, plan_url)
    return plan_url


def planned_client(api, headers) -> str:
    """The URL of a client with an approved plan."""
    approved_plan(api, headers)
    return make_client(api, headers)


def closed_client(api, headers) -> str:
    url = make_client(api, headers)
    revision = api.get(url, headers=headers).headers["ETag"]
    assert (
        api.post(f"{url}/close", json=CLOSING, headers={**headers, "If-Match": revision}).status_code == 200
    )
    return url


def signed_plan(api, headers) -> str:
    """An approved plan whose version 1 has a signed copy (a PDF)."""
    plan_url = approved_plan(api, headers)
    scan = io.BytesIO((SAMPLES / "delivery-act-filled.pdf").read_bytes())
    answer = api.post(f"{plan_url}/versions/1/signed", data={"file": (scan, "scan.pdf")}, headers=headers)
    assert answer.status_code == 201, answer.json
    return plan_url


def agreement(api, headers) -> str:
    """A stored agreement's URL, made from an approved plan."""
    plan_url = approved_plan(api, headers)
    answer = api.post(f"{plan_url}/versions/1/agreements", json=AGREEMENT, headers=headers)
    assert answer.status_code == 201, answer.json
    return answer.json["url"]


def act_form(api, agreement_url: str, headers=None, month: str = "2020-09", output: str = "pdf"):
    """The answer to a request for the stored agreement's fillable act of ``month``."""
    return api.get(
        f"{agreement_url}/act",
        query_string={"month": month, "format": output, "number": f"AKTS-{month}-001"},
        headers=headers or {},
    )


def received_act(api, headers, folder, agreement_url: str | None = None) -> dict:
    """A submission of September 2020 on a stored agreement: its form filled by pdftk and uploaded."""
    agreement_url = agreement_url or agreement(api, headers)
    form = act_form(api, agreement_url, headers).data
    answer = upload(api, fill_with_pdftk(form, FILLED_ACT, folder), headers=headers)
    assert answer.status_code in (200, 201), answer.json
    return answer.json


def accepted_act(api, headers, folder) -> dict:
    """A submission as :func:`received_act`, accepted."""
    submission = received_act(api, headers, folder)
    answer = api.post(f"/api/v1/submissions/{submission['id']}/accept", headers=headers)
    assert answer.status_code == 200, answer.json
    return answer.json


def settings_version(api, headers) -> str:
    """The URL of version 1 of the municipality's own settings (the Bauska sample, with its logo)."""
    url = "/api/v1/municipality-settings"
    if not api.get(url, headers=headers).json["versions"]:
        sample = json.loads((ROOT / "samples" / "municipality-settings.json").read_text(encoding="utf-8"))
        answer = api.post(url, json=sample, headers=headers)
        assert answer.status_code == 201, answer.json
    return f"{url}/1"


def template_version(api, headers) -> str:
    """The URL of version 1 of the municipality's own agreement template (the standard one uploaded)."""
    url = "/api/v1/municipality-templates/service-agreement"
    listed = api.get(url, headers=headers).json
    if not listed:
        data = (ROOT / "templates_lv" / "service-agreement.docx").read_bytes()
        answer = api.post(url, data={"file": (io.BytesIO(data), "t.docx")}, headers=headers)
        assert answer.status_code == 201, answer.json
    return f"{url}/1"


def deliver(app, client_id: str, agreement_id: str, month: str, *lines: tuple[str, str, str]) -> None:
    """An accepted act of ``month`` with its delivered lines (code, units, euros)."""
    with database(app).session() as session:
        submission = Submission(
            id=new_id(),
            municipality="bauska",
            sha256=hashlib.sha256(new_id().encode()).hexdigest(),
            size=1,
            file_type="pdf",
            status="accepted",
            month=month,
            provider="40009691053",
            agreement_number="L-2020/001",
            sealed=b"not opened by the budget",
            agreement_id=agreement_id,
            client_id=client_id,
        )
        session.add(submission)
        session.flush()
        for line, (code, units, amount) in enumerate(lines, start=1):
            unit = "stunda" if code == "APLP" else "reize"
            session.add(
                DeliveredService(
                    submission_id=submission.id,
                    line=line,
                    client_id=client_id,
                    agreement_id=agreement_id,
                    month=month,
                    code=code,
                    unit=unit,
                    units=Decimal(units),
                    amount=Decimal(amount),
                )
            )


def _plan_sample():
    return load_sample(ADULT_SUPPORT_PERSON)


#: For each case endpoint and method: ``make(api, headers) -> (url, body, query)`` for a request that
#: succeeds for the record's own municipality (every change is sent with If-Match "*"). A municipality's own
#: templates and settings are here too: reviewers may not see them either.
CASE_ROUTES = {
    ("/api/v1/clients/<client_id>", "GET"): lambda api, h: (make_client(api, h), None, None),
    ("/api/v1/clients/<client_id>", "PUT"): lambda api, h: (make_client(api, h), CLIENT, None),
    ("/api/v1/clients/<client_id>/close", "POST"): lambda api, h: (
        make_client(api, h) + "/close",
        CLOSING,
        None,
    ),
    ("/api/v1/clients/<client_id>/reopen", "POST"): lambda api, h: (
        closed_client(api, h) + "/reopen",
        None,
        None,
    ),
    ("/api/v1/clients/<client_id>/plans", "GET"): lambda api, h: (make_client(api, h) + "/plans", None, None),
    ("/api/v1/clients/<client_id>/plans", "POST"): lambda api, h: (
        make_client(api, h) + "/plans",
        None,
        None,
    ),
    ("/api/v1/clients/<client_id>/budget", "GET"): lambda api, h: (
        planned_client(api, h) + "/budget",
        None,
        None,
    ),
    ("/api/v1/clients/<client_id>/budget.xlsx", "GET"): lambda api, h: (
        planned_client(api, h) + "/budget.xlsx",
        None,
        None,
    ),
    ("/api/v1/clients/<client_id>/export", "GET"): lambda api, h: (
        make_client(api, h) + "/export",
        None,
        None,
    ),
    ("/api/v1/plans/<plan_id>/versions/<int:number>/agreements", "POST"): lambda api, h: (
        approved_plan(api, h) + "/versions/1/agreements",
        AGREEMENT,
        None,
    ),
    ("/api/v1/clients/<client_id>/agreements", "GET"): lambda api, h: (
        make_client(api, h) + "/agreements",
        None,
        None,
    ),
    ("/api/v1/agreements/<agreement_id>", "GET"): lambda api, h: (agreement(api, h), None, None),
    ("/api/v1/agreements/<agreement_id>/amend", "POST"): lambda api, h: (
        agreement(api, h) + "/amend",
        AGREEMENT,
        None,
    ),
    ("/api/v1/agreements/<agreement_id>/end", "POST"): lambda api, h: (
        agreement(api, h) + "/end",
        ENDING,
        None,
    ),
    ("/api/v1/agreements/<agreement_id>/act", "GET"): lambda api, h: (
        agreement(api, h) + "/act",
        None,
        {"month": "2020-09"},
    ),
    ("/api/v1/agreements/<agreement_id>/versions/<int:number>/document", "GET"): lambda api, h: (
        agreement(api, h) + "/versions/1/document",
        None,
        None,
    ),
    ("/api/v1/submissions/<submission_id>/reject", "POST"): lambda api, h: (
        f"/api/v1/submissions/{received_act(api, h, Path(tempfile.mkdtemp()))['id']}/reject",
        {"reason": "Nav parakstīts"},
        None,
    ),
    ("/api/v1/plans/<plan_id>", "GET"): lambda api, h: (make_plan(api, h), None, None),
    ("/api/v1/plans/<plan_id>/draft", "GET"): lambda api, h: (make_plan(api, h) + "/draft", None, None),
    ("/api/v1/plans/<plan_id>/draft", "PUT"): lambda api, h: (
        make_plan(api, h) + "/draft",
        _plan_sample(),
        None,
    ),
    ("/api/v1/plans/<plan_id>/draft", "POST"): lambda api, h: (approved_plan(api, h) + "/draft", None, None),
    ("/api/v1/plans/<plan_id>/approve", "POST"): lambda api, h: (make_plan(api, h) + "/approve", None, None),
    ("/api/v1/plans/<plan_id>/versions/<int:number>", "GET"): lambda api, h: (
        approved_plan(api, h) + "/versions/1",
        None,
        None,
    ),
    ("/api/v1/plans/<plan_id>/versions/<int:number>/document", "GET"): lambda api, h: (
        approved_plan(api, h) + "/versions/1/document",
        None,
        None,
    ),
    ("/api/v1/plans/<plan_id>/versions/<int:number>/signed", "GET"): lambda api, h: (
        signed_plan(api, h) + "/versions/1/signed",
        None,
        None,
    ),
    ("/api/v1/plans/<plan_id>/changes", "GET"): lambda api, h: (
        approved_plan(api, h) + "/changes",
        None,
        {"from": 1, "to": 1},
    ),
    ("/api/v1/municipality-templates/<kind>/<int:number>", "GET"): lambda api, h: (
        template_version(api, h),
        None,
        None,
    ),
    ("/api/v1/municipality-templates/<kind>/<int:number>/preview", "GET"): lambda api, h: (
        template_version(api, h) + "/preview",
        None,
        {"format": "png"},
    ),
    ("/api/v1/municipality-templates/<kind>/<int:number>/rollback", "POST"): lambda api, h: (
        template_version(api, h) + "/rollback",
        None,
        None,
    ),
    ("/api/v1/municipality-settings/<int:number>", "GET"): lambda api, h: (
        settings_version(api, h),
        None,
        None,
    ),
    ("/api/v1/municipality-settings/<int:number>/logo", "GET"): lambda api, h: (
        settings_version(api, h) + "/logo",
        None,
        None,
    ),
    ("/api/v1/municipality-settings/<int:number>/rollback", "POST"): lambda api, h: (
        settings_version(api, h) + "/rollback",
        None,
        None,
    ),
}
