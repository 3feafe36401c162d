"""PDF conversion with the real LibreOffice: Latvian letters, embedded fonts, PDF/A, timeouts, restarts,
back-pressure, and documents that try to reach outside themselves.

No mocks: every test drives real ``soffice`` processes through ``service.documents.pdf``. When LibreOffice,
its Python UNO bridge or poppler-utils is missing, the tests fail and say how to install them — they are
never skipped. Most tests share one pool; those that kill, restart or starve workers get their own.
"""

from __future__ import annotations

import http.server
import io
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

import pytest
from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml.ns import qn
from pypdf import PdfReader

from service.config import SettingsError, from_environment
from service.documents import KINDS, Templates
from service.documents.pdf import (
    INSTALL_HINT,
    ConversionFailed,
    ConversionPool,
    ConversionTimeout,
    ConverterUnavailable,
    PoolBusy,
)

ROOT = Path(__file__).resolve().parent.parent
LETTERS = "ā č ē ģ ī ķ ļ ņ š ū ž"
POPPLER = ("pdftotext", "pdffonts", "pdfinfo", "pdfimages")


def require_tools() -> None:
    missing = [tool for tool in POPPLER if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing (poppler-utils); {INSTALL_HINT}", pytrace=False)


def started_pool(**settings) -> ConversionPool:
    """A pool whose workers are up, or a failed test saying what to install."""
    require_tools()
    pool = ConversionPool(**settings)
    try:
        pool.start(wait=True)
    except ConverterUnavailable as error:
        pool.close()
        pytest.fail(f"LibreOffice cannot run here: {error}", pytrace=False)
    return pool


@pytest.fixture(scope="module")
def pool():
    pool = started_pool(size=2)
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def plan_docx() -> bytes:
    """The adult support plan sample, with every Latvian diacritic letter in a text field."""
    data = json.loads((ROOT / "samples" / "support-plan-adult-support-person.json").read_text("utf-8"))
    data["needs_assessment"]["strengths"] = f"Burti: {LETTERS}; lielie: {LETTERS.upper()}."
    kind = KINDS["support-plan"]
    return Templates.of(ROOT / "templates_lv").render(kind, kind.schema().load(data))


def run(tool: str, *args: str, pdf: bytes) -> str:
    """A poppler tool's output for ``pdf`` (written to a file: not every tool reads stdin)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        command = [tool, *args, file.name] + (["-"] if tool == "pdftotext" else [])
        return subprocess.run(command, capture_output=True, check=True).stdout.decode("utf-8")


def text_of(pdf: bytes) -> str:
    """The PDF's text without whitespace (pdftotext drops or adds spaces in justified lines)."""
    return "".join(run("pdftotext", "-enc", "UTF-8", pdf=pdf).split())


def fonts_of(pdf: bytes) -> list[dict[str, str]]:
    """``pdffonts`` rows: name and whether the font is embedded."""
    rows = [row.split() for row in run("pdffonts", pdf=pdf).splitlines()[2:] if row.strip()]
    return [{"name": row[0], "emb": row[-5]} for row in rows]


def image_count(pdf: bytes) -> int:
    return len(run("pdfimages", "-list", pdf=pdf).splitlines()[2:])


def pdfa_part(pdf: bytes) -> str | None:
    """The PDF/A part the XMP metadata declares (element or attribute form), if any."""
    meta = run("pdfinfo", "-meta", pdf=pdf)
    found = re.search(r"pdfaid:part(?:>|=\")\s*(\d)", meta)
    return found.group(1) if found else None


# -- processes -------------------------------------------------------------------------------------------


def process_groups_of_workers() -> set[int]:
    """Process groups of this test process's LibreOffice workers (each worker leads its own)."""
    groups = set()
    for pid in _pids():
        stat = _stat(pid)
        if stat and stat["ppid"] == os.getpid() and b"uno_worker.py" in _cmdline(pid):
            groups.add(pid)
    return groups


def live_members(group: int) -> list[str]:
    """The processes still alive (not zombies) in ``group``, as "pid name"."""
    members = []
    for pid in _pids():
        stat = _stat(pid)
        if stat and stat["pgrp"] == group and stat["state"] != "Z":
            members.append(f"{pid} {stat['name']}")
    return members


def _pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def _stat(pid: int) -> dict | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text("ascii", "replace")
    except OSError:
        return None
    name, rest = raw[raw.index("(") + 1 : raw.rindex(")")], raw[raw.rindex(")") + 2 :].split()
    return {"name": name, "state": rest[0], "ppid": int(rest[1]), "pgrp": int(rest[2])}


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def wait_for(condition, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


# -- content ---------------------------------------------------------------------------------------------


def test_support_plan_pdf_has_latvian_letters_and_embedded_fonts(pool, plan_docx):
    pdf = pool.convert(plan_docx)

    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    for expected in ("ĒriksGailītis", "LīgaŽagare", "Ķēniņuiela3", "".join(LETTERS.split())):
        assert expected in text
    assert "".join(LETTERS.upper().split()) in text
    fonts = fonts_of(pdf)
    assert fonts, "the PDF has no fonts"
    assert all(font["emb"] == "yes" for font in fonts), fonts
    assert pdfa_part(pdf) is None


def test_pdfa_output_declares_pdfa_2_and_embeds_fonts(pool, plan_docx):
    pdf = pool.convert(plan_docx, pdfa=True)

    assert pdfa_part(pdf) == "2"
    assert all(font["emb"] == "yes" for font in fonts_of(pdf))
    assert "ĒriksGailītis" in text_of(pdf)


def test_something_that_is_not_a_docx_fails_and_the_pool_goes_on(pool, plan_docx):
    with pytest.raises(ConversionFailed):
        pool.convert(b"PK\x03\x04 this is not an office document")

    assert pool.convert(plan_docx).startswith(b"%PDF-")
    assert pool.state()["last_error"] == "ConversionFailed"


def test_state_reports_counts_only(pool):
    state = pool.state()

    assert state["size"] == 2 and state["installed"] is True
    assert state["conversions"] >= 1
    assert {"busy", "waiting", "restarts", "replacements", "failures", "timeouts", "rejected"} <= set(state)
    named = ("last_error", "allocator", "preloaded")
    assert all(
        value is None or isinstance(value, bool | int) for key, value in state.items() if key not in named
    )
    json.dumps(state)


# -- supervision -----------------------------------------------------------------------------------------


def test_timeout_kills_the_whole_office_and_a_fresh_one_takes_over(plan_docx):
    before = process_groups_of_workers()
    pool = started_pool(size=1)
    try:
        (group,) = process_groups_of_workers() - before
        assert any("soffice.bin" in member for member in live_members(group)), live_members(group)

        with pytest.raises(ConversionTimeout):
            pool.convert(plan_docx, timeout_s=0.001)

        assert wait_for(lambda: not live_members(group)), f"orphans left: {live_members(group)}"
        assert pool.convert(plan_docx).startswith(b"%PDF-")
        state = pool.state()
        assert (state["timeouts"], state["replacements"], state["conversions"]) == (1, 1, 1)
        assert state["last_error"] == "ConversionTimeout"
        assert process_groups_of_workers() - before - {group}, "no new worker"
    finally:
        pool.close()


def test_office_that_dies_is_replaced(plan_docx):
    before = process_groups_of_workers()
    pool = started_pool(size=1)
    try:
        (group,) = process_groups_of_workers() - before
        (office,) = [int(member.split()[0]) for member in live_members(group) if "soffice.bin" in member]
        os.kill(office, signal.SIGKILL)  # a crash while idle
        assert wait_for(lambda: not live_members(group)), f"orphans left: {live_members(group)}"

        assert pool.convert(plan_docx).startswith(b"%PDF-")
        state = pool.state()
        assert (state["replacements"], state["conversions"], state["failures"]) == (1, 1, 0)
    finally:
        pool.close()


def test_worker_is_restarted_after_n_conversions(plan_docx):
    before = process_groups_of_workers()
    pool = started_pool(size=1, restart_after=2)
    try:
        (first,) = process_groups_of_workers() - before
        for _ in range(3):
            assert pool.convert(plan_docx).startswith(b"%PDF-")
            if pool.state()["restarts"]:  # the retired office is gone before its replacement starts
                assert not live_members(first), f"the retired office still runs: {live_members(first)}"
                assert len(process_groups_of_workers() - before) == 1

        state = pool.state()
        assert (state["conversions"], state["restarts"], state["failures"]) == (3, 1, 0)
    finally:
        pool.close()


def _offices_with(groups: set[int], library: str) -> list[bool]:
    """For each soffice.bin in ``groups``: whether ``library`` is mapped into it."""
    found = []
    for pid in _pids():
        stat = _stat(pid)
        if stat and stat["pgrp"] in groups and stat["name"] == "soffice.bin":
            with open(f"/proc/{pid}/maps", encoding="ascii", errors="replace") as maps:
                found.append(library in maps.read())
    return found


@pytest.mark.parametrize(("allocator", "preloaded"), [("jemalloc", True), ("system", False)])
def test_offices_run_on_the_allocator_chosen_and_never_fsync(plan_docx, allocator, preloaded):
    before = process_groups_of_workers()
    pool = started_pool(size=1, allocator=allocator)
    try:
        assert "ĒriksGailītis" in text_of(pool.convert(plan_docx))
        offices = process_groups_of_workers() - before
        assert _offices_with(offices, "libjemalloc") == [preloaded], (
            "libjemalloc2 missing? it is in scripts/debian-packages.txt"
        )
        assert _offices_with(offices, "libeatmydata") == [True], (
            "libeatmydata1 missing? it is in scripts/debian-packages.txt"
        )
        state = pool.state()
        assert state["allocator"] == ("libjemalloc.so.2" if preloaded else "system")
        assert state["preloaded"] == (["libjemalloc.so.2"] if preloaded else []) + ["libeatmydata.so.1"]
    finally:
        pool.close()


def test_the_allocator_setting_takes_jemalloc_or_system():
    assert from_environment({})["PDF_ALLOCATOR"] == "jemalloc"
    assert from_environment({"VEIDLAPAS_PDF_ALLOCATOR": "System"})["PDF_ALLOCATOR"] == "system"
    with pytest.raises(SettingsError, match="VEIDLAPAS_PDF_ALLOCATOR"):
        from_environment({"VEIDLAPAS_PDF_ALLOCATOR": "tcmalloc"})


def test_worker_over_its_memory_limit_is_restarted_and_the_conversion_kept(plan_docx):
    """Every soffice holds far more than 1 MiB: each conversion succeeds and then retires its worker."""
    before = process_groups_of_workers()
    pool = started_pool(size=1, restart_after=1000, rss_limit_mb=1)
    try:
        (first,) = process_groups_of_workers() - before
        pdf, figures = pool.convert_measured(plan_docx)
        assert figures["rss_kib"] > 1024 and figures["load_ms"] > 0 and figures["export_ms"] > 0
        assert figures["peak_kib"] >= figures["rss_kib"] and figures["pages"] == len(
            PdfReader(io.BytesIO(pdf)).pages
        )
        assert "ĒriksGailītis" in text_of(pdf)
        assert wait_for(lambda: not live_members(first)), f"still running: {live_members(first)}"
        assert "ĒriksGailītis" in text_of(pool.convert(plan_docx))
        state = pool.state()
        assert state["peak_kib"] >= figures["peak_kib"]
        assert (state["conversions"], state["restarts"], state["memory_restarts"], state["failures"]) == (
            2,
            2,
            2,
            0,
        )
    finally:
        pool.close()


@pytest.mark.parametrize("bad", ["0", "-5", "300MB"])
def test_the_memory_limit_setting_refuses_what_is_not_a_positive_whole_number(bad):
    assert from_environment({})["PDF_RSS_LIMIT_MB"] == 250
    with pytest.raises(SettingsError, match="VEIDLAPAS_PDF_RSS_LIMIT_MB"):
        from_environment({"VEIDLAPAS_PDF_RSS_LIMIT_MB": bad})


def test_worker_under_its_memory_limit_goes_on(plan_docx):
    pool = started_pool(size=1, restart_after=1000, rss_limit_mb=100_000)
    try:
        for _ in range(2):
            assert pool.convert(plan_docx).startswith(b"%PDF-")
        assert (pool.state()["restarts"], pool.state()["memory_restarts"]) == (0, 0)
    finally:
        pool.close()


def test_full_queue_answers_pool_busy_at_once(plan_docx):
    require_tools()
    # Not started: the first conversion also waits for LibreOffice to start, so it is surely in flight.
    pool = ConversionPool(size=1, queue_limit=1)
    results: dict[str, object] = {}

    def convert(name: str) -> None:
        try:
            results[name] = pool.convert(plan_docx)
        except Exception as error:
            results[name] = error

    try:
        first = threading.Thread(target=convert, args=("first",))
        first.start()
        assert wait_for(lambda: pool.state()["busy"] == 1)
        second = threading.Thread(target=convert, args=("second",))
        second.start()
        assert wait_for(lambda: pool.state()["waiting"] == 1)

        started = time.monotonic()
        with pytest.raises(PoolBusy) as busy:
            pool.convert(plan_docx)
        assert time.monotonic() - started < 0.5
        assert isinstance(busy.value.retry_after, int) and busy.value.retry_after > 0

        first.join(60)
        second.join(60)
        for name in ("first", "second"):
            assert isinstance(results[name], bytes) and results[name].startswith(b"%PDF-"), results[name]
        assert pool.state()["rejected"] == 1
    finally:
        pool.close()


def test_no_queue_means_busy_while_one_converts(plan_docx):
    require_tools()
    pool = ConversionPool(size=1, queue_limit=0)
    try:
        first = threading.Thread(target=pool.convert, args=(plan_docx,))
        first.start()
        assert wait_for(lambda: pool.state()["busy"] == 1)
        with pytest.raises(PoolBusy) as busy:
            pool.convert(plan_docx)
        assert busy.value.retry_after >= 1
        first.join(60)
    finally:
        pool.close()


def test_closing_the_pool_leaves_no_office_running(plan_docx):
    before = process_groups_of_workers()
    pool = started_pool(size=2)
    groups = process_groups_of_workers() - before
    assert len(groups) == 2
    pool.convert(plan_docx)

    pool.close()

    assert all(not live_members(group) for group in groups)
    assert process_groups_of_workers() <= before
    with pytest.raises(ConverterUnavailable):
        pool.convert(plan_docx)


def test_missing_converter_says_what_to_install(plan_docx):
    no_uno = sys.executable  # the service's own interpreter: no UNO bridge
    for settings in (
        {"python": "/nonexistent/python3"},
        {"python": no_uno},
        {"soffice": "/nonexistent/soffice"},
    ):
        pool = ConversionPool(size=1, **settings)
        try:
            with pytest.raises(ConverterUnavailable) as unavailable:
                pool.convert(plan_docx)
            assert "make test" in str(unavailable.value) and "python3-uno" in str(unavailable.value)
        finally:
            pool.close()


# -- documents that reach outside ------------------------------------------------------------------------


class Canary(http.server.ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 that records every request and answers with a small PNG."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        super().__init__(("127.0.0.1", 0), CanaryHandler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class CanaryHandler(http.server.BaseHTTPRequestHandler):
    def handle_one_request(self) -> None:
        super().handle_one_request()
        if self.command:
            self.server.requests.append(f"{self.command} {self.path}")

    def __getattr__(self, name: str):
        if name.startswith("do_"):
            return self.answer
        raise AttributeError(name)

    def answer(self) -> None:
        body = png(8)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def canary():
    server = Canary()
    server.thread.start()
    yield server
    server.shutdown()
    server.server_close()


def png(size: int) -> bytes:
    """A red square PNG, ``size`` pixels wide."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = b"".join(b"\x00" + b"\xff\x00\x00" * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


def docx_linking(*targets: str) -> bytes:
    """A DOCX with one embedded picture and one linked (``r:link``, TargetMode="External") per target."""
    document = Document()
    document.add_paragraph(f"Saistīti attēli: {LETTERS}")
    document.add_paragraph().add_run().add_picture(io.BytesIO(png(6)))
    for target in targets:
        shape = document.add_paragraph().add_run().add_picture(io.BytesIO(png(4)))
        blip = shape._inline.graphic.graphicData.pic.blipFill.blip
        blip.set(qn("r:link"), document.part.relate_to(target, RELATIONSHIP_TYPE.IMAGE, is_external=True))
        del blip.attrib[qn("r:embed")]
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def plain_libreoffice_convert(docx: bytes) -> bytes:
    """The control: LibreOffice as installed (fresh default profile, no proxy), one --convert-to run."""
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.fail(f"soffice missing; {INSTALL_HINT}", pytrace=False)
    env = {key: value for key, value in os.environ.items() if "proxy" not in key.lower()}
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "linked.docx").write_bytes(docx)
        command = [soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{folder}/profile"]
        command += ["--convert-to", "pdf", "--outdir", folder, f"{folder}/linked.docx"]
        subprocess.run(command, env=env, capture_output=True, timeout=120, check=True)
        return (Path(folder) / "linked.pdf").read_bytes()


def test_linked_images_are_neither_fetched_nor_read(pool, canary, tmp_path):
    local = tmp_path / "secret.png"
    local.write_bytes(png(16))
    docx = docx_linking(f"{canary.url}/canary.png", local.as_uri())

    # Control: LibreOffice as installed fetches the URL and copies the local file into the PDF.
    control = plain_libreoffice_convert(docx)
    assert any("/canary.png" in request for request in canary.requests), canary.requests
    assert image_count(control) == 3
    canary.requests.clear()

    pdf = pool.convert(docx)

    assert "Saistītiattēli" in text_of(pdf)
    time.sleep(0.2)  # a late request would still be recorded
    assert canary.requests == []
    assert image_count(pdf) == 1  # the embedded picture only
