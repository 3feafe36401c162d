"""Logging: one line per request with method, path, status and time — never bodies or personal data."""

from __future__ import annotations

import json
import logging
import time

from flask import Flask, g, request


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
            },
            ensure_ascii=False,
        )


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
        elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        # The path only (no query string): identifiers never travel in queries here, but be safe.
        requests.info("%s %s %s %.1f ms", request.method, request.path, response.status_code, elapsed)
        return response
