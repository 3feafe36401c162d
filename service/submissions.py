"""Reading an uploaded filled form into a delivery act, and keeping it as a submission.

The upload is checked before any parser runs (size, real type, the DOCX archive), parsed in a warm
child process of the parser pool (``service.forms.parsers``) with a wall-clock and memory limit — all
under the one ``UploadLimits`` of the configuration —
and its fields go through ``DeliveryActSchema`` like any other input. Problems come back with the form
field (and page) they belong to.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import partial
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.delivery import DELIVERED, DeliveryActSchema
from schemas.errors import Problem
from service.auth import Principal
from service.forms import fields as form_fields
from service.forms import parsers, uploads
from service.forms.docx_form import read_docx_form
from service.forms.pdf_form import read_pdf_form
from service.forms.uploads import UploadLimits
from service.store import Sealer
from service.store.models import Submission, new_id


@dataclass(frozen=True)
class ReadForm:
    """A form read back: type, hash, the act it holds (raw), where each field sits, what could not be read."""

    file_type: str
    sha256: str
    size: int
    act: dict[str, Any]
    rows: list[int]
    problems: list[tuple[form_fields.Path, Problem]]


def blank_act(
    agreement_raw: dict[str, Any], agreement: dict[str, Any], month, number: str = ""
) -> dict[str, Any]:
    """A fresh form's act for ``month`` (a Period): ``agreement_raw`` travels in the form as it was sent
    (so it loads again the same way, ``from_plan`` included); names come from the loaded ``agreement``."""
    signer = agreement.get("representative") or agreement["client"]
    official = agreement["provider"]["representative"]
    return {
        "number": number,
        "month": month.start.strftime("%Y-%m"),
        "agreement": agreement_raw,
        "sessions": [],
        "signatures": {
            "provider": {"name": official["name"], "position": official["position"]},
            "recipient": signer["name"],
            "social_worker": {"name": "", "position": ""},
        },
    }


def read_upload(data: bytes, limits: UploadLimits) -> ReadForm:
    """Check and parse an upload; raises ``uploads.UploadRejected`` with a code when it cannot be read.

    The DOCX reader inspects the package again in the child, under the same limits; this first
    inspection is what refuses a bad file with its own code, before a child is started.
    """
    file_type = uploads.check(data, limits)
    reader = read_pdf_form if file_type == "pdf" else partial(read_docx_form, limits=limits)
    parsed = parsers.pool(limits).run(reader, data, timeout_s=limits.parse_timeout_s)
    filled = form_fields.from_fields(parsed["fields"], parsed["agreement"])
    digest = hashlib.sha256(data).hexdigest()
    return ReadForm(file_type, digest, len(data), filled.act, filled.rows, filled.problems)


def validate(form: ReadForm) -> dict[str, Any]:
    """The act loaded by the delivery-act schema; ``ValidationError`` otherwise, where a value the provider
    typed that could not be read (a date, a number) shows its own problem instead of the schema's."""
    try:
        act = DeliveryActSchema().load(form.act)
    except ValidationError as exc:
        raise ValidationError(form_fields.with_problems(form.problems, exc.messages)) from None
    if form.problems:
        raise ValidationError(form_fields.with_problems(form.problems, {}))
    return act


def field_of(form: ReadForm, path: tuple) -> dict[str, Any]:
    """The form field and page an error path belongs to, for the problem's error entry."""
    name, page = form_fields.field_for(path, form.rows)
    return {"field": name, "page": page}


def keep(
    session: Session, user: Principal, sealer: Sealer, form: ReadForm, act: dict[str, Any]
) -> tuple[Submission, bool]:
    """The submission of this upload: the existing one for the same file, or a new one (its act sealed)."""
    existing = session.scalar(
        select(Submission).where(
            Submission.municipality == user.municipality, Submission.sha256 == form.sha256
        )
    )
    if existing:
        return existing, False
    submission = Submission(
        id=new_id(),
        municipality=user.municipality,
        user_id=user.id,
        sha256=form.sha256,
        size=form.size,
        file_type=form.file_type,
        month=act["month"].start.strftime("%Y-%m"),
        provider=act["agreement"]["provider"]["registration_number"],
        agreement_number=act["agreement"]["number"],
    )
    submission.sealed = sealer.seal_json(form.act, submission.seal_context())
    session.add(submission)
    session.flush()
    return submission, True


def pack_part(act: dict[str, Any]) -> dict[str, Any]:
    """What a loaded act gives a reimbursement request, as raw input: its project, its agreement's summary
    and a line per delivered session (``schemas.reimbursement``'s ``AcceptedAgreementSchema`` and
    delivery lines)."""
    agreement = act["agreement"]
    number = agreement["number"]
    lines = [
        {"agreement": number, "code": s["code"], "date": s["date"].isoformat(), "units": str(s["units"])}
        for s in act["sessions"]
        if s["status"] == DELIVERED
    ]
    return {"project": agreement["project"], "agreement": _agreement_summary(agreement), "lines": lines}


def _agreement_summary(agreement: dict[str, Any]) -> dict[str, Any]:
    client = agreement["client"]
    summary_client = {
        "personal_code": client["personal_code"],
        "name": client["name"],
        "target_group": client["target_group"],
    }
    if client.get("birth_date"):
        summary_client["birth_date"] = client["birth_date"].isoformat()
    return {
        "number": agreement["number"],
        "plan_number": agreement["plan"]["number"],
        "client": summary_client,
        "term": {"start": agreement["term"].start.isoformat(), "end": agreement["term"].end.isoformat()},
        "services": [
            {
                "code": service["code"],
                "quantity": str(service["quantity"]),
                "start": service["start"].isoformat(),
                "end": service["end"].isoformat(),
            }
            for service in agreement["services"]
        ],
    }
