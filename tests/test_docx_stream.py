"""Documents rendered as a stream (``docx.CompiledTemplate.write``, ``Templates.render_to``): the file holds
the bytes ``render`` gives, every part is what transforming the whole rendered part at once gives (the
rejoined paragraphs, the resolved line breaks) however it is cut into pieces, and a template that renders
invalid XML, or the logo inside text, fails with ``RenderError`` and leaves no file."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from markupsafe import Markup

from bench.request_layout import request_of
from service.config import ROOT
from service.documents import KINDS, TemplateFailed, Templates, context, docx
from service.documents.inputs import DocumentInputs, TemplateRef
from service.documents.logo import drawing
from service.documents.municipal import MunicipalSettings
from service.files import atomic_file
from tests.docx_text import docx_text
from tests.helpers import load_sample
from tests.test_municipal_letterhead import LETTERHEADS, LOGO
from tests.test_template_check import BODY, PLAN, paragraph, run

REQUEST = KINDS["reimbursement-request"]
BAUSKA = DocumentInputs(MunicipalSettings("bauska"))
WITH_LOGO = DocumentInputs(MunicipalSettings("bauska", logo=LOGO))


@pytest.fixture(scope="module")
def templates() -> Templates:
    return Templates.of(ROOT / "templates_lv")


@pytest.fixture(scope="module")
def long_request() -> dict:
    return request_of(2000)


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return {name: package.read(name) for name in package.namelist()}


def whole_parts(compiled: docx.CompiledTemplate, kind, values, inputs: DocumentInputs) -> dict[str, bytes]:
    """The oracle: each templated part rendered whole, its paragraphs rejoined and its line breaks resolved
    on the whole string, as before rendering streamed."""
    seen = context(kind, values, inputs.settings)
    logo = inputs.settings.logo
    seen["municipality"] = {**seen["municipality"], "logo": drawing(logo) if logo else Markup()}
    parts = {}
    for name, template in compiled.parts.items():
        xml = re.sub(r"\n<w:p([ >])", r"<w:p\1", template.render(seen))
        parts[name] = docx._DOCXTPL.resolve_listing(xml).encode("utf-8")
    return parts


def streamed(templates: Templates, kind, values, inputs: DocumentInputs, folder: Path) -> bytes:
    """The document written by ``render_to``, checked to be the bytes of ``render``."""
    target = folder / "document.docx"
    templates.render_to(kind, values, inputs, target)
    data = target.read_bytes()
    assert data == templates.render(kind, values, inputs)
    return data


def assert_parts_as_whole(templates: Templates, kind, values, inputs: DocumentInputs, data: bytes) -> None:
    written = members(data)
    for name, xml in whole_parts(templates.get(kind), kind, values, inputs).items():
        assert written[name] == xml, name


@pytest.mark.parametrize("inputs", [BAUSKA, WITH_LOGO], ids=["no logo", "logo"])
@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_streamed_to_a_file_is_the_bytes_render_gives(templates, tmp_path, name, inputs):
    kind = KINDS[name]
    values = kind.schema().load(load_sample(kind.sample_files()[0].stem))
    data = streamed(templates, kind, values, inputs, tmp_path)
    assert_parts_as_whole(templates, kind, values, inputs, data)
    assert ("word/media/veidlapas-logo.png" in members(data)) == (inputs is WITH_LOGO and name in LETTERHEADS)
    assert docx_text(data)


@pytest.mark.parametrize("inputs", [BAUSKA, WITH_LOGO], ids=["no logo", "logo"])
def test_a_request_of_2000_rows_in_many_pieces_is_what_the_whole_part_gives(
    templates, tmp_path, long_request, inputs
):
    data = streamed(templates, REQUEST, long_request, inputs, tmp_path)
    body = members(data)[BODY]
    assert len(body) > 3 * docx.PIECE  # many pieces
    assert_parts_as_whole(templates, REQUEST, long_request, inputs, data)
    text = docx_text(data)
    assert all(row["name"] in text for row in long_request["rows"][::97])
    short = members(templates.render(REQUEST, request_of(3), inputs))[BODY]
    assert body.count(b"<w:tbl>") == short.count(b"<w:tbl>") + 9 and len(long_request["tables"]) == 10


def test_line_breaks_are_resolved_however_the_part_is_cut(templates, tmp_path, monkeypatch):
    kind = KINDS["service-agreement"]
    values = kind.schema().load(load_sample(kind.sample_files()[0].stem))
    inputs = DocumentInputs(MunicipalSettings("bauska", clauses={"payment_terms": "Pirmā rinda\nOtrā rinda"}))
    whole = streamed(templates, kind, values, inputs, tmp_path)
    assert b"Pirm\xc4\x81 rinda</w:t><w:br/>" in members(whole)[BODY]
    for piece in (1, 97, 4096):  # a cut after nearly every paragraph, and a few
        monkeypatch.setattr(docx, "PIECE", piece)
        assert streamed(templates, kind, values, inputs, tmp_path) == whole
    assert_parts_as_whole(templates, kind, values, inputs, whole)


W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def package(body: str) -> bytes:
    """A DOCX of one part, ``body`` its paragraphs."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        xml = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<w:document xmlns:w="{W}">'
        archive.writestr(BODY, f"{xml}<w:body>{body}</w:body></w:document>")
    return out.getvalue()


