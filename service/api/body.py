"""Reading a JSON request body: right media type, size bounded, UTF-8, then ``service.jsondata``."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from schemas.errors import problem
from service.api.problems import RequestProblem
from service.config import upload_limits
from service.jsondata import InvalidJson, parse_json


def json_body() -> Any:
    """The request's JSON body, or a 415/400/413 problem."""
    return parsed(json_text())


def parsed(text: str) -> Any:
    """JSON text of a request (a body, or a form field), or a 400 problem at the place it names."""
    try:
        return parse_json(text, current_app.config["MAX_JSON_DEPTH"], current_app.config["MAX_JSON_ITEMS"])
    except InvalidJson as exc:
        raise RequestProblem(400, exc.problem, path=exc.path) from None


def json_text() -> str:
    """The request's JSON body as text, not yet parsed, or a 415/400/413 problem."""
    if not (request.mimetype == "application/json" or request.mimetype.endswith("+json")):
        raise RequestProblem(415, problem("body.media_type"))
    raw = request.get_data(cache=False)  # bounded by MAX_CONTENT_LENGTH: larger is 413
    if not raw.strip():
        raise RequestProblem(400, problem("body.empty"))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestProblem(400, problem("body.encoding")) from None


def uploaded_file(missing: str) -> bytes:
    """The bytes of the multipart field ``file``, read to at most the upload limit + 1 (so a larger file
    is seen as too large, not cut); a 400 problem ``missing`` without the field. The request may be
    larger than a JSON body by the multipart envelope."""
    limits = upload_limits(current_app.config)
    request.max_content_length = limits.max_bytes + 64 * 1024
    upload = request.files.get("file")
    if upload is None:
        raise RequestProblem(400, problem(missing))
    return upload.stream.read(limits.max_bytes + 1)
