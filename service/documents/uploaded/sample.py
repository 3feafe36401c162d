"""The sample render of an uploaded template: in a child process (``uploads.run_limited``), the template
is compiled as the service compiles its own and filled with each of its kind's samples.

Whatever goes wrong comes back as one ``SampleFailed`` whose ``reason`` is the exception's type and
message (never a traceback); running out of memory is left to ``run_limited``, which reports it as such.
"""

from __future__ import annotations

import json
from pathlib import Path

from service.documents import KINDS, Templates
from service.documents.docx import CompiledTemplate


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
    try:
        compiled = CompiledTemplate.from_bytes(kind.template, data, Templates(Path(folder)).environment)
        for path in kind.sample_files():
            values = kind.schema().load(json.loads(path.read_text(encoding="utf-8")))
            compiled.render({kind.context: values})
    except MemoryError:
        raise
    except Exception as exc:
        raise SampleFailed(f"{type(exc).__name__}: {exc}"[:300]) from None
    return len(kind.samples)
