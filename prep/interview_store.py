"""Where mock interviews are kept: a small repository protocol and two implementations.

``InterviewRepository`` is all the page needs: ``save`` (one write per change of an answer),
``open_interview`` (the one interview of a learner not finished yet: a rerun, a page switch or a
server restart resumes it) and ``finished`` (past interviews, for Progress).

- ``MemoryInterviews``: a dict, for unit tests (no file).
- ``SqliteInterviews``: one table in the progress database file (``settings.db_path()``, the
  file ``prep.store.Store`` uses), one transaction per ``save``. TEMPORARY: this table is created
  here, outside the store's migration history; it is to move into the store's migration history
  (one Alembic revision creating ``interviews`` as below) when the store's SQLAlchemy + Alembic
  rewrite is merged, and then this class becomes a thin wrapper over the store.

What is NOT done: no history of an interview's edits (each save replaces the row), no encryption;
a learner's typed answers are as private as the database file is.

Table
    interviews(user, id, data_json, started, finished, updated)   PRIMARY KEY (user, id)
        data_json is ``Interview.to_dict()`` as JSON; started / finished / updated are UTC epoch
        seconds (finished NULL while the interview is open).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from prep.interview import Interview
from prep.store import DEFAULT_TIMEOUT_S, StoreError

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS interviews (
    user      TEXT NOT NULL,
    id        TEXT NOT NULL,
    data_json TEXT NOT NULL,
    started   REAL NOT NULL,
    finished  REAL,
    updated   REAL NOT NULL,
    PRIMARY KEY (user, id)
)"""
CREATE_INDEX = "CREATE INDEX IF NOT EXISTS interviews_open ON interviews (user, finished, updated)"


def new_interview_id() -> str:
    """A fresh id for an interview (random, so two tabs never collide)."""
    return uuid.uuid4().hex


class InterviewRepository(Protocol):
    """What the mock-interview page reads and writes."""

    def save(self, user: str, interview_id: str, interview: Interview) -> None:
        """Write the whole interview (insert or replace) in one transaction."""

    def open_interview(self, user: str) -> tuple[str, Interview] | None:
        """The learner's interview not finished yet (the latest updated), or None."""

    def finished(self, user: str) -> list[tuple[str, Interview]]:
        """The learner's finished interviews, newest first."""


class MemoryInterviews:
    """Interviews in a dict: for tests; nothing survives the process."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], tuple[dict[str, object], float]] = {}
        self._clock = 0.0

    def save(self, user: str, interview_id: str, interview: Interview) -> None:
        self._clock += 1.0  # an order of updates, like the SQLite table's `updated`
        self._rows[(user, interview_id)] = (json.loads(json.dumps(interview.to_dict())),
                                            self._clock)

    def open_interview(self, user: str) -> tuple[str, Interview] | None:
        rows = [(updated, iid, Interview.from_dict(data))
                for (who, iid), (data, updated) in self._rows.items() if who == user]
        open_rows = sorted((r for r in rows if r[2].finished is None), key=lambda r: r[0])
        return (open_rows[-1][1], open_rows[-1][2]) if open_rows else None

    def finished(self, user: str) -> list[tuple[str, Interview]]:
        rows = [(iid, Interview.from_dict(data))
                for (who, iid), (data, _) in self._rows.items() if who == user]
        done = [r for r in rows if r[1].finished is not None]
        return sorted(done, key=lambda r: r[1].finished, reverse=True)


class SqliteInterviews:
    """Interviews in the progress database file; safe to share between threads (a connection
    per call). Errors become ``prep.store.StoreError`` naming the file."""

    def __init__(self, path: str | Path, *, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.path = Path(path)
        self.timeout = timeout
        with self._write() as conn:
            conn.execute(CREATE_TABLE)
            conn.execute(CREATE_INDEX)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            try:
                conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
                conn.execute("PRAGMA synchronous = FULL")
                yield conn
            finally:
                conn.close()
        except (sqlite3.Error, OSError) as exc:
            raise _store_error(exc, self.path) from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def save(self, user: str, interview_id: str, interview: Interview) -> None:
        finished = interview.finished.timestamp() if interview.finished else None
        with self._write() as conn:
            conn.execute(
                "INSERT INTO interviews (user, id, data_json, started, finished, updated) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user, id) DO UPDATE SET "
                "data_json = excluded.data_json, finished = excluded.finished, "
                "updated = excluded.updated",
                (user, interview_id, json.dumps(interview.to_dict(), ensure_ascii=False),
                 interview.started.timestamp(), finished, datetime.now(UTC).timestamp()),
            )

    def open_interview(self, user: str) -> tuple[str, Interview] | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT id, data_json FROM interviews WHERE user = ? AND finished IS NULL "
                "ORDER BY updated DESC LIMIT 1", (user,),
            ).fetchone()
        return (row[0], Interview.from_dict(json.loads(row[1]))) if row else None

    def finished(self, user: str) -> list[tuple[str, Interview]]:
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT id, data_json FROM interviews WHERE user = ? AND finished IS NOT NULL "
                "ORDER BY finished DESC", (user,),
            ).fetchall()
        return [(iid, Interview.from_dict(json.loads(data))) for iid, data in rows]


def _store_error(exc: Exception, path: Path) -> StoreError:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        kind = "locked"
    elif "not a database" in text or "malformed" in text:
        kind = "corrupt"
    elif "readonly" in text or "read-only" in text or "unable to open" in text:
        kind = "readonly"
    else:
        kind = "error"
    return StoreError(f"The progress database {path} failed while saving the interview: {exc}",
                      path, kind)
