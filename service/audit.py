"""The audit trail: who rendered, validated, uploaded, downloaded, accepted or deleted what, and when.

Entries hold identifiers, hashes, outcomes and counts — never document content or personal data.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from service.auth import Principal
from service.store.models import AuditEntry

ACTIONS = (
    "rendered",
    "validated",
    "uploaded",
    "downloaded",
    "accepted",
    "deleted",
    "created",
    "cancelled",
    "user_created",
    "token_issued",
    "token_revoked",
    # Case records: opening one is a read; a search records how many it found, never what was asked.
    "read",
    "searched",
    "changed",
    "closed",
    "reopened",
    "saved",
    "approved",
    "exported",
    # Accepting an act past the period budget (an administrator's override, with its reason sealed).
    "overridden",
    "rejected",  # a received act sent back, with its reason sealed
    "imported",  # with the number of clients, never who they are
    # A municipality's own template: a rollback puts an earlier version's content in force again.
    "rolled_back",
    # The web pages: signing in and out, failures and locks, one-time password links, users.
    "signed_in",
    "signed_out",
    "signin_failed",
    "locked",
    "unlocked",
    "password_link_issued",
    "password_set",
    "user_disabled",
    "user_enabled",
)


def record(
    session: Session,
    user: Principal,
    action: str,
    object_type: str,
    object_id: str = "",
    *,
    sha256: str | None = None,
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
) -> None:
    """Add one entry to the trail (committed with the session)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    session.add(
        AuditEntry(
            user_id=user.id or None,
            username=user.username,
            municipality=user.municipality,
            action=action,
            object_type=object_type,
            object_id=object_id,
            sha256=sha256,
            outcome=outcome,
            detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
        )
    )
