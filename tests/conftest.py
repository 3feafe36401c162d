"""Fixtures: every test gets its own application, instance folder and database (as in Flask's tutorial).

The database is SQLite unless a module parametrizes ``database_url`` with "postgresql" too: then the
same tests also run on a real PostgreSQL server that the session starts.

``client`` is signed in as an administrator of Bauska; ``anonymous`` sends no token; ``user_headers``
makes a user of any role and municipality and returns the headers that carry their token.
"""

from __future__ import annotations

import logging
import os
import uuid

import pytest

from service import accounts, create_app
from service.logs import JsonFormatter
from service.store import database
from tests.postgres import PostgresServer


class _SuiteLog(logging.Handler):
    """Every log line of the whole run, formatted as production would write it, with the test that
    made it (so a leak can be traced to its test)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.tests: list[str] = []
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record) + (f" {record.exc_text}" if record.exc_text else ""))
        self.tests.append(os.environ.get("PYTEST_CURRENT_TEST", "(between tests)"))


SUITE_LOG = _SuiteLog()


@pytest.fixture(scope="session", autouse=True)
def suite_log():
    """The logs of the suite's traffic, scanned for personal data by tests/test_zz_logs.py."""
    logging.getLogger().addHandler(SUITE_LOG)
    yield SUITE_LOG
    logging.getLogger().removeHandler(SUITE_LOG)


@pytest.fixture(scope="session")
def postgres():
    """One real PostgreSQL server for the whole run, started by the tests (never skipped when absent)."""
    with PostgresServer() as server:
        yield server


@pytest.fixture(params=["sqlite"])
def database_url(request, tmp_path):
    """The database a test's application uses; modules that must run on both parametrize this."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'veidlapas.db'}"
        return
    server = request.getfixturevalue("postgres")
    name = f"t_{uuid.uuid4().hex}"
    yield server.create_database(name)
    server.drop_database(name)


@pytest.fixture
def app(tmp_path, database_url):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "BLOBS_DIR": tmp_path / "blobs",
            "JOBS_DIR": tmp_path / "jobs",
        }
    )
    yield app
    database(app).engine.dispose()


@pytest.fixture
def user_headers(app):
    made = {}

    def make(role: str = "administrator", municipality: str = "bauska") -> dict[str, str]:
        key = (role, municipality)
        if key not in made:
            with database(app).session() as session:
                _, token = accounts.add_user(
                    session, f"{role.replace('_', '-')}.{municipality}", role, municipality
                )
            made[key] = {"Authorization": f"Bearer {token}"}
        return made[key]

    return make


@pytest.fixture
def auth_headers(user_headers):
    return user_headers("administrator", "bauska")


@pytest.fixture
def client(app, auth_headers):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = auth_headers["Authorization"]
    return client


@pytest.fixture
def anonymous(app):
    return app.test_client()


def pytest_report_header(config):
    """The browser the page tests drive, printed at the top of the run (when it has a header)."""
    from tests.browser import chromium_version

    return f"browser: {chromium_version()}"


def pytest_terminal_summary(terminalreporter):
    """The browser again at the end, which a quiet run (``-q``, as `make test` runs) also prints."""
    from tests.browser import LAUNCHED

    if LAUNCHED:
        terminalreporter.write_line(f"browser tests ran in {', '.join(LAUNCHED)}")


pytest_plugins = ["tests.browser"]
