"""schemathesis against /openapi.json: every operation, with a token, bounded examples.

Any 5xx, or a response that breaks the OpenAPI document (status, content type, body schema, headers),
fails the test. The application is built once for this module, with its own temporary database
(schemathesis's fixture loader does not work with this pytest).

In ``make test`` the run is reproducible: a fixed seed, derandomised, no example database, 25 examples an
operation. ``make fuzz`` runs deeper (``VEIDLAPAS_FUZZ_EXAMPLES``) with a new seed each time
(``VEIDLAPAS_FUZZ_SEED``, printed by make, replays a run).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.config import SchemathesisConfig

from service import accounts, create_app
from service.store import database

#: The seed of the suite's run; any fixed number would do.
SEED = 20261202
EXAMPLES = int(os.environ.get("VEIDLAPAS_FUZZ_EXAMPLES", "25"))
#: What this service answers to data that break the schema: schemathesis's defaults and 413, the answer
#: to a body over MAX_CONTENT_LENGTH (a schema-violating body of many long items is often one).
REJECTIONS = [
    *("400", "401", "403", "404", "405", "406", "409", "412", "413", "415", "422", "428", "429", "5xx")
]


def fuzz_config() -> SchemathesisConfig:
    """The suite's run: seeded and derandomised unless ``VEIDLAPAS_FUZZ_SEED`` asks for another seed."""
    chosen = os.environ.get("VEIDLAPAS_FUZZ_SEED")
    return SchemathesisConfig.from_dict(
        {
            "seed": int(chosen) if chosen else SEED,
            "generation": {"deterministic": not chosen, "max-examples": EXAMPLES, "database": "none"},
            "checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}},
        }
    )


_FOLDER = Path(tempfile.mkdtemp(prefix="veidlapas-fuzz-"))
APP = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{_FOLDER / 'fuzz.db'}", "BLOBS_DIR": _FOLDER})
with database(APP).session() as _session:
    _, _TOKEN = accounts.add_user(_session, "fuzzer", "administrator", "bauska")
HEADERS = {"Authorization": f"Bearer {_TOKEN}"}

schema = schemathesis.openapi.from_wsgi("/openapi.json", APP, config=fuzz_config())


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_within_its_contract(case):
    # Data can be schema-valid and still break a rule JSON Schema cannot state (a check digit, a date
    # inside a period, a budget): that is a documented 422 problem, not a failure to accept valid data.
    case.call_and_validate(headers=HEADERS, excluded_checks=[positive_data_acceptance])


def test_the_suites_fuzz_run_is_seeded_and_counts_413_as_a_rejection(monkeypatch):
    monkeypatch.delenv("VEIDLAPAS_FUZZ_SEED", raising=False)
    config = fuzz_config()
    project = config.projects.get_default()
    assert config.seed == SEED and config.has_explicit_seed
    assert project.generation.deterministic and project.generation.database == "none"
    assert "413" in project.checks.negative_data_rejection.expected_statuses
