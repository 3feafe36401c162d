"""POST /api/v1/documents/{kind} renders a document; POST /api/v1/validate/{kind} only checks the data.

The two routes of every kind in the registry are made here, in :func:`blueprint`, and declared like any
other route: the body by the kind's schema (``@blp.arguments``), the query by :class:`RenderArgsSchema`, the
answers by ``@blp.response`` and ``@blp.alt_response`` — so their OpenAPI comes from the same schemas that
load the data.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterable

from flask import request, send_file, url_for
from marshmallow import ValidationError

from schemas.errors import flatten, problem
from service import audit
from service.api.blueprint import Blueprint
from service.api.problems import RequestProblem
from service.api.schemas import BINARY, RenderArgsSchema, validation_report_schema
from service.auth import authorize, current_user
from service.documents import DocumentKind, converters, pdf, templates
from service.documents.inputs import DocumentInputs, inputs_on
from service.register import register
from service.store import blobs, database

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"

#: The errors every document route can answer, by the component name ``service.api`` registers.
ERRORS = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    413: "REQUEST_ENTITY_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "UNPROCESSABLE_ENTITY",
}
#: And those of a render that converts to PDF.
PDF_ERRORS = {502: "BAD_GATEWAY", 503: "SERVICE_UNAVAILABLE"}


def blueprint(kinds: Iterable[DocumentKind]) -> Blueprint:
    """The render and validate routes of ``kinds`` (the registry's, for an application)."""
    blp = Blueprint(
        "documents",
        __name__,
        url_prefix="/api/v1",
        description="Render documents from case data, or check the data without rendering.",
    )
    for kind in kinds:
        _add_routes(blp, kind)
    return blp


def _add_routes(blp: Blueprint, kind: DocumentKind) -> None:
    endpoint = kind.name.replace("-", "_")
    body = blp.arguments(kind.schema, description=f"{kind.title}: the case data")
    answered = "The document: DOCX, or PDF with format=pdf or Accept: application/pdf"
    render = _documented(blp, f"render_{endpoint}", ERRORS | PDF_ERRORS)(
        blp.arguments(RenderArgsSchema, location="query", error_status_code=400)(
            body(
                blp.response(200, BINARY, content_type=DOCX, description=answered)(
                    blp.alt_response(
                        200, schema=BINARY, content_type=PDF, success=True, description=answered
                    )(_render_view(kind))
                )
            )
        )
    )
    validate = _documented(blp, f"validate_{endpoint}", ERRORS)(
        body(blp.response(200, validation_report_schema(kind.schema))(_validate_view(kind)))
    )
    blp.route(f"/documents/{kind.name}", methods=["POST"], endpoint=f"render_{endpoint}")(
        _checked(kind, render)
    )
    blp.route(f"/validate/{kind.name}", methods=["POST"], endpoint=f"validate_{endpoint}")(
        _checked(kind, validate)
    )


def _documented(blp: Blueprint, operation: str, errors: dict[int, str]) -> Callable:
    """Name the operation and declare the error answers ``errors`` (problem+json components) on a view."""

    def decorate(view: Callable) -> Callable:
        for status, component in errors.items():
            view = blp.alt_response(status, component)(view)
        return blp.doc(operationId=operation)(view)

    return decorate


def _checked(kind: DocumentKind, view: Callable) -> Callable:
    """The role check before the body is read, and an audit entry when the data are invalid."""

    @functools.wraps(view)
    def checked(*args, **kwargs):
        user = authorize(f"render:{kind.name}")
        try:
            return view(*args, **kwargs)
        except ValidationError as error:
            with database().session() as session:
                detail = {"problems": len(flatten(error.messages))}
                audit.record(session, user, "validated", kind.name, outcome="invalid", detail=detail)
            raise

    return checked


def wanted_format(asked: str | None) -> str:
    """``docx`` or ``pdf``: the ``format`` query parameter, else the Accept header, else DOCX."""
    if asked is None:
        return "pdf" if request.accept_mimetypes.best_match([DOCX, PDF], default=DOCX) == PDF else "docx"
    return asked


def to_pdf(document: bytes, archival: bool) -> bytes:
    """The document converted by the service's LibreOffice pool (PDF/A-2b when ``archival``): 502 when the
    converter failed on this document, 503 (with Retry-After when busy) when no converter could do it."""
    try:
        return converters().convert(document, pdfa=archival)
    except pdf.ConversionError as exc:
        status = 502 if isinstance(exc, pdf.ConversionFailed) else 503
        retry = {"Retry-After": str(exc.retry_after)} if isinstance(exc, pdf.PoolBusy) else None
        raise RequestProblem(status, problem(exc.code), headers=retry) from None


def _render_view(kind: DocumentKind) -> Callable:
    def render(query, values):
        output = wanted_format(query.get("format"))
        user = current_user()
        with database().session() as session:
            inputs = inputs_on(session, user.municipality, kind, kind.day(values))
        document = templates().render(kind, values, inputs)
        mimetype = DOCX
        if output == "pdf":
            document, mimetype = to_pdf(document, query.get("pdfa") in ("1", "true")), PDF
        file_name = f"{kind.file_name(values)}.{output}"
        with database().session() as session:
            entry = register(session, user, kind.name, file_name, document, blobs(), inputs)
            audit.record(session, user, "rendered", "document", entry.id, sha256=entry.sha256)
        response = send_file(
            io.BytesIO(document), mimetype=mimetype, as_attachment=True, download_name=file_name
        )
        response.headers["Location"] = url_for("register.show_document", document_id=entry.id)
        return response

    render.__doc__ = f"{kind.title}: DOCX (or PDF) from the case data, recorded in the register."
    return render


def _validate_view(kind: DocumentKind) -> Callable:
    def validate(values):
        with database().session() as session:
            audit.record(session, current_user(), "validated", kind.name, outcome="valid")
        return {"valid": True, "kind": kind.name, "document": values}

    validate.__doc__ = f"{kind.title}: check the data; 200 with the derived figures, or 422."
    return validate


def stored_document(kind: DocumentKind, values: dict, inputs: DocumentInputs, query: dict, label: str):
    """A stored record's document, made again from its values and the inputs it was made with: DOCX, or
    PDF with ``format=pdf`` (``pdfa`` for PDF/A), named after the kind's file name and ``label`` ("v2")."""
    document, mimetype = templates().render(kind, values, inputs), DOCX
    output = query.get("format", "docx")
    if output == "pdf":
        document, mimetype = to_pdf(document, query.get("pdfa") in ("1", "true")), PDF
    name = f"{kind.file_name(values)} {label}.{output}"
    return send_file(io.BytesIO(document), mimetype=mimetype, as_attachment=True, download_name=name)
