"""``Store``: one learner's cards, reviews and Practice work in the progress database.

Every grade is one transaction (card upsert + review insert). Two writers grading the same card
(two sessions, two replicas) both get their review logged; each grade is applied to the card as
stored when it commits, recomputed if another grade changed the card since it was previewed.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fsrs import Card, Rating

import prep.store.transfer as transfer
from prep import schedule
from prep.store.engine import Database
from prep.store.rows import dt, save_card, ts, upsert
from prep.store.schema import cards as CARDS
from prep.store.schema import interviews as INTERVIEWS
from prep.store.schema import practice_drafts as DRAFTS
from prep.store.schema import practice_submissions as SUBMISSIONS
from prep.store.schema import reviews as REVIEWS

DEFAULT_USER = "local"
DEFAULT_TIMEOUT_S = 5.0  # how long a write waits for another writer before giving up
UNKNOWN = object()  # record()'s based_on when the caller does not say which card it previewed


@dataclass(frozen=True)
class Review:
    """One grade, as the Progress page reads it."""

    id: int
    question_id: str
    rating: Rating
    reviewed: datetime
    duration_ms: int | None
    card_after: Card
    answer: str | None = None
    uid: str | None = None


@dataclass(frozen=True)
class Submission:
    """One Practice submission and its verdict."""

    id: int
    exercise_id: str
    code: str
    verdict: str
    seconds: float | None
    created: datetime


def _changed_since_preview(stored: Card | None, based_on: object, reviewed: datetime) -> bool:
    if based_on is UNKNOWN:  # only a grade stored after this preview's moment can be seen
        return stored is not None and stored.last_review is not None and \
            stored.last_review > reviewed
    if not isinstance(based_on, Card) or based_on.last_review is None:  # previewed as new
        return stored is not None
    return stored is None or stored.to_dict() != based_on.to_dict()


class Store:
    """Cards and reviews of one user. Safe to share between threads.

    ``location`` is an SQLite file path or a database URL (``postgresql+psycopg://...``).
    Opening checks the database and creates or upgrades its schema; it raises ``StoreError``
    (and never overwrites) when it is damaged, locked, read-only, unreachable or newer.
    """

    def __init__(self, location: str | os.PathLike, *, user: str = DEFAULT_USER,
                 timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.db = Database(location, timeout)
        self.path: Path | str = self.db.path or self.db.where
        self.user = user
        self.timeout = timeout

    # -- reading ------------------------------------------------------------------------------

    def schema_version(self) -> str | None:
        """The Alembic revision the database is at."""
        return self.db.revision()

    def card(self, question_id: str) -> Card | None:
        with self.db.read() as conn:
            text = conn.execute(sa.select(CARDS.c.card_json).where(
                CARDS.c.user == self.user, CARDS.c.question_id == question_id)).scalar()
        return Card.from_json(text) if text else None

    def cards(self) -> dict[str, Card]:
        """Every card this user has, by question id."""
        with self.db.read() as conn:
            rows = conn.execute(sa.select(CARDS.c.question_id, CARDS.c.card_json)
                                .where(CARDS.c.user == self.user)).all()
        return {qid: Card.from_json(text) for qid, text in rows}

    def due(self, now: datetime) -> list[str]:
        """Question ids whose card is due at ``now``, most overdue first."""
        with self.db.read() as conn:
            rows = conn.execute(sa.select(CARDS.c.question_id).where(
                CARDS.c.user == self.user, CARDS.c.due <= ts(now)).order_by(CARDS.c.due)).all()
        return [qid for (qid,) in rows]

    def reviews(self) -> list[Review]:
        """This user's review history, oldest first."""
        c = REVIEWS.c
        with self.db.read() as conn:
            rows = conn.execute(sa.select(
                c.id, c.question_id, c.rating, c.reviewed, c.duration_ms, c.card_after, c.answer,
                c.uid).where(c.user == self.user).order_by(c.id)).all()
        return [Review(rid, qid, Rating(rating), dt(when), duration, Card.from_json(after),
                       answer, uid)
                for rid, qid, rating, when, duration, after, answer, uid in rows]

    def latest_answer(self, question_ids: list[str]) -> tuple[str, datetime] | None:
        """The latest typed answer (not blank) among these questions' reviews, and when."""
        c = REVIEWS.c
        with self.db.read() as conn:
            row = conn.execute(sa.select(c.answer, c.reviewed).where(
                c.user == self.user, c.question_id.in_(question_ids), c.answer.is_not(None),
                sa.func.trim(c.answer) != "").order_by(c.reviewed.desc(), c.id.desc())
                .limit(1)).first()
        return (row[0], dt(row[1])) if row else None

    def review_count(self) -> int:
        with self.db.read() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(REVIEWS)
                                .where(REVIEWS.c.user == self.user)).scalar_one()

    # -- grading ------------------------------------------------------------------------------

    def record(self, question_id: str, rating: Rating, card_after: Card, reviewed: datetime,
               duration_ms: int | None = None, *, based_on: object = UNKNOWN,
               answer: str | None = None) -> int:
        """Save one grade atomically: the new card and a review row. Returns the review's id.

        ``card_after`` is the previewed card of the chosen grade (fsrs fuzzes intervals, so it is
        stored as shown), unless the stored card changed since ``based_on`` (the card the preview
        was computed from; None or a never-reviewed card for a new one) was read: then the grade
        is applied to the stored card. ``answer`` is what the learner typed, if anything.
        """
        reviewed_s = ts(reviewed)
        with self.db.write() as conn:
            self.db.lock_card(conn, self.user, question_id)
            before_json = conn.execute(sa.select(CARDS.c.card_json).where(
                CARDS.c.user == self.user, CARDS.c.question_id == question_id)).scalar()
            stored = Card.from_json(before_json) if before_json else None
            if _changed_since_preview(stored, based_on, reviewed):
                base = stored or schedule.new_card(question_id, reviewed)
                when = max(reviewed, base.last_review or reviewed)
                card_after, _ = schedule.SCHEDULER.review_card(base, Rating(rating), when)
            save_card(conn, self.user, question_id, card_after, reviewed_s)
            result = conn.execute(sa.insert(REVIEWS).values(
                uid=str(uuid.uuid4()), user=self.user, question_id=question_id,
                rating=int(rating), reviewed=reviewed_s, duration_ms=duration_ms,
                card_before=before_json, card_after=card_after.to_json(), answer=answer))
            return int(result.inserted_primary_key[0])

    def undo(self, review_id: int) -> str | None:
        """Take back a grade: restore the card as it was before and delete the review.

        Only the review the card now comes from can be undone (not one a later grade, or a
        merged import, built on).
        Returns the question id, or None if the review is gone or is no longer the latest.
        """
        c = REVIEWS.c
        with self.db.write() as conn:
            row = conn.execute(sa.select(c.question_id).where(
                c.id == review_id, c.user == self.user)).first()
            if row is None:
                return None
            question_id = row[0]
            self.db.lock_card(conn, self.user, question_id)
            current = conn.execute(sa.select(CARDS.c.card_json).where(
                CARDS.c.user == self.user, CARDS.c.question_id == question_id)).scalar()
            row = conn.execute(sa.select(c.card_before, c.card_after)
                               .where(c.id == review_id)).one()
            if row.card_after != current:  # a later grade (or a merged import) built on it
                return None
            before_json = row.card_before
            where = (CARDS.c.user == self.user) & (CARDS.c.question_id == question_id)
            if before_json is None:
                conn.execute(sa.delete(CARDS).where(where))
            else:
                save_card(conn, self.user, question_id, Card.from_json(before_json),
                          datetime.now(UTC).timestamp())
            conn.execute(sa.delete(REVIEWS).where(c.id == review_id))
            return question_id

    # -- Practice -----------------------------------------------------------------------------

    def save_draft(self, exercise_id: str, code: str, now: datetime) -> None:
        """Keep the learner's latest code of an exercise (one per learner and exercise)."""
        with self.db.write() as conn:
            upsert(conn, DRAFTS, {"user": self.user, "exercise_id": exercise_id, "code": code,
                                  "updated": ts(now)}, ["user", "exercise_id"])

    def draft(self, exercise_id: str) -> str | None:
        with self.db.read() as conn:
            return conn.execute(sa.select(DRAFTS.c.code).where(
                DRAFTS.c.user == self.user, DRAFTS.c.exercise_id == exercise_id)).scalar()

    def add_submission(self, exercise_id: str, code: str, verdict: str, seconds: float | None,
                       now: datetime) -> int:
        """Log one submission and its verdict; returns its id."""
        with self.db.write() as conn:
            result = conn.execute(sa.insert(SUBMISSIONS).values(
                user=self.user, exercise_id=exercise_id, code=code, verdict=verdict,
                seconds=seconds, created=ts(now)))
            return int(result.inserted_primary_key[0])

    def submissions(self, exercise_id: str | None = None) -> list[Submission]:
        """This user's submissions (of one exercise, or all), oldest first."""
        c = SUBMISSIONS.c
        query = sa.select(c.id, c.exercise_id, c.code, c.verdict, c.seconds, c.created).where(
            c.user == self.user)
        if exercise_id is not None:
            query = query.where(c.exercise_id == exercise_id)
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(c.id)).all()
        return [Submission(i, e, code, v, s, dt(when)) for i, e, code, v, s, when in rows]

    # -- mock interviews ------------------------------------------------------------------------

    def save_interview(self, interview_id: str, data: dict[str, Any], started: datetime,
                       finished: datetime | None, now: datetime) -> None:
        """Write one interview's whole state (insert or replace): one transaction per answer."""
        with self.db.write() as conn:
            upsert(conn, INTERVIEWS, {
                "user": self.user, "id": interview_id,
                "data_json": json.dumps(data, ensure_ascii=False), "started": ts(started),
                "finished": ts(finished) if finished is not None else None, "updated": ts(now),
            }, ["user", "id"])

    def open_interview(self) -> tuple[str, dict[str, Any]] | None:
        """The latest interview not finished yet, as (id, data), or None."""
        c = INTERVIEWS.c
        with self.db.read() as conn:
            row = conn.execute(sa.select(c.id, c.data_json)
                               .where(c.user == self.user, c.finished.is_(None))
                               .order_by(c.updated.desc()).limit(1)).first()
        return (row[0], json.loads(row[1])) if row else None

    def finished_interviews(self) -> list[tuple[str, dict[str, Any]]]:
        """Finished interviews as (id, data), newest first."""
        c = INTERVIEWS.c
        with self.db.read() as conn:
            rows = conn.execute(sa.select(c.id, c.data_json)
                                .where(c.user == self.user, c.finished.is_not(None))
                                .order_by(c.finished.desc())).all()
        return [(iid, json.loads(data)) for iid, data in rows]

    # -- moving progress between instances ----------------------------------------------------

    def export_progress(self) -> dict[str, Any]:
        """This learner's progress as a JSON-ready dict (see ``prep.store.transfer``)."""
        return transfer.export_progress(self.db, self.user)

    def import_progress(self, data: dict[str, Any]) -> int:
        """Merge an export into this learner's progress; returns how many reviews were new."""
        return transfer.import_progress(self.db, self.user, data)
