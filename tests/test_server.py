"""The production server (``veidlapas serve``, waitress) as a client meets it, over a real socket.

Waitress refuses some requests before the application sees them; those answers are problem+json with the
service's titles, codes and security headers too. And whatever the request line holds, the server's log
(its output) gets one printable line per request.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass

import pytest
from waitress.adjustments import Adjustments
from waitress.utilities import InternalServerError

from service.server import error_answer
from tests.redis_server import free_port
from tests.test_packs_service import Service, service_env


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def problem(self) -> dict:
        assert self.headers["content-type"] == "application/problem+json", self.headers
        assert self.headers["x-content-type-options"] == "nosniff"
        assert self.headers["content-security-policy"].startswith("default-src 'none'")
        document = json.loads(self.body)
        assert document["status"] == self.status and document["title"] and document["detail"]
        return document


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    service = Service(service_env(folder), free_port(), folder / "serve.log")
    yield service
    service.stop()


def send(server: Service, data: bytes) -> Answer:
    """``data`` sent as it is, and the whole answer read."""
    host, port = server.base.removeprefix("http://").split(":")
    received = b""
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(data)
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value for name, value in (line.split(": ", 1) for line in lines)}
    return Answer(int(status_line.split()[1]), headers, body)


def codes(document: dict) -> list[tuple[str, str]]:
    return [(error["path"], error["code"]) for error in document["errors"]]


def test_headers_over_the_servers_limit_are_a_431_problem_in_latvian(server):
    # Exactly the limit, unfinished: the server reads every byte before it refuses, so it closes cleanly
    # (unread bytes would make it reset the connection, and the answer could be lost on the way).
    start = b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: "
    answer = send(server, start + b"a" * (Adjustments.max_request_header_size - len(start)))
    assert answer.status == 431
    document = answer.problem()
    assert document["title"] == "Pieprasījuma galvenes lauki ir pārāk lieli"
    assert codes(document) == [("", "request.headers_too_large")] and "instance" not in document
    assert answer.headers["content-language"] == "lv"


@pytest.mark.parametrize(
    "request_line",
    [b"GARBAGE", b"GET /api/v1/health HTTP/1.1\rX", b"G\x00T / HTTP/1.1", b"GET /%zz HTTP/1.1 extra"],
)
def test_a_malformed_request_line_is_a_400_problem(server, request_line):
    answer = send(server, request_line + b"\r\n\r\n")
    assert answer.status == 400
    document = answer.problem()
    assert document["title"] == "Nepareizs pieprasījums"
    assert codes(document) == [("", "request.malformed")]


def test_the_servers_problem_is_in_english_when_the_request_asks(server):
    answer = send(server, b"GET /api/v1/health HTTP/1.1\r\nAccept-Language: en\r\nContent-Length: x\r\n\r\n")
    assert answer.status == 400
    document = answer.problem()
    assert document["title"] == "The request is malformed" and document["instance"] == "/api/v1/health"
    assert answer.headers["content-language"] == "en"


def test_a_body_over_the_servers_limit_is_a_413_problem(server):
    answer = send(server, b"POST /api/v1/packs HTTP/1.1\r\nContent-Length: 2000000000\r\n\r\n")
    assert answer.status == 413
    assert codes(answer.problem()) == [("", "body.too_large")]


def test_a_transfer_coding_the_server_does_not_know_is_a_501_problem(server):
    answer = send(server, b"POST /api/v1/packs HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n")
    assert answer.status == 501
    assert codes(answer.problem()) == [("", "request.not_implemented")]


@pytest.mark.parametrize("token", [False, True])
def test_a_request_line_cannot_forge_a_line_in_the_servers_log_nor_make_it_binary(server, token):
    marker = f"FORGED-{int(token)}"
    authorization = b"Authorization: Bearer not-a-token\r\n" if token else b""
    path = f"/api/v1/x%0d%0a{marker}%20200%00%e2%80%ae%e2%80%a8".encode()
    answer = send(
        server, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n" + authorization + b"Connection: close\r\n\r\n"
    )
    assert answer.status in (401, 404)
    assert send(server, b"GET /api/v1/health HTTP/1.1\r\nConnection: close\r\n\r\n").status == 200
    log = server.log.read_bytes()
    assert b"\x00" not in log and "\u202e".encode() not in log and "\u2028".encode() not in log
    lines = log.decode("utf-8").splitlines()
    assert not [line for line in lines if line.startswith(marker)]
    assert [line for line in lines if f"/api/v1/x\\r\\n{marker} 200\\x00\\u202e\\u2028" in line]


def test_the_servers_own_500_is_a_problem_that_quotes_nothing_of_the_failure():
    status, headers, body = error_answer(
        InternalServerError("Ēriks Gailītis 150385-12346"), {}, "/x", Adjustments()
    )
    document = json.loads(body)
    assert status == "500 Internal Server Error" and ("Content-Type", "application/problem+json") in headers
    assert document["status"] == 500 and document["instance"] == "/x" and "errors" not in document
    assert "Ēriks" not in body.decode() and "150385" not in body.decode()
