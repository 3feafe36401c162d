"""Hostile JSON bodies: every one is a clear 4xx problem+json with coded errors, and the service stays up.

Each case goes to ``POST /api/v1/validate/support-plan`` and ``POST /api/v1/documents/service-agreement``,
mostly as a valid sample with one hostile change, so the expected code sits at a known JSON pointer.
No timers: a case that made the service slow would show as a slow suite, not as a flaky assertion.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.docx_text import docx_text
from tests.helpers import ADULT_SUPPORT_PERSON, load_sample

PROBLEM = "application/problem+json"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
JSON = "application/json"
HOLE = "@@HOSTILE@@"

ENDPOINTS = {
    "plan": ("/api/v1/validate/support-plan", ADULT_SUPPORT_PERSON),
    "agreement": ("/api/v1/documents/service-agreement", "service-agreement-adult-aplp"),
}


# --- building hostile bodies from a fresh copy of the sample ------------------------------------

Body = Callable[[dict[str, Any]], str | bytes]


def _put(data: dict[str, Any], path: tuple, value: Any) -> dict[str, Any]:
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1)


def raw(body: str | bytes) -> Body:
    """The body as given, whatever the sample."""
    return lambda _sample: body


def value_at(path: tuple, value: Any) -> Body:
    """The sample with ``value`` at ``path``."""
    return lambda sample: dumps(_put(sample, path, value))


def literal_at(path: tuple, text: str) -> Body:
    """The sample with the raw JSON text ``text`` at ``path`` (for what json.dumps cannot write)."""

    def build(sample: dict[str, Any]) -> str:
        body = dumps(_put(sample, path, HOLE))
        assert body.count(f'"{HOLE}"') == 1
        return body.replace(f'"{HOLE}"', text)

    return build


def text_edit(old: str, new: str) -> Body:
    """The sample's text with the first ``old`` replaced by ``new`` (duplicate keys, say)."""

    def build(sample: dict[str, Any]) -> str:
        body = dumps(sample)
        assert old in body
        return body.replace(old, new, 1)

    return build


def encoded(encoding: str, prefix: bytes = b"") -> Body:
    return lambda sample: prefix + dumps(sample).encode(encoding, errors="replace")


NAME = ("client", "name")
DATE = ("date",)
QUANTITY = ("services", 0, "quantity")
PRICE = ("services", 0, "unit_price")
DEEP = 100_000


@dataclass(frozen=True)
class Case:
    body: Body
    status: int
    #: (JSON pointer, code) pairs that must be among the errors
    errors: set[tuple[str, str]] = field(default_factory=set)
    content_type: str = JSON
    #: the errors are exactly ``errors`` (a problem with the body itself has exactly one)
    exact: bool = False


def body_problem(status: int, code: str) -> dict[str, Any]:
    return {"status": status, "errors": {("", code)}, "exact": True}


