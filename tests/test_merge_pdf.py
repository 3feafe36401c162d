"""The streaming merge of pack.pdf on real pack PDFs: pages, text, bookmarks, what is kept and dropped, and
that it needs one open file at a time (tests/test_pack_archive.py has the pack's own merge tests)."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
import warnings
from pathlib import Path

import pikepdf
import pypdfium2
import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject

from service.packs.merge import merge_pdfs

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ROOT / "bench" / "merge_inputs"  # made by LibreOffice and fixed_pdf from the Bauska sample pack
COVER, DETAIL, DETAIL_2 = (
    INPUTS / name for name in ("cover-letter.pdf", "client-detail.pdf", "client-detail-2-pages.pdf")
)


def page_texts(pdf: bytes | Path) -> list[str]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [document[index].get_textpage().get_text_range() for index in range(len(document))]
    finally:
        document.close()


def page_pixels(pdf: bytes | Path, scale: float = 0.5) -> list[bytes]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [document[i].render(scale=scale).to_pil().tobytes() for i in range(len(document))]
    finally:
        document.close()


def read_cleanly(path: Path, caplog: pytest.LogCaptureFixture) -> PdfReader:
    """The merged file through qpdf (no warnings, no syntax errors) and pypdf in strict mode (no warning)."""
    checked = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0 and "No syntax or stream encoding errors" in checked.stdout, checked.stdout
    with pikepdf.open(path) as pdf:
        assert pdf.check_pdf_syntax() == []
        assert pdf.get_warnings() == []
    with warnings.catch_warnings(), caplog.at_level(logging.WARNING, logger="pypdf"):
        warnings.simplefilter("error")
        reader = PdfReader(path, strict=True)
        for page in reader.pages:
            page.extract_text()
    assert [r for r in caplog.records if r.name.startswith("pypdf")] == []
    return reader


def outline_rows(reader: PdfReader) -> list[tuple[int, str, int]]:
    def walk(items: list, depth: int) -> list[tuple[int, str, int]]:
        rows = []
        for item in items:
            if isinstance(item, list):
                rows += walk(item, depth + 1)
            else:
                rows.append((depth, item.title, reader.get_destination_page_number(item)))
        return rows

    return walk(reader.outline, 0)


def blank_pdf(width: int, pages: int = 1) -> bytes:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(width, 200))
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()


def test_real_parts_keep_their_pages_text_and_looks_in_order(tmp_path: Path, caplog) -> None:
    parts = [
        (["Pavadvēstule"], COVER),
        (["Klients 1", "Izklāsts"], DETAIL_2),
        (["Klients 2", "Izklāsts"], DETAIL),
    ]
    target = tmp_path / "pack.pdf"
    merge_pdfs(parts, target)
    reader = read_cleanly(target, caplog)
    expected = [text for _, source in parts for text in page_texts(source)]
    assert len(expected) == 4 and "KLIENTA PAKALPOJUMU IZKLĀSTS" in expected[1]
    assert page_texts(target) == expected
    assert page_pixels(target) == [pixels for _, source in parts for pixels in page_pixels(source)]
    assert outline_rows(reader) == [
        (0, "Pavadvēstule", 0),
        (0, "Klients 1", 1),
        (1, "Izklāsts", 1),
        (0, "Klients 2", 3),
        (1, "Izklāsts", 3),
    ]
    assert dict(reader.metadata or {}) == {"/Producer": "Veidlapas"}
    root = reader.trailer["/Root"]
    assert root["/PageMode"] == "/UseOutlines"
    assert set(root) == {"/Type", "/Pages", "/PageMode", "/Outlines"}  # no structure tree, /Lang, metadata


def test_identical_fonts_are_written_once_and_the_output_is_no_larger_than_the_inputs(tmp_path: Path) -> None:
    once, twice = tmp_path / "once.pdf", tmp_path / "twice.pdf"
    merge_pdfs([(["A"], DETAIL)], once)
    merge_pdfs([(["A"], DETAIL), (["B"], DETAIL.read_bytes())], twice)
    with pikepdf.open(once) as one, pikepdf.open(twice) as two:
        assert len(two.pages) == 2 and two.pages[0].objgen != two.pages[1].objgen
        fonts = [{font.objgen for font in page.Resources.Font.values()} for page in two.pages]
        assert fonts[0] == fonts[1]  # the second part reuses the first one's fonts
        assert len(two.objects) < 2 * len(one.objects)
    assert twice.stat().st_size < once.stat().st_size * 1.1
    assert once.stat().st_size < DETAIL.stat().st_size  # its structure tree is not copied


def test_deep_bookmarks_share_parents_and_start_closed(tmp_path: Path, caplog) -> None:
    parts = [
        (["Pieprasījums"], blank_pdf(100, 2)),
        (["Klienti", "Anna (\\) Bērziņa 😀"], blank_pdf(101)),
        (["Klienti", "Anna (\\) Bērziņa 😀", "Akts 2020-09"], blank_pdf(102)),
        (["Klienti", "Anna (\\) Bērziņa 😀", "Akts 2020-10"], blank_pdf(103)),
        (["Klienti", "Janis (a\\b))", "Akts 2020-09"], blank_pdf(104)),
        (["Pavadvēstule"], blank_pdf(105)),
    ]
    target = tmp_path / "pack.pdf"
    merge_pdfs(parts, target)
    reader = read_cleanly(target, caplog)
    assert [int(page.mediabox.width) for page in reader.pages] == [100, 100, 101, 102, 103, 104, 105]
    assert outline_rows(reader) == [
        (0, "Pieprasījums", 0),
        (0, "Klienti", 2),
        (1, "Anna (\\) Bērziņa 😀", 2),
        (2, "Akts 2020-09", 3),
        (2, "Akts 2020-10", 4),
        (1, "Janis (a\\b))", 5),
        (2, "Akts 2020-09", 5),
        (0, "Pavadvēstule", 6),
    ]
    outlines = reader.trailer["/Root"]["/Outlines"]
    assert outlines["/Count"] == 3  # the top level; every parent starts closed
    klienti = outlines["/First"]["/Next"]
    assert klienti["/Count"] == -2 and klienti["/First"]["/Count"] == -2
    document = pypdfium2.PdfDocument(target)
    assert [(item.level, item.get_title()) for item in document.get_toc()][:3] == [
        (0, "Pieprasījums"),
        (0, "Klienti"),
        (1, "Anna (\\) Bērziņa 😀"),
    ]
    document.close()


def test_inherited_resources_strings_that_look_like_references_and_cycles_survive(
    tmp_path: Path, caplog
) -> None:
    with pikepdf.open(DETAIL) as pdf:
        page = pdf.pages[0].obj
        link = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Annot,
                Subtype=pikepdf.Name.Link,
                Rect=[10, 10, 50, 50],
                Contents=pikepdf.String("see 1 0 R ) ( and \\ 2 0 R"),
                Dest=[page, pikepdf.Name.Fit],  # a link to its own page ...
                P=page,  # ... and back: a cycle
                Border=[0, 0, 0],
            )
        )
        page.Annots = pdf.make_indirect(pikepdf.Array([link]))
        pdf.Root.Names = pikepdf.Dictionary()  # dropped with the catalog
        annotated = io.BytesIO()
        pdf.save(annotated)
    writer = PdfWriter(clone_from=annotated)  # qpdf would write the inherited attributes onto the page
    tree, page = writer.root_object["/Pages"].get_object(), writer.pages[0]
    for name in ("/Resources", "/MediaBox"):  # inherited, as other producers write them
        tree[NameObject(name)] = page[name]
        del page[name]
    hand_made = io.BytesIO()
    writer.write(hand_made)
    assert "/Resources" in PdfReader(hand_made).trailer["/Root"]["/Pages"]
    target = tmp_path / "pack.pdf"
    merge_pdfs([(["Cits"], blank_pdf(99)), (["Izklāsts"], hand_made.getvalue())], target)
    read_cleanly(target, caplog)
    assert page_texts(target)[1] == page_texts(DETAIL)[0]
    assert page_pixels(target)[1] == page_pixels(DETAIL)[0]
    with pikepdf.open(target) as merged:
        page = merged.pages[1].obj
        annotation = page.Annots[0]
        assert str(annotation.Contents) == "see 1 0 R ) ( and \\ 2 0 R"
        assert annotation.P.objgen == annotation.Dest[0].objgen == page.objgen
        assert page.Parent.objgen == merged.Root.Pages.objgen


def test_form_fields_are_dropped_but_their_widgets_still_show(tmp_path: Path, caplog) -> None:
    form = ROOT / "samples" / "delivery-act-filled.pdf"
    target = tmp_path / "pack.pdf"
    merge_pdfs([(["Akts"], form)], target)
    read_cleanly(target, caplog)
    with pikepdf.open(form) as source, pikepdf.open(target) as merged:
        assert "/AcroForm" in source.Root and "/AcroForm" not in merged.Root
        for before, after in zip(source.pages, merged.pages, strict=True):
            assert len(after.Annots) == len(before.Annots) > 0
            assert all("/AP" in widget for widget in after.Annots if widget.get("/Subtype") == "/Widget")
    assert page_pixels(target) == page_pixels(form)


def test_more_sources_than_open_files_allowed(tmp_path: Path, caplog) -> None:
    """1 100 files merged in a process that may open 64 files at once (pikepdf's own merge cannot)."""
    sources = tmp_path / "parts"
    sources.mkdir()
    count = 1100
    for index in range(count):
        (sources / f"{index:05d}.pdf").write_bytes(blank_pdf(100 + index % 300))
    limited = (
        "import resource, sys; from pathlib import Path; import pikepdf;"
        "from service.packs.merge import merge_pdfs;"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64));"
        "files = sorted(Path(sys.argv[1]).iterdir());"
    )
    merge = "merge_pdfs([([f'K {i // 2}', f'Akts {i}'], f) for i, f in enumerate(files)], Path(sys.argv[2]))"
    all_open = "sources = [pikepdf.open(f) for f in files]"  # what pikepdf's merge needs: the limit bites
    target = tmp_path / "pack.pdf"
    command = [sys.executable, "-c", limited + all_open, str(sources), str(target)]
    refused = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert refused.returncode != 0 and "Too many open files" in refused.stderr
    command[2] = limited + merge
    subprocess.run(command, check=True, cwd=ROOT, timeout=300)
    reader = read_cleanly(target, caplog)
    assert [int(page.mediabox.width) for page in reader.pages] == [100 + i % 300 for i in range(count)]
    rows = outline_rows(reader)
    assert len(rows) == count + count // 2
    last = count - 1
    assert rows[-3:] == [
        (0, f"K {last // 2}", last - 1),
        (1, f"Akts {last - 1}", last - 1),
        (1, f"Akts {last}", last),
    ]


