"""a received act rejected: when, by whom, and the reason sealed

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("rejected_at", sa.DateTime(), nullable=True))
        batch.add_column(
            sa.Column(
                "rejected_by",
                sa.Integer(),
                sa.ForeignKey("users.id", name="fk_submissions_rejected_by"),
                nullable=True,
            )
        )
        batch.add_column(sa.Column("reject_reason", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("reject_reason")
        batch.drop_column("rejected_by")
        batch.drop_column("rejected_at")
