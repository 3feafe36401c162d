"""One set of upload limits, from the configuration, governs every reader: a filled form (API and
``veidlapas extract``), a table of a pack order (API and ``veidlapas pack``), and the DOCX reader in its
child process."""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from service import accounts, create_app, submissions
from service.cli import main
from service.config import UPLOAD_SETTINGS, SettingsError, from_environment, upload_limits
from service.forms.docx_form import make_docx_form
from service.forms.uploads import UploadLimits, UploadRejected
from service.store import database
from tests.helpers import SAMPLES, load_sample

ROOT = Path(__file__).resolve().parent.parent
WORKBOOK = SAMPLES / "pack-bauska-2020-09.xlsx"
ORDER = {"project": "IBM", "period": "2020-09", "date": "2020-10-08", "pdf": False}
#: Settings small enough that the sample form (a 50 KB DOCX) and the sample workbook (a 14 KB XLSX) both
#: exceed them, each with the code both readers give.
SMALL = {
    "VEIDLAPAS_MAX_UPLOAD_BYTES": ("10000", "upload.too_large"),
    "VEIDLAPAS_UPLOAD_MAX_XML_PART_BYTES": ("1000", "upload.too_large"),
}


@pytest.fixture(scope="module")
def docx_form() -> bytes:
    return make_docx_form(load_sample("delivery-act-adult-aplp"))


def with_members(package: bytes, count: int) -> bytes:
    """The package with ``count`` tiny members more."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(package)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
        for number in range(count):
            target.writestr(f"customXml/extra{number}.bin", b"x")
    return out.getvalue()


def test_the_limits_default_to_the_embedded_settings():
    assert upload_limits(from_environment({})) == UploadLimits()


def test_every_limit_is_read_from_its_own_variable():
    fields = [field.name for field in dataclasses.fields(UploadLimits)]
    assert sorted(UPLOAD_SETTINGS) == sorted(fields)
    environ = {f"VEIDLAPAS_{UPLOAD_SETTINGS[name]}": str(1000 + n) for n, name in enumerate(fields)}
    limits = upload_limits(from_environment(environ))
    assert [getattr(limits, name) for name in fields] == [1000 + n for n in range(len(fields))]
    with pytest.raises(SettingsError, match="VEIDLAPAS_UPLOAD_MAX_RATIO"):
        from_environment({"VEIDLAPAS_UPLOAD_MAX_RATIO": "0"})


def test_every_limit_variable_is_documented_with_its_default():
    documented = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    for field, key in UPLOAD_SETTINGS.items():
        assert f"| `VEIDLAPAS_{key}` | `{getattr(UploadLimits(), field)}` |" in documented, key


def test_a_table_takes_its_own_package_sizes_and_the_rest_of_the_set():
    limits = UploadLimits(max_bytes=5, max_ratio=7, table_max_entries=11, table_max_unpacked=13).for_tables()
    assert (limits.max_bytes, limits.max_ratio) == (5, 7)
    assert (limits.max_entries, limits.max_unpacked, limits.max_part) == (11, 13, 13)


@pytest.fixture
def small_app(tmp_path, monkeypatch, request):
    """An application started with one upload setting made small, and a client of an administrator."""
    variable = request.param
    monkeypatch.setenv(variable, SMALL[variable][0])
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'veidlapas.db'}",
            "BLOBS_DIR": tmp_path / "blobs",
            "JOBS_DIR": tmp_path / "jobs",
        }
    )
    with database(app).session() as session:
        _, token = accounts.add_user(session, "administrator.bauska", "administrator", "bauska")
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    yield client, SMALL[variable][1]
    database(app).engine.dispose()


@pytest.mark.parametrize("small_app", sorted(SMALL), indirect=True)
def test_one_limit_from_the_environment_refuses_a_form_and_a_table_alike(small_app, docx_form):
    client, code = small_app
    form = client.post(
        "/api/v1/forms",
        data={"file": (io.BytesIO(docx_form), "akts.docx")},
        content_type="multipart/form-data",
    )
    assert form.status_code in (413, 422) and [e["code"] for e in form.json["errors"]] == [code]
    table = client.post(
        "/api/v1/packs",
        data={"order": json.dumps(ORDER), "lines": (io.BytesIO(WORKBOOK.read_bytes()), "rindas.xlsx")},
        content_type="multipart/form-data",
    )
    assert table.status_code == 422
    assert [(e["code"], e["file"]) for e in table.json["errors"]] == [(code, "lines")]


@pytest.mark.parametrize("variable", sorted(SMALL))
def test_the_commands_read_the_same_limits(variable, docx_form, tmp_path, monkeypatch):
    value, code = SMALL[variable]
    monkeypatch.setenv(variable, value)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'veidlapas.db'}")
    monkeypatch.setenv("VEIDLAPAS_JOBS_DIR", str(tmp_path / "jobs"))
    (tmp_path / "akts.docx").write_bytes(docx_form)
    english = "The file, or a part inside it, is larger than allowed."
    assert code == "upload.too_large"
    extracted = CliRunner().invoke(main, ["extract", "--lang", "en", str(tmp_path / "akts.docx")])
    assert extracted.exit_code == 1 and english in extracted.output
    options = ["pack", "--project", "IBM", "--municipality", "bauska", "--period", "2020-09", "--no-pdf"]
    packed = CliRunner().invoke(
        main, [*options, "--lang", "en", str(WORKBOOK), "-o", str(tmp_path / "p.zip")]
    )
    assert packed.exit_code == 1 and code in packed.output and english in packed.output
    assert not (tmp_path / "p.zip").exists()


def test_raised_limits_reach_the_docx_reader_in_the_child(docx_form):
    """The first inspection and the reader's own one, in the child process, use the same limits."""
    crowded = with_members(docx_form, 250)
    with pytest.raises(UploadRejected) as caught:
        submissions.read_upload(crowded, UploadLimits())
    assert caught.value.code == "upload.too_many_entries"
    form = submissions.read_upload(crowded, UploadLimits(max_entries=300))
    assert form.file_type == "docx" and form.act["number"] == load_sample("delivery-act-adult-aplp")["number"]
