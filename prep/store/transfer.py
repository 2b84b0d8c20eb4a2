"""Moving one learner's progress between instances (local to hosted and back).

The export is JSON: ``{"format": FORMAT, "version": 1, "user": ..., "exported": ...,
"reviews": [{uid, question_id, rating, reviewed, duration_ms, answer, card_before,
card_after}, ...], "interviews": [{id, data_json, started, finished, updated}, ...]}`` with
times as UTC epoch seconds.

Import merges by review ``uid`` (a union: a review already present is skipped, so importing twice
changes nothing), then replays the merged log of each touched card in time order: a logged step is
kept when it started from the card the replay has reached (so an export imported into an empty
instance reproduces the same schedule, fuzz and all); otherwise it is recomputed from that card
with fsrs, without fuzz, and the review row is rewritten to match (so undo stays right).
Interviews merge by id: the copy updated last wins, so importing twice changes nothing.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from fsrs import Card, Rating, Scheduler

from prep import schedule
from prep.store.engine import Database
from prep.store.rows import dt, save_card, upsert
from prep.store.schema import interviews as INTERVIEWS
from prep.store.schema import reviews as REVIEWS

FORMAT = "attention-prep-progress"
VERSION = 1
REPLAY = Scheduler(desired_retention=schedule.DESIRED_RETENTION, enable_fuzzing=False)
_FIELDS = ("uid", "question_id", "rating", "reviewed", "duration_ms", "answer", "card_before",
           "card_after")
_INTERVIEW_FIELDS = ("id", "data_json", "started", "finished", "updated")


def export_progress(db: Database, user: str) -> dict[str, Any]:
    c = REVIEWS.c
    with db.read() as conn:
        rows = conn.execute(sa.select(*(c[f] for f in _FIELDS)).where(c.user == user)
                            .order_by(c.reviewed, c.id)).mappings().all()
        i = INTERVIEWS.c
        interviews = conn.execute(sa.select(*(i[f] for f in _INTERVIEW_FIELDS))
                                  .where(i.user == user).order_by(i.started)).mappings().all()
    return {"format": FORMAT, "version": VERSION, "user": user,
            "exported": datetime.now(UTC).isoformat(), "reviews": [dict(r) for r in rows],
            "interviews": [dict(r) for r in interviews]}


def _validated_interviews(data: dict[str, Any]) -> list[dict[str, Any]]:
    items = data.get("interviews", [])
    if not isinstance(items, list):
        raise ValueError("data['interviews']: expected a list")
    cleaned = []
    for n, item in enumerate(items):
        try:
            json.loads(item["data_json"])
            finished = item.get("finished")
            cleaned.append({"id": str(item["id"]), "data_json": str(item["data_json"]),
                            "started": float(item["started"]),
                            "finished": None if finished is None else float(finished),
                            "updated": float(item["updated"])})
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"data['interviews'][{n}]: {exc!r}") from exc
    return cleaned


def _import_interviews(conn: sa.Connection, user: str, items: list[dict[str, Any]]) -> None:
    i = INTERVIEWS.c
    held = dict(conn.execute(sa.select(i.id, i.updated).where(i.user == user)).all())
    for item in items:
        if item["id"] not in held or item["updated"] > held[item["id"]]:
            upsert(conn, INTERVIEWS, {**item, "user": user}, ["user", "id"])


def _validated(data: Any) -> list[dict[str, Any]]:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"data: not an {FORMAT} export (format {data.get('format')!r})"
                         if isinstance(data, dict) else f"data: expected a dict, got {data!r}")
    if data.get("version") != VERSION:
        raise ValueError(f"data: export version must be {VERSION}; got {data.get('version')!r}")
    reviews = data.get("reviews")
    if not isinstance(reviews, list):
        raise ValueError("data['reviews']: expected a list")
    cleaned = []
    for i, item in enumerate(reviews):
        try:
            uid = str(uuid.UUID(str(item["uid"])))
            rating = int(Rating(int(item["rating"])))
            Card.from_json(item["card_after"])
            reviewed = float(item["reviewed"])
            question_id = str(item["question_id"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"data['reviews'][{i}]: {exc!r}") from exc
        cleaned.append({"uid": uid, "question_id": question_id, "rating": rating,
                        "reviewed": reviewed, "duration_ms": item.get("duration_ms"),
                        "answer": item.get("answer"), "card_before": item.get("card_before"),
                        "card_after": item["card_after"]})
    return cleaned


def import_progress(db: Database, user: str, data: Any) -> int:
    incoming = _validated(data)
    interviews = _validated_interviews(data)
    c = REVIEWS.c
    with db.write() as conn:
        _import_interviews(conn, user, interviews)
        known = set(conn.execute(sa.select(c.uid).where(c.user == user)).scalars())
        new = [r for r in incoming if r["uid"] not in known]
        new = list({r["uid"]: r for r in new}.values())
        if not new:
            return 0
        conn.execute(sa.insert(REVIEWS), [{**r, "user": user} for r in new])
        for question_id in sorted({r["question_id"] for r in new}):
            db.lock_card(conn, user, question_id)
            rows = conn.execute(
                sa.select(c.id, c.rating, c.reviewed, c.card_before, c.card_after)
                .where(c.user == user, c.question_id == question_id)
                .order_by(c.reviewed, c.id)).all()
            current: str | None = None
            for review_id, rating, reviewed, before_json, after_json in rows:
                if before_json != current:
                    base = (Card.from_json(current) if current
                            else schedule.new_card(question_id, dt(reviewed)))
                    when = max(dt(reviewed), base.last_review or dt(reviewed))
                    after_json = REPLAY.review_card(base, Rating(rating), when)[0].to_json()
                    conn.execute(sa.update(REVIEWS).where(c.id == review_id).values(
                        card_before=current, card_after=after_json))
                current = after_json
            save_card(conn, user, question_id, Card.from_json(current), rows[-1][2])
    return len(new)
