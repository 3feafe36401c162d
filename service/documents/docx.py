"""DOCX templates: checked and compiled once, rendered many times in a sandbox.

docxtpl cleans Word's XML so that Jinja tags split across runs become whole again (``patch_xml``)
and turns line breaks in values into ``<w:br/>`` (``resolve_listing``); we use those two steps. What
we do ourselves, and why:

* docxtpl parses the whole package and recompiles the template on every render (~63 ms for a
  20-row plan here); here each XML part with tags is compiled once, at load time, and the parts
  without tags are compressed once into a base archive that each render copies and appends to.
* A template is checked when it is loaded: a tag Word split beyond repair, or a Jinja syntax error,
  stops the service with the text of the broken paragraph instead of failing at render time.
* Rendering runs in a ``SandboxedEnvironment`` with autoescape on, so data such as ``<``, ``&`` or
  ``{{ 7*7 }}`` comes out verbatim, and a template cannot reach Python internals.
* A part is rendered as a stream (Jinja's ``generate``) straight into its ZIP member, in pieces cut after
  a paragraph's end (``</w:p>``), where neither the rejoining of paragraphs nor ``resolve_listing`` can
  match across the cut, so every piece is transformed alone with the result of transforming the whole
  part; ``resolve_listing`` (a third of a render when run on every part) runs on a piece only when it
  holds a line break (but the XML declaration's), a tab, a bell or a form feed — what it turns into breaks
  and tabs; it changes nothing else. So the memory a document needs does not follow its length (the
  request of a 10 000-client pack), and :meth:`CompiledTemplate.write` serves small documents too.
* Every rendered part is parsed as it is written (lxml's pull parser, each paragraph and table row
  dropped once parsed), so a template bug can never produce a corrupt file; the ZIP is written with fixed
  timestamps, so equal input gives equal bytes.
* A municipality's logo prints where a template has ``{{r municipality.logo }}``
  (:mod:`service.documents.logo`). The members a printed logo changes — ``[Content_Types].xml`` and the
  relationships of each templated part — are kept aside as well, with a second base without them, so a
  document without a logo is made as fast as before and one with it gets those members rewritten (or,
  when no part printed it, appended as they were: whether a part prints it is known only once written).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from docxtpl import DocxTemplate
from jinja2 import Template, TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree
from markupsafe import Markup

from schemas.municipal_settings import Logo
from service.documents import logo as logos

# Parts of a WordprocessingML package that may hold template tags.
TEMPLATED_PART = re.compile(r"^word/(document|header\d*|footer\d*|footnotes|endnotes)\.xml$")
TAG_START = re.compile(r"\{[{%#]")
BROKEN_TAG = re.compile(r"\{[{%](?:(?![}%]\}).)*?</?w:", re.DOTALL)
_PARAGRAPH = re.compile(r"<w:p[ >].*?</w:p>", re.DOTALL)
_XML_TAG = re.compile(r"<[^>]+>")
_ZIP_TIME = (2000, 1, 1, 0, 0, 0)
_PARSER_OPTIONS = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False}
_XML_PARSER = etree.XMLParser(**_PARSER_OPTIONS)
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_DRAWING = f"{_W}drawing"
# What the pull parser reports as it ends: paragraphs, table rows and tables, dropped once parsed, and
# drawings, whose place is checked.
_PULLED = (f"{_W}p", f"{_W}tr", f"{_W}tbl", _DRAWING)
#: Characters of rendered XML gathered before a piece is cut (after its last paragraph) and written.
PIECE = 256 * 1024
_PARAGRAPH_END = "</w:p>"
_REJOIN = re.compile(r"\n<w:p([ >])")

# docxtpl's cleaning steps need an instance but use none of its state.
_DOCXTPL = DocxTemplate(None)


class TemplateDefect(ValueError):
    """A template cannot be used; the message names the file and the broken paragraph."""


class RenderError(RuntimeError):
    """A template produced XML that is not well formed (a template bug, never a data problem)."""


def _finalize(value: Any) -> Any:
    """Every printed value passes here: None prints as nothing."""
    return "" if value is None else value


def make_environment(filters: Mapping[str, Callable[..., Any]]) -> SandboxedEnvironment:
    """The Jinja environment every document is rendered in."""
    env = SandboxedEnvironment(autoescape=True, finalize=_finalize)
    env.filters.update(filters)
    return env


def paragraph_text(xml: str) -> str:
    return " ".join(_XML_TAG.sub("", xml).split())


def prepare(xml: str) -> str:
    """docxtpl's cleaning, and one paragraph per line so Jinja's line numbers point at paragraphs."""
    return re.sub(r"<w:p([ >])", r"\n<w:p\1", _DOCXTPL.patch_xml(xml))


@dataclass(frozen=True)
class CompiledTemplate:
    """A DOCX template ready to render.

    ``base`` is a ZIP of every part without tags, compressed once at load time; rendering appends
    the filled parts to a copy of it, so per document only the changed XML is compressed. ``lean`` is
    the same without the members in ``changing`` (content types, the templated parts' relationships),
    which a document that prints the logo writes anew; ``withheld`` are the members ``lean`` lacks, as
    they are, for a document given a logo that no part printed.
    """

    name: str
    parts: dict[str, Template]
    asts: dict[str, nodes.Template]
    base: bytes
    lean: bytes = b""
    changing: dict[str, bytes | None] = field(default_factory=dict)
    withheld: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, env: SandboxedEnvironment) -> CompiledTemplate:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise TemplateDefect(f"{path.name}: not a DOCX file ({exc})") from None
        return cls.from_bytes(path.name, data, env)

    @classmethod
    def from_bytes(cls, file: str, data: bytes, env: SandboxedEnvironment) -> CompiledTemplate:
        """The template in ``data`` (a DOCX), named ``file`` in its defects."""
        try:
            package = zipfile.ZipFile(io.BytesIO(data))
        except (OSError, zipfile.BadZipFile) as exc:
            raise TemplateDefect(f"{file}: not a DOCX file ({exc})") from None
        parts, asts, static = {}, {}, {}
        with package:
            for name in package.namelist():
                member = package.read(name)
                if TEMPLATED_PART.match(name) and TAG_START.search(member.decode("utf-8")):
                    source = prepare(member.decode("utf-8"))
                    asts[name] = _parse(file, name, source, env)
                    code = env.compile(asts[name], name=f"{file}:{name}", filename=f"{file}:{name}")
                    parts[name] = env.template_class.from_code(env, code, env.make_globals(None))
                else:
                    static[name] = member
        if not parts:
            raise TemplateDefect(f"{file}: has no template tags")
        changing = {
            name: static.get(name)
            for name in (logos.CONTENT_TYPES_PART, *(logos.rels_part(part) for part in parts))
        }
        base = _archive(static.items())
        # A picture of the logo's name already in the template (one made from a rendered document) gives way.
        withheld = {
            name: data
            for name, data in static.items()
            if name in changing or name.startswith(logos.MEDIA_PREFIX)
        }
        lean = _archive((name, data) for name, data in static.items() if name not in withheld)
        return cls(file, parts, asts, base, lean, changing, withheld)

    def render(self, context: Mapping[str, Any], logo: Logo | None = None) -> bytes:
        """The filled document as DOCX bytes (see :meth:`write`)."""
        buffer = io.BytesIO()
        self.write(context, buffer, logo)
        return buffer.getvalue()

    def write(self, context: Mapping[str, Any], out: IO[bytes], logo: Logo | None = None) -> None:
        """Write the filled document into ``out`` (an empty file, readable and seekable), each part as it
        renders. ``municipality.logo`` is set here, the one place: the drawing of ``logo`` where a template
        prints it, nothing without one."""
        printed = logos.drawing(logo) if logo else Markup()
        municipality = {**(context.get("municipality") or {}), "logo": printed}
        context = {**context, "municipality": municipality}
        out.write(self.lean if logo else self.base)
        with zipfile.ZipFile(out, "a") as archive:
            printing = [name for name in self.parts if self._write_part(archive, name, context)]
            if logo and printing:
                self._write_logo(archive, logo, printing)
            elif logo:
                for name, data in self.withheld.items():
                    _write(archive, name, data)

    def _write_logo(self, out: zipfile.ZipFile, logo: Logo, printing: list[str]) -> None:
        """The members a printed logo needs: the picture, its content type, a relationship per part."""
        extension = logo.extension
        for name, data in self.changing.items():
            if name == logos.CONTENT_TYPES_PART and data is not None:
                data = logos.with_content_type(data, extension, logo.media_type)
            elif any(logos.rels_part(part) == name for part in printing):
                data = logos.with_relationship(data, extension)
            if data is not None:
                _write(out, name, data)
        _write(out, logos.media_part(extension), logo.data, zipfile.ZIP_STORED)

    def _write_part(self, archive: zipfile.ZipFile, name: str, context: Mapping[str, Any]) -> bool:
        """Render the part ``name`` into its member of ``archive`` in pieces of about :data:`PIECE`
        characters, each cut after its last paragraph; whether the part prints the logo."""
        info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w") as member:
            part = _Part(f"{self.name}: {name}", member)
            pending: list[str] = []
            size, cut_at = 0, PIECE
            for chunk in self.parts[name].generate(context):
                pending.append(chunk)
                size += len(chunk)
                if size >= cut_at:
                    text = "".join(pending)
                    cut = text.rfind(_PARAGRAPH_END) + len(_PARAGRAPH_END)
                    if cut >= len(_PARAGRAPH_END):
                        part.write(text[:cut])
                        text = text[cut:]
                    pending, size = [text], len(text)
                    cut_at = size + PIECE
            return part.write("".join(pending), last=True)


class _Part:
    """One rendered part on its way into its ZIP member: each piece has its paragraphs rejoined (``prepare``
    split them) and its line breaks resolved, is written, and is checked as XML, with the logo's place.
    A part of many pieces is fed to a pull parser that drops each paragraph and table row once parsed; a
    part of one piece (most documents) is parsed at once, which is faster."""

    def __init__(self, name: str, member: IO[bytes]) -> None:
        self.name, self.member = name, member
        self.parser: etree.XMLPullParser | None = None
        self.marker = self.misplaced = False

    def write(self, text: str, last: bool = False) -> bool:
        """Write the next piece; after the ``last``, whether the part prints the logo."""
        text = _REJOIN.sub(r"<w:p\1", text)
        if _needs_listing(text):
            text = _DOCXTPL.resolve_listing(text)
        data = text.encode("utf-8")
        self.member.write(data)
        self.marker = self.marker or logos.MARKER in data
        if last and self.parser is None:
            root = self._parse(etree.fromstring, data, _XML_PARSER)
            drawings = root.iter(_DRAWING) if self.marker else ()
            self.misplaced = not all(logos.well_placed(drawing) for drawing in drawings)
        else:
            self.parser = self.parser or etree.XMLPullParser(events=("end",), tag=_PULLED, **_PARSER_OPTIONS)
            self._parse(self.parser.feed, data)
            if last:
                self._parse(self.parser.close)
        if last and self.marker and self.misplaced:
            raise RenderError(f"{self.name} prints the logo inside text, not with {{{{r … }}}}")
        return self.marker

    def _parse(self, step: Callable[..., Any], *arguments: Any) -> Any:
        try:
            result = step(*arguments)
        except etree.XMLSyntaxError as exc:
            raise RenderError(f"{self.name} rendered to invalid XML: {exc}") from None
        for _, element in self.parser.read_events() if self.parser else ():
            if element.tag == _DRAWING:
                self.misplaced = self.misplaced or not logos.well_placed(element)
                continue
            element.clear(keep_tail=True)
            parent = element.getparent()
            while parent is not None and element.getprevious() is not None:
                del parent[0]
        return result


def _needs_listing(text: str) -> bool:
    """Whether ``text`` holds what resolve_listing turns into breaks and tabs (data holds line breaks
    only): a line break other than the one after the XML declaration, which every part has, a tab, a bell
    or a form feed. Outside a text they cost a call that changes nothing."""
    body = text[text.find("?>") + 2 :].lstrip("\r\n") if text.startswith("<?xml") else text
    return "\n" in body or "\t" in body or "\a" in body or "\f" in body


def _write(archive: zipfile.ZipFile, name: str, data: bytes, compression: int = zipfile.ZIP_DEFLATED) -> None:
    """Add a member with a fixed timestamp, so equal input gives equal bytes."""
    archive.writestr(zipfile.ZipInfo(name, date_time=_ZIP_TIME), data, compress_type=compression)


def _archive(members: Iterable[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            _write(archive, name, data)
    return buffer.getvalue()


def _parse(file: str, part: str, source: str, env: SandboxedEnvironment) -> nodes.Template:
    """Check the cleaned XML of one part and return its Jinja syntax tree."""
    broken = BROKEN_TAG.search(source)
    if broken:
        raise TemplateDefect(
            f"{file}: a tag is split and cannot be read, in the paragraph "
            f"«{paragraph_text(_enclosing_paragraph(source, broken.start()))}»"
        )
    try:
        return env.parse(source)
    except TemplateSyntaxError as exc:
        lines = source.splitlines()
        line = lines[exc.lineno - 1] if 0 < exc.lineno <= len(lines) else ""
        raise TemplateDefect(
            f"{file} ({part}): {exc.message}, in the paragraph «{paragraph_text(line)}»"
        ) from None


def _enclosing_paragraph(source: str, position: int) -> str:
    for match in _PARAGRAPH.finditer(source):
        if match.start() <= position < match.end():
            return match.group(0)
    return source[max(0, position - 200) : position + 200]
