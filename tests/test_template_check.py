"""An uploaded DOCX template is checked: Word's and LibreOffice's damage to tags repaired with a warning,
everything else refused with its place, and a sample render in a child process with limits."""

from __future__ import annotations

import dataclasses
import io
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pytest

from service.config import DEFAULT_LIMITS, ROOT
from service.documents import KINDS, Templates
from service.documents.uploaded import check_template
from tests.docx_text import docx_text

PLAN = KINDS["support-plan"]
STANDARD = ROOT / "templates_lv"
BODY = "word/document.xml"


def standard(kind=PLAN) -> bytes:
    return (STANDARD / kind.template).read_bytes()


def changed(data: bytes, part: str, change, extra: dict[str, bytes] | None = None) -> bytes:
    """``data`` with ``part``'s XML passed through ``change`` and ``extra`` members added."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            member = source.read(info)
            if info.filename == part:
                member = change(member.decode("utf-8")).encode("utf-8")
            target.writestr(info, member)
        for name, member in (extra or {}).items():
            target.writestr(name, member)
    return out.getvalue()


def first_in(part: str, xml: str, data: bytes | None = None) -> bytes:
    """The standard plan template with ``xml`` as the first thing in ``part``'s body."""

    def insert(text: str) -> str:
        root = (
            text.index("<w:body>") if part == BODY else text.index("<w:ftr" if "footer" in part else "<w:hdr")
        )
        at = text.index(">", root) + 1
        return text[:at] + xml + text[at:]

    return changed(data or standard(), part, insert)


def paragraph(*runs: str) -> str:
    return "<w:p>" + "".join(runs) + "</w:p>"


def run(text: str, bold: bool = False) -> str:
    props = "<w:rPr><w:b/></w:rPr>" if bold else ""
    return f'<w:r>{props}<w:t xml:space="preserve">{text}</w:t></w:r>'


def codes(found) -> list[str]:
    return [item.problem.code for item in found]


def rendered_text(tmp_path: Path, template: bytes) -> str:
    """The repaired template, installed as the plan's, rendered with the plan's first sample."""
    import json

    (tmp_path / PLAN.template).write_bytes(template)
    shutil.copy(STANDARD / "labels.toml", tmp_path / "labels.toml")
    values = PLAN.schema().load(json.loads(PLAN.sample_files()[0].read_text(encoding="utf-8")))
    return docx_text(Templates(tmp_path).render(PLAN, values))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_standard_template_passes_without_warnings(kind):
    data = standard(KINDS[kind])
    result = check_template(data, KINDS[kind])
    assert (result.problems, result.warnings) == ([], [])
    assert result.accepted and result.repaired == data


def test_a_tag_word_split_across_runs_is_joined_with_a_warning(tmp_path):
    split = paragraph(
        run("Plāns Nr. {{ plan."),
        '<w:proofErr w:type="spellStart"/>',
        run("num", bold=True),
        '<w:proofErr w:type="spellEnd"/>',
        '<w:bookmarkStart w:id="0" w:name="_GoBack"/><w:bookmarkEnd w:id="0"/>',
        run("ber }} (pārbaude)"),
    )
    result = check_template(first_in(BODY, split), PLAN)
    assert result.problems == []
    assert codes(result.warnings) == ["template.split_tag"]
    place = result.warnings[0].place
    assert (place.part, place.where) == (BODY, "body")
    assert "Plāns Nr. {{ plan.number }} (pārbaude)" in place.text
    with zipfile.ZipFile(io.BytesIO(result.repaired)) as package:
        body = package.read(BODY).decode("utf-8")
    assert '<w:t xml:space="preserve">Plāns Nr. {{ plan.number }}</w:t>' in body
    assert "proofErr" not in body
    assert "Plāns Nr. IAP-2020/014 (pārbaude)" in rendered_text(tmp_path, result.repaired)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("{{ plan.client.target_group|label(“target_group”) }}", "template.smart_quotes"),
        ("{{ plan.client.target_group|label(„target_group”) }}", "template.smart_quotes"),
        ("{{ plan.client.target_group|label(‘target_group’) }}", "template.smart_quotes"),
        ("{{\u00a0plan.client.target_group|label('target_group')\u202f}}", "template.non_breaking_space"),
    ],
)
def test_typography_inside_a_tag_is_made_plain_with_a_warning(tmp_path, text, code):
    result = check_template(first_in(BODY, paragraph(run("Mērķgrupa: " + text))), PLAN)
    assert result.problems == []
    assert codes(result.warnings) == [code]
    assert "Mērķgrupa: pilngadīga persona" in rendered_text(tmp_path, result.repaired)


def test_typography_outside_tags_is_left_alone():
    data = first_in(BODY, paragraph(run("„Pēdiņas”\u00a0un atstarpe {{ plan.number }}")))
    result = check_template(data, PLAN)
    assert (result.problems, result.warnings, result.repaired) == ([], [], data)


