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
* Every rendered part is parsed once more before it is written, so a template bug can never
  produce a corrupt file; the ZIP is written with fixed timestamps, so equal input gives equal bytes.
* A municipality's logo prints where a template has ``{{r municipality.logo }}``
  (:mod:`service.documents.logo`). The members a printed logo changes — ``[Content_Types].xml`` and the
  relationships of each templated part — are kept aside as well, with a second base without them, so a
  document without a logo is made as fast as before and one with it gets those members rewritten.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)

# docxtpl's cleaning steps need an instance but use none of its state.
_DOCXTPL = DocxTemplate(None)


class TemplateDefect(ValueError):
    """A template cannot be used; the message names the file and the broken paragraph."""


class RenderError(RuntimeError):
    """A template produced XML that is not well formed (a template bug, never a data problem)."""


# Set while a part renders when a printed value holds a line break, which only then needs
# docxtpl's resolve_listing (a third of the render time when run on every part).
_LINE_BREAK_PRINTED: ContextVar[bool] = ContextVar("line_break_printed", default=False)


def _finalize(value: Any) -> Any:
    """Every printed value passes here: None prints as nothing; line breaks are noted."""
    if value is None:
        return ""
    if isinstance(value, str) and "\n" in value:
        _LINE_BREAK_PRINTED.set(True)
    return value


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
    which a document that prints the logo writes anew.
    """

    name: str
    parts: dict[str, Template]
    asts: dict[str, nodes.Template]
    base: bytes
    lean: bytes = b""
    changing: dict[str, bytes | None] = field(default_factory=dict)

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
        lean = _archive(
            (name, data)
            for name, data in static.items()
            if name not in changing and not name.startswith(logos.MEDIA_PREFIX)
        )
        return cls(file, parts, asts, base, lean, changing)

    def render(self, context: Mapping[str, Any], logo: Logo | None = None) -> bytes:
        """The filled document as DOCX bytes. ``municipality.logo`` is set here, the one place: the drawing
        of ``logo`` where a template prints it, nothing without one."""
        printed = logos.drawing(logo) if logo else Markup()
        municipality = {**(context.get("municipality") or {}), "logo": printed}
        context = {**context, "municipality": municipality}
        rendered = {name: self._render_part(name, context) for name in self.parts}
        printing = [name for name, data in rendered.items() if logo and logos.MARKER in data]
        buffer = io.BytesIO(self.lean if printing else self.base)
        with zipfile.ZipFile(buffer, "a") as out:
            for name, data in rendered.items():
                _write(out, name, data)
            if printing:
                self._write_logo(out, logo, printing)
        return buffer.getvalue()

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

    def _render_part(self, name: str, context: Mapping[str, Any]) -> bytes:
        token = _LINE_BREAK_PRINTED.set(False)
        try:
            xml = re.sub(r"\n<w:p([ >])", r"<w:p\1", self.parts[name].render(context))
            if _LINE_BREAK_PRINTED.get():
                xml = _DOCXTPL.resolve_listing(xml)
        finally:
            _LINE_BREAK_PRINTED.reset(token)
        data = xml.encode("utf-8")
        try:
            root = etree.fromstring(data, _XML_PARSER)
        except etree.XMLSyntaxError as exc:
            raise RenderError(f"{self.name}: {name} rendered to invalid XML: {exc}") from None
        if logos.MARKER in data and not logos.well_placed(root):
            raise RenderError(f"{self.name}: {name} prints the logo inside text, not with {{{{r … }}}}")
        return data


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
