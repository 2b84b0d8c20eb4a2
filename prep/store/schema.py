"""The tables at the head of the migration history, whole: columns, keys, indexes, constraints.

The migrations in ``migrations/versions`` build them step by step, and upgrade every existing
database. A new, empty database is made from this module in one step (``metadata.create_all``,
then stamped with the head revision: Alembic's recipe for a database built from scratch), which
spares the first start Alembic's import. ``tests/test_store_schema.py`` checks on both engines
that the two ways give the same schema (and rows), so a new migration must bring this module
along. Times are UTC epoch seconds (double precision); cards are ``fsrs.Card.to_json()``.

    cards(user, question_id, card_json, due, state, updated)
        the fsrs card of each question a user has seen
    reviews(id, user, question_id, rating, reviewed, duration_ms, card_before, card_after, uid,
            answer)
        one row per grade; ``uid`` is unique across instances (export / import merge by it);
        ``card_before`` (NULL for a new card) is what undo restores; ``answer`` is what the learner
        typed, if anything
    practice_drafts(user, exercise_id, code, updated)
        the learner's latest code of each exercise
    practice_submissions(id, user, exercise_id, code, verdict, seconds, created)
        every submission and its verdict
    interviews(user, id, data_json, started, finished, updated)
        one mock interview (``prep.interview.Interview.to_dict()`` as JSON); finished is NULL
        while it is open
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Double,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

metadata = MetaData()

cards = Table(
    "cards", metadata,
    Column("user", String, primary_key=True, server_default="local"),
    Column("question_id", String, primary_key=True),
    Column("card_json", Text, nullable=False),
    Column("due", Double, nullable=False),
    Column("state", Integer, nullable=False),
    Column("updated", Double, nullable=False),
    Index("cards_due", "user", "due"),
)

reviews = Table(
    "reviews", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user", String, nullable=False, server_default="local"),
    Column("question_id", String, nullable=False),
    Column("rating", Integer, nullable=False),
    Column("reviewed", Double, nullable=False),
    Column("duration_ms", Integer),
    Column("card_before", Text),
    Column("card_after", Text, nullable=False),
    Column("uid", String(36)),  # added by 0002, so after the columns of 0001
    Column("answer", Text),
    CheckConstraint("rating BETWEEN 1 AND 4", name="reviews_rating"),
    Index("reviews_user_time", "user", "reviewed"),
    Index("reviews_question", "user", "question_id", "id"),
    Index("reviews_uid", "uid", unique=True),
    sqlite_autoincrement=True,
)

practice_drafts = Table(
    "practice_drafts", metadata,
    Column("user", String, primary_key=True),
    Column("exercise_id", String, primary_key=True),
    Column("code", Text, nullable=False),
    Column("updated", Double, nullable=False),
)

practice_submissions = Table(
    "practice_submissions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user", String, nullable=False),
    Column("exercise_id", String, nullable=False),
    Column("code", Text, nullable=False),
    Column("verdict", String, nullable=False),
    Column("seconds", Double),
    Column("created", Double, nullable=False),
    Index("practice_submissions_user", "user", "exercise_id", "id"),
    sqlite_autoincrement=True,
)

interviews = Table(
    "interviews", metadata,
    Column("user", String, primary_key=True),
    Column("id", String, primary_key=True),
    Column("data_json", Text, nullable=False),
    Column("started", Double, nullable=False),
    Column("finished", Double),
    Column("updated", Double, nullable=False),
    Index("interviews_open", "user", "finished", "updated"),
)

# Alembic's own bookkeeping table, as Alembic creates it: the revision a database is at.
alembic_version = Table(
    "alembic_version", MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)
