"""Progress storage: spaced-repetition cards and review logs in SQLite.

One file (``settings.db_path()``), WAL mode, a schema version with migrations, one transaction per
grade (card upsert + review insert). Every failure becomes a ``StoreError`` that names the file;
this module never deletes, replaces or rewrites a file it cannot read.

Tables
    schema_version(version)                        one row: the schema the file is at
    cards(user, question_id, card_json, due, state, updated)
                                                   the fsrs card of each question a user has seen
    reviews(id, user, question_id, rating, reviewed, duration_ms, card_before, card_after)
                                                   one row per grade; card_before (NULL for a new
                                                   card) is what "undo" restores
Times are stored as UTC epoch seconds (REAL); cards as ``fsrs.Card.to_json()``.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fsrs import Card, Rating

DEFAULT_USER = "local"
DEFAULT_TIMEOUT_S = 5.0  # how long a write waits for another writer before giving up

# Each entry takes the file from version i to i + 1. Append only; never edit a shipped migration.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE cards (
        user        TEXT NOT NULL DEFAULT 'local',
        question_id TEXT NOT NULL,
        card_json   TEXT NOT NULL,
        due         REAL NOT NULL,
        state       INTEGER NOT NULL,
        updated     REAL NOT NULL,
        PRIMARY KEY (user, question_id)
    );
    CREATE INDEX cards_due ON cards (user, due);
    CREATE TABLE reviews (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        user        TEXT NOT NULL DEFAULT 'local',
        question_id TEXT NOT NULL,
        rating      INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 4),
        reviewed    REAL NOT NULL,
        duration_ms INTEGER,
        card_before TEXT,
        card_after  TEXT NOT NULL
    );
    CREATE INDEX reviews_user_time ON reviews (user, reviewed);
    CREATE INDEX reviews_question ON reviews (user, question_id, id);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
ANY_WRITE_BIT = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


class StoreError(Exception):
    """The progress database cannot be used; the message says why and names the file."""

    def __init__(self, message: str, path: Path, kind: str = "error") -> None:
        super().__init__(message)
        self.path = path
        self.kind = kind  # "corrupt" | "locked" | "readonly" | "newer" | "error"


@dataclass(frozen=True)
class Review:
    """One grade, as the Progress page reads it."""

    id: int
    question_id: str
    rating: Rating
    reviewed: datetime
    duration_ms: int | None
    card_after: Card


def _ts(moment: datetime) -> float:
    if moment.tzinfo is None:
        raise ValueError(f"datetime must be timezone-aware (UTC); got naive {moment!r}")
    return moment.timestamp()


def _dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK) and bool(path.stat().st_mode & ANY_WRITE_BIT)


def _explain(exc: sqlite3.Error, path: Path) -> StoreError:
    """Turn a sqlite3 error into a StoreError with a message a learner (or host) can act on."""
    text = str(exc).lower()
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StoreError(
            f"The progress database {path} is damaged or is not an SQLite file ({exc}). "
            "It was left untouched: move it aside (or restore a backup) and the app starts a "
            "new one.",
            path, "corrupt",
        )
    if "locked" in text or "busy" in text:
        return StoreError(
            f"The progress database {path} is locked by another program ({exc}). "
            "Close the other program, or wait, and try again.",
            path, "locked",
        )
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return StoreError(
            f"The progress database {path} cannot be written ({exc}). Check the permissions of "
            "the file and its folder, or point ATTN_PREP_DB at a writable path.",
            path, "readonly",
        )
    return StoreError(f"The progress database {path} failed: {exc}", path)


class Store:
    """Cards and reviews of one user in one SQLite file. Safe to share between threads.

    Opening checks the file and migrates it; it raises ``StoreError`` (never overwrites) when the
    file is damaged, locked, read-only or from a newer version of the app.
    """

    def __init__(
        self, path: str | Path, *, user: str = DEFAULT_USER, timeout: float = DEFAULT_TIMEOUT_S
    ) -> None:
        self.path = Path(path)
        self.user = user
        self.timeout = timeout
        self._check_writable()
        self._migrate()  # _read / _write turn sqlite3 errors into StoreError

    # -- plumbing -----------------------------------------------------------------------------

    def _check_writable(self) -> None:
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"Cannot create the folder {folder} for the progress database {self.path} "
                f"({exc.strerror}). Point ATTN_PREP_DB at a writable path.",
                self.path, "readonly",
            ) from exc
        if self.path.is_dir():
            raise StoreError(f"The progress database path {self.path} is a folder, not a file.",
                             self.path, "error")
        # WAL needs to create <file>-wal and <file>-shm beside the file. A file or folder whose
        # mode has no write bit at all counts as read-only even for root: someone meant it so.
        if not _writable(folder) or (self.path.exists() and not _writable(self.path)):
            raise StoreError(
                f"The progress database {self.path} is read-only (the file or its folder cannot "
                "be written). Your progress cannot be saved: fix the permissions, or point "
                "ATTN_PREP_DB at a writable path.",
                self.path, "readonly",
            )

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = self._connect()
            try:
                yield conn
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise _explain(exc, self.path) from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One atomic transaction; BEGIN IMMEDIATE takes the write lock up front, so two writers
        queue (busy_timeout) instead of failing half-way."""
        try:
            conn = self._connect()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise _explain(exc, self.path) from exc

    def _migrate(self) -> None:
        with self._read() as conn:
            # Reading the header first: a non-SQLite file fails here, before anything is written.
            conn.execute("PRAGMA schema_version").fetchone()
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(f"database disk image is malformed: {check}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise sqlite3.OperationalError(f"cannot switch to WAL mode (got {mode})")
        with self._write() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = conn.execute("SELECT version FROM schema_version").fetchone()
            version = row[0] if row else 0
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"The progress database {self.path} was written by a newer version of "
                    f"this app (schema {version}, this app knows up to {SCHEMA_VERSION}). "
                    "It was left untouched; upgrade the app to use it.",
                    self.path, "newer",
                )
            for script in MIGRATIONS[version:]:
                for statement in script.split(";"):
                    if statement.strip():
                        conn.execute(statement)
            if row is None:
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            elif version != SCHEMA_VERSION:
                conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))

    # -- reading ------------------------------------------------------------------------------

    def schema_version(self) -> int:
        with self._read() as conn:
            return conn.execute("SELECT version FROM schema_version").fetchone()[0]

    def card(self, question_id: str) -> Card | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT card_json FROM cards WHERE user = ? AND question_id = ?",
                (self.user, question_id),
            ).fetchone()
        return Card.from_json(row[0]) if row else None

    def cards(self) -> dict[str, Card]:
        """Every card this user has, by question id."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT question_id, card_json FROM cards WHERE user = ?", (self.user,)
            ).fetchall()
        return {qid: Card.from_json(text) for qid, text in rows}

    def due(self, now: datetime) -> list[str]:
        """Question ids whose card is due at ``now``, most overdue first."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT question_id FROM cards WHERE user = ? AND due <= ? ORDER BY due",
                (self.user, _ts(now)),
            ).fetchall()
        return [qid for (qid,) in rows]

    def reviews(self) -> list[Review]:
        """This user's review history, oldest first."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT id, question_id, rating, reviewed, duration_ms, card_after FROM reviews "
                "WHERE user = ? ORDER BY id",
                (self.user,),
            ).fetchall()
        return [
            Review(rid, qid, Rating(rating), _dt(reviewed), duration, Card.from_json(after))
            for rid, qid, rating, reviewed, duration, after in rows
        ]

    def review_count(self) -> int:
        with self._read() as conn:
            return conn.execute(
                "SELECT COUNT(*) FROM reviews WHERE user = ?", (self.user,)
            ).fetchone()[0]

    # -- writing ------------------------------------------------------------------------------

    def record(
        self,
        question_id: str,
        rating: Rating,
        card_after: Card,
        reviewed: datetime,
        duration_ms: int | None = None,
    ) -> int:
        """Save one grade atomically: the new card and a review row. Returns the review's id.

        ``card_after`` is the card the learner was shown a preview of (fsrs fuzzes intervals,
        so it is stored as given, never recomputed).
        """
        after_json = card_after.to_json()
        with self._write() as conn:
            row = conn.execute(
                "SELECT card_json FROM cards WHERE user = ? AND question_id = ?",
                (self.user, question_id),
            ).fetchone()
            before_json = row[0] if row else None
            conn.execute(
                "INSERT INTO cards (user, question_id, card_json, due, state, updated) "
                "VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (user, question_id) DO UPDATE SET card_json = excluded.card_json, "
                "due = excluded.due, state = excluded.state, updated = excluded.updated",
                (self.user, question_id, after_json, _ts(card_after.due),
                 int(card_after.state), _ts(reviewed)),
            )
            cursor = conn.execute(
                "INSERT INTO reviews (user, question_id, rating, reviewed, duration_ms, "
                "card_before, card_after) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self.user, question_id, int(rating), _ts(reviewed), duration_ms,
                 before_json, after_json),
            )
            return int(cursor.lastrowid)

    def undo(self, review_id: int) -> str | None:
        """Take back a grade: restore the card as it was before and delete the review.

        Only the latest review of its question can be undone (a later grade built on it).
        Returns the question id, or None if the review is gone or is no longer the latest.
        """
        with self._write() as conn:
            row = conn.execute(
                "SELECT question_id, card_before FROM reviews WHERE id = ? AND user = ?",
                (review_id, self.user),
            ).fetchone()
            if row is None:
                return None
            question_id, before_json = row
            latest = conn.execute(
                "SELECT MAX(id) FROM reviews WHERE user = ? AND question_id = ?",
                (self.user, question_id),
            ).fetchone()[0]
            if latest != review_id:
                return None
            if before_json is None:
                conn.execute("DELETE FROM cards WHERE user = ? AND question_id = ?",
                             (self.user, question_id))
            else:
                before = Card.from_json(before_json)
                conn.execute(
                    "UPDATE cards SET card_json = ?, due = ?, state = ?, updated = ? "
                    "WHERE user = ? AND question_id = ?",
                    (before_json, _ts(before.due), int(before.state),
                     datetime.now(UTC).timestamp(), self.user, question_id),
                )
            conn.execute("DELETE FROM reviews WHERE id = ?", (review_id,))
            return question_id
