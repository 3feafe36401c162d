"""The command line's own templates and settings: ``veidlapas templates list|upload|rollback`` and
``veidlapas settings list|set|rollback`` keep versions as the API does (audited, in the municipality named),
print a refused template's every problem with its place, and exit 1 with a message — never a traceback —
on a bad file, date, number or municipality."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from service.cli import main
from service.config import ROOT
from service.documents import settings_store, template_store
from service.store import database
from service.store.models import AuditEntry
from tests.test_template_check import BODY, first_in, paragraph, run

COVER = ROOT / "templates_lv" / "cover-letter.docx"
SETTINGS = ROOT / "samples" / "municipality-settings.json"


@pytest.fixture
def cli(app, monkeypatch):
    """Run ``veidlapas`` against the test's application."""
    import service

    monkeypatch.setattr(service, "create_app", lambda: app)

    def invoke(*args: str):
        result = CliRunner().invoke(main, [str(arg) for arg in args])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        return result

    return invoke


def trail(app, object_type: str) -> list[tuple[str, str, str]]:
    with database(app).session() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.object_type == object_type)).all()
        return [(e.action, e.object_id, e.municipality) for e in entries]


def test_a_template_is_uploaded_listed_and_rolled_back(app, cli):
    def upload_cover(day: str):
        return cli(
            "templates", "upload", "cover-letter", COVER, "--municipality", "bauska", "--effective-from", day
        )

    done = upload_cover("01.01.2021.")
    assert done.exit_code == 0, done.output
    assert "cover-letter v1 (bauska), 01.01.2021.: 0 warning(s)" in done.output
    again = upload_cover("2021-02-01")
    assert again.exit_code == 0, again.output
    back = cli("templates", "rollback", "cover-letter", "1", "--municipality", "bauska")
    assert back.exit_code == 0 and "cover-letter v3 = v1" in back.output
    listed = cli("templates", "list", "--municipality", "bauska").output.splitlines()
    assert [line.lstrip("* ").split()[1] for line in listed] == ["v1", "v2", "v3"]
    assert listed[2].startswith("*") and "(= v1)" in listed[2]
    with database(app).session() as session:
        assert [v.number for v in template_store.versions(session, "bauska", "cover-letter")] == [1, 2, 3]
        assert template_store.versions(session, "liepaja", "cover-letter") == []
    assert trail(app, "template") == [
        ("uploaded", "cover-letter/1", "bauska"),
        ("uploaded", "cover-letter/2", "bauska"),
        ("rolled_back", "cover-letter/3", "bauska"),
    ]


def test_a_refused_template_prints_every_problem_with_its_place_and_keeps_nothing(app, cli, tmp_path):
    bad = tmp_path / "typo.docx"
    bad.write_bytes(first_in(BODY, paragraph(run("Nr. {{ request.numbr }}")), COVER.read_bytes()))
    done = cli("templates", "upload", "cover-letter", bad, "--municipality", "bauska", "--lang", "en")
    assert done.exit_code == 1
    assert "template.unknown_variable" in done.output and BODY in done.output
    assert "Nr. {{ request.numbr }}" in done.output
    assert "Traceback" not in done.output
    assert trail(app, "template") == [("uploaded", "cover-letter", "bauska")]


def test_settings_are_set_listed_and_rolled_back(app, cli):
    done = cli("settings", "set", SETTINGS, "--municipality", "bauska")
    assert done.exit_code == 0, done.output
    assert "bauska: settings v1, 01.01.2021." in done.output
    back = cli("settings", "rollback", "1", "--municipality", "bauska", "--effective-from", "1.3.2021.")
    assert back.exit_code == 0 and "bauska: settings v2 = v1, 01.03.2021." in back.output
    listed = cli("settings", "list", "--municipality", "bauska").output.splitlines()
    assert [line.lstrip("* ").split()[0] for line in listed] == ["v1", "v2"]
    assert listed[1].startswith("*") and "clauses, head, logo" in listed[1] and "(= v1)" in listed[1]
    with database(app).session() as session:
        kept = settings_store.versions(session, "bauska")
        assert [v.rolled_back_from for v in kept] == [None, 1] and kept[0].sha256 == kept[1].sha256
    assert trail(app, "settings") == [("saved", "1", "bauska"), ("rolled_back", "2", "bauska")]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("settings", "rollback", "7", "--municipality", "bauska"), "no settings version 7"),
        (("settings", "list", "--municipality", "nekurene"), "nekurene is not configured"),
        (
            (
                "templates",
                "upload",
                "cover-letter",
                COVER,
                "--municipality",
                "bauska",
                "--effective-from",
                "01/02/2021",
            ),
            "--effective-from:",
        ),
        (("templates", "rollback", "cover-letter", "3", "--municipality", "bauska"), "no version 3"),
    ],
    ids=["unknown-settings-version", "unknown-municipality", "bad-date", "unknown-template-version"],
)
def test_bad_input_exits_1_with_a_message(cli, args, says):
    done = cli(*args, "--lang", "en")
    assert done.exit_code == 1, done.output
    assert says in done.output and "Traceback" not in done.output


def test_a_settings_file_with_problems_prints_each_at_its_path(cli, tmp_path):
    body = json.loads(SETTINGS.read_text(encoding="utf-8"))
    body["clauses"]["payment_terms"] = "Līdz {{ datums }}."
    body["logo"] = "R0lGODlhAQABAAAAACw="
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    done = cli("settings", "set", bad, "--municipality", "bauska", "--lang", "en")
    assert done.exit_code == 1
    assert "/clauses/payment_terms" in done.output and "settings.clause_code" in done.output
    assert "/logo" in done.output and "settings.logo_type" in done.output
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    assert cli("settings", "set", broken, "--municipality", "bauska").exit_code == 1
