"""Client records: ``/api/v1/clients`` — add, find, read, change, close and reopen; and
``/api/v1/client-imports`` — many at once from a table (not under ``/clients/``, where it would be a
client's id).

Reading a client is audited as a read; a search is audited with the number found, never the query.
Reviewers (who may not read cases) see only counts and totals, elsewhere.
"""

from __future__ import annotations

import hashlib
import io

from flask import current_app, send_file, url_for
from marshmallow import RAISE

from schemas.errors import problem
from service import audit
from service.api.blueprint import Blueprint
from service.api.body import json_body, uploaded_file
from service.api.case_schemas import (
    CaseClientSchema,
    CaseTotalsSchema,
    ClientArgsSchema,
    ClientImportSchema,
    ClientListItemSchema,
    CloseSchema,
)
from service.api.problems import RequestProblem, problem_response
from service.api.revisions import check, tagged
from service.api.schemas import file_upload, problem_doc
from service.auth import authorize, scope
from service.cases import clients, export, imports, totals
from service.cases.errors import CaseConflict
from service.config import upload_limits
from service.store import database, sealer
from service.store.case_models import Client

blp = Blueprint("clients", __name__, url_prefix="/api/v1", description="Client records")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def client_body(client: Client) -> dict:
    """What the API says about a client, its personal data opened."""
    return {
        "id": client.id,
        "url": url_for("clients.show_client", client_id=client.id),
        "municipality": client.municipality,
        "status": client.status,
        "closed_on": client.closed_on,
        "target_group": client.target_group,
        "revision": client.revision,
        "created_at": client.created_at,
        "updated_at": client.updated_at,
        "data": clients.data(sealer(), client),
    }


def list_item(client: Client, base: str) -> dict:
    person = clients.data(sealer(), client)
    return {
        "id": client.id,
        "url": base + client.id,
        "status": client.status,
        "target_group": client.target_group,
        "name": person["name"],
        "personal_code": person["personal_code"],
        "updated_at": client.updated_at,
    }


def conflict(exc: CaseConflict) -> RequestProblem:
    return RequestProblem(409, exc.reason, path=exc.path)


@blp.route("/clients", methods=["GET"])
@blp.arguments(ClientArgsSchema, location="query", unknown=RAISE)
@blp.response(200, ClientListItemSchema(many=True))
def list_clients(args):
    """Clients of the municipality, newest first; ``q`` finds a personal code or a name's beginning."""
    user = authorize("case:read")
    statement = scope().select(Client)
    if "q" in args:
        statement = clients.search(scope(), sealer(), args["q"])
    if "status" in args:
        statement = statement.where(Client.status == args["status"])
    statement = (
        statement.order_by(Client.created_at.desc(), Client.id).limit(args["limit"]).offset(args["offset"])
    )
    with database().session() as session:
        found = list(session.scalars(statement))
        audit.record(session, user, "searched", "client", detail={"found": len(found), "query": "q" in args})
        base = url_for("clients.show_client", client_id="")
        return [list_item(client, base) for client in found]


@blp.route("/clients", methods=["POST"])
@blp.response(201, CaseClientSchema)
def add_client():
    """Record a client; 409 when the personal code is already recorded in the municipality."""
    user = authorize("case:write")
    raw = json_body()
    with database().session() as session:
        try:
            client = clients.add(session, sealer(), user, raw)
        except CaseConflict as exc:
            raise conflict(exc) from None
        audit.record(session, user, "created", "client", client.id)
        body = client_body(client)
    return tagged(body, client.revision, 201, Location=body["url"])


@blp.route("/client-imports", methods=["POST"])
@blp.doc(
    requestBody=file_upload("XLSX or CSV with the headers of the import template"),
    responses={
        201: {
            "description": "Every client recorded",
            "content": {"application/json": {"schema": ClientImportSchema}},
        },
        400: problem_doc("No file, or an empty one"),
        409: problem_doc("A personal code was recorded by someone else meanwhile: nothing was imported"),
        413: problem_doc("The file is too large"),
        415: problem_doc("Not an XLSX or a CSV with the template's headers"),
        422: problem_doc(
            "Problems in the file (errors name the path, sheet, row and column): nothing was imported"
        ),
    },
)
def import_clients():
    """Record the clients of an XLSX or CSV (the import template's sheet "Klienti"), all or none:
    administrators only; audited with the number of clients."""
    user = authorize("case:import")
    data = uploaded_file("client.import_missing")
    with database().session() as session:
        try:
            table = imports.read_clients(data, upload_limits(current_app.config))
            made = imports.import_clients(session, sealer(), user, table)
        except imports.ImportRejected as rejected:
            detail = {"problems": len(rejected.problems)}
            audit.record(session, user, "imported", "client", outcome="invalid", detail=detail)
            return problem_response(rejected.status, errors=rejected.problems, places=rejected.places)
        audit.record(session, user, "imported", "client", detail={"count": len(made)})
        base = url_for("clients.show_client", client_id="")
        return {"imported": len(made), "clients": [list_item(client, base) for client in made]}, 201