def test_an_unknown_variable_is_refused_with_a_near_name_and_its_paragraph():
    result = check_template(first_in(BODY, paragraph(run("Klients: {{ plan.client.nmae }}"))), PLAN)
    assert not result.accepted and result.repaired is None
    (found,) = result.problems
    assert found.problem.code == "template.unknown_variable_near"
    assert found.problem.params == {"name": "plan.client.nmae", "near": "plan.client.name"}
    assert found.place.as_dict() == {"part": BODY, "where": "body", "text": "Klients: {{ plan.client.nmae }}"}


def test_an_unknown_variable_in_a_table_names_its_table_row_and_cell():
    cell = "<w:tc>" + paragraph(run("x")) + "</w:tc>"
    table = (
        "<w:tbl><w:tr>"
        + cell
        + cell
        + "</w:tr><w:tr>"
        + cell
        + "<w:tc>"
        + paragraph(run("{{ plan.number }} {{ plan.nothing_like_it }}"))
        + "</w:tc>"
        + "</w:tr></w:tbl>"
    )
    (found,) = check_template(first_in(BODY, table), PLAN).problems
    assert found.problem.code == "template.unknown_variable"
    assert found.problem.params == {"name": "plan.nothing_like_it"}
    assert found.place.where == "table 1, row 2, cell 2"
    assert "{{ plan.nothing_like_it }}" in found.place.text


def test_an_unknown_name_in_the_footer_is_refused_with_the_footer():
    (found,) = check_template(
        first_in("word/footer1.xml", paragraph(run("{{ plna.number }}"))), PLAN
    ).problems
    assert (found.problem.code, found.problem.params) == (
        "template.unknown_variable_near",
        {"name": "plna", "near": "plan"},
    )
    assert (found.place.part, found.place.where) == ("word/footer1.xml", "footer")


def test_an_unknown_filter_is_refused_with_a_near_name():
    (found,) = check_template(first_in(BODY, paragraph(run("{{ plan.date|date_longg }}"))), PLAN).problems
    assert (found.problem.code, found.problem.params) == (
        "template.unknown_filter_near",
        {"name": "date_longg", "near": "date_long"},
    )


def test_an_unclosed_loop_is_refused_at_the_paragraph_that_opens_it():
    data = first_in(BODY, paragraph(run("{% for s in plan.services %}{{ s.code }}")))
    (found,) = check_template(data, PLAN).problems
    assert (found.problem.code, found.problem.params) == (
        "template.unclosed_block",
        {"tag": "for", "end": "endfor"},
    )
    assert found.place.text == "{% for s in plan.services %}{{ s.code }}"


def test_a_stray_end_of_a_block_is_refused():
    (found,) = check_template(first_in(BODY, paragraph(run("{% endif %}"))), PLAN).problems
    assert (found.problem.code, found.problem.params) == ("template.unexpected_tag", {"tag": "endif"})


def last_in_header(xml: str) -> bytes:
    """The standard plan template with ``xml`` as the last thing in its header (after the logo's tags, which
    docxtpl's cleaning would otherwise join an unclosed tag to)."""
    return changed(standard(), "word/header1.xml", lambda text: text.replace("</w:hdr>", xml + "</w:hdr>"))


def test_a_tag_never_closed_is_refused_where_it_opens():
    (found,) = check_template(last_in_header(paragraph(run("Nr. {{ plan.number"))), PLAN).problems
    assert found.problem.code == "template.broken_tag"
    assert (found.place.part, found.place.where) == ("word/header1.xml", "header")
    assert found.place.text.startswith("Nr. {{ plan.number")


def test_a_tag_never_closed_before_other_tags_is_refused_at_its_paragraph():
    """docxtpl's cleaning would join it with the next tag of the part; the check finds it first."""
    found = check_template(first_in(BODY, paragraph(run("Nr. {{ plan.number"))), PLAN).problems
    assert [f.problem.code for f in found] == ["template.broken_tag"]
    assert (found[0].place.part, found[0].place.where) == (BODY, "body")
    assert found[0].place.text.startswith("Nr. {{ plan.number")


def test_a_tag_closed_wrongly_is_refused_with_jinja_reason_and_its_paragraph():
    (found,) = check_template(first_in(BODY, paragraph(run("Nr. {{ plan.number }"))), PLAN).problems
    assert (found.problem.code, found.problem.params) == ("template.syntax", {"reason": "unexpected '}'"})
    assert found.place.text.startswith("Nr. {{ plan.number }")


@pytest.mark.parametrize(
    ("text", "construct"),
    [
        ("{{ ''.__class__.__mro__ }}", "__class__"),
        ("{{ cycler.__init__.__globals__ }}", "__init__"),
        ("{{ plan['_secret'] }}", "_secret"),
        ("{{ plan|attr('number') }}", "attr"),
        ("{{ plan.number.format(1) }}", "format()"),
        ("{% include 'other.xml' %}", "include"),
    ],
)
def test_a_construct_the_sandbox_refuses_is_refused_before_rendering(text, construct):
    result = check_template(first_in(BODY, paragraph(run(text))), PLAN)
    assert ("template.forbidden", construct) in [
        (item.problem.code, item.problem.params.get("construct")) for item in result.problems
    ]
    assert result.repaired is None


