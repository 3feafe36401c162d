"""One error shape for every failure: RFC 9457 ``application/problem+json``.

Validation failures list every problem as ``{path, code, message}`` with JSON-pointer paths; titles
and messages are in the request's language (Latvian unless ``Accept-Language`` prefers English). A
problem that repeats (``schemas.problem_groups``: same code and parameters, same path but for list
indexes) is listed once, at its first place, with ``count`` and every occurrence's ``paths`` (and, from
files, ``places`` and ``rows``).
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from flask import Flask, Response, current_app, json, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, InternalServerError

from schemas.errors import N_, Problem, flatten, json_pointer, problem
from schemas.problem_groups import ProblemGroup, group_problems
from service.auth import AccessRefused, Forbidden, NotVisible, Unauthorized
from service.documents import TemplateFailed
from service.i18n import DEFAULT_LANGUAGE, LANGUAGES, gettext, translate

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

TITLES = {
    400: N_("The request is malformed"),
    401: N_("Authentication is required"),
    403: N_("Access is not allowed"),
    404: N_("Not found"),
    405: N_("This method is not allowed here"),
    406: N_("The requested format is not available"),
    409: N_("This does not fit what is stored"),
    410: N_("It is no longer available"),
    412: N_("It was changed in the meantime"),
    428: N_("Say which version you changed"),
    502: N_("A part of the service failed"),
    503: N_("The service is busy or a part of it is unavailable"),
    413: N_("The request is too large"),
    415: N_("Unsupported content type"),
    422: N_("The data are not valid"),
    431: N_("The request's header fields are too large"),
    500: N_("Internal server error"),
    501: N_("The server does not support this request"),
}
DETAILS = {
    404: N_("There is nothing at this address."),
    405: N_("This address does not accept this method."),
    413: N_("The request body is larger than the service accepts."),
    431: N_("The request's header fields are larger than the service accepts."),
    422: N_("Correct the fields listed in errors and send the data again."),
    500: N_("The service failed to handle this request. It has been logged; try again later."),
}


class RequestProblem(Exception):
    """A request the service refuses, with its HTTP status and coded problems (at ``path`` in the body)."""

    def __init__(
        self, status: int, *problems: Problem, headers: dict[str, str] | None = None, path: tuple = ()
    ) -> None:
        super().__init__(*problems)
        self.status = status
        self.problems = [(path, p) for p in problems]
        self.headers = headers or {}
        self.extra: dict[str, Any] = {}

    @classmethod
    def located(cls, status: int, errors: list[tuple[tuple, Problem]]) -> RequestProblem:
        """A refusal whose problems each sit at a path (a query parameter, a field)."""
        refused = cls(status, *(p for _, p in errors))
        refused.problems = list(errors)
        return refused


def language() -> str:
    """The response language: the best of ``Accept-Language`` among lv and en, else Latvian."""
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE)


def problem_response(
    status: int,
    *,
    errors: list[tuple[tuple, str]] = (),
    headers: dict[str, str] | None = None,
    places: list[dict[str, Any] | None] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    """A problem+json response in the request's language (see :func:`problem_body`), with the members of
    ``extra`` beside the standard ones (what changed, for a 412)."""
    lang = language()
    body = problem_body(status, lang, instance=request.path, errors=errors, places=places) | (extra or {})
    response = Response(json.dumps(body, ensure_ascii=False), status, mimetype=PROBLEM_JSON)
    response.headers["Content-Language"] = lang
    response.headers.extend(headers or {})
    return response


def problem_body(
    status: int,
    lang: str,
    *,
    instance: str | None,
    errors: list[tuple[tuple, str]] = (),
    places: list[dict[str, Any] | None] | None = None,
) -> dict[str, Any]:
    """The RFC 9457 document in ``lang``: the one shape of every error, the application's and the server's.

    ``detail`` is the status's standard explanation, or the first problem's message when the
    request failed for one reason only. ``places`` (one per error, or None) adds where each problem
    sits in an uploaded file: a form's field and page, a table's sheet, row and column. Repeated
    problems are one item (:func:`error_item`). ``instance`` is the request's path, when there is one.
    """
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": gettext(TITLES.get(status, TITLES[500 if status >= 500 else 400]), lang),
        "status": status,
    }
    if instance is not None:
        body["instance"] = instance
    listed = [error_item(group, lang) for group in group_problems(errors, places)]
    if status in DETAILS:
        body["detail"] = gettext(DETAILS[status], lang)
    elif len(listed) == 1:
        body["detail"] = listed[0]["message"]
    if listed:
        body["errors"] = listed
    return body


def error_item(group: ProblemGroup, lang: str) -> dict[str, Any]:
    """An ``errors`` item: ``path``, ``code``, ``message`` and the place in a file of the first occurrence;
    when the problem repeats, also ``count`` and every occurrence's ``paths`` (and ``places``, and the
    ``rows`` of a table's). A problem that occurs once has none of these, as before grouping."""
    code, message = translate(group.problem, lang)
    item = {"path": json_pointer(group.path), "code": code, "message": message, **(group.place or {})}
    if group.count > 1:
        item |= {"count": group.count, "paths": [json_pointer(path) for path in group.paths]}
        if any(group.places):
            item["places"] = [place or {} for place in group.places]
        if group.rows:
            item["rows"] = list(group.rows)
    return item


