"""Hostile input outside a JSON body's schema: each class of hole found once gets a test of its own.

(JSON bodies have their corpus in tests/test_hostile_json.py; the server's own errors and the logs are
tried against a real ``veidlapas serve`` in tests/test_server.py.)
"""

from __future__ import annotations

import io
import json

from click.testing import CliRunner

from service.cli import main
from tests.helpers import ADULT_SUPPORT_PERSON, SAMPLES, load_sample

HUGE_EXPONENT = "1e99999999999999999999"


# --- numbers whose exponent Decimal cannot hold ----------------------------------------------------------


def test_an_unreadable_number_in_a_packs_order_field_is_400_at_its_path(client):
    order = '{"project": "IBM", "period": "2020-09", "date": "2020-10-08", "lines": [{"units": %s}]}'
    response = client.post(
        "/api/v1/packs",
        data={
            "order": order % HUGE_EXPONENT,
            "lines": (io.BytesIO((SAMPLES / "pack-lines-bauska-2020-09.csv").read_bytes()), "rindas.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400, response.get_data(as_text=True)[:600]
    assert response.mimetype == "application/problem+json"
    assert [(e["path"], e["code"]) for e in response.json["errors"]] == [
        ("/lines/0/units", "body.number_out_of_range")
    ]


def test_an_unreadable_number_in_a_file_is_named_by_the_command_line_with_its_path(tmp_path):
    data = load_sample(ADULT_SUPPORT_PERSON)
    data["services"][0]["quantity"] = "@@"
    source = tmp_path / "plan.json"
    source.write_text(json.dumps(data).replace('"@@"', HUGE_EXPONENT), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", "support-plan", str(source), "--lang", "en"])
    assert result.exit_code == 1
    assert "/services/0/quantity: The number cannot be read" in result.output
