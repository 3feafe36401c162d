"""POST /api/v1/documents/{kind} renders a document; POST /api/v1/validate/{kind} only checks the data."""

from __future__ import annotations

import io

from flask import request, send_file, url_for
from flask_smorest import Blueprint
from marshmallow import ValidationError

from schemas.errors import flatten, problem
from service import audit
from service.api.body import json_body
from service.api.problems import PROBLEM_JSON, RequestProblem
from service.api.schemas import ProblemSchema
from service.auth import authorize, current_user
from service.documents import KINDS, DocumentKind, converters, pdf, templates
from service.register import register
from service.store import blobs, database

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"

blp = Blueprint(
    "documents",
    __name__,
    url_prefix="/api/v1",
    description="Render documents from case data, or check the data without rendering.",
)


def _problem(description: str) -> dict:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": ProblemSchema}}}


def _load(kind: DocumentKind) -> dict:
    """The request body loaded by the kind's schema (a 4xx problem otherwise); the check is audited."""
    user = authorize(f"render:{kind.name}")
    try:
        values = kind.schema().load(json_body())
    except ValidationError as exc:
        with database().session() as session:
            problems = len(flatten(exc.messages))
            audit.record(
                session, user, "validated", kind.name, outcome="invalid", detail={"problems": problems}
            )
        raise
    return values


def wanted_format() -> str:
    """``docx`` or ``pdf``: the ``format`` query parameter, else the Accept header, else DOCX."""
    asked = request.args.get("format")
    if asked is None:
        return "pdf" if request.accept_mimetypes.best_match([DOCX, PDF], default=DOCX) == PDF else "docx"
    if asked not in ("docx", "pdf"):
        raise RequestProblem(400, problem("format.unknown", formats="docx, pdf"))
    return asked


def to_pdf(document: bytes) -> bytes:
    """The document converted by the service's LibreOffice pool (PDF/A-2b with ``pdfa=1``)."""
    archival = request.args.get("pdfa") in ("1", "true")
    try:
        return converters().convert(document, pdfa=archival)
    except pdf.PoolBusy as exc:
        raise RequestProblem(
            503, problem("pdf.busy"), headers={"Retry-After": str(exc.retry_after)}
        ) from None
    except pdf.ConverterUnavailable:
        raise RequestProblem(503, problem("pdf.unavailable")) from None
    except pdf.ConversionTimeout:
        raise RequestProblem(503, problem("pdf.timeout")) from None
    except pdf.ConversionFailed:
        raise RequestProblem(502, problem("pdf.failed")) from None


def _render_view(kind: DocumentKind):
    def render():
        output = wanted_format()
        values = _load(kind)
        document = templates().render(kind, values)
        mimetype = DOCX
        if output == "pdf":
            document, mimetype = to_pdf(document), PDF
        file_name = f"{kind.file_name(values)}.{output}"
        user = current_user()
        with database().session() as session:
            entry = register(session, user, kind.name, file_name, document, blobs())
            audit.record(session, user, "rendered", "document", entry.id, sha256=entry.sha256)
        response = send_file(
            io.BytesIO(document), mimetype=mimetype, as_attachment=True, download_name=file_name
        )
        response.headers["Location"] = url_for("register.show_document", document_id=entry.id)
        return response

    render.__doc__ = f"{kind.title}: DOCX from the case data, recorded in the register."
    return render


def _validate_view(kind: DocumentKind):
    def validate():
        values = _load(kind)
        with database().session() as session:
            audit.record(session, current_user(), "validated", kind.name, outcome="valid")
        return {"valid": True, "kind": kind.name, "document": kind.schema().dump(values)}

    validate.__doc__ = f"{kind.title}: check the data; 200 with the derived figures, or 422."
    return validate


def _register(kind: DocumentKind) -> None:
    """The two routes of one document kind, documented with its schema."""
    docx = {
        "description": "The document: DOCX, or PDF with format=pdf or Accept: application/pdf",
        "content": {media: {"schema": {"type": "string", "format": "binary"}} for media in (DOCX, PDF)},
    }
    report = {
        "description": "The data are valid; the document with its derived figures",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "valid": {"type": "boolean"},
                        "kind": {"type": "string"},
                        "document": kind.schema,
                    },
                }
            }
        },
    }
    output = {
        "in": "query",
        "name": "format",
        "required": False,
        "schema": {"type": "string", "enum": ["docx", "pdf"]},
        "description": "The output; DOCX unless asked (or Accept: application/pdf)",
    }
    archival = {
        "in": "query",
        "name": "pdfa",
        "required": False,
        "schema": {"type": "string", "enum": ["1", "0", "true", "false"]},
        "description": "With format=pdf: PDF/A-2b for archiving",
    }
    for action, path, view, success, parameters in (
        ("render", f"/documents/{kind.name}", _render_view(kind), docx, [output, archival]),
        ("validate", f"/validate/{kind.name}", _validate_view(kind), report, []),
    ):
        # A context shared by several kinds (reimbursement) names only the first kind's operations.
        first = next(other for other in KINDS.values() if other.context == kind.context)
        endpoint = f"{action}_{kind.context}" if first is kind else f"{action}_{kind.name.replace('-', '_')}"
        documented = blp.doc(
            operationId=endpoint,
            parameters=parameters,
            requestBody={"required": True, "content": {"application/json": {"schema": kind.schema}}},
            responses={
                200: success,
                400: _problem("The body is not well-formed JSON, or an unknown format"),
                413: _problem("The body is too large"),
                415: _problem("The body is not JSON"),
                422: _problem("The data break the schema or its rules; every problem is listed"),
                502: _problem("The PDF converter failed on this document"),
                503: _problem("PDF converters busy (Retry-After) or unavailable"),
            },
        )(view)
        blp.route(path, methods=["POST"], endpoint=endpoint)(documented)


for _kind in KINDS.values():
    _register(_kind)
