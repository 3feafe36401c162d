"""Everything stored about one person, as one ZIP (GDPR art. 15), and deleting closed cases after the
retention period.

The export opens every sealed record of the client — the record, each plan's draft and versions with
their notes, signed copies, the acts received for them — and lists who did what with the case (the
audit trail's entries about its records). Members are written in a fixed order with fixed times, so the
same records give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.cases import clients, plans, signed
from service.store import Sealer
from service.store.case_models import Client, Plan, SignedCopy
from service.store.models import AuditEntry, Submission

FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str).encode("utf-8")


def _member(package: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    package.writestr(info, data)


def export(session: Session, sealer: Sealer, client: Client) -> bytes:
    """The ZIP of everything stored about ``client``."""
    buffer = io.BytesIO()
    objects = [client.id]
    with zipfile.ZipFile(buffer, "w") as package:
        record = {
            "id": client.id,
            "status": client.status,
            "closed_on": client.closed_on,
            "target_group": client.target_group,
            "created_at": client.created_at,
            "updated_at": client.updated_at,
            "data": clients.data(sealer, client),
        }
        _member(package, "client.json", _json(record))
        found = session.scalars(
            select(Plan).where(Plan.client_id == client.id).order_by(Plan.created_at, Plan.id)
        )
        for index, plan in enumerate(found, start=1):
            objects.append(plan.id)
            draft = plans.draft(plan, sealer)
            if draft is not None:
                _member(package, f"plans/{index}/draft.json", _json(draft.raw))
            for version in plan.versions:
                objects.append(version.id)
                body = plans.version_data(version, sealer) | {
                    "number": version.number,
                    "state": version.state,
                    "approved_at": version.approved_at,
                    "signed_at": version.signed_at,
                }
                _member(package, f"plans/{index}/version-{version.number}.json", _json(body))
                copy = session.get(SignedCopy, version.id)
                if copy is not None:
                    extension = {"jpeg": "jpg"}.get(copy.file_type, copy.file_type)
                    _member(
                        package,
                        f"plans/{index}/version-{version.number}-signed.{extension}",
                        signed.opened(copy, sealer),
                    )
        acts = session.scalars(
            select(Submission)
            .where(Submission.client_id == client.id)
            .order_by(Submission.received_at, Submission.id)
        )
        for act in acts:
            objects.append(act.id)
            _member(
                package,
                f"acts/{act.month}-{act.id}.json",
                _json(sealer.open_json(act.sealed, act.seal_context())),
            )
        trail = session.scalars(
            select(AuditEntry).where(AuditEntry.object_id.in_(objects)).order_by(AuditEntry.at, AuditEntry.id)
        )
        entries = [
            {"at": e.at, "user": e.username, "action": e.action, "object": e.object_type, "id": e.object_id}
            for e in trail
        ]
        _member(package, "audit.json", _json(entries))
    return buffer.getvalue()


def expired(session: Session, municipality: str | None, years: int, today: dt.date) -> list[Client]:
    """Closed cases whose closing lies more than ``years`` years before ``today`` (all municipalities
    when ``municipality`` is None)."""
    cutoff = today.replace(year=today.year - years)
    statement = select(Client).where(Client.status == "closed", Client.closed_on < cutoff)
    if municipality:
        statement = statement.where(Client.municipality == municipality)
    return list(session.scalars(statement.order_by(Client.closed_on, Client.id)))


def forget(session: Session, client: Client) -> int:
    """Delete the case and everything stored about the person (plans, versions, signed copies, agreements,
    the acts received for them); how many acts went with it."""
    acts = session.execute(delete(Submission).where(Submission.client_id == client.id)).rowcount
    session.delete(client)
    session.flush()
    return acts