CASES: dict[str, Case] = {
    # Structure and size: refused while parsing, before any schema runs.
    "array_100000_deep": Case(raw("[" * DEEP + "]" * DEEP), **body_problem(400, "body.too_deep")),
    "array_100000_deep_unclosed": Case(raw("[" * DEEP), **body_problem(400, "body.too_deep")),
    "objects_100000_deep": Case(raw('{"a":' * DEEP + "1" + "}" * DEEP), **body_problem(400, "body.too_deep")),
    "objects_30_deep_in_a_field": Case(
        literal_at(NAME, '{"a":' * 30 + '"x"' + "}" * 30), **body_problem(400, "body.too_deep")
    ),
    "duplicate_key_top_level": Case(
        text_edit("{", '{\n "number": "X-1",'), **body_problem(400, "body.duplicate_key")
    ),
    "duplicate_key_nested": Case(
        text_edit('"client": {', '"client": {"name": "Cits Vārds",'),
        **body_problem(400, "body.duplicate_key"),
    ),
    "nan": Case(literal_at(QUANTITY, "NaN"), **body_problem(400, "body.constant")),
    "infinity": Case(literal_at(PRICE, "Infinity"), **body_problem(400, "body.constant")),
    "minus_infinity": Case(literal_at(QUANTITY, "-Infinity"), **body_problem(400, "body.constant")),
    # Numbers.
    "number_1e400": Case(literal_at(QUANTITY, "1e400"), 422, {("/services/0/quantity", "number.too_large")}),
    "money_1e400": Case(literal_at(PRICE, "1e400"), 422, {("/services/0/unit_price", "number.too_large")}),
    "money_1e-400": Case(
        literal_at(PRICE, "1e-400"), 422, {("/services/0/unit_price", "number.not_positive")}
    ),
    "number_5000_digits_as_string": Case(
        value_at(QUANTITY, "9" * 5000), 422, {("/services/0/quantity", "number.too_large")}
    ),
    "number_4000_digits": Case(
        literal_at(QUANTITY, "9" * 4000), 422, {("/services/0/quantity", "number.too_large")}
    ),
    # Exponents: beyond what Decimal can hold, refused while parsing at the number's JSON pointer; within
    # it, however large or small, refused by the number fields (never a decimal.InvalidOperation 500).
    "exponent_beyond_decimal": Case(
        literal_at(QUANTITY, "1e99999999999999999999"),
        400,
        {("/services/0/quantity", "body.number_out_of_range")},
        exact=True,
    ),
    "negative_exponent_beyond_decimal": Case(
        literal_at(PRICE, "-1E-99999999999999999999"),
        400,
        {("/services/0/unit_price", "body.number_out_of_range")},
        exact=True,
    ),
    "exponent_beyond_decimal_as_the_body": Case(
        raw("1e99999999999999999999"), **body_problem(400, "body.number_out_of_range")
    ),
    "exponent_beyond_decimal_as_a_string": Case(
        value_at(PRICE, "1e99999999999999999999"), 422, {("/services/0/unit_price", "type.number")}
    ),
    "money_1e999999": Case(
        literal_at(PRICE, "1e999999"), 422, {("/services/0/unit_price", "number.too_large")}
    ),
    "number_1e999999_as_a_string": Case(
        value_at(QUANTITY, "1e999999"), 422, {("/services/0/quantity", "number.too_large")}
    ),
    "money_minus_1e999999": Case(
        literal_at(PRICE, "-1e999999"), 422, {("/services/0/unit_price", "number.negative")}
    ),
    "money_1e-999999999": Case(
        literal_at(PRICE, "1e-999999999"), 422, {("/services/0/unit_price", "number.not_positive")}
    ),
    "boolean_for_number": Case(value_at(QUANTITY, True), 422, {("/services/0/quantity", "type.number")}),
    "boolean_for_money": Case(value_at(PRICE, False), 422, {("/services/0/unit_price", "type.number")}),
    "negative_money_string": Case(
        value_at(PRICE, "-5.00"), 422, {("/services/0/unit_price", "number.negative")}
    ),
    "negative_money_number": Case(
        literal_at(PRICE, "-5"), 422, {("/services/0/unit_price", "number.negative")}
    ),
    # Text.
    "lone_high_surrogate": Case(literal_at(NAME, '"\\ud800"'), 422, {("/client/name", "text.surrogate")}),
    "lone_low_surrogate_inside": Case(
        literal_at(NAME, '"Ēriks \\udc00 Gailītis"'), 422, {("/client/name", "text.surrogate")}
    ),
    "nul_in_name": Case(
        literal_at(NAME, '"Ēriks\\u0000"'), 422, {("/client/name", "text.control_character")}
    ),
    "bell_in_name": Case(
        literal_at(NAME, '"Ēriks\\u0007"'), 422, {("/client/name", "text.control_character")}
    ),
    "escape_in_name": Case(
        literal_at(NAME, '"\\u001b[31mĒriks"'), 422, {("/client/name", "text.control_character")}
    ),
    "line_separator_escaped": Case(
        literal_at(NAME, '"Ēriks\\u2028Gailītis"'), 422, {("/client/name", "text.control_character")}
    ),
    "line_separator_raw": Case(
        value_at(NAME, "Ēriks\u2028Gailītis"), 422, {("/client/name", "text.control_character")}
    ),
    # Format characters (Cf): a bidi override in a number would fake a file name's extension.
    "right_to_left_override_in_the_number": Case(
        value_at(("number",), "IAP-1\u202efdp.exe"), 422, {("/number", "text.format_character")}
    ),
    "right_to_left_isolate_in_name": Case(
        literal_at(NAME, '"\\u2067Ēriks\\u2069"'), 422, {("/client/name", "text.format_character")}
    ),
    "zero_width_space_in_name": Case(
        value_at(NAME, "Ēriks\u200bGailītis"), 422, {("/client/name", "text.format_character")}
    ),
    "soft_hyphen_in_the_number": Case(
        value_at(("number",), "IAP-20\u00ad20"), 422, {("/number", "text.format_character")}
    ),
    "byte_order_mark_in_name": Case(
        value_at(NAME, "\ufeffĒriks"), 422, {("/client/name", "text.format_character")}
    ),
    "name_300000_characters": Case(value_at(NAME, "Ē" * 300_000), 422, {("/client/name", "text.too_long")}),
    "null_name": Case(value_at(NAME, None), 422, {("/client/name", "null")}),
    "number_for_personal_code": Case(
        literal_at(("client", "personal_code"), "15038512346"),
        422,
        {("/client/personal_code", "type.string")},
    ),
    # Wrong shapes.
    "array_for_object": Case(value_at(("client",), [{"name": "Ēriks"}]), 422, {("/client", "type.object")}),
    "object_for_string": Case(value_at(NAME, {"first": "Ēriks"}), 422, {("/client/name", "type.string")}),
    "number_for_date": Case(value_at(DATE, 20200130), 422, {("/date", "date.invalid")}),
    "impossible_date": Case(value_at(DATE, "2020-02-30"), 422, {("/date", "date.invalid")}),
    "services_10000": Case(
        value_at(("services",), [{"code": "APLP"}] * 10_000),
        422,
        {("/services", "list.too_long")},
        exact=True,
    ),
    "unknown_top_level_field": Case(value_at(("zzz",), 1), 422, {("/zzz", "unknown_field")}),
    "unknown_nested_field": Case(
        value_at(("client", "nickname"), "Ēris"), 422, {("/client/nickname", "unknown_field")}
    ),
    "nul_in_a_key": Case(value_at(("a\u0000b",), 1), 422, {("/a\u0000b", "unknown_field")}),
    # Not a document at all.
    "empty_body": Case(raw(""), **body_problem(400, "body.empty")),
    "whitespace_body": Case(raw(" \r\n\t "), **body_problem(400, "body.empty")),
    "null_body": Case(raw("null"), **body_problem(422, "type.object")),
    "empty_array_body": Case(raw("[]"), **body_problem(422, "type.object")),
    "string_body": Case(raw('"Ēriks Gailītis"'), **body_problem(422, "type.object")),
    "number_body": Case(raw("42"), **body_problem(422, "type.object")),
    "not_json": Case(raw("number=1&date=2020-01-30"), **body_problem(400, "body.json")),
    # Media type and encoding.
    "text_plain": Case(
        lambda sample: dumps(sample), content_type="text/plain", **body_problem(415, "body.media_type")
    ),
    "form_encoded": Case(
        raw("number=1"),
        content_type="application/x-www-form-urlencoded",
        **body_problem(415, "body.media_type"),
    ),
    "utf16_with_bom": Case(encoded("utf-16"), **body_problem(400, "body.encoding")),
    # Without a BOM, UTF-16LE text is valid UTF-8 (ASCII and NUL bytes), but not JSON.
    "utf16le_without_bom": Case(encoded("utf-16-le"), **body_problem(400, "body.json")),
    # Decided: a UTF-8 BOM is refused (RFC 8259: senders MUST NOT add one); Python's json names it.
    "utf8_bom": Case(encoded("utf-8", b"\xef\xbb\xbf"), **body_problem(400, "body.json")),
    "invalid_utf8": Case(raw(b'{"number": "\xc3\x28"}'), **body_problem(400, "body.encoding")),
    "overlong_utf8": Case(raw(b'{"number": "\xc0\xaf"}'), **body_problem(400, "body.encoding")),
    "surrogate_encoded_in_utf8": Case(
        raw(b'{"number": "\xed\xa0\x80"}'), **body_problem(400, "body.encoding")
    ),
    "windows_baltic_text": Case(encoded("cp1257"), **body_problem(400, "body.encoding")),
}


