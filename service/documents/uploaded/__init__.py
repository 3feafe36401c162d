"""The check of a DOCX template an administrator uploads to replace a kind's standard one.

``check_template(data, kind, limits)`` returns a :class:`TemplateCheck`:

* what Word and LibreOffice do to tags by themselves is repaired (:mod:`.repair`) and each repair is a
  warning: a tag split across runs, typographic quotes or non-breaking spaces inside a tag;
* what cannot be repaired is refused, every problem with its :class:`~.places.Place`: the upload rules
  of forms (size, sniffed type, ``uploads.inspect_package``: macros, external targets, DOCTYPE, zip
  bombs), pictures over the limits, tags and blocks that do not close, variables and filters that
  neither the kind nor the municipality's settings have (:mod:`.rules`, with a near name), the logo
  printed inside text, constructs the sandbox refuses;
* a template with no problem so far is rendered with its kind's samples in a child process with the
  limits' time and memory (:mod:`.sample`); a failure or a runaway is refused with its reason.

The repairs and the checks of the XML run in this process: each part is bounded by ``limits.max_part``
and parsed without entities, DTDs or huge trees.
"""

from __future__ import annotations

import functools
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree

from schemas.errors import Problem, problem
from service import forking
from service.config import DEFAULT_LIMITS, ROOT, UploadLimits
from service.documents import Templates
from service.documents.docx import BROKEN_TAG, TAG_START, TEMPLATED_PART, prepare
from service.documents.registry import DocumentKind
from service.documents.uploaded import rules
from service.documents.uploaded.places import Place, element_place, line_place
from service.documents.uploaded.repair import repair_part, unclosed_tags
from service.documents.uploaded.sample import render_samples
from service.forms.uploads import (
    WORD_MAIN,
    ParseLimit,
    ParseRejected,
    ParseTimeout,
    UploadRejected,
    check_size,
    inspect_package,
    run_limited,
    sniff,
)

__all__ = ["Found", "Place", "TemplateCheck", "check_template"]

MEDIA = "word/media/"


@dataclass(frozen=True)
class Found:
    """A problem or a repair, and where it is (``None``: the whole file)."""

    problem: Problem
    place: Place | None = None


@dataclass
class TemplateCheck:
    """``repaired`` is the DOCX to keep (the upload itself when nothing needed repair), ``None`` when
    the template is refused; ``warnings`` are the repairs, ``problems`` the reasons for a refusal."""

    repaired: bytes | None = None
    warnings: list[Found] = field(default_factory=list)
    problems: list[Found] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.problems


def check_template(
    data: bytes,
    kind: DocumentKind,
    limits: UploadLimits = DEFAULT_LIMITS,
    folder: Path = ROOT / "templates_lv",
) -> TemplateCheck:
    """Check ``data`` as ``kind``'s template; ``folder`` holds the ``labels.toml`` its filters read."""
    result = TemplateCheck()
    try:
        check_size(data, limits.max_bytes)
        if sniff(data, limits) != "docx":
            raise UploadRejected("template.not_docx", "a PDF")
        inspect_package(data, limits, main_type=WORD_MAIN, refuse_external=True)
        repaired = _repair(data, result.warnings, result.problems)
        sources = _sources(repaired)
    except UploadRejected as exc:
        result.problems.append(Found(exc.problem))
        return result
    result.problems += [Found(found) for found in _pictures(data, limits)]
    if not any(TAG_START.search(source) for source in sources.values()):
        result.problems.append(Found(problem("template.no_tags")))
    env = Templates(folder).environment
    unreadable = {found.place.part for found in result.problems if found.place}  # tags that do not close
    for name, source in sources.items():
        if name in unreadable:
            continue
        found = _findings(source, kind, env)
        result.problems += [Found(p, line_place(name, source, line, needle)) for p, line, needle in found]
    if not result.problems:
        result.problems += [Found(found) for found in _sample_render(repaired, kind, limits, folder)]
    result.repaired = None if result.problems else repaired
    return result


def _repair(data: bytes, warnings: list[Found], problems: list[Found]) -> bytes:
    """The package with every templated part repaired (``data`` itself when none needed it); each repair
    is a warning, each paragraph with a tag that does not close a problem."""
    out, rewritten = io.BytesIO(), False
    with zipfile.ZipFile(io.BytesIO(data)) as package, zipfile.ZipFile(out, "w") as target:
        for info in package.infolist():
            member = package.read(info)
            if TEMPLATED_PART.match(info.filename):
                try:
                    repaired, found = repair_part(member)
                    unclosed = unclosed_tags(repaired)
                except etree.XMLSyntaxError:
                    raise UploadRejected("upload.corrupt", f"{info.filename} is not XML") from None
                rewritten |= repaired is not member
                member = repaired
                warnings += [Found(problem(code), element_place(info.filename, p)) for code, p in found]
                problems += [
                    Found(problem("template.broken_tag"), element_place(info.filename, p)) for p in unclosed
                ]
            target.writestr(info, member)
    return out.getvalue() if rewritten else data


def _sources(data: bytes) -> dict[str, str]:
    """Each templated part as ``docx.prepare`` gives it to Jinja, one paragraph per line."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        try:
            return {
                name: prepare(package.read(name).decode("utf-8"))
                for name in package.namelist()
                if TEMPLATED_PART.match(name)
            }
        except UnicodeDecodeError:
            raise UploadRejected("upload.corrupt", "a part that is not UTF-8") from None


def _pictures(data: bytes, limits: UploadLimits) -> list[Problem]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        pictures = [info for info in package.infolist() if info.filename.startswith(MEDIA)]
    found = [
        problem(
            "template.image_too_large",
            name=info.filename[len(MEDIA) :][:100],
            size=info.file_size,
            max=limits.template_max_image_bytes,
        )
        for info in pictures
        if info.file_size > limits.template_max_image_bytes
    ]
    if len(pictures) > limits.template_max_images:
        found.append(problem("template.too_many_images", count=len(pictures), max=limits.template_max_images))
    return found


def _findings(source: str, kind: DocumentKind, env: SandboxedEnvironment) -> list[rules.Finding]:
    broken = BROKEN_TAG.search(source)
    if broken:
        return [(problem("template.broken_tag"), source.count("\n", 0, broken.start()) + 1, "")]
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        return [rules.syntax(exc, source)]
    return [
        *rules.variables(tree, kind.context, kind.schema, env),
        *rules.logo_in_text(source),
        *rules.filters(tree, env),
        *rules.forbidden(tree),
    ]


def _sample_render(data: bytes, kind: DocumentKind, limits: UploadLimits, folder: Path) -> list[Problem]:
    forking.context(render_samples.__module__)  # the fork server imports it once, if not started yet
    render = functools.partial(render_samples, kind.name, str(folder))
    try:
        run_limited(render, data, timeout_s=limits.parse_timeout_s, memory_bytes=limits.parse_memory_bytes)
    except ParseTimeout:
        return [problem("template.sample_timeout", seconds=limits.parse_timeout_s)]
    except ParseLimit:
        return [problem("template.sample_limit")]
    except ParseRejected as exc:
        return [problem("template.sample_failed", reason=exc.details.get("reason") or exc.detail)]
    return []
