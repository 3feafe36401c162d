"""an index that answers the client list's change marker (count, latest change, sum of revisions) alone

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_clients_order_marker", "clients", ["municipality", "updated_at", "revision"])


def downgrade() -> None:
    op.drop_index("ix_clients_order_marker", table_name="clients")
