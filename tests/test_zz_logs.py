"""Last of the suite (hence the name): the logs of all its traffic hold no client's name or personal code,
and no password, username, one-time code or token.

Every request the suite made — valid, invalid, hostile, failing with a 500 whose exception quotes a
client — was logged through the production formatter; none of the samples' people may appear there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.web_helpers import PASSWORD, SUITE_SECRETS

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
PERSONAL_KEYS = ("name", "personal_code", "declared_address", "actual_address", "recipient", "specialist")


def personal_values(data, found: set[str]) -> set[str]:
    """Names, personal codes and addresses anywhere in a sample (organisations' names included: stricter)."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key in PERSONAL_KEYS and isinstance(value, str) and len(value) > 4:
                found.add(value)
                if key == "personal_code":
                    found.add(value.replace("-", ""))
            personal_values(value, found)
    elif isinstance(data, list):
        for item in data:
            personal_values(item, found)
    return found


def test_no_personal_data_in_the_logs_of_the_whole_suite(suite_log):
    personal = set()
    for sample in SAMPLES.glob("*.json"):
        personal_values(json.loads(sample.read_text(encoding="utf-8")), personal)
    assert len(personal) > 50
    assert len(suite_log.lines) > 200, "the suite's traffic was not captured"
    text = "\n".join(suite_log.lines)
    leaks = sorted(value for value in personal if value in text)
    where = [
        f"{test}: {masked(line, leaks)[:300]}"
        for test, line in zip(suite_log.tests, suite_log.lines, strict=True)
        if any(value in line for value in leaks)
    ]
    assert leaks == [], where[:5]


def masked(line: str, values: list[str]) -> str:
    """A log line with the leaked values blotted out, so the failure says where without repeating them."""
    for value in values:
        line = line.replace(value, "***")
    return line


#: A bearer token, and the one-time code of a password link wherever a URL carries it.
TOKEN_SHAPES = re.compile(r"vl_[A-Za-z0-9_-]{20,}|kods=[A-Za-z0-9_-]|Bearer [A-Za-z0-9_-]{10,}")


def test_no_password_username_code_or_token_in_the_logs_of_the_whole_suite(suite_log):
    """The sign-in traffic too: every password, username, one-time code and session cookie the suite's
    pages carried (``tests.web_helpers.SUITE_SECRETS``), and anything shaped like a token or a link."""
    secrets = sorted(value for value in SUITE_SECRETS if len(value) >= 6)
    assert PASSWORD in secrets and len(secrets) > 3, "the sign-in traffic was not recorded"
    where = [
        f"{test}: {masked(TOKEN_SHAPES.sub('***', line), secrets)[:300]}"
        for test, line in zip(suite_log.tests, suite_log.lines, strict=True)
        if TOKEN_SHAPES.search(line) or any(value in line for value in secrets)
    ]
    assert where == []
