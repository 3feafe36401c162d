"""A client's budget: ``GET /api/v1/clients/<id>/budget`` (JSON) and ``…/budget.xlsx`` (the same as a
Latvian spreadsheet). Reading it is a read of the case, audited; reviewers may not (403).
"""

from __future__ import annotations

import io

from flask import current_app, send_file
from marshmallow import RAISE

from service import audit
from service.api.blueprint import Blueprint
from service.api.case_schemas import BudgetArgsSchema, ClientBudgetSchema
from service.api.packs import XLSX
from service.auth import authorize, scope
from service.cases import clients
from service.cases.budget import client_budget
from service.cases.budget_sheet import budget_xlsx, file_name
from service.store import database, sealer
from service.store.case_models import Client

blp = Blueprint("budget", __name__, url_prefix="/api/v1", description="A client's budget in use")


def _budget(client_id: str, args: dict, *, named: bool = False) -> tuple[dict, str | None]:
    """The client's budget (audited as a read) and, when ``named``, the client's name opened."""
    user = authorize("case:read")
    month = args.get("month")
    with database().session() as session:
        client = scope().get(session, Client, client_id)
        budget = client_budget(
            session, client.id, month.start if month else None, current_app.config["BUDGET_WARN_PERCENT"]
        )
        audit.record(session, user, "read", "budget", client.id)
        return budget, clients.data(sealer(), client)["name"] if named else None


@blp.route("/clients/<client_id>/budget", methods=["GET"])
@blp.arguments(BudgetArgsSchema, location="query", unknown=RAISE)
@blp.response(200, ClientBudgetSchema)
def show_budget(args, client_id):
    """Per month and service: planned, contracted and delivered units and euros over the period of the
    plan in force (or the one approved last); each month against its monthly budget, delivered so far
    against the period budget (``warning`` from VEIDLAPAS_BUDGET_WARN_PERCENT, ``over`` past it)."""
    return _budget(client_id, args)[0]


@blp.route("/clients/<client_id>/budget.xlsx", methods=["GET"])
@blp.arguments(BudgetArgsSchema, location="query", unknown=RAISE)
@blp.response(200, {"type": "string", "format": "binary"}, content_type=XLSX)
def budget_spreadsheet(args, client_id):
    """The same budget as XLSX: sheets "Budžets" (month by service) and "Kopsavilkums" (the period)."""
    budget, name = _budget(client_id, args, named=True)
    return send_file(
        io.BytesIO(budget_xlsx(budget, name)),
        mimetype=XLSX,
        as_attachment=True,
        download_name=file_name(budget["client_id"]),
    )
