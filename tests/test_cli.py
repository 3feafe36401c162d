"""The command line: render and validate, with the API's messages and non-zero exits."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from docx import Document

from service.cli import main
from tests.helpers import ADULT_TRUSTEE, SAMPLES, load_sample


def test_render_writes_the_docx(tmp_path):
    target = tmp_path / "out" / "plan.docx"
    result = CliRunner().invoke(
        main, ["render", "support-plan", str(SAMPLES / f"{ADULT_TRUSTEE}.json"), "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    text = "\n".join(p.text for p in Document(target).paragraphs)
    assert load_sample(ADULT_TRUSTEE)["number"] in text
    assert [p.name for p in target.parent.iterdir()] == ["plan.docx"]


def test_validate_accepts_a_sample():
    result = CliRunner().invoke(main, ["validate", "support-plan", str(SAMPLES / f"{ADULT_TRUSTEE}.json")])
    assert result.exit_code == 0
    assert "Dati ir derīgi." in result.output


def test_invalid_data_prints_every_problem_and_exits_1(tmp_path):
    data = load_sample(ADULT_TRUSTEE)
    data["client"]["personal_code"] = "12"
    data["period"] = {"start": "2021-01-01", "end": "2020-01-01"}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    target = tmp_path / "plan.docx"
    result = CliRunner().invoke(main, ["render", "support-plan", str(bad), "-o", str(target), "--lang", "en"])
    assert result.exit_code == 1
    assert "/client/personal_code" in result.output and "personal_code.format" in result.output
    assert "/period/end" in result.output and "period.reversed" in result.output
    assert not target.exists()


def test_broken_json_exits_1_with_the_place(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"number": ', encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", "support-plan", str(bad)])
    assert result.exit_code == 1
    assert "Dati nav derīgā JSON formātā (1. rinda, 12. kolonna)." in result.output


def test_a_bad_setting_stops_with_its_name_not_a_traceback(monkeypatch):
    monkeypatch.setenv("VEIDLAPAS_PDF_ALLOCATOR", "tcmalloc")
    result = CliRunner().invoke(main, ["serve", "--port", "0"])
    assert result.exit_code == 2
    assert "Cannot start: VEIDLAPAS_PDF_ALLOCATOR must be one of jemalloc, system" in result.output
    assert "Traceback" not in result.output


def test_broken_catalogue_stops_with_a_message(tmp_path, monkeypatch):
    from schemas import catalogue

    broken = tmp_path / "catalogue.toml"
    broken.write_text('[units.stunda]\none = "stunda"\n', encoding="utf-8")
    monkeypatch.setenv("VEIDLAPAS_CATALOGUE", str(broken))
    catalogue.default.cache_clear()
    try:
        result = CliRunner().invoke(main, ["serve", "--port", "0"])
    finally:
        monkeypatch.delenv("VEIDLAPAS_CATALOGUE")
        catalogue.default.cache_clear()
    assert result.exit_code == 2
    assert "Cannot start" in result.output and "/units/stunda/other" in result.output


def test_broken_projects_file_stops_with_a_message(tmp_path, monkeypatch):
    from schemas import projects

    broken = tmp_path / "projects.toml"
    broken.write_text(
        '[[projects]]\ncode = "X"\nname = "X"\nnumber = "1"\nesf_share = "185"\n'
        'start = 2020-01-01\nend = 2019-01-01\nrecipient = "LM"\n'
        'recipient_registration_number = "90000022399"\nrecipient_address = "Rīga"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("VEIDLAPAS_PROJECTS", str(broken))
    projects.default.cache_clear()
    try:
        result = CliRunner().invoke(main, ["serve", "--port", "0"])
    finally:
        monkeypatch.delenv("VEIDLAPAS_PROJECTS")
        projects.default.cache_clear()
    assert result.exit_code == 2
    assert "/projects/0/esf_share" in result.output and "/projects/0/end" in result.output


@pytest.fixture
def isolated_app(tmp_path, monkeypatch):
    """``create_app`` of the commands, on a database and instance folder of the test's own."""
    import service

    original = service.create_app

    def isolated_app():
        app = original({"DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}", "BLOBS_DIR": tmp_path})
        app.instance_path = str(tmp_path)  # not the checkout's instance folder
        return app

    monkeypatch.setattr(service, "create_app", isolated_app)
    return isolated_app


