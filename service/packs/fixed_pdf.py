"""PDFs with no moment or random number in them, so the same document gives the same bytes.

LibreOffice writes the conversion time (``/CreationDate``, XMP metadata), a random ``/ID`` and a
``/DocChecksum`` of that; qpdf (through pikepdf) rewrites the file without them, keeping the title, and
with an identifier computed from the content. It also packs the objects that are not streams (pages,
fonts' dictionaries, the structure tree) into compressed object streams: a client's detail shrinks from
about 165 to 62 KB for 1 ms more, so the pack's ZIP stores PDFs instead of deflating them. qpdf reads
and writes through files here: from a Python stream (``io.BytesIO``) every read is a call back into
Python, and opening took three times as long.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pikepdf

PRODUCER = "Veidlapas"


def fixed_pdf(data: bytes) -> bytes:
    """``data`` rewritten without dates, XMP metadata or random identifiers."""
    with tempfile.TemporaryDirectory(prefix="veidlapas-fixed-") as folder:
        source, target = Path(folder) / "in.pdf", Path(folder) / "out.pdf"
        source.write_bytes(data)
        fix_file(source, target)
        return target.read_bytes()


def fix_file(source: Path, target: Path, title: str | None = None) -> None:
    """:func:`fixed_pdf` from file to file; ``title`` (when given) in place of the source's own."""
    with pikepdf.open(source) as pdf:
        if title is None and "/Info" in pdf.trailer:
            title = pdf.docinfo.get("/Title")
        if "/Metadata" in pdf.Root:
            del pdf.Root.Metadata
        for key in ("/ID", "/DocChecksum"):
            if key in pdf.trailer:
                del pdf.trailer[key]
        info = pikepdf.Dictionary(Producer=pikepdf.String(PRODUCER))
        if title is not None:
            info.Title = pikepdf.String(str(title))
        pdf.docinfo = pdf.make_indirect(info)
        pdf.save(target, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