@blp.route("/client-imports/template.xlsx", methods=["GET"])
@blp.doc(
    responses={
        200: {
            "description": "The import template",
            "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
        }
    }
)
def import_template():
    """The XLSX to fill clients in for an import, with Latvian headers, notes and the code lists."""
    authorize("case:import")
    return send_file(
        io.BytesIO(imports.import_template()), mimetype=XLSX, as_attachment=True, download_name="klienti.xlsx"
    )


@blp.route("/clients/<client_id>", methods=["GET"])
@blp.response(200, CaseClientSchema)
def show_client(client_id):
    """One client (audited as a read), with the ETag to send back when changing it."""
    user = authorize("case:read")
    with database().session() as session:
        client = scope().get(session, Client, client_id)
        audit.record(session, user, "read", "client", client.id)
        return tagged(client_body(client), client.revision)


@blp.route("/clients/<client_id>", methods=["PUT"])
@blp.response(200, CaseClientSchema)
def change_client(client_id):
    """Replace a client's data; needs If-Match with the client's ETag."""
    user = authorize("case:write")
    raw = json_body()
    with database().session() as session:
        client = scope().get(session, Client, client_id)
        check(client.revision)
        try:
            clients.update(session, sealer(), user, client, raw)
        except CaseConflict as exc:
            raise conflict(exc) from None
        audit.record(session, user, "changed", "client", client.id)
        return tagged(client_body(client), client.revision)


@blp.route("/clients/<client_id>/close", methods=["POST"])
@blp.arguments(CloseSchema)
@blp.response(200, CaseClientSchema)
def close_client(values, client_id):
    """Close a case on a date, with the reason; needs If-Match."""
    user = authorize("case:write")
    with database().session() as session:
        client = scope().get(session, Client, client_id)
        check(client.revision)
        if client.status == "closed":
            raise RequestProblem(409, problem("client.closed"))
        clients.close(client, user, sealer(), values["date"], values["reason"])
        audit.record(session, user, "closed", "client", client.id)
        return tagged(client_body(client), client.revision)


@blp.route("/clients/<client_id>/reopen", methods=["POST"])
@blp.response(200, CaseClientSchema)
def reopen_client(client_id):
    """Open a closed case again; needs If-Match."""
    user = authorize("case:write")
    with database().session() as session:
        client = scope().get(session, Client, client_id)
        check(client.revision)
        if client.status != "closed":
            raise RequestProblem(409, problem("client.not_closed"))
        clients.reopen(client, user, sealer())
        audit.record(session, user, "reopened", "client", client.id)
        return tagged(client_body(client), client.revision)


@blp.route("/clients/<client_id>/export", methods=["GET"])
@blp.response(200, {"type": "string", "format": "binary"}, content_type="application/zip")
def export_client(client_id):
    """Everything stored about the person, as one ZIP (GDPR art. 15): administrators only, audited."""
    user = authorize("case:export")
    with database().session() as session:
        client = scope().get(session, Client, client_id)
        data = export.export(session, sealer(), client)
        audit.record(session, user, "exported", "client", client.id, sha256=hashlib.sha256(data).hexdigest())
    return send_file(
        io.BytesIO(data), mimetype="application/zip", as_attachment=True, download_name=f"{client_id}.zip"
    )


@blp.route("/case-totals", methods=["GET"])
@blp.response(200, CaseTotalsSchema)
def case_totals():
    """Counts of clients and the budgets of approved plans, by municipality — every municipality for
    reviewers, under pseudonymous references; never a name or a personal code."""
    user = authorize("case:totals")
    with database().session() as session:
        audit.record(session, user, "read", "case_totals")
        return totals.totals(session, scope().select(Client))
