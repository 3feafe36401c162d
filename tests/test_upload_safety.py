"""Hostile uploads: every bad file is refused with its code, and the test process is fine afterwards.

The checks before parsing (``sniff``, ``inspect_pdf``, ``inspect_docx``) run here; the parser runs
through ``run_limited`` in a child process, with the small parsing functions below (module level, so
they can be pickled). Nothing is timed: a case that hung would show as a slow or stuck suite, and the
timeouts given to ``run_limited`` are small so the file stays quick.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import random
import resource
import signal
import struct
import zipfile
import zlib
from dataclasses import fields
from pathlib import Path

import pypdf
import pytest
from pypdf.generic import DecodedStreamObject, NameObject

from schemas.errors import MESSAGES
from service.forms.parsers import POOLED
from service.forms.uploads import (
    PYPDF_LIMITS,
    ParseLimit,
    ParseRejected,
    ParseTimeout,
    UploadLimits,
    UploadRejected,
    check,
    check_size,
    inspect_docx,
    inspect_pdf,
    run_limited,
    sniff,
)

ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024
PARENT_ADDRESS_LIMIT = resource.getrlimit(resource.RLIMIT_AS)


# --- parsing functions run in the child ----------------------------------------------------------


class FormError(Exception):
    """Stands in for the forms module's coded error."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code


def parse_pdf(data: bytes) -> int:
    """What a form parser does first: open, refuse encryption, read every page's content."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        raise FormError("form.encrypted", "the PDF is encrypted")
    for page in reader.pages:
        contents = page.get_contents()
        if contents is not None:
            contents.get_data()
    return len(reader.pages)


def inflate_first_stream(data: bytes) -> int:
    """Inflate the first stream without pypdf's limits: only the memory limit stops it."""
    start = data.index(b"stream\n") + len(b"stream\n")
    return len(zlib.decompress(data[start : data.index(b"\nendstream")]))


def spin(data: bytes) -> None:
    while True:
        pass


def die(data: bytes) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def fail_quoting(data: bytes) -> None:
    raise ValueError(f"cannot read {data[:40]!r}")


def fail_with_a_foreign_code(data: bytes) -> None:
    raise FormError("vendor.broken", f"cannot read {data[:40]!r}")


def code_of(call, *args, **kwargs) -> str:
    with pytest.raises(UploadRejected) as caught:
        call(*args, **kwargs)
    assert caught.value.code in MESSAGES or caught.value.code.startswith("form.")
    return caught.value.code


# --- building PDFs -------------------------------------------------------------------------------


