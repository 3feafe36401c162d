"""The sample render of an uploaded template: in a child process (``uploads.run_limited``), the template
is compiled as the service compiles its own and filled with each of its kind's samples, with the settings of
:data:`SAMPLE_MUNICIPALITY` as ``municipality`` — the first sample once more with a logo, so a logo tag
that cannot hold a picture (``{{ municipality.logo }}`` inside text, not ``{{r … }}``) is found here.

Whatever goes wrong comes back as one ``SampleFailed`` whose ``reason`` is the exception's type and
message (never a traceback); running out of memory is left to ``run_limited``, which reports it as such.
"""

from __future__ import annotations

import io
import json
from functools import cache
from pathlib import Path

from PIL import Image

from schemas.municipal_settings import Logo, read_logo
from service.documents import KINDS, Templates, context
from service.documents.docx import CompiledTemplate
from service.documents.municipal import SAMPLE_MUNICIPALITY, standard


class SampleFailed(Exception):
    """The template failed on a sample; ``code`` is the catalogue's, ``reason`` says how."""

    code = "template.sample_failed"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def render_samples(kind_name: str, folder: str, data: bytes) -> int:
    """Compile the DOCX ``data`` as ``kind_name``'s template (with the labels of ``folder``) and render
    every sample of the kind; the number of samples rendered."""
    kind = KINDS[kind_name]
    settings = standard(SAMPLE_MUNICIPALITY)
    try:
        compiled = CompiledTemplate.from_bytes(kind.template, data, Templates(Path(folder)).environment)
        for index, path in enumerate(kind.sample_files()):
            values = kind.schema().load(json.loads(path.read_text(encoding="utf-8")))
            compiled.render(context(kind, values, settings))
            if index == 0:
                compiled.render(context(kind, values, settings), logo=sample_logo())
    except MemoryError:
        raise
    except Exception as exc:
        raise SampleFailed(f"{type(exc).__name__}: {exc}"[:300]) from None
    return len(kind.samples)


@cache
def sample_logo() -> Logo:
    """A small picture standing in for a municipality's logo."""
    buffer = io.BytesIO()
    Image.new("RGB", (3, 1), (0, 80, 160)).save(buffer, "PNG")
    return read_logo(buffer.getvalue())
