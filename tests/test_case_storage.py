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
from service.store.sealing import Keyring, Sealer

ACT = '{"number": "A-7", "note": "Ēriks Gailītis"}'


def _at_revision(url: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["sealer"] = Sealer(Keyring.generate())
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


def test_acts_received_under_a_stored_agreements_number_are_linked_by_the_migration(tmp_path):
    url = f"sqlite:///{tmp_path / 'linked.db'}"
    _at_revision(url, "0005")
    at = {"at": dt.datetime(2020, 10, 1), "start": dt.date(2020, 2, 1), "end": dt.date(2021, 1, 31)}
    with create_engine(url).begin() as connection:
        for statement in (
            "INSERT INTO clients (id, municipality, code_tag, sealed, target_group, status, revision,"
            " created_at, updated_at) VALUES ('c1', 'bauska', 't', x'00', 'adult_gt', 'open', 1, :at, :at)",
            "INSERT INTO plans (id, municipality, client_id, created_at, draft_revision, draft_base,"
            " draft_problems, latest_version) VALUES ('p1', 'bauska', 'c1', :at, 0, 0, 0, 1)",
            "INSERT INTO agreements (id, municipality, client_id, plan_id, number, provider, state,"
            ' start, "end", latest_version, revision, created_at) VALUES (\'a1\', \'bauska\', \'c1\','
            " 'p1', 'L-1', '40003245752', 'active', :start, :end, 2, 2, :at)",
        ):
            connection.execute(text(statement), at)
        for id_, municipality in (("s1", "bauska"), ("s2", "liepaja")):
            connection.execute(
                text(
                    "INSERT INTO submissions (id, received_at, sha256, size, file_type, status, month,"
                    " provider, agreement_number, sealed, municipality) VALUES (:id, :at, :id, 1, 'pdf',"
                    " 'received', '2020-09', '40003245752', 'L-1', x'00', :municipality)"
                ),
                {"id": id_, "municipality": municipality, **at},
            )
    _at_revision(url, "head")
    with create_engine(url).connect() as connection:
        rows = connection.execute(
            text("SELECT id, agreement_id, client_id, agreement_version FROM submissions ORDER BY id")
        )
        assert [tuple(row) for row in rows] == [("s1", "a1", "c1", 2), ("s2", None, None, None)]


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
