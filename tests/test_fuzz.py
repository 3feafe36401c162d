"""schemathesis against /openapi.json: every operation, with a token, bounded examples.

Any 5xx, or a response that breaks the OpenAPI document (status, content type, body schema, headers),
fails the test. The application is built once for this module, with its own temporary database
(schemathesis's fixture loader does not work with this pytest).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from service import accounts, create_app
from service.store import database

_FOLDER = Path(tempfile.mkdtemp(prefix="veidlapas-fuzz-"))
APP = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{_FOLDER / 'fuzz.db'}", "BLOBS_DIR": _FOLDER})
with database(APP).session() as _session:
    _, _TOKEN = accounts.add_user(_session, "fuzzer", "administrator", "bauska")
HEADERS = {"Authorization": f"Bearer {_TOKEN}"}

schema = schemathesis.openapi.from_wsgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_within_its_contract(case):
    # Data can be schema-valid and still break a rule JSON Schema cannot state (a check digit, a date
    # inside a period, a budget): that is a documented 422 problem, not a failure to accept valid data.
    case.call_and_validate(headers=HEADERS, excluded_checks=[positive_data_acceptance])
