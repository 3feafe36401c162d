"""A municipality's logo in a rendered DOCX: the run that draws it, and the package parts that make the
run resolve — the picture as a media part, a relationship from each part that prints it, and a content
type for the picture's extension.

A template prints the logo with docxtpl's run-level tag ``{{r municipality.logo }}``: the tag's whole run
is replaced by the value, which is :func:`drawing`, a ``<w:r>`` holding an inline picture. The picture is
:data:`HEIGHT_EMU` high (1.5 cm), as wide as its aspect ratio makes it, but never wider than
:data:`MAX_WIDTH_EMU`; its pixels are taken at 96 dpi only for that ratio. The run names the picture by
:data:`RELATIONSHIP_ID`, so every part whose rendered XML holds it needs that relationship in its own
``_rels`` file (:func:`with_relationship`).

>>> size_emu(400, 200)
(1080000, 540000)
>>> size_emu(2000, 100)
(3240000, 162000)
>>> part = with_relationship(None, "png")
>>> b'Id="rIdVeidlapasLogo"' in part and b'Target="media/veidlapas-logo.png"' in part
True
>>> types = b'<Types xmlns="%s"/>' % CONTENT_TYPES.encode()
>>> b'Extension="png" ContentType="image/png"' in with_content_type(types, "png", "image/png")
True
"""

from __future__ import annotations

from lxml import etree
from markupsafe import Markup

from schemas.municipal_settings import Logo

#: The relationship id the drawing refers to; chosen so that no template's own ids meet it.
RELATIONSHIP_ID = "rIdVeidlapasLogo"
MARKER = f'r:embed="{RELATIONSHIP_ID}"'.encode()
IMAGE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"
RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
CONTENT_TYPES_PART = "[Content_Types].xml"
EMU_PER_CM = 360000
HEIGHT_EMU = 15 * EMU_PER_CM // 10
MAX_WIDTH_EMU = 9 * EMU_PER_CM
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_NOT_RUN_PARENTS = {f"{_W}t", f"{_W}r"}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=False)


MEDIA_PREFIX = "word/media/veidlapas-logo."


def media_part(extension: str) -> str:
    """The package member that holds the picture."""
    return f"{MEDIA_PREFIX}{extension}"


def rels_part(part: str) -> str:
    """The relationships member of ``part``: ``word/header1.xml`` → ``word/_rels/header1.xml.rels``."""
    folder, _, name = part.rpartition("/")
    return f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"


def size_emu(width: int, height: int) -> tuple[int, int]:
    """The printed size in EMU of a picture of ``width`` × ``height`` pixels: 1.5 cm high, at most 9 cm
    wide, the aspect ratio kept."""
    cy = HEIGHT_EMU
    cx = round(cy * width / max(height, 1))
    if cx > MAX_WIDTH_EMU:
        cx, cy = MAX_WIDTH_EMU, round(MAX_WIDTH_EMU * height / max(width, 1))
    return cx, cy


def drawing(logo: Logo) -> Markup:
    """The run that prints ``logo`` inline (its namespaces declared on it, so any part may hold it)."""
    cx, cy = size_emu(logo.width, logo.height)
    extent = f'cx="{cx}" cy="{cy}"'
    return Markup(
        "<w:r><w:drawing"
        ' xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"'
        ' xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
        ' xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"'
        ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<wp:inline distT="0" distB="0" distL="0" distR="0"><wp:extent {extent}/>'
        '<wp:effectExtent l="0" t="0" r="0" b="0"/><wp:docPr id="4242" name="Logo" descr="Logo"/>'
        '<wp:cNvGraphicFramePr><a:graphicFrameLocks noChangeAspect="1"/></wp:cNvGraphicFramePr>'
        '<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">'
        f'<pic:pic><pic:nvPicPr><pic:cNvPr id="0" name="veidlapas-logo.{logo.extension}"/><pic:cNvPicPr/>'
        f'</pic:nvPicPr><pic:blipFill><a:blip r:embed="{RELATIONSHIP_ID}"/><a:stretch><a:fillRect/>'
        f'</a:stretch></pic:blipFill><pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext {extent}/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr></pic:pic></a:graphicData></a:graphic>'
        "</wp:inline></w:drawing></w:r>"
    )


def well_placed(drawing: etree._Element) -> bool:
    """Whether a drawing's run stands where a run may (not inside another run's text, where a plain
    ``{{ municipality.logo }}`` puts it: well-formed XML that Word refuses to open)."""
    return drawing.getparent().getparent().tag not in _NOT_RUN_PARENTS


def with_relationship(rels: bytes | None, extension: str) -> bytes:
    """A part's relationships (``None``: it had none) with the one to the logo added, once."""
    root = (
        etree.fromstring(rels, _PARSER)
        if rels
        else etree.Element(f"{{{RELATIONSHIPS}}}Relationships", nsmap={None: RELATIONSHIPS})
    )
    if not any(item.get("Id") == RELATIONSHIP_ID for item in root):
        etree.SubElement(
            root,
            f"{{{RELATIONSHIPS}}}Relationship",
            Id=RELATIONSHIP_ID,
            Type=IMAGE,
            Target=media_part(extension).removeprefix("word/"),
        )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def with_content_type(types: bytes, extension: str, media_type: str) -> bytes:
    """``[Content_Types].xml`` with a Default for the picture's extension, unless it has one."""
    root = etree.fromstring(types, _PARSER)
    defaults = root.findall(f"{{{CONTENT_TYPES}}}Default")
    if not any((item.get("Extension") or "").lower() == extension for item in defaults):
        element = etree.Element(f"{{{CONTENT_TYPES}}}Default", Extension=extension, ContentType=media_type)
        # Defaults come before Overrides in the schema's sequence.
        (defaults[-1].addnext(element) if defaults else root.insert(0, element))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
