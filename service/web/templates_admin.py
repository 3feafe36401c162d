"""The municipality's own templates, for its administrators: per kind that may have them, the versions, an
upload that is checked first, a sample preview, acceptance as the next version, a rollback, downloads.

An upload goes in two steps. The check (:func:`service.documents.uploaded.check_template`, as the API's
trial ``<kind>/preview``) runs and nothing is kept yet: the page shows the repairs (warnings) and the
problems, each at its place (the part, the table, row and cell, the paragraph's text with the tag
marked), and for a template with no problem a picture of the sample's first page and its PDF. The file
is held server-side between the two steps (:func:`hold`): in ``<BLOBS_DIR or instance>/template-trials``,
named by the user and the file's sha256, at most :data:`HELD_PER_USER` per user and
:data:`HELD_SECONDS` old, never in the cookie. "Accept" keeps it through
:func:`service.documents.template_store.upload` (which checks it again), as the API's upload does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, redirect, request, send_file, url_for

from schemas.errors import problem
from service import audit
from service.api.documents import DOCX, PDF, to_pdf
from service.api.problems import RequestProblem
from service.auth import NotVisible, authorize
from service.config import upload_limits
from service.documents import KINDS, DocumentKind, template_store, templates
from service.documents.municipal import settings_on
from service.documents.page_image import first_page_png
from service.documents.uploaded import Found, TemplateCheck, check_template
from service.files import write_atomically
from service.i18n import translate
from service.store import database
from service.web.base import PageProblem, _, lang, page, page_problems, user
from service.web.settings import PERMISSION, authors, bp, notice_of, read_day

#: How long an upload waits for "Accept", and how many one user may have waiting.
HELD_SECONDS = 3600
HELD_PER_USER = 5
_SHA256 = re.compile(r"[0-9a-f]{64}")
_TABLE = re.compile(r"table (\d+), row (\d+), cell (\d+)")
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}")


def own_kinds() -> list[DocumentKind]:
    """The kinds a municipality may keep its own template of (the registry's ``own_templates``)."""
    return [kind for kind in KINDS.values() if kind.own_templates]


def _own_kind(name: str) -> DocumentKind:
    if name not in KINDS or not KINDS[name].own_templates:
        raise NotVisible()
    return KINDS[name]


# --- the held upload ---------------------------------------------------------------------------------


def _trials() -> Path:
    base = current_app.config.get("BLOBS_DIR") or current_app.instance_path
    return Path(base) / "template-trials"


def _held_path(digest: str) -> Path:
    if not _SHA256.fullmatch(digest):
        raise NotVisible()
    return _trials() / f"{user().municipality}-{user().id}-{digest}.docx"


def hold(data: bytes) -> str:
    """Keep ``data`` for the user until it is accepted (or it expires); returns its sha256."""
    folder = _trials()
    folder.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in folder.glob("*.docx"):  # expired uploads of anyone
        if now - old.stat().st_mtime > HELD_SECONDS:
            old.unlink(missing_ok=True)
    mine = sorted(folder.glob(f"{user().municipality}-{user().id}-*.docx"), key=lambda p: p.stat().st_mtime)
    for old in mine[: max(0, len(mine) - HELD_PER_USER + 1)]:
        old.unlink(missing_ok=True)
    digest = hashlib.sha256(data).hexdigest()
    write_atomically(_held_path(digest), data)
    return digest


def held(digest: str) -> bytes | None:
    """The user's upload ``digest`` while it is held, else ``None``."""
    path = _held_path(digest)
    if not path.is_file() or time.time() - path.stat().st_mtime > HELD_SECONDS:
        return None
    return path.read_bytes()


# --- what the page shows of a check ------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """A warning or a problem as the page shows it: the message, the part, where in it, and the
    paragraph's text cut around the tag (``before``, ``tag``, ``after``)."""

    code: str
    message: str
    part: str
    where: str
    before: str
    tag: str
    after: str


def where_of(where: str) -> str:
    """``Place.where`` in the page's language."""
    table = _TABLE.fullmatch(where)
    if table:
        return _("table {table}, row {row}, cell {cell}").format(table=table[1], row=table[2], cell=table[3])
    regions = {
        "body": _("main text"),
        "header": _("header"),
        "footer": _("footer"),
        "footnotes": _("footnotes"),
        "endnotes": _("endnotes"),
    }
    return regions.get(where, where)


def marked(text: str, needles: list[str]) -> tuple[str, str, str]:
    """``text`` split around the tag that holds one of ``needles`` (or the needle itself).

    >>> marked("Klients: {{ klients.vards }} un", ["klients.vards"])
    ('Klients: ', '{{ klients.vards }}', ' un')
    >>> marked("Nekā", ["x"])
    ('Nekā', '', '')
    """
    for needle in needles:
        if not needle:
            continue
        for tag in _TAG.finditer(text):
            if needle in tag.group():
                return text[: tag.start()], tag.group(), text[tag.end() :]
        at = text.find(needle)
        if at >= 0:
            return text[:at], needle, text[at + len(needle) :]
    return text, "", ""


def _suffixes(name) -> list[str]:
    """A name and its shorter ends, as a loop's variable stands for the start of a path.

    >>> _suffixes("plan.services[].unit_prise")
    ['plan.services[].unit_prise', 'services[].unit_prise', 'unit_prise']
    """
    if not name:
        return []
    parts = str(name).split(".")
    return [".".join(parts[i:]) for i in range(len(parts))]


def shown(found: list[Found]) -> list[Shown]:
    listed = []
    for item in found:
        code, message = translate(item.problem, lang())
        place = item.place
        needles = [
            name for key in ("name", "construct", "tag") for name in _suffixes(item.problem.params.get(key))
        ]
        before, tag, after = marked(place.text, needles) if place else ("", "", "")
        part = place.part if place else ""
        listed.append(Shown(code, message, part, where_of(place.where) if place else "", before, tag, after))
    return listed


def _check_problems(kind: DocumentKind, check: TemplateCheck) -> list[PageProblem]:
    """The check's problems for the error summary, each linking to its entry in the check's list."""
    return [
        PageProblem((kind.name, "check", n), f"check-{kind.name}-{n}", item.code, item.message)
        for n, item in enumerate(shown(check.problems), start=1)
    ]


def _templates_page(status: int = 200, problems=(), trial: dict | None = None, notice: str = ""):
    who = user()
    today = dt.date.today()
    with database().session() as session:
        listed = []
        everyone = []
        for kind in own_kinds():
            found = template_store.versions(session, who.municipality, kind.name)
            current = template_store.in_force(session, who.municipality, kind.name, today)
            everyone += found
            listed.append((kind, list(reversed(found)), current.id if current else None))
        names = authors(session, everyone)
    return page(
        "settings/templates.html",
        status,
        problems=list(problems),
        kinds=listed,
        authors=names,
        trial=trial,
        notice=notice,
    )


@bp.route("/administresana/veidnes", methods=["GET"], endpoint="templates")
def templates_page():
    authorize(PERMISSION)
    return _templates_page(notice=notice_of(request.args.get("pazinojums", "")))


@bp.route("/administresana/veidnes", methods=["POST"])
def try_template():
    """Check an uploaded template and show what the check found; nothing is kept as a version yet."""
    who = authorize(PERMISSION)
    kind = _own_kind(request.form.get("kind", ""))
    limits = upload_limits(current_app.config)
    request.max_content_length = limits.max_bytes + 64 * 1024
    typed = request.form.get("effective_from", "")
    errors: list = []
    read_day(typed, (kind.name, "effective_from"), errors)
    chosen = request.files.get("file")
    data = chosen.stream.read(limits.max_bytes + 1) if chosen is not None and chosen.filename else b""
    if not data:
        errors.append(((kind.name, "file"), problem("template.file_missing")))
    trial = {"kind": kind.name, "effective_from": typed}
    if errors:
        return _templates_page(422, page_problems(errors), trial)
    check = check_template(data, kind, limits, current_app.config["TEMPLATES_DIR"])
    with database().session() as session:
        outcome = "valid" if check.accepted else "invalid"
        audit.record(session, who, "validated", "template", kind.name, outcome=outcome)
    trial |= {"warnings": shown(check.warnings), "problems": shown(check.problems)}
    if not check.accepted:
        return _templates_page(422, _check_problems(kind, check), trial)
    trial["id"] = hold(data)
    return _templates_page(200, (), trial)


@bp.route("/administresana/veidnes/paraugs", methods=["GET"])
def trial_sample():
    """The sample filled with a held upload: a PNG of page 1 (``?formats=png``) or the PDF."""
    who = authorize(PERMISSION)
    kind = _own_kind(request.args.get("veids", ""))
    data = held(request.args.get("id", ""))
    if data is None:
        raise NotVisible()
    output = "png" if request.args.get("formats") == "png" else "pdf"
    check = check_template(data, kind, upload_limits(current_app.config), current_app.config["TEMPLATES_DIR"])
    if not check.accepted:
        raise NotVisible()
    with database().session() as session:
        settings = settings_on(session, who.municipality, dt.date.today())
        audit.record(session, who, "rendered", "template", f"{kind.name}/trial", outcome=output)
    document = template_store.sample_document(check.repaired, kind, templates(), settings)
    try:
        pdf = to_pdf(document, archival=False)
    except RequestProblem as refused:  # the converter failed or is busy: a page that says so, not JSON
        detail = " ".join(found.message for found in page_problems(refused.problems))
        return page("error.html", refused.status, heading=_("The sample could not be made"), detail=detail)
    content, mimetype = (first_page_png(pdf), "image/png") if output == "png" else (pdf, PDF)
    name = f"{kind.name} (izmēģinājums).{output}"
    return send_file(
        io.BytesIO(content), mimetype=mimetype, download_name=name, as_attachment=output == "pdf"
    )


@bp.route("/administresana/veidnes/pienemt", methods=["POST"])
def accept_template():
    """Keep a held upload as the kind's next version, in force from the day typed."""
    who = authorize(PERMISSION)
    kind = _own_kind(request.form.get("kind", ""))
    digest = request.form.get("id", "")
    typed = request.form.get("effective_from", "")
    data = held(digest)
    if data is None:
        expired = page_problems([((kind.name, "file"), problem("template.trial_expired"))])
        return _templates_page(410, expired, {"kind": kind.name, "effective_from": typed})
    errors: list = []
    day = read_day(typed, (kind.name, "accept", "effective_from"), errors)
    if day is None:
        check = check_template(
            data, kind, upload_limits(current_app.config), current_app.config["TEMPLATES_DIR"]
        )
        trial = {"kind": kind.name, "effective_from": typed, "id": digest}
        trial |= {"warnings": shown(check.warnings), "problems": []}
        return _templates_page(422, page_problems(errors), trial)
    limits, folder = upload_limits(current_app.config), current_app.config["TEMPLATES_DIR"]
    with database().session() as session:
        try:
            made, check = template_store.upload(session, who, kind, data, day, limits, folder)
        except template_store.VersionTaken:
            taken = page_problems([((), problem("template.version_taken"))])
            return _templates_page(409, taken, {"kind": kind.name, "effective_from": typed, "id": digest})
        if made is None:  # the check changed its mind (new labels, limits): refused as the API refuses
            refused = {"outcome": "invalid", "detail": {"problems": len(check.problems)}}
            audit.record(session, who, "uploaded", "template", kind.name, **refused)
            trial = {"kind": kind.name, "effective_from": typed, "problems": shown(check.problems)}
            return _templates_page(422, _check_problems(kind, check), trial | {"warnings": []})
        audit.record(session, who, "uploaded", "template", f"{kind.name}/{made.number}", sha256=made.sha256)
    _held_path(digest).unlink(missing_ok=True)
    return redirect(url_for("web_settings.templates", pazinojums="accepted") + f"#kind-{kind.name}", 303)


@bp.route("/administresana/veidnes/<kind>/<int:number>/atjaunot", methods=["POST"])
def rollback_template(kind: str, number: int):
    """A new version with version ``number``'s content, in force from today."""
    who = authorize(PERMISSION)
    own = _own_kind(kind)
    with database().session() as session:
        try:
            made = template_store.rollback(session, who, own, number, dt.date.today())
        except template_store.VersionTaken:
            return _templates_page(409, page_problems([((), problem("template.version_taken"))]))
        if made is None:
            raise NotVisible()
        rolled = {"sha256": made.sha256, "detail": {"from": number}}
        audit.record(session, who, "rolled_back", "template", f"{kind}/{made.number}", **rolled)
    return redirect(url_for("web_settings.templates", pazinojums="rolled_back") + f"#kind-{kind}", 303)


@bp.route("/administresana/veidnes/<kind>/<int:number>/dokuments", methods=["GET"])
def template_document(kind: str, number: int):
    """The DOCX of one version of the municipality's own template."""
    who = authorize(PERMISSION)
    with database().session() as session:
        found = template_store.version(session, who.municipality, _own_kind(kind).name, number)
        if found is None:
            raise NotVisible()
        audit.record(session, who, "downloaded", "template", f"{kind}/{number}", sha256=found.sha256)
        content = found.content
    return send_file(
        io.BytesIO(content), mimetype=DOCX, as_attachment=True, download_name=f"{kind} v{number}.docx"
    )
