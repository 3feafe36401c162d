"""acts received before their agreement was stored are linked to it by number

Revision ID: 0006
Revises: 0005

An agreement links the acts received under its number when it is stored (``service.cases.agreements``);
this links every act whose number names a stored agreement and that is not linked yet (acts received
before revision 0004, or while their agreement was being stored). Only the link columns are written.
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_AGREEMENT = (
    "SELECT agreements.{column} FROM agreements WHERE agreements.municipality = submissions.municipality"
    " AND agreements.number = submissions.agreement_number"
)


def upgrade() -> None:
    op.execute(
        "UPDATE submissions SET"
        f" agreement_id = ({_AGREEMENT.format(column='id')}),"
        f" client_id = ({_AGREEMENT.format(column='client_id')}),"
        f" agreement_version = ({_AGREEMENT.format(column='latest_version')})"
        f" WHERE agreement_id IS NULL AND EXISTS ({_AGREEMENT.format(column='id')})"
    )


def downgrade() -> None:
    """The links stay: they were true before the upgrade as well."""
