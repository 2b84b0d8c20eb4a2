"""Mock interviews: one row per interview, its whole state as JSON (answers, ticks, grades).

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "interviews",
        sa.Column("user", sa.String, primary_key=True),
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("data_json", sa.Text, nullable=False),
        sa.Column("started", sa.Double, nullable=False),
        sa.Column("finished", sa.Double),
        sa.Column("updated", sa.Double, nullable=False),
    )
    op.create_index("interviews_open", "interviews", ["user", "finished", "updated"])


def downgrade() -> None:
    op.drop_index("interviews_open", table_name="interviews")
    op.drop_table("interviews")
