"""The tables, as SQLAlchemy Core sees them at the head of the migration history.

The migrations in ``migrations/versions`` create them; this module only describes them for
queries. Times are UTC epoch seconds (double precision); cards are ``fsrs.Card.to_json()``.

    cards(user, question_id, card_json, due, state, updated)
        the fsrs card of each question a user has seen
    reviews(id, uid, user, question_id, rating, reviewed, duration_ms, card_before, card_after,
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

from sqlalchemy import Column, Double, Integer, MetaData, String, Table, Text

metadata = MetaData()

cards = Table(
    "cards", metadata,
    Column("user", String, primary_key=True),
    Column("question_id", String, primary_key=True),
    Column("card_json", Text, nullable=False),
    Column("due", Double, nullable=False),
    Column("state", Integer, nullable=False),
    Column("updated", Double, nullable=False),
)

reviews = Table(
    "reviews", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uid", String(36)),
    Column("user", String, nullable=False),
    Column("question_id", String, nullable=False),
    Column("rating", Integer, nullable=False),
    Column("reviewed", Double, nullable=False),
    Column("duration_ms", Integer),
    Column("card_before", Text),
    Column("card_after", Text, nullable=False),
    Column("answer", Text),
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
)

interviews = Table(
    "interviews", metadata,
    Column("user", String, primary_key=True),
    Column("id", String, primary_key=True),
    Column("data_json", Text, nullable=False),
    Column("started", Double, nullable=False),
    Column("finished", Double),
    Column("updated", Double, nullable=False),
)