def post(client, url: str, body: str | bytes, content_type: str, headers: dict[str, str]):
    return client.post(url, data=body, content_type=content_type, headers=headers)


def assert_problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:600]
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["title"] and body["instance"] == response.request.path
    for error in body.get("errors", []):
        assert isinstance(error["path"], str) and (error["path"] == "" or error["path"].startswith("/"))
        assert error["code"] and error["code"] != "invalid", error
        assert error["message"]
    return body


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize("name", list(CASES))
def test_hostile_body_is_a_clear_problem(client, auth_headers, endpoint, name):
    url, sample = ENDPOINTS[endpoint]
    case = CASES[name]
    response = post(client, url, case.body(load_sample(sample)), case.content_type, auth_headers)
    problem = assert_problem(response, case.status)
    found = {(error["path"], error["code"]) for error in problem.get("errors", [])}
    if case.exact:
        assert found == case.errors
    else:
        assert case.errors <= found, found
    assert found, "every refusal lists its errors"
    assert client.get("/api/v1/health").status_code == 200


def assert_too_large(response) -> None:
    problem = assert_problem(response, 413)
    assert [e["code"] for e in problem["errors"]] == ["body.too_large"]
    assert problem["detail"]


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_body_over_the_size_limit_is_413(app, client, auth_headers, endpoint):
    url, _ = ENDPOINTS[endpoint]
    body = '{"number": "' + "x" * app.config["MAX_CONTENT_LENGTH"] + '"}'
    assert_too_large(post(client, url, body, JSON, auth_headers))
    assert client.get("/api/v1/health").status_code == 200


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_two_megabyte_body(app, client, auth_headers, endpoint):
    """413 when the limit (VEIDLAPAS_MAX_REQUEST_BYTES) is below 2 MB; else the schema refuses it."""
    url, _ = ENDPOINTS[endpoint]
    body = '{"number": "' + "x" * 2_000_000 + '"}'
    response = post(client, url, body, JSON, auth_headers)
    if len(body) > app.config["MAX_CONTENT_LENGTH"]:
        assert_too_large(response)
    else:
        problem = assert_problem(response, 422)
        assert ("/number", "text.too_long") in {(e["path"], e["code"]) for e in problem["errors"]}
    assert client.get("/api/v1/health").status_code == 200


