"""The production server: waitress, whose own error answers are problem+json like every other answer.

Waitress refuses some requests before the application sees them — a malformed request line or header
(400), a body over its limit (413), headers over its limit (431), a transfer coding it does not know (501)
— and answers 500 when a response fails half-way; by default as ``text/plain``. :class:`ProblemErrorTask`
writes those answers as RFC 9457 problems with the service's titles and coded errors in Latvian (or
English, when the part of the request that was read asks for it) and the security headers every answer
carries. :func:`serve` is ``veidlapas serve``'s server.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask
from waitress.utilities import Error
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from schemas.errors import Problem, problem
from service.api.problems import PROBLEM_JSON, problem_body
from service.i18n import DEFAULT_LANGUAGE, LANGUAGES
from service.security import COMMON_HEADERS, STRICT_POLICY

HEADERS = [*COMMON_HEADERS.items(), ("Content-Security-Policy", STRICT_POLICY), ("Cache-Control", "no-store")]


def error_answer(error: Error, request_headers: dict[str, str], path: str, adj: Adjustments):
    """``(status line, headers, body)`` of waitress's refusal ``error`` as a problem+json answer.

    ``request_headers`` are what waitress read of the request (upper-case names, ``_`` for ``-``): often
    nothing, when the request broke early.
    """
    lang = parse_accept_header(request_headers.get("ACCEPT_LANGUAGE", ""), LanguageAccept).best_match(
        LANGUAGES, default=DEFAULT_LANGUAGE
    )
    problems = [((), found)] if (found := _problem(error.code, adj)) else []
    body = problem_body(error.code, lang, instance=path or None, errors=problems)
    data = json.dumps(body, ensure_ascii=False).encode()
    headers = [("Content-Type", PROBLEM_JSON), ("Content-Language", lang), *HEADERS]
    return f"{error.code} {error.reason}", headers, data


def _problem(status: int, adj: Adjustments) -> Problem | None:
    """The coded problem of a refusal (waitress's own text may quote the request: it is not passed on)."""
    if status == 413:
        return problem("body.too_large", max=adj.max_request_body_size)
    if status == 431:
        return problem("request.headers_too_large", max=adj.max_request_header_size)
    if status == 501:
        return problem("request.not_implemented")
    return problem("request.malformed") if status < 500 else None


class ProblemErrorTask(ErrorTask):
    """Waitress's error task, answering with :func:`error_answer`."""

    def execute(self) -> None:
        request = self.request
        # The path is known once the request line was read; with headers over the limit waitress puts "/".
        path = "" if request.error.code == 431 else getattr(request, "path", "")
        status, headers, body = error_answer(request.error, request.headers, path, self.channel.server.adj)
        self.status = status
        self.response_headers.extend(headers)
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class ProblemChannel(HTTPChannel):
    error_task_class = ProblemErrorTask


def serve(app: Flask, **adjustments: Any) -> None:
    """Serve ``app`` with waitress (``adjustments`` such as host, port, threads) until the process ends."""
    listening: dict = {}  # waitress's socket map: every server it makes for the adjustments lands here
    server = create_server(app, map=listening, ident="veidlapas", **adjustments)
    for dispatcher in listening.values():
        if isinstance(dispatcher, BaseWSGIServer):
            dispatcher.channel_class = ProblemChannel
    server.run()
