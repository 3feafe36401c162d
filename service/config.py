"""Settings from environment variables, each with an embedded default that works on one machine."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class UploadLimits:
    """How big an upload may be and how much it may hold, for every reader of uploads
    (``service.forms.uploads`` and the table reader). The defaults are the embedded settings;
    :func:`upload_limits` reads each from its ``VEIDLAPAS_*`` variable (docs/configuration.md)."""

    #: One uploaded file, in bytes.
    max_bytes: int = 10_000_000
    #: Members of a form's package (a DOCX form the service makes has about 20).
    max_entries: int = 200
    #: A form's package unpacked, all its members together, as its ZIP directory declares them.
    max_unpacked: int = 50_000_000
    #: One member of a form's package unpacked: the most of one part a reader holds at once.
    max_part: int = 20_000_000
    #: Unpacked : packed, of one member or of the whole package; counted only above ``RATIO_FLOOR``.
    max_ratio: int = 100
    #: The XML the inspection itself reads whole: ``[Content_Types].xml`` and the ``.rels`` parts.
    max_xml_part: int = 1 * MiB
    #: Members of a table's package (an XLSX).
    table_max_entries: int = 500
    #: A table's package unpacked: 150 000 rows of twelve columns unpack to about 90 MiB.
    table_max_unpacked: int = 200 * MiB
    #: Wall-clock seconds of the child process that parses an upload.
    parse_timeout_s: int = 10
    #: Address-space limit of that child process, in bytes.
    parse_memory_bytes: int = 512 * MiB
    #: Warm parser processes kept waiting for uploaded forms (``service.forms.parsers``).
    parsers: int = 2
    #: Forms a parser process reads before it is replaced by a fresh one.
    parser_recycle_after: int = 50
    #: Pictures (``word/media``) an uploaded DOCX template may hold.
    template_max_images: int = 50
    #: One picture of an uploaded DOCX template, in bytes.
    template_max_image_bytes: int = 2 * MiB

    def for_tables(self) -> UploadLimits:
        """These limits with a table's package sizes: an XLSX holds far more than a form, and one sheet may
        be nearly all of it, so its largest member is bounded by the total alone.

        >>> UploadLimits(table_max_entries=7).for_tables().max_entries
        7
        """
        return dataclasses.replace(
            self,
            max_entries=self.table_max_entries,
            max_unpacked=self.table_max_unpacked,
            max_part=self.table_max_unpacked,
        )


DEFAULT_LIMITS = UploadLimits()


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use."""


