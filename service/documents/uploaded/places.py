"""Where in a DOCX something was found, told the way a person finds it in Word: the part (body, header,
footer), the table, row and cell, and the paragraph's text around it.

Two ways in: a paragraph element of the part's XML (for repairs), or a line of the part as
``docx.prepare`` hands it to Jinja, one paragraph per line (for what Jinja and the checks report). In the
second, rows are counted as the template has them: docxtpl's ``{%tr %}`` rows are already gone.

>>> source = '<w:body>\\n<w:p><w:t>A</w:t></w:p><w:tbl><w:tr><w:tc>\\n<w:p><w:t>{{ x }}</w:t></w:p>'
>>> line_place("word/document.xml", source, 3)
Place(part='word/document.xml', where='table 1, row 1, cell 1', text='{{ x }}')
>>> excerpt("a " * 100 + "{{ x }}", "{{ x }}", width=20)
'…a a a a a a {{ x }}'
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from lxml import etree

from service.documents.docx import paragraph_text

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_TABLE_TAG = re.compile(r"<(/?)w:(tbl|tr|tc)\b[^>]*?(/?)>")
_REGIONS = (
    ("word/header", "header"),
    ("word/footer", "footer"),
    ("word/footnotes", "footnotes"),
    ("word/endnotes", "endnotes"),
)
WIDTH = 120


@dataclass(frozen=True)
class Place:
    """``part`` is the package member (``word/footer2.xml``); ``where`` is ``body``, ``table 2, row 3,
    cell 1``, ``header``, ``footer``, ``footnotes`` or ``endnotes``; ``text`` the paragraph, shortened."""

    part: str
    where: str
    text: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def element_place(part: str, paragraph: etree._Element, needle: str = "") -> Place:
    """The place of a paragraph element of ``part``."""
    text = "".join(t.text or "" for t in paragraph.iter(f"{W}t"))
    cell = next(paragraph.iterancestors(f"{W}tc"), None)
    table = None
    if cell is not None:
        row = cell.getparent()
        grid = row.getparent()
        tables = list(grid.getroottree().getroot().iter(f"{W}tbl"))
        table = (
            tables.index(grid) + 1,
            grid.findall(f"{W}tr").index(row) + 1,
            row.findall(f"{W}tc").index(cell) + 1,
        )
    return Place(part, _where(part, table), excerpt(" ".join(text.split()), needle))


def line_place(part: str, source: str, line: int, needle: str = "") -> Place:
    """The place of line ``line`` (1-based, as Jinja counts) of the prepared ``source`` of ``part``."""
    lines = source.split("\n")
    line = min(max(line, 1), len(lines))
    start = sum(len(text) + 1 for text in lines[: line - 1])
    text = excerpt(paragraph_text(lines[line - 1]), needle)
    return Place(part, _where(part, _table_at(source, start)), text)


def excerpt(text: str, needle: str = "", width: int = WIDTH) -> str:
    """``text`` cut to about ``width`` characters around ``needle`` (its start when not found)."""
    if len(text) <= width:
        return text
    at = max(text.find(needle), 0) if needle else 0
    start = max(0, min(at - (width - len(needle)) // 2, len(text) - width))
    cut = text[start : start + width].strip()
    return ("…" if start else "") + cut + ("…" if start + width < len(text) else "")


def _table_at(source: str, position: int) -> tuple[int, int, int] | None:
    tables, stack = 0, []
    for match in _TABLE_TAG.finditer(source, 0, position):
        closing, name, empty = match.groups()
        if empty:
            continue
        if name == "tbl":
            if closing:
                stack and stack.pop()
            else:
                tables += 1
                stack.append([tables, 0, 0])
        elif stack and not closing:
            if name == "tr":
                stack[-1][1:] = [stack[-1][1] + 1, 0]
            else:
                stack[-1][2] += 1
    return tuple(stack[-1]) if stack else None


def _where(part: str, table: tuple[int, int, int] | None) -> str:
    for prefix, region in _REGIONS:
        if part.startswith(prefix):
            return region
    return f"table {table[0]}, row {table[1]}, cell {table[2]}" if table else "body"
