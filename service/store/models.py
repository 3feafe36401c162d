"""Stored objects: users, tokens, the document register, the audit trail, submissions, jobs and the
municipalities' own template versions (the case records are in ``service.store.case_models``).

Every object a user can see carries the ``municipality`` it belongs to (the :class:`Scoped` mixin);
``service.auth.Scope`` is the one place that filters by it. Nothing here holds document content or a
client's personal data in the clear: the register keeps kind, hash and size; the audit trail keeps
identifiers; a submission's act is sealed; a template version holds a DOCX with tags, no one's data.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from schemas.errors import Problem, problem


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: DateTime(timezone=True)}


class Scoped:
    """An object that belongs to one municipality; only its users (and reviewers) may see it."""

    municipality: Mapped[str] = mapped_column(String(40), index=True)


class Sealed:
    """A row with personal data kept only sealed (``service.store.sealing``), in the columns named by
    ``__sealed_columns__``; each value is sealed for its table, column and row, so it opens nowhere else."""

    __sealed_columns__: tuple[str, ...] = ("sealed",)

    def seal_context(self, column: str = "sealed") -> str:
        return f"{self.__tablename__}.{column}:{self.id}"


class User(Scoped, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    #: The argon2 hash of the user's password for the web pages (``service.signin``); none until a
    #: one-time link has been used.
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    #: Failed sign-ins in a row; at ``service.signin.LOCK_AFTER`` it is locked until ``locked_until``.
    failed_signins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    tokens: Mapped[list[Token]] = relationship(back_populates="user", cascade="all, delete-orphan")


class Token(Base):
    """A bearer token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    user: Mapped[User] = relationship(back_populates="tokens")


class WebSession(Base):
    """A signed-in browser: only the SHA-256 of its cookie is stored, with its CSRF token and when it was
    last seen (the idle expiry); signing out ends it here, so the cookie opens nothing afterwards."""

    __tablename__ = "web_sessions"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    user: Mapped[User] = relationship()


class PasswordLink(Base):
    """A one-time link to set or reset a password, made by an administrator: its SHA-256 only."""

    __tablename__ = "password_links"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    used_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class SigninFailure(Base):
    """A failed sign-in from an address (its keyed hash, never the address itself), for slowing it."""

    __tablename__ = "signin_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class MadeWith:
    """What a document was made from besides its data: the municipality's template version and settings
    version in force on its date (ids to make it again, numbers to show; ``None``: the standard one)."""

    template_version_id: Mapped[str | None] = mapped_column(String(32), default=None)
    template_version: Mapped[int | None] = mapped_column(Integer, default=None)
    settings_version_id: Mapped[str | None] = mapped_column(String(32), default=None)
    settings_version: Mapped[int | None] = mapped_column(Integer, default=None)


class RegisteredDocument(MadeWith, Scoped, Base):
    """A rendered document: what, for whom, when, by whom, from which template and settings versions, and
    its hash — not its content. A pack's documents are recorded with their job."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    file_name: Mapped[str] = mapped_column(String(120))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    stored: Mapped[bool] = mapped_column(default=False)
    job_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)


class AuditEntry(Scoped, Base):
    """Who did what to which object, when: identifiers and hashes, never content."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(64), default="")
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    outcome: Mapped[str] = mapped_column(String(20), default="ok")
    detail: Mapped[str] = mapped_column(Text, default="")


