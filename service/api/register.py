"""The document register: list, show, download (when stored) and delete rendered documents."""

from __future__ import annotations

import io

from flask import abort, send_file
from marshmallow import RAISE

from service import audit
from service.api.blueprint import Blueprint
from service.api.documents import DOCX
from service.api.listing import listed
from service.api.schemas import RegisterArgsSchema, RegisteredDocumentSchema
from service.auth import authorize, scope
from service.register import forget
from service.store import blobs, database
from service.store.models import RegisteredDocument

blp = Blueprint("register", __name__, url_prefix="/api/v1", description="The register of rendered documents")


@blp.route("/register", methods=["GET"])
@blp.arguments(RegisterArgsSchema, location="query", unknown=RAISE)
@blp.response(200, RegisteredDocumentSchema(many=True))
def list_documents(args):
    """Rendered documents the user may see, newest first."""
    authorize("register:read")
    return listed(RegisteredDocument, args, time_column="created_at", equal=("kind",))


@blp.route("/register/<document_id>", methods=["GET"])
@blp.response(200, RegisteredDocumentSchema)
def show_document(document_id):
    """One register entry."""
    authorize("register:read")
    with database().session() as session:
        return scope().get(session, RegisteredDocument, document_id)


@blp.route("/register/<document_id>/content", methods=["GET"])
@blp.doc(responses={200: {"description": "The document", "content": {DOCX: {"schema": {"type": "string"}}}}})
def download_document(document_id):
    """The stored document (404 when the register keeps only its hash)."""
    user = authorize("register:read")
    store = blobs()
    with database().session() as session:
        entry = scope().get(session, RegisteredDocument, document_id)
        if not entry.stored or store is None:
            abort(404)
        data = store.get(entry.sha256)
        audit.record(session, user, "downloaded", "document", entry.id, sha256=entry.sha256)
        return send_file(io.BytesIO(data), mimetype=DOCX, as_attachment=True, download_name=entry.file_name)


@blp.route("/register/<document_id>", methods=["DELETE"])
@blp.response(204)
def delete_document(document_id):
    """Delete a register entry (and its stored bytes)."""
    user = authorize("register:delete")
    with database().session() as session:
        entry = scope().get(session, RegisteredDocument, document_id)
        forget(session, entry, blobs())
        audit.record(session, user, "deleted", "document", entry.id, sha256=entry.sha256)
