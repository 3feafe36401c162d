"""Optimistic concurrency: every stored record that people edit answers with an ETag of its revision, and
a change must carry it back in ``If-Match`` — 428 without it, 412 when someone else saved in between.

Web forms will carry the same revision in a hidden field to :func:`check`.
"""

from __future__ import annotations

from typing import Any

from flask import request

from schemas.errors import problem
from service.api.problems import RequestProblem


def etag(revision: int) -> str:
    """The ETag of a revision (strong: the stored bytes change with every revision)."""
    return f'"{revision}"'


def tagged(body: Any, revision: int, status: int = 200, **headers: str) -> tuple[Any, int, dict[str, str]]:
    """A view's answer with the ETag of ``revision`` (and any other ``headers``)."""
    return body, status, {"ETag": etag(revision), **headers}


def check(current: int, changed: list[dict[str, Any]] | None = None) -> None:
    """The request's If-Match names ``current``; 428 if it names nothing, 412 (with what is different
    between the sender's data and the stored, when given) if it names another revision."""
    sent = request.headers.get("If-Match", "").strip()
    if not sent:
        raise RequestProblem(428, problem("precondition.required"))
    candidates = {value.strip().removeprefix("W/") for value in sent.split(",")}
    if "*" in candidates or etag(current) in candidates:
        return
    refused = RequestProblem(412, problem("precondition.failed", current=current))
    refused.headers = {"ETag": etag(current)}
    refused.extra = {"current_revision": current, "changed": changed or []}
    raise refused
