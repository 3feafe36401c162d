"""The first page of a PDF as a PNG picture, for a preview (pypdfium2, in this process: the PDF is one
the service's own converter made)."""

from __future__ import annotations

import io

import pypdfium2

#: 96 dots per inch: an A4 page about 794 × 1123 pixels.
SCALE = 96 / 72


def first_page_png(pdf: bytes) -> bytes:
    """Page 1 of ``pdf`` rendered at :data:`SCALE`, as PNG bytes."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        picture = document[0].render(scale=SCALE).to_pil()
    finally:
        document.close()
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()
