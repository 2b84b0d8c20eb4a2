"""Cards and reviews: the schema the app had before Alembic (``schema_version`` 1).

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cards",
        sa.Column("user", sa.String, primary_key=True, server_default="local"),
        sa.Column("question_id", sa.String, primary_key=True),
        sa.Column("card_json", sa.Text, nullable=False),
        sa.Column("due", sa.Double, nullable=False),
        sa.Column("state", sa.Integer, nullable=False),
        sa.Column("updated", sa.Double, nullable=False),
    )
    op.create_index("cards_due", "cards", ["user", "due"])
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user", sa.String, nullable=False, server_default="local"),
        sa.Column("question_id", sa.String, nullable=False),
        sa.Column("rating", sa.Integer, nullable=False),
        sa.Column("reviewed", sa.Double, nullable=False),
        sa.Column("duration_ms", sa.Integer),
        sa.Column("card_before", sa.Text),
        sa.Column("card_after", sa.Text, nullable=False),
        sa.CheckConstraint("rating BETWEEN 1 AND 4", name="reviews_rating"),
        sqlite_autoincrement=True,
    )
    op.create_index("reviews_user_time", "reviews", ["user", "reviewed"])
    op.create_index("reviews_question", "reviews", ["user", "question_id", "id"])


def downgrade() -> None:
    op.drop_table("reviews")
    op.drop_table("cards")