class Submission(Sealed, Scoped, Base):
    """A filled delivery act that a provider uploaded and that passed validation.

    It keeps the extracted act (the data a reimbursement pack will be computed from) sealed, with the
    upload's hash, so the same file sent twice is recognised; once matched, the stored agreement (and its
    version) the act reports on. An administrator's override of the budget stop keeps who and why. Once
    accepted, ``part`` keeps what the act gives a reimbursement pack (``service.submissions.pack_part``).
    """

    __tablename__ = "submissions"
    __sealed_columns__ = ("sealed", "override_reason", "part", "reject_reason")
    __table_args__ = (
        UniqueConstraint("municipality", "sha256"),
        Index("ix_submissions_agreement_number_month", "municipality", "agreement_number", "month"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    file_type: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="received", index=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    provider: Mapped[str] = mapped_column(String(11), index=True)
    agreement_number: Mapped[str] = mapped_column(String(40))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    agreement_id: Mapped[str | None] = mapped_column(ForeignKey("agreements.id"), default=None, index=True)
    agreement_version: Mapped[int | None] = mapped_column(Integer, default=None)
    client_id: Mapped[str | None] = mapped_column(ForeignKey("clients.id"), default=None, index=True)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    accepted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    override_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    override_reason: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    part: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    #: A rejected act: when, by whom and why (the reason sealed).
    rejected_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    rejected_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    reject_reason: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)


class Job(Scoped, Base):
    """A background job (a reimbursement pack): its state and progress, never its content.

    The input lies in the job's folder of the shared job storage, hashed here (``input_sha256``) so the
    same input returns the same job; ``done``/``total`` count documents; ``attempts`` counts starts, so a
    job interrupted again and again fails instead of looping.
    """

    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("municipality", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(20), default="pack")
    backend: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    state: Mapped[str] = mapped_column(String(12), default="queued", index=True)
    step: Mapped[str] = mapped_column(String(20), default="")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    parts: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    input_sha256: Mapped[str] = mapped_column(String(64), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(100), default=None)
    title: Mapped[str] = mapped_column(String(120), default="")
    error_code: Mapped[str | None] = mapped_column(String(60), default=None)
    error_params: Mapped[str] = mapped_column(Text, default="{}")
    result_name: Mapped[str | None] = mapped_column(String(120), default=None)
    result_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    result_size: Mapped[int | None] = mapped_column(Integer, default=None)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    def stop(self, state: str, code: str, **params: Any) -> None:
        """End the job unfinished (``failed`` or ``cancelled``), with the reason as a coded problem."""
        self.state, self.step, self.finished_at = state, "", utcnow()
        self.error_code, self.error_params = code, json.dumps(params, ensure_ascii=False, sort_keys=True)

    def error(self) -> Problem | None:
        """Why the job did not finish, as a problem to translate; None when nothing went wrong."""
        if not self.error_code:
            return None
        params = json.loads(self.error_params or "{}")
        params.pop("problems", None)
        return problem(self.error_code, **params)

    def problems(self) -> list[dict[str, Any]]:
        """The order's problems its job found (``service.jobs.problems.stored``), if it failed with them."""
        return json.loads(self.error_params or "{}").get("problems", []) if self.error_code else []


class JobPart(Base):
    """A finished part of a job: one row per part, so a part done twice still counts once."""

    __tablename__ = "job_parts"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    part: Mapped[int] = mapped_column(Integer, primary_key=True)
    documents: Mapped[int] = mapped_column(Integer)
    finished_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class TemplateVersion(Scoped, Base):
    """One version of a municipality's own template of a document kind, kept append-only.

    ``number`` counts 1, 2, … per municipality and kind. The version in force on a day is the one with the
    latest ``effective_from`` not after it (the highest number among equals); a rollback adds a version
    with an earlier one's content and its number in ``rolled_back_from``, so nothing is ever rewritten.
    ``content`` is the checked (repaired) DOCX: tags and the municipality's wording, no personal data.
    """

    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("municipality", "kind", "number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(40))
    number: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[dt.date] = mapped_column(Date)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    rolled_back_from: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)


class SettingsVersion(Scoped, Base):
    """One version of a municipality's own settings over ``municipalities.toml``, kept append-only.

    ``body`` is the JSON of what it overrides (``schemas.municipal_settings.SettingsSchema`` without the
    date and the logo); ``logo`` the checked picture. Numbers, effective dates and rollbacks work as for
    :class:`TemplateVersion`. A municipality's name, address and signatories are public, not personal data.
    """

    __tablename__ = "settings_versions"
    __table_args__ = (UniqueConstraint("municipality", "number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    number: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[dt.date] = mapped_column(Date)
    sha256: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text, default="{}")
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    logo_type: Mapped[str | None] = mapped_column(String(20), default=None)
    rolled_back_from: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