def compiled(templates: Templates, body: str) -> docx.CompiledTemplate:
    return docx.CompiledTemplate.from_bytes("test.docx", package(body), templates.environment)


class Chunks:
    """A part's template that yields the given chunks, as Jinja's ``generate`` does."""

    def __init__(self, *chunks: str) -> None:
        self.chunks = chunks

    def generate(self, context) -> list[str]:
        return list(self.chunks)


def test_a_chunk_boundary_anywhere_in_the_line_break_before_a_paragraph_still_rejoins(
    templates, tmp_path, monkeypatch
):
    template = compiled(templates, paragraph(run("{{ 'eins' }}")))
    head = f'<?xml version="1.0"?>\r\n<w:document xmlns:w="{W}"><w:body>'
    text = f"{head}{paragraph(run('eins'))}\n{paragraph(run('zwei'))}\n<w:p/></w:body></w:document>"
    monkeypatch.setattr(docx, "PIECE", 1)  # a cut tried after every chunk
    for at in range(len(head), len(text)):
        template.parts[BODY] = Chunks(text[:at], text[at:])
        body = members(template.render({}))[BODY]
        assert body == re.sub(r"\n<w:p([ >])", r"<w:p\1", text).encode(), at
    assert b"eins</w:t></w:r></w:p><w:p><w:r>" in body
    assert b"</w:p>\n<w:p/>" in body  # prepare splits only "<w:p " and "<w:p>": this one is not its


@pytest.mark.parametrize("piece", [1, 256 * 1024], ids=["many pieces", "one piece"])
def test_invalid_xml_from_a_template_is_a_render_error_and_leaves_no_file(
    templates, tmp_path, monkeypatch, piece
):
    monkeypatch.setattr(docx, "PIECE", piece)
    rows = "".join(paragraph(run(f"rinda {number}")) for number in range(50))
    template = compiled(templates, rows + "{% if true %}<w:p><w:r>{% endif %}")
    ref = TemplateRef("own", 3, "sha-invalid", package(rows + "{% if true %}<w:p><w:r>{% endif %}"))
    target = tmp_path / "parts" / "document.docx"
    invalid = re.escape("test.docx: word/document.xml rendered to invalid XML")
    with pytest.raises(docx.RenderError, match=invalid), atomic_file(target) as out:  # as render_to writes
        template.write({}, out)
    assert not target.exists()
    with pytest.raises(TemplateFailed) as failed:
        templates.render_to(PLAN, {}, DocumentInputs(None, ref), target)
    assert failed.value.problem.code == "template.render_failed"
    assert not target.exists()
    assert list(target.parent.iterdir()) == []  # nor its temporary file


@pytest.mark.parametrize("piece", [1, 256 * 1024], ids=["many pieces", "one piece"])
def test_the_logo_inside_text_is_a_render_error_in_any_piece(templates, monkeypatch, piece):
    monkeypatch.setattr(docx, "PIECE", piece)
    rows = "".join(paragraph(run(f"rinda {number}")) for number in range(50))
    template = compiled(templates, rows + paragraph(run("Logo: {{ municipality.logo }}")))
    with pytest.raises(docx.RenderError, match="prints the logo inside text"):
        template.render({}, logo=LOGO)
    assert b"rinda 49" in members(template.render({}))[BODY]  # without a logo nothing is printed
