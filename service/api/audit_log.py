"""GET /api/v1/audit: the audit trail of the administrator's municipality, filterable."""

from __future__ import annotations

from marshmallow import RAISE

from service.api.blueprint import Blueprint
from service.api.listing import listed
from service.api.schemas import AuditArgsSchema, AuditEntrySchema
from service.auth import authorize
from service.store.models import AuditEntry

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="The audit trail (administrators)")


@blp.route("/audit", methods=["GET"])
@blp.arguments(AuditArgsSchema, location="query", unknown=RAISE)
@blp.response(200, AuditEntrySchema(many=True))
def list_audit(args):
    """Who did what and when, newest first."""
    authorize("audit:read")
    return listed(AuditEntry, args, time_column="at", equal=("action", "username", "object_id"))
