"""Rotating the data key (``veidlapas keys rotate``): every sealed value opens with the new key and not
with the old, the search hashes are remade, and a rotation stopped half-way finishes when run again."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from service import accounts, create_app
from service.cli import main
from service.store import database
from service.store.case_models import Client, PlanVersion
from service.store.sealing import Keyring, SealBroken, Sealer
from tests.case_helpers import CLIENT, approved_plan

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def keyed(tmp_path, database_url, monkeypatch):
    """An application with its own key file, and an API client of a Bauska administrator."""
    import service

    settings = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "JOBS_DIR": tmp_path / "jobs",
        "DATA_KEY_FILE": tmp_path / "keys.json",
    }
    Keyring.generate().save(tmp_path / "keys.json")
    app = create_app(settings)
    with database(app).session() as session:
        _, token = accounts.add_user(session, "admin.bauska", "administrator", "bauska")
    api = app.test_client()
    api.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    monkeypatch.setattr(service, "create_app", lambda: create_app(settings))
    yield app, api, tmp_path / "keys.json"
    database(app).engine.dispose()


def sealed_values(app):
    with database(app).session() as session:
        client = session.scalars(select(Client)).one()
        version = session.scalars(select(PlanVersion)).one()
        return [(client.sealed, client.seal_context()), (version.sealed, version.seal_context())]


def test_rotation_seals_everything_again_and_remakes_the_search_hashes(keyed):
    app, api, key_file = keyed
    approved_plan(api, {})
    old = Keyring.load(key_file)
    before = sealed_values(app)

    result = CliRunner().invoke(main, ["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "clients: 1 value(s) sealed again" in result.output and str(key_file) in result.output
    new = Keyring.load(key_file)
    assert len(new.keys) == 1 and new.active.id != old.active.id
    assert key_file.with_name("keys.json.previous").exists()
    for value, place in sealed_values(app):
        assert Sealer(new).open_json(value, place)
        with pytest.raises(SealBroken):
            Sealer(old).open(value, place)
    assert before != sealed_values(app)

    fresh = create_app({**app.config, "DATA_KEY_FILE": key_file})  # a service started after the rotation
    api = fresh.test_client()
    with database(fresh).session() as session:
        _, token = accounts.add_user(session, "admin2.bauska", "administrator", "bauska")
    headers = {"Authorization": f"Bearer {token}"}
    for query in (CLIENT["personal_code"], "gailit"):
        found = api.get("/api/v1/clients", query_string={"q": query}, headers=headers).json
        assert [c["name"] for c in found] == ["Ēriks Gailītis"], query
    database(fresh).engine.dispose()


def test_a_rotation_stopped_half_way_finishes_when_run_again(keyed):
    app, api, key_file = keyed
    approved_plan(api, {})
    half_way = Keyring.load(key_file).rotated()  # the new key written, nothing sealed again yet
    half_way.save(key_file)
    result = CliRunner().invoke(main, ["keys", "rotate"])
    assert result.exit_code == 0, result.output
    final = Keyring.load(key_file)
    assert final.keys == (half_way.active,)
    for value, place in sealed_values(app):
        Sealer(final).open(value, place)
