"""an index of submissions by agreement number and month, for the acts due work looks for

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_submissions_agreement_number_month", "submissions", ["municipality", "agreement_number", "month"]
    )


def downgrade() -> None:
    op.drop_index("ix_submissions_agreement_number_month", table_name="submissions")
