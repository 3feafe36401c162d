"""Reimbursement pack archives: safe member names, deterministic streamed ZIPs and the merged pack.pdf."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter

from service.packs.archive import MANIFEST_NAME, DuplicateMember, PackWriter, safe_member_name
from service.packs.merge import merge_pdfs

ROOT = Path(__file__).resolve().parent.parent
SAFE_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
RESERVED = re.compile(r"(?i)^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$")


def assert_safe(name: str) -> None:
    assert name.isascii()
    for part in name.split("/"):
        assert SAFE_PART.match(part), name
        assert ".." not in part and not part.endswith((".", "-"))
        assert 0 < len(part) <= 100
        assert not RESERVED.match(part)


# -- member names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hostile",
    [
        "../../etc/passwd",
        "..",
        ".",
        "/etc/shadow",
        "C:\\Windows\\win.ini",
        "\\\\server\\share",
        "Ēriks Gailītis",
        '=HYPERLINK("http://evil";"x")',
        "+cmd|' /C calc'!A0",
        "CON",
        "con.pdf",
        "LPT9",
        "Anna 😀 Bērziņa",
        "😀😀😀",
        "\x00",
        "a\x00b\r\nc\td",
        "\u202eFDP.exe",  # right-to-left override
        "ﬁle ＡＢＣ",  # ligature, full-width letters
        "   ",
        "-rf",
        "x" * 1000,
        "ž" * 300 + ".pdf",
        "Klients 1 — 150385-12346",
        "name.",
        "...hidden",
    ],
)
def test_hostile_names_become_safe(hostile: str) -> None:
    name = safe_member_name("klienti", hostile, hostile + ".pdf")
    assert_safe(name)
    assert name.count("/") == 2
    assert name == safe_member_name("klienti", hostile, hostile + ".pdf")


@given(st.lists(st.text(), min_size=1, max_size=3))
def test_any_text_gives_a_safe_name(parts: list[str]) -> None:
    assert_safe(safe_member_name(*parts))


def test_latvian_letters_fold_and_extensions_survive_truncation() -> None:
    assert safe_member_name("Ēriks Gailītis") == "Eriks-Gailitis"
    assert safe_member_name("Ģirts Ķēniņš-Ļaviņa") == "Girts-Kenins-Lavina"
    long = safe_member_name("Ā" * 300 + ".pdf")
    assert len(long) == 100 and long.endswith("A.pdf")


# -- the pack ZIP ---------------------------------------------------------------------------------------


def small_pdf(width: int, pages: int = 1) -> bytes:
    """A PDF of blank pages whose width tells the pages apart."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=width, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


CLIENTS = ["Ēriks Gailītis — 150385-12346", '=HYPERLINK("x") ../..', "Anna 😀 Bērziņa"]


def pack_parts() -> list[tuple[list[str], bytes]]:
    parts: list[tuple[list[str], bytes]] = [(["Pieprasījums"], small_pdf(100, pages=2))]
    for index, client in enumerate(CLIENTS, start=1):
        parts.append(([f"Klients {index} — {client}", "Detalizēta veidlapa"], small_pdf(200 + index)))
        parts.append(([f"Klients {index} — {client}", "Akts 2020-09"], small_pdf(300 + index, pages=index)))
    parts.append((["Pavadvēstule"], small_pdf(400)))
    return parts


def build_pack(directory: Path) -> tuple[Path, Path]:
    """Merge pack.pdf and write a pack the way the service does; the ZIP's and the PDF's paths."""
    directory.mkdir(parents=True, exist_ok=True)
    pdf = directory / "pack.pdf"
    merge_pdfs(pack_parts(), pdf)
    target = directory / "pack.zip"
    extra = {
        "counts": {"clients": len(CLIENTS), "acts": len(CLIENTS)},
        "totals": {"amount": Decimal("1234.50"), "esf": "1049.33"},
        "input_sha256": hashlib.sha256(b"input").hexdigest(),
        "generator": "veidlapas 0.1.0",
        "period": dt.date(2020, 9, 1),
        "issuer": "Rīgas Sociālais dienests",
    }
    with PackWriter(target, date_time=dt.date(2020, 10, 1), manifest=extra) as pack:
        pack.add("pieprasijums.docx", b"PK fake docx")
        pack.add("pieprasijums.pdf", small_pdf(100, pages=2))
        for index, client in enumerate(CLIENTS, start=1):
            folder = safe_member_name("klienti", f"{index:04d}-{client}")
            pack.add(f"{folder}/detalizeta-veidlapa.pdf", small_pdf(200 + index))
            pack.add(f"{folder}/akts-2020-09.pdf", small_pdf(300 + index, pages=index))
        pack.add("summary.xlsx", b"not really a spreadsheet" * 1000)
        pack.add_file("pack.pdf", pdf)
        pack.add("pavadvestule.pdf", small_pdf(400))
    return target, pdf