def test_a_bad_part_leaves_no_file_and_keeps_the_old_one(tmp_path: Path) -> None:
    target = tmp_path / "pack.pdf"
    merge_pdfs([(["A"], blank_pdf(100))], target)
    before = target.read_bytes()
    empty = pikepdf.new()
    no_pages = io.BytesIO()
    empty.save(no_pages)
    cases = [
        ([(["A"], DETAIL), (["B", "C"], b"%PDF-1.7 not really")], "B / C: not a readable PDF"),
        ([(["A"], DETAIL), (["B"], no_pages.getvalue())], "B: the PDF has no pages"),
        ([(["A"], DETAIL), (["B", " "], DETAIL)], "non-empty title path"),
        ([(["A"], DETAIL), (["B", "\ud800"], DETAIL)], "non-empty title path"),
        ([], "nothing to merge"),
    ]
    for parts, message in cases:
        with pytest.raises(ValueError, match=message):
            merge_pdfs(parts, target)
        assert target.read_bytes() == before
        assert [p.name for p in tmp_path.iterdir()] == ["pack.pdf"]


def test_same_parts_same_bytes_and_any_change_a_new_identifier(tmp_path: Path) -> None:
    parts = [(["Pavadvēstule"], COVER), (["Klients 1", "Izklāsts"], DETAIL)]
    merge_pdfs(parts, tmp_path / "a.pdf")
    merge_pdfs([(titles, source.read_bytes()) for titles, source in parts], tmp_path / "b.pdf")
    merge_pdfs([parts[0], (["Klients 2", "Izklāsts"], DETAIL)], tmp_path / "c.pdf")
    a, b, c = ((tmp_path / f"{name}.pdf").read_bytes() for name in "abc")
    assert a == b and a != c
    identifiers = [PdfReader(io.BytesIO(data)).trailer["/ID"][0] for data in (a, c)]
    assert identifiers[0] != identifiers[1] and len(identifiers[0]) == 16
    assert b"CreationDate" not in a and b"ModDate" not in a and b"<x:xmpmeta" not in a
