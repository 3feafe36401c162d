"""PDFs with no moment or random number in them, so the same document gives the same bytes.

LibreOffice writes the conversion time (``/CreationDate``, XMP metadata), a random ``/ID`` and a
``/DocChecksum`` of that; qpdf (through pikepdf) rewrites the file without them, keeping the title, and
with an identifier computed from the content.
"""

from __future__ import annotations

import io

import pikepdf

PRODUCER = "Veidlapas"


def fixed_pdf(data: bytes) -> bytes:
    """``data`` rewritten without dates, XMP metadata or random identifiers."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        title = pdf.docinfo.get("/Title") if "/Info" in pdf.trailer else None
        if "/Metadata" in pdf.Root:
            del pdf.Root.Metadata
        for key in ("/ID", "/DocChecksum"):
            if key in pdf.trailer:
                del pdf.trailer[key]
        info = pikepdf.Dictionary(Producer=pikepdf.String(PRODUCER))
        if title is not None:
            info.Title = title
        pdf.docinfo = pdf.make_indirect(info)
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True)
        return out.getvalue()