def test_pack_members_in_order_with_a_manifest_last(tmp_path: Path) -> None:
    target, pdf = build_pack(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack.pdf", "pack.zip"]  # no temp files left
    with zipfile.ZipFile(target) as zf:
        names = zf.namelist()
        assert names[:2] == ["pieprasijums.docx", "pieprasijums.pdf"]
        assert names[2] == "klienti/0001-Eriks-Gailitis-150385-12346/detalizeta-veidlapa.pdf"
        assert names[4] == "klienti/0002-HYPERLINK-x/detalizeta-veidlapa.pdf"
        assert names[-4:] == ["summary.xlsx", "pack.pdf", "pavadvestule.pdf", MANIFEST_NAME]
        for name in names:
            assert_safe(name)
        assert zf.comment == b""
        for info in zf.infolist():
            assert info.date_time == (2020, 10, 1, 0, 0, 0)
            assert info.create_system == 3
            assert info.external_attr >> 16 == 0o100644
            stored = info.filename.endswith((".docx", ".xlsx", ".pdf"))  # compressed already: not again
            assert info.compress_type == (zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
            assert info.extra == b"" and info.comment == b""

        raw = zf.read(MANIFEST_NAME)
        assert raw.endswith(b"}\n")
        manifest = json.loads(raw)
        assert [entry["name"] for entry in manifest["files"]] == names[:-1]
        for entry in manifest["files"]:
            data = zf.read(entry["name"])
            assert entry["sha256"] == hashlib.sha256(data).hexdigest()
            assert entry["size"] == len(data) == zf.getinfo(entry["name"]).file_size
        assert zf.read("pack.pdf") == pdf.read_bytes()
    assert manifest["totals"] == {"amount": "1234.50", "esf": "1049.33"}
    assert manifest["counts"] == {"clients": 3, "acts": 3}
    assert manifest["period"] == "2020-09-01"
    assert manifest["generator"] == "veidlapas 0.1.0"
    assert list(manifest) == sorted(manifest)
    assert "Rīgas Sociālais dienests".encode() in raw  # ensure_ascii=False


def test_same_input_gives_byte_identical_zip_and_pdf(tmp_path: Path) -> None:
    zip_a, pdf_a = build_pack(tmp_path / "a")
    zip_b, pdf_b = build_pack(tmp_path / "b")
    assert pdf_a.read_bytes() == pdf_b.read_bytes()
    assert zip_a.read_bytes() == zip_b.read_bytes()


def test_merged_pdf_is_identical_across_processes(tmp_path: Path) -> None:
    """No randomness from the interpreter either: another process with another hash seed."""
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    parts = []
    for index, (titles, data) in enumerate(pack_parts()):
        path = inputs / f"{index}.pdf"
        path.write_bytes(data)
        parts.append((titles, str(path)))
    (tmp_path / "parts.json").write_text(json.dumps(parts))
    script = (
        "import json, sys; from pathlib import Path; from service.packs.merge import merge_pdfs;"
        "parts = [(t, Path(p)) for t, p in json.loads(Path(sys.argv[1]).read_text())];"
        "merge_pdfs(parts, Path(sys.argv[2]))"
    )
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"out-{seed}.pdf"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / "parts.json"), str(out)],
            check=True,
            cwd=ROOT,
            env=env,
        )
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    here = tmp_path / "here.pdf"
    merge_pdfs([(titles, data) for titles, data in pack_parts()], here)
    assert here.read_bytes() == outputs[0]  # bytes and paths are the same input


def test_merged_pdf_has_bookmarks_pages_and_fixed_metadata(tmp_path: Path) -> None:
    _, pdf = build_pack(tmp_path)
    reader = PdfReader(pdf)
    parts = pack_parts()
    assert len(reader.pages) == sum(len(PdfReader(io.BytesIO(data)).pages) for _, data in parts) == 12
    widths = [int(page.mediabox.width) for page in reader.pages]
    assert widths == [100, 100, 201, 301, 202, 302, 302, 203, 303, 303, 303, 400]

    def flatten(outline: list, depth: int = 0) -> list[tuple[int, str, int]]:
        rows = []
        for item in outline:
            if isinstance(item, list):
                rows.extend(flatten(item, depth + 1))
            else:
                rows.append((depth, item.title, reader.get_destination_page_number(item)))
        return rows

    client = [f"Klients {i} — {c}" for i, c in enumerate(CLIENTS, start=1)]
    assert flatten(reader.outline) == [
        (0, "Pieprasījums", 0),
        (0, client[0], 2),
        (1, "Detalizēta veidlapa", 2),
        (1, "Akts 2020-09", 3),
        (0, client[1], 4),
        (1, "Detalizēta veidlapa", 4),
        (1, "Akts 2020-09", 5),
        (0, client[2], 7),
        (1, "Detalizēta veidlapa", 7),
        (1, "Akts 2020-09", 8),
        (0, "Pavadvēstule", 11),
    ]
    assert dict(reader.metadata or {}) == {"/Producer": "Veidlapas"}
    identifier = reader.trailer["/ID"]
    assert identifier[0] == identifier[1] and len(identifier[0]) == 16