def make_pdf(*objects: bytes, prev_self: bool = False) -> bytes:
    """A PDF of numbered objects (1 is the catalog) with a correct xref table; ``prev_self`` makes the
    trailer's /Prev point at its own xref section."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    prev = b" /Prev %d" % xref if prev_self else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, prev, xref)
    return bytes(out)


CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>"


def valid_pdf() -> bytes:
    writer = pypdf.PdfWriter()
    page = writer.add_blank_page(595, 842)
    content = DecodedStreamObject()
    content.set_data(b"BT /F1 12 Tf 72 720 Td (Pakalpojuma sniegsanas akts) Tj ET")
    page[NameObject("/Contents")] = writer._add_object(content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted_pdf() -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(valid_pdf())))
    writer.encrypt("slepens", algorithm="RC4-128")  # RC4 needs no extra crypto library
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def zeros_zlib(mib: int) -> bytes:
    """A zlib stream of ``mib`` MiB of zeros (~1 KB per MiB), built without compressing them all:
    after a full flush every MiB of zeros compresses to the same bytes, so one block is repeated."""
    compressor = zlib.compressobj(9)
    chunk = bytes(MiB)
    first = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert first[2:] == block  # the zlib header, then the same block
    checksum = 1
    for _ in range(mib):
        checksum = zlib.adler32(chunk, checksum)
    return first + block * (mib - 1) + b"\x03\x00" + struct.pack(">I", checksum)


def flate_bomb_pdf(mib: int = 300) -> bytes:
    stream = zeros_zlib(mib)
    content = b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(stream), stream)
    return make_pdf(CATALOG, PAGES, PAGE, content)


# --- building DOCX packages ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def valid_docx() -> bytes:
    """A delivery act rendered by the project itself."""
    from service.documents import KINDS, Templates

    kind = KINDS["delivery-act"]
    sample = json.loads((ROOT / "samples" / "delivery-act-adult-aplp.json").read_text(encoding="utf-8"))
    return Templates.of(ROOT / "templates_lv").render(kind, kind.schema().load(sample))


def rebuild(
    docx: bytes, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None
) -> bytes:
    """The package with some parts replaced and others added (names taken as given)."""
    replace, add = replace or {}, add or {}
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(docx)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(info.filename, replace.get(info.filename, source.read(info)))
        for name, data in add.items():
            target.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def part(docx: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        return package.read(name)


def declare(
    package: bytes, name: str, *, file_size: int | None = None, compress_size: int | None = None
) -> bytes:
    """The ZIP with the sizes of ``name`` changed in its local header and central directory entry."""
    data = bytearray(package)
    encoded = name.encode()
    for signature, csize_at, name_at in ((b"PK\x03\x04", 18, 30), (b"PK\x01\x02", 20, 46)):
        at = data.find(signature)
        while at >= 0 and data[at + name_at : at + name_at + len(encoded)] != encoded:
            at = data.find(signature, at + 1)
        assert at >= 0, f"{name} not found"
        if compress_size is not None:
            data[at + csize_at : at + csize_at + 4] = struct.pack("<I", compress_size)
        if file_size is not None:
            data[at + csize_at + 4 : at + csize_at + 8] = struct.pack("<I", file_size)
    return bytes(data)


LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10 if i > 1 else b"&lol;" * 10)
        for i in range(1, 10)
    )
    + b"]>\n"
)


def with_doctype(xml: bytes) -> bytes:
    """The XML part with a billion-laughs DOCTYPE after its declaration and the entity used once."""
    body = xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else xml
    return LAUGHS + body.replace(b"</Relationships>", b"<!-- &lol9; --></Relationships>")


EXTERNAL = (
    b'<Relationship Id="rIdEvil" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    b'attachedTemplate" Target="https://example.invalid/template.dotm" TargetMode="External"/>'
)


# --- size and type -------------------------------------------------------------------------------


def test_empty_file():
    assert code_of(sniff, b"") == "upload.empty"
    assert code_of(inspect_pdf, b"") == "upload.empty"


def test_too_large():
    assert code_of(check_size, b"x" * 1001, 1000) == "upload.too_large"
    check_size(b"x" * 1000, 1000)


def test_html_renamed_pdf():
    html = b"<!DOCTYPE html>\n<html><head><title>veidlapa.pdf</title></head><body>PDF</body></html>"
    assert code_of(sniff, html) == "upload.unknown_type"
    assert code_of(inspect_pdf, html) == "upload.unknown_type"


def test_random_bytes():
    noise = random.Random(20250905).randbytes(64 * 1024)
    assert code_of(sniff, noise) == "upload.unknown_type"
    assert code_of(check, noise, UploadLimits(max_bytes=MiB)) == "upload.unknown_type"


def test_zip_that_is_not_a_docx():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("notes.txt", "not a document")
    assert code_of(sniff, out.getvalue()) == "upload.unknown_type"


def test_spreadsheet_is_not_a_docx(valid_docx):
    types = part(valid_docx, "[Content_Types].xml").replace(
        b"wordprocessingml.document.main+xml", b"spreadsheetml.sheet.main+xml"
    )
    assert (
        code_of(sniff, rebuild(valid_docx, replace={"[Content_Types].xml": types})) == "upload.unknown_type"
    )


def test_header_within_the_first_kilobyte_is_a_pdf():
    assert sniff(b"\x00" * 1000 + valid_pdf()) == "pdf"
    assert code_of(sniff, b"\x00" * 1024 + valid_pdf()) == "upload.unknown_type"


# --- PDF -----------------------------------------------------------------------------------------


def test_valid_pdf_passes():
    data = valid_pdf()
    assert sniff(data) == "pdf"
    inspect_pdf(data)
    assert check(data, UploadLimits(max_bytes=MiB)) == "pdf"
    assert run_limited(parse_pdf, data, timeout_s=5) == 1


def test_truncated_pdf():
    data = valid_pdf()
    half = data[: len(data) // 2]
    assert sniff(half) == "pdf"
    assert code_of(inspect_pdf, half) == "upload.corrupt"
    assert code_of(check, half, UploadLimits(max_bytes=MiB)) == "upload.corrupt"


def test_encrypted_pdf_is_refused_by_the_parser():
    data = encrypted_pdf()
    assert check(data, UploadLimits(max_bytes=MiB)) == "pdf"
    with pytest.raises(ParseRejected) as caught:
        run_limited(parse_pdf, data, timeout_s=5)
    assert caught.value.code == "form.encrypted"
    assert caught.value.detail == "the PDF is encrypted"


def test_zeros_zlib_is_what_it_says():
    assert zlib.decompress(zeros_zlib(3)) == bytes(3 * MiB)


def test_flate_bomb_stopped_by_pypdf_limits():
    data = flate_bomb_pdf(300)
    assert len(data) < MiB
    assert (
        check(data, UploadLimits(max_bytes=MiB)) == "pdf"
    )  # nothing wrong on the surface: the parser must cope
    assert code_of(run_limited, parse_pdf, data, timeout_s=5, memory_bytes=256 * MiB) == "upload.parse_limit"


def test_flate_bomb_stopped_by_the_memory_limit():
    """The same bomb inflated without pypdf's limits: the child's address-space limit stops it."""
    data = flate_bomb_pdf(300)
    with pytest.raises(ParseLimit):
        run_limited(inflate_first_stream, data, timeout_s=5, memory_bytes=256 * MiB)


LOOPS = {
    "prev-to-itself-and-cyclic-kids": make_pdf(
        CATALOG,
        b"<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 1 >>",
        PAGE,
        b"<< /Length 0 >>\nstream\n\nendstream",
        prev_self=True,
    ),
    "pages-kid-of-itself": make_pdf(CATALOG, b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>"),
    "two-pages-nodes-in-a-cycle": make_pdf(
        CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>"
    ),
    "length-refers-to-itself": make_pdf(
        CATALOG, PAGES, PAGE, b"<< /Length 4 0 R >>\nstream\nBT ET\nendstream"
    ),
}


@pytest.mark.parametrize("name", LOOPS)
def test_reference_loops_end(name):
    data = LOOPS[name]
    inspect_pdf(data)
    assert code_of(run_limited, parse_pdf, data, timeout_s=3) in {
        "upload.parse_timeout",
        "upload.unreadable",
        "upload.parse_limit",
    }


def test_prev_pointing_at_itself_ends():
    """A self-referencing /Prev alone is broken off by pypdf: the parse ends, one way or the other."""
    data = make_pdf(CATALOG, PAGES, PAGE, b"<< /Length 5 >>\nstream\nBT ET\nendstream", prev_self=True)
    try:
        assert run_limited(parse_pdf, data, timeout_s=3) == 1
    except UploadRejected as refused:
        assert refused.code in {"upload.parse_timeout", "upload.unreadable", "upload.parse_limit"}


def test_parser_that_hangs_is_killed():
    with pytest.raises(ParseTimeout) as caught:
        run_limited(spin, b"%PDF-1.7", timeout_s=1)
    assert caught.value.code == "upload.parse_timeout"


def test_parser_that_dies_is_a_limit():
    assert code_of(run_limited, die, b"%PDF-1.7", timeout_s=5) == "upload.parse_limit"


def test_other_errors_are_unreadable_without_quoting_the_document():
    with pytest.raises(ParseRejected) as caught:
        run_limited(fail_quoting, b"Janis Berzins 010203-12345", timeout_s=5)
    assert caught.value.code == "upload.unreadable"
    assert "Berzins" not in str(caught.value)


def test_a_code_outside_the_catalogue_from_the_child_is_unreadable():
    with pytest.raises(ParseRejected) as caught:
        run_limited(fail_with_a_foreign_code, b"Janis Berzins 010203-12345", timeout_s=5)
    assert caught.value.code == "upload.unreadable"
    assert "Berzins" not in str(caught.value)


def test_only_module_level_functions():
    with pytest.raises(TypeError):
        run_limited(lambda data: data, b"")


def test_pypdf_limits_exist_in_this_pypdf():
    """Every limit we set is a field of the installed pypdf's Configuration (none silently dropped)."""
    assert set(PYPDF_LIMITS) <= {field.name for field in fields(pypdf.Configuration)}