def _integer(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, not {value}")
    return value


#: The configuration key of each field of ``UploadLimits``; its variable is ``VEIDLAPAS_`` + the key.
UPLOAD_SETTINGS = {
    "max_bytes": "MAX_UPLOAD_BYTES",
    "max_entries": "UPLOAD_MAX_ENTRIES",
    "max_unpacked": "UPLOAD_MAX_UNPACKED_BYTES",
    "max_part": "UPLOAD_MAX_PART_BYTES",
    "max_ratio": "UPLOAD_MAX_RATIO",
    "max_xml_part": "UPLOAD_MAX_XML_PART_BYTES",
    "table_max_entries": "TABLE_MAX_ENTRIES",
    "table_max_unpacked": "TABLE_MAX_UNPACKED_BYTES",
    "parse_timeout_s": "PARSE_TIMEOUT_S",
    "parse_memory_bytes": "PARSE_MEMORY_BYTES",
    "parsers": "PARSERS",
    "parser_recycle_after": "PARSER_RECYCLE_AFTER",
    "template_max_images": "TEMPLATE_MAX_IMAGES",
    "template_max_image_bytes": "TEMPLATE_MAX_IMAGE_BYTES",
}


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Flask configuration from ``VEIDLAPAS_*`` variables.

    >>> settings = from_environment({"VEIDLAPAS_MAX_REQUEST_BYTES": "2048"})
    >>> settings["MAX_CONTENT_LENGTH"], settings["TEMPLATES_DIR"].name
    (2048, 'templates_lv')
    """
    environ = os.environ if environ is None else environ
    settings = {
        # Largest request body accepted (bytes); bigger ones get 413.
        "MAX_CONTENT_LENGTH": _integer(environ, "VEIDLAPAS_MAX_REQUEST_BYTES", 4_000_000),
        # Where the Latvian DOCX templates live.
        "TEMPLATES_DIR": Path(environ.get("VEIDLAPAS_TEMPLATES") or ROOT / "templates_lv"),
        # Deepest JSON nesting accepted in a request body.
        "MAX_JSON_DEPTH": _integer(environ, "VEIDLAPAS_MAX_JSON_DEPTH", 20),
        # Longest JSON list accepted in a request body (a request's delivery lines are one list).
        "MAX_JSON_ITEMS": _integer(environ, "VEIDLAPAS_MAX_JSON_ITEMS", 20_000),
        # "json" for one JSON object per log line, anything else for plain text.
        "LOG_FORMAT": environ.get("VEIDLAPAS_LOG_FORMAT", "text"),
        # SQLAlchemy URL; SQLite in the instance folder when empty.
        "DATABASE_URL": environ.get("DATABASE_URL") or None,
        # Keep the bytes of rendered documents (content-addressed files) or only register them.
        "STORE_DOCUMENTS": _flag(environ, "VEIDLAPAS_STORE_DOCUMENTS"),
        # Where stored documents go; the instance folder's "blobs" when empty.
        "BLOBS_DIR": Path(environ["VEIDLAPAS_BLOBS"]) if environ.get("VEIDLAPAS_BLOBS") else None,
        # The key file that seals personal data at rest (service.store.sealing); the instance folder's
        # "data-keys.json" when empty, which the service creates on its first start.
        "DATA_KEY_FILE": (
            Path(environ["VEIDLAPAS_DATA_KEY_FILE"]) if environ.get("VEIDLAPAS_DATA_KEY_FILE") else None
        ),
        # PDF conversion: warm LibreOffice converters, a time limit per document (longer for a long one), a
        # restart after N documents or once one holds more than so many MiB of memory, and how many
        # requests may wait before the API answers 503 with Retry-After.
        "PDF_CONVERTERS": _integer(environ, "VEIDLAPAS_PDF_CONVERTERS", 2),
        "PDF_TIMEOUT_S": _integer(environ, "VEIDLAPAS_PDF_TIMEOUT_S", 60),
        # … plus so many seconds for every 1 000 rows a pack's document prints (its request).
        "PDF_TIMEOUT_PER_1000_ROWS_S": _integer(environ, "VEIDLAPAS_PDF_TIMEOUT_PER_1000_ROWS_S", 30),
        # A pack's document printing more table rows than this (its request) is converted in pieces of
        # about so many rows each (service.packs.pieces), so that LibreOffice's memory follows the piece.
        "PDF_PIECE_ROWS": _integer(environ, "VEIDLAPAS_PDF_PIECE_ROWS", 1500),
        "PDF_RESTART_AFTER": _integer(environ, "VEIDLAPAS_PDF_RESTART_AFTER", 500),
        "PDF_RSS_LIMIT_MB": _integer(environ, "VEIDLAPAS_PDF_RSS_LIMIT_MB", 250),
        "PDF_QUEUE": _integer(environ, "VEIDLAPAS_PDF_QUEUE", 8),
        # soffice's memory allocator: jemalloc (Debian's libjemalloc2, when installed) costs LibreOffice
        # less CPU and grows less per document than glibc's own ("system").
        "PDF_ALLOCATOR": _choice(environ, "VEIDLAPAS_PDF_ALLOCATOR", ("jemalloc", "system")),
        # Uploaded files (forms, tables): the limits of ``UploadLimits``, each from VEIDLAPAS_<key>.
        **{
            key: _integer(environ, f"VEIDLAPAS_{key}", getattr(DEFAULT_LIMITS, field))
            for field, key in UPLOAD_SETTINGS.items()
        },
        # Behind a reverse proxy that sets X-Forwarded-For/-Proto (HTTPS detection, HSTS).
        "BEHIND_PROXY": _flag(environ, "VEIDLAPAS_BEHIND_PROXY"),
        # Background jobs (reimbursement packs): "local" runs them in worker processes of the service,
        # "celery" sends them to Celery workers through the broker (Redis).
        "JOBS": _choice(environ, "VEIDLAPAS_JOBS", ("local", "celery")),
        # Where jobs keep their input, parts and finished packs; the instance's "jobs" when empty. With
        # Celery every web node and worker must see the same folder at the same path.
        "JOBS_DIR": Path(environ["VEIDLAPAS_JOBS_DIR"]) if environ.get("VEIDLAPAS_JOBS_DIR") else None,
        # Worker processes of the local backend, and documents a worker makes in one task.
        "JOB_WORKERS": _integer(environ, "VEIDLAPAS_JOB_WORKERS", 2),
        "PACK_BATCH": _integer(environ, "VEIDLAPAS_PACK_BATCH", 10),
        # A pack order's size when its lines come from uploaded tables or from the accepted acts (a JSON
        # body keeps the schema's own limits, 5 000 agreements and 20 000 lines). Such an order with more
        # lines than PACK_JOB_CHECK_LINES, or more than 5 000 agreements, is validated inside its job
        # (whose failure lists the problems), not before the 202.
        "PACK_MAX_AGREEMENTS": _integer(environ, "VEIDLAPAS_PACK_MAX_AGREEMENTS", 20_000),
        "PACK_MAX_LINES": _integer(environ, "VEIDLAPAS_PACK_MAX_LINES", 120_000),
        "PACK_JOB_CHECK_LINES": _integer(environ, "VEIDLAPAS_PACK_JOB_CHECK_LINES", 20_000),
        # A pack job checks before it starts that its folder's disk has room for its estimated output:
        # the documents × these sizes (bytes, measured on the standard templates), again for pack.pdf
        # and for the ZIP, and this margin (bytes) left free.
        "PACK_DOCX_BYTES": _integer(environ, "VEIDLAPAS_PACK_DOCX_BYTES", 40_000),
        "PACK_PDF_BYTES": _integer(environ, "VEIDLAPAS_PACK_PDF_BYTES", 60_000),
        "JOB_DISK_MARGIN": _integer(environ, "VEIDLAPAS_JOB_DISK_MARGIN", 100 * MiB),
        # Celery: the broker, a task's hard time limit, and Redis's visibility timeout (a task a worker
        # took and never acknowledged goes to another worker after it); the limit must be shorter.
        "BROKER_URL": environ.get("VEIDLAPAS_BROKER_URL") or "redis://127.0.0.1:6379/0",
        "TASK_TIME_LIMIT_S": _integer(environ, "VEIDLAPAS_TASK_TIME_LIMIT_S", 900),
        "VISIBILITY_TIMEOUT_S": _integer(environ, "VEIDLAPAS_VISIBILITY_TIMEOUT_S", 3600),
        # Case records: `veidlapas retention` deletes cases closed longer ago than this many years.
        "RETENTION_YEARS": _integer(environ, "VEIDLAPAS_RETENTION_YEARS", 10),
        # Web pages: a signed-in browser is signed out after this many minutes without a request, and
        # after this many hours in any case.
        "WEB_IDLE_MINUTES": _integer(environ, "VEIDLAPAS_WEB_IDLE_MINUTES", 30),
        "WEB_SESSION_HOURS": _integer(environ, "VEIDLAPAS_WEB_SESSION_HOURS", 12),
        # Due work: plans whose review date is within this many days are listed.
        "DUE_REVIEW_DAYS": _integer(environ, "VEIDLAPAS_DUE_REVIEW_DAYS", 30),
        # Budget: accepting an act warns once a client's delivered services reach this share (per cent)
        # of the plan's period budget; past 100 % it is refused unless an administrator overrides.
        "BUDGET_WARN_PERCENT": _integer(environ, "VEIDLAPAS_BUDGET_WARN_PERCENT", 90),
    }
    if not 1 <= settings["BUDGET_WARN_PERCENT"] <= 100:
        raise SettingsError("VEIDLAPAS_BUDGET_WARN_PERCENT must be a whole number from 1 to 100")
    if settings["TASK_TIME_LIMIT_S"] >= settings["VISIBILITY_TIMEOUT_S"]:
        raise SettingsError(
            "VEIDLAPAS_TASK_TIME_LIMIT_S must be shorter than VEIDLAPAS_VISIBILITY_TIMEOUT_S, or a task "
            "still running would be given to a second worker"
        )
    return settings


def upload_limits(config: Mapping[str, Any]) -> UploadLimits:
    """The one set of upload limits of a configuration (``from_environment``'s, or an application's).

    >>> upload_limits(from_environment({"VEIDLAPAS_TABLE_MAX_ENTRIES": "600"})).for_tables().max_entries
    600
    """
    return UploadLimits(**{field: config[key] for field, key in UPLOAD_SETTINGS.items()})


def _flag(environ: Mapping[str, str], name: str) -> bool:
    raw = environ.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name} must be 1/0, true/false, yes/no or on/off, not {raw!r}")


def _choice(environ: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    raw = environ.get(name, "").strip().lower() or choices[0]
    if raw not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, not {raw!r}")
    return raw
