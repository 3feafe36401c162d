"""case records: clients, plan versions, agreements, the budget lines they use; submitted acts sealed

Revision ID: 0004
Revises: 0003

Acts received before this revision were kept in the clear (``submissions.act``): they are sealed here
with the service's data key, which ``service.store`` hands to Alembic as ``config.attributes["sealer"]``.
"""

import sqlalchemy as sa
from alembic import context, op

SUBMISSIONS = sa.table(
    "submissions",
    sa.column("id", sa.String),
    sa.column("act", sa.Text),
    sa.column("sealed", sa.LargeBinary),
)

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "number_series",
        sa.Column("municipality", sa.String(length=40), nullable=False),
        sa.Column("series", sa.String(length=60), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("municipality", "series"),
    )
    op.create_table(
        "clients",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code_tag", sa.String(length=32), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("target_group", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("municipality", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("municipality", "code_tag"),
    )
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clients_municipality"), ["municipality"], unique=False)
        batch_op.create_index(batch_op.f("ix_clients_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_clients_target_group"), ["target_group"], unique=False)

    op.create_table(
        "client_name_tags",
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("tag", sa.String(length=32), nullable=False),
        sa.Column("municipality", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("client_id", "tag"),
    )
    with op.batch_alter_table("client_name_tags", schema=None) as batch_op:
        batch_op.create_index("ix_client_name_tags_lookup", ["municipality", "tag"], unique=False)

    op.create_table(
        "plans",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("draft", sa.LargeBinary(), nullable=True),
        sa.Column("draft_revision", sa.Integer(), nullable=False),
        sa.Column("draft_base", sa.Integer(), nullable=False),
        sa.Column("draft_problems", sa.Integer(), nullable=False),
        sa.Column("draft_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("draft_updated_by", sa.Integer(), nullable=True),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("review_date", sa.Date(), nullable=True),
        sa.Column("municipality", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["draft_updated_by"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plans_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plans_municipality"), ["municipality"], unique=False)
        batch_op.create_index(batch_op.f("ix_plans_review_date"), ["review_date"], unique=False)

    op.create_table(
        "agreements",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("plan_id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("provider", sa.String(length=11), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.LargeBinary(), nullable=True),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("municipality", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("municipality", "number"),
    )
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agreements_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_agreements_end"), ["end"], unique=False)
        batch_op.create_index(batch_op.f("ix_agreements_municipality"), ["municipality"], unique=False)
        batch_op.create_index(batch_op.f("ix_agreements_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_agreements_provider"), ["provider"], unique=False)
        batch_op.create_index(batch_op.f("ix_agreements_state"), ["state"], unique=False)

    op.create_table(
        "plan_versions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("plan_id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("plan_number", sa.String(length=40), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("review_date", sa.Date(), nullable=True),
        sa.Column("monthly_budget", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("period_budget", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("edited_by", sa.Integer(), nullable=True),
        sa.Column("document_id", sa.String(length=32), nullable=True),
        sa.Column("document_sha256", sa.String(length=64), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_by", sa.Integer(), nullable=True),
        sa.Column("signed_sha256", sa.String(length=64), nullable=True),
        sa.Column("signed_type", sa.String(length=10), nullable=True),
        sa.Column("municipality", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["edited_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["signed_by"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "number"),
    )
    with op.batch_alter_table("plan_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_versions_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_versions_municipality"), ["municipality"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_versions_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_versions_state"), ["state"], unique=False)

    op.create_table(
        "agreement_versions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("agreement_id", sa.String(length=32), nullable=False),
        sa.Column("plan_version_id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("total", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("municipality", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["agreement_id"], ["agreements.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["plan_version_id"],
            ["plan_versions.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agreement_id", "number"),
    )
    with op.batch_alter_table("agreement_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agreement_versions_agreement_id"), ["agreement_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_agreement_versions_municipality"), ["municipality"], unique=False
        )

    op.create_table(
        "planned_services",
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["plan_versions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("version_id", "line"),
    )
    op.create_table(
        "contracted_services",
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["agreement_versions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("version_id", "line"),
    )
    op.create_table(
        "delivered_services",
        sa.Column("submission_id", sa.String(length=32), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("agreement_id", sa.String(length=32), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("units", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.ForeignKeyConstraint(["agreement_id"], ["agreements.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("submission_id", "line"),
    )
    with op.batch_alter_table("delivered_services", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delivered_services_agreement_id"), ["agreement_id"], unique=False
        )
        batch_op.create_index("ix_delivered_services_client_month", ["client_id", "month"], unique=False)

    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sealed", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("agreement_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("agreement_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("client_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("override_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("override_reason", sa.LargeBinary(), nullable=True))
        batch_op.create_index(batch_op.f("ix_submissions_agreement_id"), ["agreement_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_submissions_client_id"), ["client_id"], unique=False)
        batch_op.create_foreign_key("fk_submissions_client_id", "clients", ["client_id"], ["id"])
        batch_op.create_foreign_key("fk_submissions_agreement_id", "agreements", ["agreement_id"], ["id"])
        batch_op.create_foreign_key("fk_submissions_override_by", "users", ["override_by"], ["id"])
    _seal_acts()
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.alter_column("sealed", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column("act")


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("act", sa.Text(), nullable=True))
    _open_acts()
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.alter_column("act", existing_type=sa.Text(), nullable=False)
        batch_op.drop_constraint("fk_submissions_override_by", type_="foreignkey")
        batch_op.drop_constraint("fk_submissions_agreement_id", type_="foreignkey")
        batch_op.drop_constraint("fk_submissions_client_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_submissions_client_id"))
        batch_op.drop_index(batch_op.f("ix_submissions_agreement_id"))
        batch_op.drop_column("override_reason")
        batch_op.drop_column("override_by")
        batch_op.drop_column("client_id")
        batch_op.drop_column("agreement_version")
        batch_op.drop_column("agreement_id")
        batch_op.drop_column("sealed")

    with op.batch_alter_table("delivered_services", schema=None) as batch_op:
        batch_op.drop_index("ix_delivered_services_client_month")
        batch_op.drop_index(batch_op.f("ix_delivered_services_agreement_id"))

    op.drop_table("delivered_services")
    op.drop_table("contracted_services")
    op.drop_table("planned_services")
    with op.batch_alter_table("agreement_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_versions_municipality"))
        batch_op.drop_index(batch_op.f("ix_agreement_versions_agreement_id"))

    op.drop_table("agreement_versions")
    with op.batch_alter_table("plan_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_versions_state"))
        batch_op.drop_index(batch_op.f("ix_plan_versions_plan_id"))
        batch_op.drop_index(batch_op.f("ix_plan_versions_municipality"))
        batch_op.drop_index(batch_op.f("ix_plan_versions_client_id"))

    op.drop_table("plan_versions")
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreements_state"))
        batch_op.drop_index(batch_op.f("ix_agreements_provider"))
        batch_op.drop_index(batch_op.f("ix_agreements_plan_id"))
        batch_op.drop_index(batch_op.f("ix_agreements_municipality"))
        batch_op.drop_index(batch_op.f("ix_agreements_end"))
        batch_op.drop_index(batch_op.f("ix_agreements_client_id"))

    op.drop_table("agreements")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plans_review_date"))
        batch_op.drop_index(batch_op.f("ix_plans_municipality"))
        batch_op.drop_index(batch_op.f("ix_plans_client_id"))

    op.drop_table("plans")
    with op.batch_alter_table("client_name_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_client_name_tags_lookup")

    op.drop_table("client_name_tags")
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clients_target_group"))
        batch_op.drop_index(batch_op.f("ix_clients_status"))
        batch_op.drop_index(batch_op.f("ix_clients_municipality"))

    op.drop_table("clients")
    op.drop_table("number_series")


def _context(submission_id: str) -> str:
    return f"submissions.sealed:{submission_id}"


def _seal_acts() -> None:
    """Seal every act kept in the clear before this revision."""
    sealer = context.config.attributes["sealer"]
    connection = op.get_bind()
    rows = connection.execute(sa.select(SUBMISSIONS.c.id, SUBMISSIONS.c.act)).all()
    for submission_id, act in rows:
        sealed = sealer.seal(act.encode("utf-8"), _context(submission_id))
        connection.execute(
            SUBMISSIONS.update().where(SUBMISSIONS.c.id == submission_id).values(sealed=sealed)
        )


def _open_acts() -> None:
    """Going back: the acts in the clear again, as the older code reads them."""
    sealer = context.config.attributes["sealer"]
    connection = op.get_bind()
    rows = connection.execute(sa.select(SUBMISSIONS.c.id, SUBMISSIONS.c.sealed)).all()
    for submission_id, sealed in rows:
        act = sealer.open(sealed, _context(submission_id)).decode("utf-8")
        connection.execute(SUBMISSIONS.update().where(SUBMISSIONS.c.id == submission_id).values(act=act))
