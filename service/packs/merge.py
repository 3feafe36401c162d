"""Merge a pack's PDFs into one ``pack.pdf`` with a bookmark per part, byte for byte reproducibly.

Determinism with pypdf 7 needs three things, all done here:

* ``/ID``: pypdf writes none unless it encrypts (then it draws it from ``secrets``); we set both halves
  to the first 16 bytes of a SHA-256 over the titles and the input bytes, so the same input gives the same
  identifier and a different input a different one;
* the document information: pypdf's writer starts with ``/Producer (pypdf)`` and no dates; we replace it
  with ``/Producer (Veidlapas)`` only, and copy nothing from the inputs (no ``/Info``, no XMP metadata, no
  input outlines), so no dates leak in;
* order: parts are appended in the order given and bookmarks are added in that order; pypdf numbers
  objects in the order it clones them, which depends only on the inputs.

The output is written to a temporary file next to ``target`` and renamed into place, so a failure leaves no
partial file. Memory: pypdf's ``PdfWriter`` keeps every cloned page and its resources in memory until it
writes, and each input is read whole: measured ~300 MiB for 1 000 short documents and ~1.6 GiB for 5 000
(bench/README.md). A streaming merge (writing page objects out incrementally) is the next step for packs
that large.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, ByteStringObject, IndirectObject

from service.files import atomic_file

__all__ = ["PRODUCER", "merge_pdfs"]

PRODUCER = "Veidlapas"
_CHUNK = 1 << 20

Part = tuple[Sequence[str], bytes | Path]


def _identifier(parts: Sequence[Part]) -> bytes:
    """16 bytes identifying the merge: every title path and every input's SHA-256, length-prefixed."""
    digest = hashlib.sha256(b"veidlapas-pack-pdf\0")

    def feed(data: bytes) -> None:
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)

    for titles, source in parts:
        digest.update(len(titles).to_bytes(4, "big"))
        for title in titles:
            feed(title.encode("utf-8"))
        content = hashlib.sha256()  # the same for bytes and for a file holding them
        if isinstance(source, bytes | bytearray | memoryview):
            content.update(source)
        else:
            with open(source, "rb") as handle:
                for chunk in iter(lambda: handle.read(_CHUNK), b""):
                    content.update(chunk)
        feed(content.digest())
    return digest.digest()[:16]


def merge_pdfs(parts: list[tuple[list[str], bytes | Path]], target: Path) -> None:
    """Append each part's PDF in order to ``target`` and add a bookmark hierarchy from the title paths.

    A part's title path is its bookmark's place: ``["Pieprasījums"]`` is a top-level bookmark,
    ``["Klients 1 — 150385-12346", "Akts 2020-09"]`` a bookmark under "Klients 1 …". Consecutive parts
    share the parent bookmarks they have in common (a part whose whole path equals the next part's parent
    becomes that parent). Every bookmark points to the first page of its part (a parent to the first page
    of the first part under it).
    """
    if not parts:
        raise ValueError("nothing to merge")
    for titles, _ in parts:
        if not titles or any(not isinstance(t, str) or not t.strip() for t in titles):
            raise ValueError(f"a part needs a non-empty title path, not {titles!r}")

    writer = PdfWriter()
    # (title, outline item) for each level of the previous part's path.
    stack: list[tuple[str, IndirectObject]] = []
    for titles, source in parts:
        reader = PdfReader(BytesIO(bytes(source)) if not isinstance(source, Path) else source)
        if len(reader.pages) == 0:
            raise ValueError(f"{' / '.join(titles)}: the PDF has no pages")
        first_page = len(writer.pages)
        writer.append(reader, import_outline=False)

        shared = 0
        while shared < len(titles) - 1 and shared < len(stack) and stack[shared][0] == titles[shared]:
            shared += 1
        del stack[shared:]
        for level in range(shared, len(titles)):
            parent = stack[-1][1] if stack else None
            item = writer.add_outline_item(
                title=titles[level],
                page_number=first_page,
                parent=parent,
                is_open=False,  # thousands of clients: parents start collapsed
            )
            stack.append((titles[level], item))

    writer.metadata = {"/Producer": PRODUCER}  # replaces pypdf's own "/Producer (pypdf)"; no dates
    identifier = ByteStringObject(_identifier(parts))
    writer._ID = ArrayObject([identifier, identifier])  # no public API; read by the trailer writer
    writer.page_mode = "/UseOutlines"

    with atomic_file(Path(target)) as out:
        writer.write(out)
        out.flush()
        os.fsync(out.fileno())