def test_a_sample_render_that_fails_is_refused_with_its_reason():
    data = first_in(BODY, paragraph(run("{% for i in range(10**9) %}x{% endfor %}")))
    (found,) = check_template(data, PLAN).problems
    assert found.problem.code == "template.sample_failed"
    assert found.problem.params["reason"].startswith("OverflowError: Range too big")
    assert "Traceback" not in found.problem.params["reason"]


def test_a_runaway_loop_is_stopped_by_the_time_limit():
    loop = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    limits = dataclasses.replace(DEFAULT_LIMITS, parse_timeout_s=2)
    (found,) = check_template(first_in(BODY, paragraph(run(loop))), PLAN, limits).problems
    assert (found.problem.code, found.problem.params) == ("template.sample_timeout", {"seconds": 2})


def test_a_render_that_needs_too_much_memory_is_stopped_by_the_memory_limit():
    (found,) = check_template(first_in(BODY, paragraph(run("{{ 'x' * 2000000000 }}"))), PLAN).problems
    assert found.problem.code == "template.sample_limit"


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"word/vbaProject.bin": b"\xd0\xcf\x11\xe0"}, "upload.macro_document"),
        ({"word/media/bomb.bin": b"\0" * 5_000_000}, "upload.zip_bomb"),
    ],
)
def test_the_upload_rules_of_forms_refuse_the_package(extra, code):
    data = changed(standard(), BODY, lambda xml: xml, extra)
    result = check_template(data, PLAN)
    assert codes(result.problems) == [code]
    assert result.repaired is None


def test_an_external_image_link_is_refused():
    link = (
        '<Relationship Id="rIdX" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"'
        ' Target="file:///etc/passwd" TargetMode="External"/></Relationships>'
    )
    data = changed(
        standard(), "word/_rels/document.xml.rels", lambda xml: xml.replace("</Relationships>", link)
    )
    assert codes(check_template(data, PLAN).problems) == ["upload.external_target"]


def test_a_doctype_is_refused():
    data = changed(standard(), BODY, lambda xml: xml.replace("?>", '?><!DOCTYPE w [<!ENTITY a "b">]>', 1))
    assert codes(check_template(data, PLAN).problems) == ["upload.doctype"]


def test_a_pdf_or_a_large_file_is_refused():
    assert codes(check_template(b"%PDF-1.7\n%%EOF", PLAN).problems) == ["template.not_docx"]
    small = dataclasses.replace(DEFAULT_LIMITS, max_bytes=1000)
    assert codes(check_template(standard(), PLAN, small).problems) == ["upload.too_large"]


def test_pictures_over_the_limits_are_refused():
    data = changed(standard(), BODY, lambda xml: xml, {"word/media/image1.png": os.urandom(3000)})
    limits = dataclasses.replace(DEFAULT_LIMITS, template_max_images=0, template_max_image_bytes=2000)
    result = check_template(data, PLAN, limits)
    assert codes(result.problems) == ["template.image_too_large", "template.too_many_images"]
    assert result.problems[0].problem.params == {"name": "image1.png", "size": 3000, "max": 2000}


def test_a_template_without_tags_is_refused():
    from docx import Document

    document = Document()
    document.add_paragraph("Tikai teksts")
    out = io.BytesIO()
    document.save(out)
    assert codes(check_template(out.getvalue(), PLAN).problems) == ["template.no_tags"]


@pytest.fixture(scope="module")
def saved_by_libreoffice() -> dict[str, bytes]:
    """Every standard template opened and saved again as DOCX by LibreOffice, in one soffice run."""
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice (soffice) is needed: make system"
    env = {key: value for key, value in os.environ.items() if "proxy" not in key.lower()}
    with tempfile.TemporaryDirectory() as folder:
        sources = [shutil.copy(STANDARD / kind.template, folder) for kind in KINDS.values()]
        command = [soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{folder}/profile"]
        command += ["--convert-to", "docx:MS Word 2007 XML", "--outdir", f"{folder}/out", *sources]
        subprocess.run(command, env=env, capture_output=True, timeout=300, check=True)
        return {kind.name: (Path(folder) / "out" / kind.template).read_bytes() for kind in KINDS.values()}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_template_saved_by_libreoffice_passes(saved_by_libreoffice, kind):
    data = saved_by_libreoffice[kind]
    assert data != standard(KINDS[kind])
    result = check_template(data, KINDS[kind])
    assert result.problems == []
    assert set(codes(result.warnings)) <= {
        "template.split_tag",
        "template.smart_quotes",
        "template.non_breaking_space",
    }
    assert result.repaired is not None