def test_the_demo_administrator_command_prints_where_the_token_is_not_the_token(tmp_path, isolated_app):
    outputs = [CliRunner().invoke(main, ["users", "demo"]) for _ in range(2)]
    keep = tmp_path / "demo-token"
    token = keep.read_text()
    assert len(token) >= 32 and keep.stat().st_mode & 0o777 == 0o600
    for result in outputs:
        assert result.exit_code == 0, result.output
        assert str(keep) in result.output and "demo-admin" in result.output
        assert token not in result.output and token[:8] not in result.output


def test_the_demo_users_sign_in_to_the_pages_with_the_password_kept_once(tmp_path, isolated_app):
    from tests.web_helpers import sign_in

    first = CliRunner().invoke(main, ["users", "demo"])
    secret = tmp_path / "demo-password"
    password = secret.read_text()
    again = CliRunner().invoke(main, ["users", "demo"])
    assert secret.read_text() == password and len(password) >= 20
    assert secret.stat().st_mode & 0o777 == 0o600
    for result in (first, again):
        assert result.exit_code == 0, result.output
        assert str(secret) in result.output and "demo-social" in result.output
        assert password not in result.output and password[:8] not in result.output
    listed = CliRunner().invoke(main, ["users", "list"]).output
    assert [line.split()[:3] for line in listed.splitlines()] == [
        ["demo-admin", "administrator", "bauska"],
        ["demo-finance", "finance_officer", "bauska"],
        ["demo-social", "social_worker", "bauska"],
    ]
    app = isolated_app()
    for username in ("demo-admin", "demo-social", "demo-finance"):
        client = app.test_client()
        assert sign_in(client, username, password).status_code == 303, username
        assert sign_in(app.test_client(), username, password + "x").status_code == 401


def test_a_one_time_link_from_the_command_line_sets_the_first_password(isolated_app):
    from tests.web_helpers import csrf_of, sign_in

    added = CliRunner().invoke(
        main, ["users", "add", "anna.admin", "--role", "administrator", "--municipality", "bauska"]
    )
    assert added.exit_code == 0, added.output
    result = CliRunner().invoke(
        main, ["users", "link", "anna.admin", "--base-url", "https://veidlapas.example.lv"]
    )
    assert result.exit_code == 0, result.output
    link = result.output.splitlines()[0]
    assert link.startswith("https://veidlapas.example.lv/parole?kods=") and "72 hours" in result.output
    code = link.split("kods=", 1)[1]
    replaced = CliRunner().invoke(main, ["users", "link", "anna.admin"]).output.splitlines()[0]
    assert replaced.startswith("http://127.0.0.1:8000/parole?kods=")
    client = isolated_app().test_client()
    assert client.get(f"/parole?kods={code}").status_code == 404  # the newer link replaced it
    newer = replaced.split("kods=", 1)[1]
    page = client.get(f"/parole?kods={newer}")
    assert page.status_code == 200 and "anna.admin" in page.get_data(as_text=True)
    password = "ziemā sniegs ir balts"
    form = {
        "kods": newer,
        "password": password,
        "repeated": password,
        "csrf_token": csrf_of(page.get_data(as_text=True)),
    }
    assert client.post("/parole", data=form).status_code == 303
    assert sign_in(client, "anna.admin", password).status_code == 303
    missing = CliRunner().invoke(main, ["users", "link", "nobody"])
    assert missing.exit_code == 1 and "no user nobody" in missing.output
