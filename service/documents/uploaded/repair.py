"""What Word and LibreOffice do to tags by themselves, undone: a tag split across runs is joined into its
first run (keeping that run's formatting), with the spelling and grammar marks (``w:proofErr``) between
its runs dropped; typographic quotes and non-breaking spaces inside a tag become plain ASCII.

Bookmarks between the runs stay where they are: once the tag's text is whole in one run they split
nothing. Each repair is reported with its paragraph, so the person who uploaded the template sees what
was changed.

>>> xml = (b'<w:p xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
...        b'<w:r><w:t>{{ plan.</w:t></w:r><w:proofErr w:type="spellStart"/>'
...        b'<w:r><w:rPr><w:b/></w:rPr><w:t>num</w:t></w:r><w:r><w:t>ber }}</w:t></w:r></w:p>')
>>> repaired, found = repair_part(xml)
>>> [code for code, _ in found]
['template.split_tag']
>>> print(re.sub(" xmlns:w=[^>]*", "", repaired.decode().split("?>")[1].strip()))
<w:p><w:r><w:t xml:space="preserve">{{ plan.number }}</w:t></w:r></w:p>
"""

from __future__ import annotations

import re

from lxml import etree

from service.documents.uploaded.places import W

TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_OPENING = re.compile(r"\{[{%#]")
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "‚": "'"})
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})
# LibreOffice writes quotes in text as entities, which Jinja cannot read inside a tag; lxml writes them
# as plain characters, so such a part is written again (with no warning: nothing a person sees changes).
_ESCAPED_QUOTE = re.compile(rb"&(?:quot|apos|#34|#39|#x22|#x27);")
_PRESERVE = "{http://www.w3.org/XML/1998/namespace}space"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def repair_part(xml: bytes) -> tuple[bytes, list[tuple[str, etree._Element]]]:
    """The part's XML with its tags repaired, and each repair as (code, paragraph element).

    The XML comes back unchanged (the same bytes) when nothing needed repair or rewriting.
    """
    root = etree.fromstring(xml, _PARSER)
    found = []
    for paragraph in root.iter(f"{W}p"):
        texts = [t for t in paragraph.iter(f"{W}t") if next(t.iterancestors(f"{W}p")) is paragraph]
        found += [(code, paragraph) for code in _repair_paragraph(texts)]
    if not found and not _ESCAPED_QUOTE.search(xml):
        return xml, []
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True), found


def unclosed_tags(xml: bytes) -> list[etree._Element]:
    """The paragraphs in which a tag opens and never closes (not even wrongly) while another tag of the
    part follows. A tag never spans paragraphs; docxtpl's cleaning would quietly join such a tag with the
    next one, so it is found here first (any other broken tag is left to the syntax check, which says more).

    >>> xml = (b'<w:body xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    ...        b'<w:p><w:r><w:t>Nr. {{ plan.number</w:t></w:r></w:p>'
    ...        b'<w:p><w:r><w:t>{{ plan.date }}</w:t></w:r></w:p>'
    ...        b'</w:body>')
    >>> ["".join(p.itertext()) for p in unclosed_tags(xml)]
    ['Nr. {{ plan.number']
    """
    root = etree.fromstring(xml, _PARSER)
    found, tag_after = [], False
    for paragraph in reversed(list(root.iter(f"{W}p"))):
        text = _text(paragraph)
        opened = _OPENING.search(rest := TAG.sub("", text))
        if tag_after and opened and "}" not in rest[opened.end() :]:
            found.append(paragraph)
        tag_after = tag_after or bool(_OPENING.search(text))
    return found[::-1]


def _text(paragraph: etree._Element) -> str:
    """The text of ``paragraph`` itself (not of paragraphs nested in it, such as a text box's)."""
    return "".join(
        t.text or "" for t in paragraph.iter(f"{W}t") if next(t.iterancestors(f"{W}p")) is paragraph
    )


def _repair_paragraph(texts: list[etree._Element]) -> list[str]:
    codes, emptied = [], []
    joined = "".join(t.text or "" for t in texts)
    for match in TAG.finditer(joined):
        first, last = _index(texts, match.start()), _index(texts, match.end() - 1)
        if first != last:
            emptied += _join(texts, first, last, match.start(), match.end(), joined)
            codes.append("template.split_tag")
        tag = match.group()
        for code, table in (("template.smart_quotes", _QUOTES), ("template.non_breaking_space", _SPACES)):
            if tag.translate(table) != tag:
                text, at = texts[first].text, match.start() - _starts(texts)[first]
                end = at + len(tag)
                texts[first].text = text[:at] + text[at:end].translate(table) + text[end:]
                codes.append(code)
    for t in emptied:
        _drop_empty(t)
    return codes


def _starts(texts: list[etree._Element]) -> list[int]:
    starts, position = [], 0
    for t in texts:
        starts.append(position)
        position += len(t.text or "")
    return starts


def _index(texts: list[etree._Element], position: int) -> int:
    starts = _starts(texts)
    return max(i for i, start in enumerate(starts) if start <= position and len(texts[i].text or ""))


def _join(texts: list[etree._Element], first: int, last: int, start: int, end: int, joined: str) -> list:
    """Move the tag's text into ``texts[first]``; the texts it leaves empty are returned."""
    starts = _starts(texts)
    head = texts[first]
    head.text = (head.text or "")[: start - starts[first]] + joined[start:end]
    head.set(_PRESERVE, "preserve")
    texts[last].text = (texts[last].text or "")[end - starts[last] :]
    for t in texts[first + 1 : last]:
        t.text = ""
    _drop_proofing_marks(head.getparent(), texts[last].getparent())
    return [t for t in texts[first + 1 : last + 1] if not t.text]


def _drop_proofing_marks(first_run: etree._Element, last_run: etree._Element) -> None:
    between = []
    for sibling in first_run.itersiblings():
        if sibling is last_run:
            for mark in between:
                sibling.getparent().remove(mark)
            return
        if sibling.tag == f"{W}proofErr":
            between.append(sibling)


def _drop_empty(t: etree._Element) -> None:
    """Remove an emptied text, and its run when nothing but formatting is left in it."""
    run = t.getparent()
    run.remove(t)
    if all(child.tag == f"{W}rPr" for child in run) and run.getparent() is not None:
        run.getparent().remove(run)
