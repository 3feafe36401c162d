"""Logging: one line per request — method, path, status, time, user id and municipality — never bodies,
names, personal codes, addresses or document content. JSON lines when ``VEIDLAPAS_LOG_FORMAT=json``.

Unhandled exceptions are reported by type and place only (``service.api.problems``): their messages
can quote the data that caused them.

Every record is one line, whoever logs it (our code, werkzeug, waitress): both formatters escape every
character that is not printable — controls (Cc: CR, LF, NUL, ESC …), format characters (Cf: bidi
overrides, zero-width characters, BOM), line and paragraph separators (Zl, Zp), other spaces than the
plain one, surrogates, private-use and unassigned code points — so a request path with ``%0d%0a`` cannot
forge a line (CWE-117) and NUL or U+202E cannot make the log binary or misleading. The text format writes
them as Python escapes (``\\r``, ``\\x00``, ``\\u202e``), a traceback included; the JSON format as JSON
escapes, so a collector reads back the very value.
"""

from __future__ import annotations

import json
import logging
import re
import time

from flask import Flask, g, request

#: Fields a log record may carry besides its message (set through ``extra=``).
FIELDS = ("method", "path", "status", "ms", "user_id", "municipality")


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: Eleven digits with or without the hyphen, as a personal code is written: never written to a log.
PERSONAL_CODE = re.compile(r"(?<![0-9])[0-9]{6}-?[0-9]{5}(?![0-9])")


def logged_path(path: str) -> str:
    """A request path as the log keeps it: anything shaped like a personal code blotted out (the service's
    own paths carry none, but a mistyped or hostile one may).

    >>> logged_path("/api/v1/register/150385-12346"), logged_path("/api/v1/clients/2020")
    ('/api/v1/register/************', '/api/v1/clients/2020')
    """
    return PERSONAL_CODE.sub(lambda found: "*" * len(found.group()), path)


def escape(text: str) -> str:
    """``text`` with every character that is not printable written as its Python escape.

    >>> escape("GET /x\\r\\nFORGED\\x00 \\u202egpj.exe")
    'GET /x\\\\r\\\\nFORGED\\\\x00 \\\\u202egpj.exe'
    >>> escape("Rīga, Ķegums")
    'Rīga, Ķegums'
    """
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in text
    )


def _json_escape(char: str) -> str:
    """A JSON escape for one character (a surrogate pair beyond the Basic Multilingual Plane)."""
    code = ord(char)
    if code > 0xFFFF:
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


class TextFormatter(logging.Formatter):
    """The text format, one record a line: the whole line escaped."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return escape(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors; only printable characters are written raw."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({key: getattr(record, key) for key in FIELDS if hasattr(record, key)})
        line = json.dumps(entry, ensure_ascii=False, default=str)
        # json.dumps escapes the ASCII controls; what is left unprintable can only sit inside a string.
        return (
            line if line.isprintable() else "".join(c if c.isprintable() else _json_escape(c) for c in line)
        )


def configure_logging(app: Flask) -> None:
    """Set the log format and log each request's outcome."""
    handler = logging.StreamHandler()
    if app.config["LOG_FORMAT"] == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter())
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
        path = logged_path(request.path)
        fields = {
            "method": request.method,
            "path": path,
            "status": response.status_code,
            "ms": elapsed,
        }
        if user is not None:
            fields |= {"user_id": user.id, "municipality": user.municipality}
        requests.info("%s %s %s %.1f ms", request.method, path, response.status_code, elapsed, extra=fields)
        return response
