"""Logging: one line per request — method, path, status, time, user id and municipality — never bodies,
names, personal codes, addresses or document content. JSON lines when ``VEIDLAPAS_LOG_FORMAT=json``.

Unhandled exceptions are reported by type and place only (``service.api.problems``): their messages
can quote the data that caused them.
"""

from __future__ import annotations

import json
import logging
import time

from flask import Flask, g, request

#: Fields a log record may carry besides its message (set through ``extra=``).
FIELDS = ("method", "path", "status", "ms", "user_id", "municipality")


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({key: getattr(record, key) for key in FIELDS if hasattr(record, key)})
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(app: Flask) -> None:
    """Set the log format and log each request's outcome."""
    handler = logging.StreamHandler()
    if app.config["LOG_FORMAT"] == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    if not root.handlers:  # leave a host's own set-up (gunicorn, pytest) alone
        root.addHandler(handler)
    logging.getLogger("service").setLevel(logging.INFO)

    requests = logging.getLogger("service.requests")

    @app.before_request
    def _start_timer() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _log_request(response):
        elapsed = round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1)
        user = g.get("user")
        # The path only: identifiers never travel in query strings here, but filters might.
        fields = {
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "ms": elapsed,
        }
        if user is not None:
            fields |= {"user_id": user.id, "municipality": user.municipality}
        requests.info(
            "%s %s %s %.1f ms", request.method, request.path, response.status_code, elapsed, extra=fields
        )
        return response
