"""Every log line is one line of printable text, whatever a request carries (CWE-117), in both formats."""

from __future__ import annotations

import json
import logging

import pytest

from service.logs import JsonFormatter, TextFormatter

HOSTILE = "/api/v1/x\r\nFORGED 200\x00\x1b[31m\u202egpj.exe\u2028\u2029\x85\ufeff\U000e0001"


def record(message: str, *args, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("werkzeug", logging.INFO, __file__, 1, message, args, exc_info)


def assert_one_printable_line(line: str) -> None:
    assert line.isprintable(), [hex(ord(c)) for c in line if not c.isprintable()]


def test_the_text_format_escapes_every_control_and_format_character():
    line = TextFormatter().format(record("GET %s 404", HOSTILE))
    assert_one_printable_line(line)
    assert line.endswith(
        "werkzeug: GET /api/v1/x\\r\\nFORGED 200\\x00\\x1b[31m\\u202egpj.exe"
        "\\u2028\\u2029\\x85\\ufeff\\U000e0001 404"
    )


def test_the_text_format_writes_a_traceback_on_the_records_line():
    try:
        raise RuntimeError(HOSTILE)
    except RuntimeError as error:
        line = TextFormatter().format(record("failed", exc_info=(type(error), error, error.__traceback__)))
    assert_one_printable_line(line)
    assert "Traceback (most recent call last):\\n" in line and "FORGED" in line


def test_the_json_format_escapes_them_and_reads_back_the_very_value():
    line = JsonFormatter().format(record("GET %s 404", HOSTILE))
    assert_one_printable_line(line)
    assert json.loads(line)["message"] == f"GET {HOSTILE} 404"


def test_the_json_format_keeps_latvian_letters_readable():
    line = JsonFormatter().format(record("Rīga, Ķegums, Šķēde"))
    assert '"message": "Rīga, Ķegums, Šķēde"' in line


class Lines(logging.Handler):
    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__()
        self.setFormatter(formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.mark.parametrize("formatter", [TextFormatter, JsonFormatter])
@pytest.mark.parametrize("path", ["/api/v1/x%0d%0aFORGED%20200", "/api/v1/%00%e2%80%ae%e2%80%a8x"])
def test_a_request_path_cannot_forge_a_log_line_even_without_a_token(anonymous, formatter, path):
    captured = Lines(formatter())
    requests = logging.getLogger("service.requests")
    requests.addHandler(captured)
    try:
        assert anonymous.get(path).status_code in (401, 404)
    finally:
        requests.removeHandler(captured)
    assert len(captured.lines) == 1
    assert_one_printable_line(captured.lines[0])


@pytest.mark.parametrize("formatter", [TextFormatter, JsonFormatter])
def test_a_personal_code_in_a_request_path_never_reaches_the_log(client, formatter):
    captured = Lines(formatter())
    requests = logging.getLogger("service.requests")
    requests.addHandler(captured)
    try:
        for path in ("/api/v1/register/150385-12346", "/api/v1/clients/15038512346/plans"):
            assert client.get(path).status_code == 404
    finally:
        requests.removeHandler(captured)
    assert len(captured.lines) == 2
    assert all("150385" not in line and "12346" not in line for line in captured.lines)
    assert "/api/v1/register/************" in captured.lines[0]
