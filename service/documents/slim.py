"""A DOCX as LibreOffice is given it for PDF: the style definitions no part of the document uses left out.

The project's templates come from python-docx's default template, which defines 172 styles (a 352 KB
``word/styles.xml``); a client's detail uses nine of them. LibreOffice imports every definition it is
given, and that was about 40 % of its CPU time per document (``bench/convert_pdf.py --split``). Without
the unused definitions the PDF is the same, page for page (``tests/test_pdf_slim.py``). Only the copy
handed to LibreOffice is slimmed; the DOCX a user downloads keeps every style for editing in Word.

A style is kept when any other XML part of the package names it (``pStyle``, ``rStyle``, ``tblStyle``,
``numStyleLink``, ``styleLink`` …; any ``w:*Style*`` attribute value counts, which may keep a few too
many but never drops one in use), when it is a default style, or when a kept style rests on it
(``basedOn``, ``link``, ``next``). The slimmed ``styles.xml`` is computed once per template and set of
used styles (a small cache); a package this cannot read surely is passed on untouched. No library does
this; the work is a regular expression over the parts and one lxml pass over ``styles.xml``.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile

from lxml import etree

__all__ = ["slim_docx"]

STYLES = "word/styles.xml"
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W_DECLARED = f'xmlns:w="{_W}"'.encode()
# <w:pStyle w:val="X"/>, <w:tblStyle w:val="X"/>, <w:numStyleLink w:val="X"/> … in any part but styles.xml
_REFERENCE = re.compile(rb'<w:[A-Za-z]*Style[A-Za-z]*\s+w:val="([^"]*)"')
_RESTS_ON = ("basedOn", "link", "next")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
# (digest of styles.xml, styles used) → the slimmed styles.xml or None: one entry per template and
# set of used styles, so a pack's thousand documents parse their template's styles once
_CACHE: dict[tuple[bytes, frozenset[bytes]], bytes | None] = {}
_CACHE_SIZE = 64


def slim_docx(docx: bytes) -> bytes:
    """``docx`` without the style definitions nothing in it uses; ``docx`` itself when there is nothing
    to leave out or the package is not one this reads with certainty."""
    try:
        with zipfile.ZipFile(io.BytesIO(docx)) as package:
            names = package.namelist()
            if STYLES not in names:
                return docx
            parts = {name: package.read(name) for name in names}
    except (zipfile.BadZipFile, OSError, EOFError, KeyError, ValueError):
        return docx  # LibreOffice says what is wrong with it
    used: set[bytes] = set()
    for name, data in parts.items():
        if name.startswith("word/") and name.endswith(".xml") and name != STYLES:
            if b"<w:" in data and _W_DECLARED not in data:
                return docx  # the prefix w is not WordprocessingML here: leave it to LibreOffice
            used.update(_REFERENCE.findall(data))
    styles = parts[STYLES]
    key = (hashlib.blake2b(styles, digest_size=16).digest(), frozenset(used))
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        _CACHE[key] = _slim_styles(styles, key[1])
    slimmed = _CACHE[key]
    if slimmed is None:
        return docx
    parts[STYLES] = slimmed
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as package:  # read once by LibreOffice: no deflate
        for name in names:
            package.writestr(name, parts[name])
    return out.getvalue()


def _slim_styles(styles: bytes, used: frozenset[bytes]) -> bytes | None:
    """``styles.xml`` with only the styles ``used`` needs; None when nothing would be left out or it
    cannot be read."""
    try:
        root = etree.fromstring(styles, _PARSER)
    except etree.XMLSyntaxError:
        return None
    by_id = {style.get(f"{{{_W}}}styleId"): style for style in root.iterfind(f"{{{_W}}}style")}
    keep = {name.decode("utf-8", "replace") for name in used} & by_id.keys()
    keep |= {sid for sid, style in by_id.items() if style.get(f"{{{_W}}}default") in ("1", "true", "on")}
    todo = list(keep)
    while todo:
        style = by_id[todo.pop()]
        for tag in _RESTS_ON:
            element = style.find(f"{{{_W}}}{tag}")
            target = None if element is None else element.get(f"{{{_W}}}val")
            if target in by_id and target not in keep:
                keep.add(target)
                todo.append(target)
    unused = [style for sid, style in by_id.items() if sid not in keep]
    if not unused:
        return None
    for style in unused:
        root.remove(style)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
