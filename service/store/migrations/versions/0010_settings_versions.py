"""the municipalities' own settings versions, and the template and settings versions each document, plan
version and agreement version was made with (the register's pack documents carry their job)

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

MADE_WITH = ("documents", "plan_versions", "agreement_versions")


def upgrade() -> None:
    op.create_table(
        "settings_versions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("municipality", sa.String(length=40), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("logo", sa.LargeBinary(), nullable=True),
        sa.Column("logo_type", sa.String(length=20), nullable=True),
        sa.Column("rolled_back_from", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("municipality", "number"),
    )
    op.create_index("ix_settings_versions_municipality", "settings_versions", ["municipality"])
    for table in MADE_WITH:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("template_version_id", sa.String(length=32), nullable=True))
            batch.add_column(sa.Column("template_version", sa.Integer(), nullable=True))
            batch.add_column(sa.Column("settings_version_id", sa.String(length=32), nullable=True))
            batch.add_column(sa.Column("settings_version", sa.Integer(), nullable=True))
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("job_id", sa.String(length=32), nullable=True))
        batch.create_index("ix_documents_job_id", ["job_id"])


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_index("ix_documents_job_id")
        batch.drop_column("job_id")
    for table in MADE_WITH:
        with op.batch_alter_table(table) as batch:
            for column in ("settings_version", "settings_version_id", "template_version"):
                batch.drop_column(column)
            batch.drop_column("template_version_id")
    op.drop_index("ix_settings_versions_municipality", table_name="settings_versions")
    op.drop_table("settings_versions")