def test_merge_ids_differ_with_input_and_a_part_can_parent_the_next(tmp_path: Path) -> None:
    merge_pdfs([(["A"], small_pdf(100)), (["A", "x"], small_pdf(101))], tmp_path / "one.pdf")
    merge_pdfs([(["A"], small_pdf(100)), (["A", "y"], small_pdf(101))], tmp_path / "two.pdf")
    one, two = PdfReader(tmp_path / "one.pdf"), PdfReader(tmp_path / "two.pdf")
    assert one.trailer["/ID"][0] != two.trailer["/ID"][0]
    assert one.outline[0].title == "A" and [item.title for item in one.outline[1]] == ["x"]


def test_merge_failure_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "pack.pdf"
    with pytest.raises(Exception):  # noqa: B017 - whatever pypdf raises for a non-PDF
        merge_pdfs([(["A"], small_pdf(100)), (["B"], b"not a pdf")], target)
    with pytest.raises(ValueError):
        merge_pdfs([([], small_pdf(100))], target)
    assert list(tmp_path.iterdir()) == []


# -- failures and refusals ------------------------------------------------------------------------------


def test_failure_inside_the_block_leaves_no_zip_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "pack.zip"
    with pytest.raises(RuntimeError, match="render failed"), PackWriter(target) as pack:
        pack.add("a.pdf", small_pdf(100))
        assert len(list(tmp_path.iterdir())) == 1  # the temp file, next to the target
        raise RuntimeError("render failed")
    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_an_earlier_pack_untouched(tmp_path: Path) -> None:
    target = tmp_path / "pack.zip"
    with PackWriter(target) as pack:
        pack.add("a.txt", b"first")
    before = target.read_bytes()
    with pytest.raises(KeyboardInterrupt), PackWriter(target) as pack:
        pack.add("a.txt", b"second")
        raise KeyboardInterrupt
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["pack.zip"]


def test_duplicate_and_unsafe_names_are_refused(tmp_path: Path) -> None:
    target = tmp_path / "pack.zip"
    with pytest.raises(DuplicateMember), PackWriter(target) as pack:
        pack.add("a.pdf", b"1")
        pack.add("A.PDF", b"2")  # the same file once unpacked on Windows or macOS
    assert list(tmp_path.iterdir()) == []
    with PackWriter(target) as pack:
        for bad in ("../evil", "/abs", "manifest.json", "a/../b", "", "CON", "a b"):
            with pytest.raises(ValueError):
                pack.add(bad, b"x")
        pack.add("a.pdf", b"1")
        with pytest.raises(DuplicateMember):
            pack.add_file("a.pdf", target.parent / "missing-is-not-reached")
    with zipfile.ZipFile(target) as zf:
        assert zf.namelist() == ["a.pdf", MANIFEST_NAME]
    with pytest.raises(ValueError):
        PackWriter(target, manifest={"files": []})


def test_streams_and_file_objects(tmp_path: Path) -> None:
    big = os.urandom(3 << 20)  # several chunks
    source = tmp_path / "big.bin"
    source.write_bytes(big)
    outputs = []
    for _ in range(2):
        buffer = io.BytesIO()
        with PackWriter(buffer) as pack:
            member = pack.add_file("big.bin", source)
            pack.add_stream("stream.bin", io.BytesIO(big[:1000]))
        outputs.append(buffer.getvalue())
        assert member.sha256 == hashlib.sha256(big).hexdigest() and member.size == len(big)
    assert outputs[0] == outputs[1]
    with zipfile.ZipFile(io.BytesIO(outputs[0])) as zf:
        assert zf.read("big.bin") == big and zf.read("stream.bin") == big[:1000]
        assert zf.getinfo("big.bin").date_time == (1980, 1, 1, 0, 0, 0)
        manifest = json.loads(zf.read(MANIFEST_NAME))
    assert manifest == {
        "files": [
            {"name": "big.bin", "sha256": hashlib.sha256(big).hexdigest(), "size": len(big)},
            {"name": "stream.bin", "sha256": hashlib.sha256(big[:1000]).hexdigest(), "size": 1000},
        ]
    }
