"""GET /api/v1/templates: each document kind, its template's variables and the schema they come from;
GET /api/v1/template-reference: a kind's variables and the filters as a DOCX for template authors."""

from __future__ import annotations

import io

from flask import send_file
from marshmallow import RAISE

from schemas.base import Strict
from schemas.fields import Choice
from service.api.blueprint import Blueprint
from service.api.documents import DOCX
from service.api.schemas import TemplateInfoSchema
from service.auth import authorize
from service.documents import KINDS, templates
from service.documents.author_reference import reference_docx
from service.documents.contract import missing_paths, used_paths

blp = Blueprint("templates", __name__, url_prefix="/api/v1", description="Templates and their variables")


@blp.route("/templates", methods=["GET"])
@blp.response(200, TemplateInfoSchema(many=True))
def list_templates():
    """Every document kind with the variables its template uses, checked against its schema."""
    compiled = templates()
    listing = []
    for kind in KINDS.values():
        trees = compiled.get(kind).asts.values()
        listing.append(
            {
                "kind": kind.name,
                "title": kind.title,
                "template": kind.template,
                "context": kind.context,
                "schema": kind.schema.__name__.removesuffix("Schema"),
                "variables": sorted(set().union(*(used_paths(t, kind.context) for t in trees))),
                "missing": sorted(set().union(*(missing_paths(t, kind.context, kind.schema) for t in trees))),
            }
        )
    return listing


class ReferenceArgsSchema(Strict):
    kind = Choice(tuple(KINDS), required=True, metadata={"description": "The document kind"})


@blp.route("/template-reference", methods=["GET"])
@blp.arguments(ReferenceArgsSchema, location="query", unknown=RAISE, error_status_code=400)
@blp.response(200, {"type": "string", "format": "binary"}, content_type=DOCX)
def template_reference(query):
    """For template authors: every variable of the kind's data with an example from its sample, and
    every filter with an example of what it prints, as a DOCX."""
    authorize("reference:read")
    kind = KINDS[query["kind"]]
    data = io.BytesIO(reference_docx(kind))
    return send_file(
        data, mimetype=DOCX, as_attachment=True, download_name=f"Veidnes mainīgie {kind.name}.docx"
    )
