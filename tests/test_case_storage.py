"""Storing case records: acts kept in the clear before revision 0004 are sealed by it, the service will not
start without the key of sealed data, and SQLite deletes securely."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from service import create_app
from service.store import KeyFileError, database, sealer
from service.store.database import MIGRATIONS
from service.store.models import Submission
from service.store.sealing import Keyring

ACT = '{"number": "A-7", "note": "Ēriks Gailītis"}'


def _at_revision(url: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with create_engine(url).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_acts_received_before_case_records_are_sealed_by_the_migration(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _at_revision(url, "0003")
    with create_engine(url).begin() as connection:
        connection.execute(
            text(
                "INSERT INTO submissions (id, received_at, sha256, size, file_type, status, month,"
                " provider, agreement_number, act, municipality) VALUES ('s1', :at, 'h', 1, 'pdf',"
                " 'accepted', '2020-09', '40003245752', 'L-1', :act, 'bauska')"
            ),
            {"at": dt.datetime(2020, 10, 1), "act": ACT},
        )
    app = create_app({"TESTING": True, "DATABASE_URL": url, "JOBS_DIR": tmp_path / "jobs"})
    with database(app).session() as session:
        stored = session.get(Submission, "s1")
        assert sealer(app).open_json(stored.sealed, stored.seal_context()) == {
            "number": "A-7",
            "note": "Ēriks Gailītis",
        }
    database(app).engine.dispose()
    assert "Gailītis".encode() not in (tmp_path / "old.db").read_bytes()


def test_the_service_will_not_start_without_the_key_of_sealed_data(tmp_path):
    url, key_file = f"sqlite:///{tmp_path / 'v.db'}", tmp_path / "keys" / "data-keys.json"
    settings = {
        "TESTING": True,
        "DATABASE_URL": url,
        "JOBS_DIR": tmp_path / "jobs",
        "DATA_KEY_FILE": key_file,
    }
    key_file.parent.mkdir()
    Keyring.generate().save(key_file)
    app = create_app(settings)
    with database(app).session() as session:
        submission = Submission(
            id="s2",
            municipality="bauska",
            sha256="h",
            size=1,
            file_type="pdf",
            month="2020-09",
            provider="40003245752",
            agreement_number="L-1",
        )
        submission.sealed = sealer(app).seal_json({}, submission.seal_context())
        session.add(submission)
    database(app).engine.dispose()
    key_file.rename(tmp_path / "elsewhere.json")
    with pytest.raises(KeyFileError, match="missing"):
        create_app(settings)
    (tmp_path / "elsewhere.json").rename(key_file)
    database(create_app(settings)).engine.dispose()  # with its key back, it starts


def test_sqlite_deletes_securely(app):
    with database(app).engine.connect() as connection:
        assert connection.execute(text("PRAGMA secure_delete")).scalar() == 1
