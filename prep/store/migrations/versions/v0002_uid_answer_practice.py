"""Review ids unique across instances (for export / import), the typed answer of a review, and
Practice drafts and submissions.

Revision ID: 0002
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("reviews", sa.Column("uid", sa.String(36)))
    op.add_column("reviews", sa.Column("answer", sa.Text))
    reviews = sa.table("reviews", sa.column("id", sa.Integer), sa.column("uid", sa.String))
    bind = op.get_bind()
    for (review_id,) in bind.execute(sa.select(reviews.c.id)).all():
        bind.execute(sa.update(reviews).where(reviews.c.id == review_id)
                     .values(uid=str(uuid.uuid4())))
    op.create_index("reviews_uid", "reviews", ["uid"], unique=True)
    op.create_table(
        "practice_drafts",
        sa.Column("user", sa.String, primary_key=True),
        sa.Column("exercise_id", sa.String, primary_key=True),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("updated", sa.Double, nullable=False),
    )
    op.create_table(
        "practice_submissions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user", sa.String, nullable=False),
        sa.Column("exercise_id", sa.String, nullable=False),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("verdict", sa.String, nullable=False),
        sa.Column("seconds", sa.Double),
        sa.Column("created", sa.Double, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("practice_submissions_user", "practice_submissions",
                    ["user", "exercise_id", "id"])


def downgrade() -> None:
    op.drop_table("practice_submissions")
    op.drop_table("practice_drafts")
    op.drop_index("reviews_uid", table_name="reviews")
    op.drop_column("reviews", "answer")
    op.drop_column("reviews", "uid")
