"""GET /api/v1/templates: each document kind, its template's variables and the schema they come from."""

from __future__ import annotations

from service.api.blueprint import Blueprint
from service.api.schemas import TemplateInfoSchema
from service.documents import KINDS, templates
from service.documents.contract import missing_paths, template_paths

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
                "variables": sorted(set().union(*(template_paths(t, kind.context) for t in trees))),
                "missing": sorted(set().union(*(missing_paths(t, kind.context, kind.schema) for t in trees))),
            }
        )
    return listing
