"""Reading a produced DOCX back as text, the way a person reads it: every paragraph, tables included."""

from __future__ import annotations

import io

from docx import Document
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph


def docx_text(data: bytes) -> str:
    """All paragraphs of the body (tables included), headers and footers, one per line."""
    document = Document(io.BytesIO(data))
    parts = [document.element.body]
    for section in document.sections:
        parts += [section.header._element, section.footer._element]
    return "\n".join(Paragraph(p, document).text for part in parts for p in part.iter(qn("w:p")))
