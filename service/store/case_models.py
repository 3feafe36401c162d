"""Stored case records: clients, their plans and plan versions, agreements, and the budget lines they use.

What identifies or describes a person — names, personal codes, addresses, contacts, representatives, the
free text of plans — and the whole body of every plan, agreement and act are kept only *sealed*
(``sealed`` columns: AES-GCM, see ``service.store.sealing``). What budgets, lists and due work need is
kept in the clear beside them: dates, amounts, service codes, units, statuses, numbers and target
groups. Searching uses keyed hashes (``code_tag``, :class:`ClientNameTag`), never the text itself.

Every row a user can reach carries its municipality (``Scoped``); child rows (tags, lines) are reached
only through their parent.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, LargeBinary, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.store.models import Base, MadeWith, Scoped, Sealed, new_id, utcnow

Money = Numeric(12, 2)
Quantity = Numeric(10, 2)


class Client(Sealed, Scoped, Base):
    """A person the municipality supports. Sealed: name, personal code, birth date, addresses, contacts,
    representatives, the reason a case was closed."""

    __tablename__ = "clients"
    __table_args__ = (
        UniqueConstraint("municipality", "code_tag"),
        # The client list's change marker (service.cases.client_order) is read from this index alone.
        Index("ix_clients_order_marker", "municipality", "updated_at", "revision"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code_tag: Mapped[str] = mapped_column(String(32))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    target_group: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    closed_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    tags: Mapped[list[ClientNameTag]] = relationship(cascade="all, delete-orphan")


class ClientNameTag(Base):
    """One keyed hash of a normalised prefix of a client's name: "Ķirse" gives tags of kir, kirs, kirse."""

    __tablename__ = "client_name_tags"
    __table_args__ = (Index("ix_client_name_tags_lookup", "municipality", "tag"),)

    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(32), primary_key=True)
    municipality: Mapped[str] = mapped_column(String(40))


class Plan(Sealed, Scoped, Base):
    """A client's support plan over its versions, with at most one draft. Sealed: the draft as typed."""

    __tablename__ = "plans"
    __sealed_columns__ = ("draft",)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    draft: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    draft_revision: Mapped[int] = mapped_column(Integer, default=0)
    draft_base: Mapped[int] = mapped_column(Integer, default=0)
    draft_problems: Mapped[int] = mapped_column(Integer, default=0)
    draft_updated_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    draft_updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    review_date: Mapped[dt.date | None] = mapped_column(Date, default=None, index=True)
    versions: Mapped[list[PlanVersion]] = relationship(
        back_populates="plan", order_by="PlanVersion.number", cascade="all, delete-orphan"
    )


class PlanVersion(MadeWith, Sealed, Scoped, Base):
    """An approved, frozen version of a plan. Sealed: the plan as approved, and the reason for the change."""

    __tablename__ = "plan_versions"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12), default="approved", index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    plan_number: Mapped[str] = mapped_column(String(40))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    review_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    monthly_budget: Mapped[Decimal] = mapped_column(Money)
    period_budget: Mapped[Decimal] = mapped_column(Money)
    approved_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    edited_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    document_id: Mapped[str | None] = mapped_column(String(32), default=None)
    document_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    signed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    signed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    signed_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    signed_type: Mapped[str | None] = mapped_column(String(10), default=None)
    plan: Mapped[Plan] = relationship(back_populates="versions")
    services: Mapped[list[PlannedService]] = relationship(
        order_by="PlannedService.line", cascade="all, delete-orphan"
    )


class ServiceLine:
    """A service line in the clear: a month's quantity of one catalogue service at its price, from–to."""

    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20))
    unit: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)
    start: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date] = mapped_column(Date)


class SignedCopy(Sealed, Base):
    """The signed copy of an approved plan version (a scan, a signed PDF or an .edoc), its bytes sealed.
    Whether its signature is valid is not checked yet."""

    __tablename__ = "signed_copies"

    id: Mapped[str] = mapped_column(ForeignKey("plan_versions.id", ondelete="CASCADE"), primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    file_type: Mapped[str] = mapped_column(String(10))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))


class PlannedService(ServiceLine, Base):
    """One service line of an approved plan version: what a month of the plan may use."""

    __tablename__ = "planned_services"

    version_id: Mapped[str] = mapped_column(
        ForeignKey("plan_versions.id", ondelete="CASCADE"), primary_key=True
    )


class NumberSeries(Base):
    """The last number given in one series of one municipality (e.g. "L-2020/"): numbers without gaps."""

    __tablename__ = "number_series"

    municipality: Mapped[str] = mapped_column(String(40), primary_key=True)
    series: Mapped[str] = mapped_column(String(60), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Agreement(Sealed, Scoped, Base):
    """A service agreement made from an approved plan version, amended as versions under one number.
    Sealed: the reason it was ended early."""

    __tablename__ = "agreements"
    __table_args__ = (UniqueConstraint("municipality", "number"),)
    __sealed_columns__ = ("end_reason",)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(40))
    provider: Mapped[str] = mapped_column(String(11), index=True)
    state: Mapped[str] = mapped_column(String(10), default="active", index=True)
    start: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date] = mapped_column(Date, index=True)
    ended_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    end_reason: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    latest_version: Mapped[int] = mapped_column(Integer, default=1)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    versions: Mapped[list[AgreementVersion]] = relationship(
        back_populates="agreement", order_by="AgreementVersion.number", cascade="all, delete-orphan"
    )


class AgreementVersion(MadeWith, Sealed, Scoped, Base):
    """One version of an agreement (the first, or an amendment). Sealed: the agreement as stored."""

    __tablename__ = "agreement_versions"
    __table_args__ = (UniqueConstraint("agreement_id", "number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    plan_version_id: Mapped[str] = mapped_column(ForeignKey("plan_versions.id"))
    number: Mapped[int] = mapped_column(Integer)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    start: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date] = mapped_column(Date)
    total: Mapped[Decimal] = mapped_column(Money)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    agreement: Mapped[Agreement] = relationship(back_populates="versions")
    services: Mapped[list[ContractedService]] = relationship(
        order_by="ContractedService.line", cascade="all, delete-orphan"
    )


class ContractedService(ServiceLine, Base):
    """One service line of an agreement version, a month's quantity at its price."""

    __tablename__ = "contracted_services"

    version_id: Mapped[str] = mapped_column(
        ForeignKey("agreement_versions.id", ondelete="CASCADE"), primary_key=True
    )


class DeliveredService(Base):
    """What an accepted act says was delivered: one line per service, for the budget in use."""

    __tablename__ = "delivered_services"
    __table_args__ = (Index("ix_delivered_services_client_month", "client_id", "month"),)

    submission_id: Mapped[str] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    month: Mapped[str] = mapped_column(String(7))
    code: Mapped[str] = mapped_column(String(20))
    unit: Mapped[str] = mapped_column(String(20))
    units: Mapped[Decimal] = mapped_column(Quantity)
    amount: Mapped[Decimal] = mapped_column(Money)
