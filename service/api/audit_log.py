"""GET /api/v1/audit: the audit trail of the administrator's municipality, filterable."""

from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import RAISE

from service.api.schemas import AuditArgsSchema, AuditEntrySchema
from service.auth import authorize, scope
from service.store.models import AuditEntry

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="The audit trail (administrators)")


@blp.route("/audit", methods=["GET"])
@blp.arguments(AuditArgsSchema, location="query", unknown=RAISE)
@blp.response(200, AuditEntrySchema(many=True))
def list_audit(args):
    """Who did what and when, newest first."""
    authorize("audit:read")
    statement = scope().select(AuditEntry)
    for key in ("action", "username", "object_id"):
        if key in args:
            statement = statement.where(getattr(AuditEntry, key) == args[key])
    if "since" in args:
        statement = statement.where(AuditEntry.at >= args["since"])
    if "until" in args:
        statement = statement.where(AuditEntry.at < args["until"])
    statement = statement.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    with current_app.extensions["veidlapas.db"].session() as session:
        return list(session.scalars(statement.limit(args["limit"]).offset(args["offset"])))
