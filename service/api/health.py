"""GET /api/v1/health: is the service up, and which documents can it make."""

from __future__ import annotations

from importlib.metadata import version

from service.api.blueprint import Blueprint
from service.api.schemas import HealthSchema
from service.documents import KINDS, converters

blp = Blueprint("health", __name__, url_prefix="/api/v1", description="Service health")


@blp.route("/health", methods=["GET"])
@blp.doc(security=[])
@blp.response(200, HealthSchema)
def health():
    """The service is up; the document kinds it serves and the state of the PDF converters."""
    return {
        "status": "ok",
        "version": version("veidlapas"),
        "documents": sorted(KINDS),
        "pdf": converters().state(),
    }