# --- DOCX ----------------------------------------------------------------------------------------


def test_valid_docx_passes(valid_docx):
    assert sniff(valid_docx) == "docx"
    inspect_docx(valid_docx)
    assert check(valid_docx, UploadLimits(max_bytes=10 * MiB)) == "docx"


def test_truncated_docx(valid_docx):
    assert code_of(sniff, valid_docx[: len(valid_docx) // 2]) == "upload.corrupt"
    assert code_of(inspect_docx, valid_docx[: len(valid_docx) // 2]) == "upload.corrupt"


def test_docx_zip_bomb_by_ratio(valid_docx):
    """20 MiB of zeros really compressed (~20 KB): refused by the ratio, nothing inflated."""
    bomb = rebuild(valid_docx, add={"word/media/image1.png": bytes(20 * MiB)})
    assert len(bomb) < MiB
    assert code_of(inspect_docx, bomb) == "upload.zip_bomb"


def test_docx_zip_bomb_declared_gigabyte(valid_docx):
    """An entry whose directory declares 1 GiB: refused by the total, nothing inflated."""
    bomb = declare(
        rebuild(valid_docx, add={"word/media/zeros.bin": b"\0" * 1000}),
        "word/media/zeros.bin",
        file_size=1 << 30,
    )
    assert code_of(inspect_docx, bomb) == "upload.zip_bomb"


def test_docx_zip_bomb_by_overall_ratio(valid_docx):
    """Thirty entries of 1 MiB zeros each, every one under the per-entry threshold: the total ratio."""
    bomb = rebuild(valid_docx, add={f"word/media/image{i}.png": bytes(MiB) for i in range(30)})
    assert code_of(inspect_docx, bomb) == "upload.zip_bomb"


def test_docx_member_beyond_the_end(valid_docx):
    lying = declare(valid_docx, "word/document.xml", compress_size=len(valid_docx) * 2)
    assert code_of(inspect_docx, lying) == "upload.corrupt"


def test_too_many_entries(valid_docx):
    crowded = rebuild(valid_docx, add={f"customXml/item{i}.bin": b"x" for i in range(200)})
    assert code_of(inspect_docx, crowded) == "upload.too_many_entries"
    inspect_docx(crowded, UploadLimits(max_entries=300))


@pytest.mark.parametrize(
    "name",
    [
        "../../evil",
        "word/../../evil.xml",
        "/etc/cron.d/evil",
        "C:/Windows/evil.dll",
        "word\\..\\evil",
        "word//x.xml",
    ],
)
def test_bad_member_names(valid_docx, name):
    bad = rebuild(valid_docx, add={name: b"evil"})
    assert sniff(bad) == "docx"  # the type is right; the package is not
    assert code_of(inspect_docx, bad) == "upload.bad_member_name"


def test_duplicate_member_names(valid_docx):
    twice = rebuild(valid_docx, add={"WORD/document.xml": part(valid_docx, "word/document.xml")})
    assert code_of(inspect_docx, twice) == "upload.bad_member_name"


def test_docm_renamed_docx(valid_docx):
    types = part(valid_docx, "[Content_Types].xml").replace(
        b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        b"application/vnd.ms-word.document.macroEnabled.main+xml",
    )
    types = types.replace(
        b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>'
    )
    docm = rebuild(
        valid_docx, replace={"[Content_Types].xml": types}, add={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0"}
    )
    assert code_of(sniff, docm) == "upload.macro_document"
    assert code_of(inspect_docx, docm) == "upload.macro_document"
    assert code_of(check, docm, UploadLimits(max_bytes=10 * MiB)) == "upload.macro_document"


def test_macro_content_type_alone(valid_docx):
    vba_data = b'<Override PartName="/word/vbaData.xml" ContentType="application/vnd.ms-word.vbaData+xml"/>'
    types = part(valid_docx, "[Content_Types].xml").replace(b"</Types>", vba_data + b"</Types>")
    assert (
        code_of(sniff, rebuild(valid_docx, replace={"[Content_Types].xml": types})) == "upload.macro_document"
    )


def test_vba_project_in_a_docx(valid_docx):
    sneaky = rebuild(valid_docx, add={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0"})
    assert code_of(sniff, sneaky) == "upload.macro_document"
    assert code_of(inspect_docx, sneaky) == "upload.macro_document"


def test_external_relationship(valid_docx):
    name = "word/_rels/document.xml.rels"
    rels = part(valid_docx, name).replace(b"</Relationships>", EXTERNAL + b"</Relationships>")
    assert code_of(inspect_docx, rebuild(valid_docx, replace={name: rels})) == "upload.external_target"


@pytest.mark.parametrize("name", ["_rels/.rels", "word/_rels/document.xml.rels", "[Content_Types].xml"])
def test_doctype_in_a_part_we_parse(valid_docx, name):
    laughing = rebuild(valid_docx, replace={name: with_doctype(part(valid_docx, name))})
    assert code_of(inspect_docx, laughing) == "upload.doctype"


def test_doctype_in_the_document(valid_docx):
    name = "word/document.xml"
    laughing = rebuild(valid_docx, replace={name: with_doctype(part(valid_docx, name))})
    assert sniff(laughing) == "docx"
    assert code_of(inspect_docx, laughing) == "upload.doctype"


def test_doctype_after_comments_and_in_utf16(valid_docx):
    name = "word/document.xml"
    xml = part(valid_docx, name)
    commented = (
        b'<?xml version="1.0"?>\n<!-- a -->\n<?pi x?>\n<!doctype w:document SYSTEM "x">'
        + xml.split(b"?>", 1)[1]
    )
    assert code_of(inspect_docx, rebuild(valid_docx, replace={name: commented})) == "upload.doctype"
    utf16 = (
        with_doctype(xml)
        .decode("utf-8")
        .replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    )
    encoded = b"\xff\xfe" + utf16.encode("utf-16-le")
    assert code_of(inspect_docx, rebuild(valid_docx, replace={name: encoded})) == "upload.doctype"


# --- the exceptions and the catalog --------------------------------------------------------------


def test_every_code_has_an_english_message_in_the_one_catalogue():
    codes = {
        "upload.empty",
        "upload.too_large",
        "upload.unknown_type",
        "upload.macro_document",
        "upload.corrupt",
        "upload.zip_bomb",
        "upload.too_many_entries",
        "upload.bad_member_name",
        "upload.external_target",
        "upload.doctype",
        "upload.parse_timeout",
        "upload.parse_limit",
        "upload.unreadable",
    }
    assert codes <= MESSAGES.keys()
    assert all(MESSAGES[code].endswith(".") and MESSAGES[code][0].isupper() for code in codes)


def test_the_upload_module_imports_neither_flask_nor_the_api():
    """A low layer: every reader (forms, tables, the CLI) may import it without the web application; of the
    service it needs only its limits, from the settings, and the fork server its parsers start from."""
    import ast

    source = (ROOT / "service" / "forms" / "uploads.py").read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module == "service":
            imported |= {f"service.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    outside = {name for name in imported if name.split(".")[0] in ("flask", "flask_smorest", "service")}
    assert outside == {"service.config", "service.forking"}


def test_exceptions_pickle_with_their_codes():
    import pickle

    for error in (
        UploadRejected("upload.corrupt", "x"),
        ParseTimeout(),
        ParseLimit("y"),
        ParseRejected("form.xfa"),
    ):
        again = pickle.loads(pickle.dumps(error))
        assert (type(again), again.code, again.detail) == (type(error), error.code, error.detail)


# --- and afterwards ------------------------------------------------------------------------------


def test_zz_the_process_is_fine_afterwards():
    """After every hostile case: no child left (but the warm form parsers, if a test used them), no limit
    leaked into this process, parsing still works."""
    assert [child for child in multiprocessing.active_children() if child.name != POOLED] == []
    assert resource.getrlimit(resource.RLIMIT_AS) == PARENT_ADDRESS_LIMIT
    assert run_limited(parse_pdf, valid_pdf(), timeout_s=5) == 1
    assert bytearray(64 * MiB)  # this process can still allocate what the children could not