def validation_response(error: ValidationError) -> Response:
    """422 listing every problem of a failed schema load."""
    return problem_response(422, errors=flatten(error.messages))


#: Where ``service.web`` puts its answer to an error on a page (``app.extensions``): a person gets a page.
PAGE_ERRORS = "veidlapas.page_errors"


def _on_page() -> Any:
    """The web pages' error answer when the request is for a page, else ``None`` (problem+json)."""
    if request.path.startswith(("/api/", "/docs", "/openapi")):
        return None
    return current_app.extensions.get(PAGE_ERRORS)


def _http_error(error: HTTPException) -> Response:
    if page := _on_page():
        return page(error)
    if isinstance(error, InternalServerError):
        return _unexpected(error.original_exception or error)
    allowed = getattr(error, "valid_methods", None)
    errors = []
    if error.code == 413:
        errors = [((), problem("body.too_large", max=current_app.config["MAX_CONTENT_LENGTH"]))]
    headers = {"Allow": ", ".join(allowed)} if allowed else None
    return problem_response(error.code or 500, errors=errors, headers=headers)


def _request_problem(error: RequestProblem) -> Response:
    return problem_response(error.status, errors=error.problems, headers=error.headers, extra=error.extra)


#: The HTTP answer to each refusal of ``service.auth``.
ACCESS_STATUS = {Unauthorized: 401, Forbidden: 403, NotVisible: 404}
BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="veidlapas"'}


def _access_refused(error: AccessRefused) -> Response:
    if page := _on_page():
        return page(error)
    status = ACCESS_STATUS[type(error)]
    errors = [((), error.reason)] if error.reason else []
    return problem_response(status, errors=errors, headers=BEARER_CHALLENGE if status == 401 else None)


def _template_failed(error: TemplateFailed) -> Response:
    """A municipality's template that cannot fill a document: its version and place, never a 500."""
    return problem_response(422, errors=[(("template",), error.problem)])


def log_unexpected(error: BaseException) -> None:
    """Log an unhandled error by its type and place only: exception messages may quote personal data."""
    frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    where = f"{frame.filename}:{frame.lineno} in {frame.name}" if frame else "unknown place"
    log.error("unhandled %s at %s", type(error).__name__, where)


def _unexpected(error: BaseException) -> Response:
    log_unexpected(error)
    if page := _on_page():
        return page(InternalServerError())
    return problem_response(500)


def register(app: Flask) -> None:
    """Route every error of ``app`` to a problem+json response."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(RequestProblem, _request_problem)
    app.register_error_handler(AccessRefused, _access_refused)
    app.register_error_handler(ValidationError, validation_response)
    app.register_error_handler(TemplateFailed, _template_failed)
    app.register_error_handler(Exception, _unexpected)