def test_the_corpus_is_big_enough():
    assert len(CASES) >= 25


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_integer_of_5000_digits(client, auth_headers, endpoint):
    url, sample = ENDPOINTS[endpoint]
    body = literal_at(QUANTITY, "9" * 5000)(load_sample(sample))
    response = post(client, url, body, JSON, auth_headers)
    # json.loads refuses integers beyond Python's digit limit; that is a 400, not a 500
    problem = assert_problem(response, 400)
    assert problem["errors"][0]["code"] == "body.number_too_long"


# --- money with three decimals: rounded to cents, half up (schemas.fields.Money) ----------------


@pytest.mark.parametrize("price", ['"1.005"', "1.005"])
def test_unit_price_with_three_decimals_is_rounded_half_up_in_the_plan(client, auth_headers, price):
    url, sample = ENDPOINTS["plan"]
    body = literal_at(PRICE, price)(load_sample(sample))
    response = post(client, url, body, JSON, auth_headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:600]
    line = response.json["document"]["services"][0]
    # half up, and no float on the way: 1.005 as a float is 1.00499999… and would round down
    assert line["unit_price"] == "1.01"
    assert line["amount"] == "16.16"  # 16 hours × 1.01


def test_unit_price_with_three_decimals_is_rounded_half_up_in_the_agreement(client, auth_headers):
    url, sample = ENDPOINTS["agreement"]
    body = literal_at(PRICE, '"1.005"')(load_sample(sample))
    response = post(client, url, body, JSON, auth_headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:600]
    assert response.mimetype == DOCX
    text = docx_text(response.data)
    assert "1,01" in text and "16,16" in text
    assert "1,005" not in text
