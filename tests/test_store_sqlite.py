"""The SQLite file behind the embedded store: files made by the app before Alembic are upgraded,
a damaged, locked, read-only or newer file gives a clear StoreError naming it and is never
overwritten, a damaged file moved aside while the app runs is replaced without a restart, and
error kinds come from SQLite's error names."""

from __future__ import annotations

import shutil
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fsrs import Rating

from prep import schedule
from prep.store import SCHEMA_VERSION, Store, StoreError
from prep.store.errors import kind_of

FIXTURES = Path(__file__).resolve().parent / "fixtures"
NOW = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
SHORT_TIMEOUT_S = 0.2  # how long a store waits on a lock in the tests that expect it to give up


def graded(store: Store, qid: str, rating: Rating, now: datetime = NOW) -> int:
    card = store.card(qid) or schedule.new_card(qid, now)
    outcome = schedule.preview(card, now)[rating]
    return store.record(qid, rating, outcome.card, now, duration_ms=1500, based_on=card)


def checkpoint(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def test_a_new_file_is_in_wal_mode_at_the_head_revision(tmp_path):
    path = tmp_path / "progress.sqlite3"
    store = Store(path)
    assert store.schema_version() == SCHEMA_VERSION
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_file_made_by_the_pre_alembic_app_is_upgraded_and_keeps_every_review(tmp_path):
    """tests/fixtures/progress_v1.sqlite3 was written by the store of schema_version 1."""
    path = tmp_path / "progress.sqlite3"
    shutil.copy(FIXTURES / "progress_v1.sqlite3", path)
    with sqlite3.connect(path) as conn:
        before = conn.execute("SELECT id, user, question_id, rating, reviewed, card_after "
                              "FROM reviews ORDER BY id").fetchall()
        cards_before = conn.execute("SELECT * FROM cards ORDER BY user, question_id").fetchall()
    store = Store(path)
    assert store.schema_version() == SCHEMA_VERSION
    with sqlite3.connect(path) as conn:
        after = conn.execute("SELECT id, user, question_id, rating, reviewed, card_after "
                             "FROM reviews ORDER BY id").fetchall()
        assert conn.execute("SELECT * FROM cards ORDER BY user, question_id").fetchall() \
            == cards_before
        assert conn.execute("SELECT version FROM schema_version").fetchone()[0] == 2
    assert after == before and len(before) == 8
    assert len({r.uid for r in store.reviews()}) == 6  # the local learner's, each with a uid
    assert set(Store(path, user="ana").cards()) == {"q1"}
    last = graded(store, "q2", Rating.Good, NOW + timedelta(days=30))
    assert store.undo(last) == "q2"


def test_a_version_zero_file_is_migrated_and_keeps_its_other_tables(tmp_path):
    path = tmp_path / "p.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
        conn.execute("INSERT INTO notes VALUES ('mine')")
    store = Store(path)
    assert store.schema_version() == SCHEMA_VERSION
    graded(store, "q", Rating.Good)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT text FROM notes").fetchall() == [("mine",)]


@pytest.mark.parametrize("newer", ["alembic", "branches", "legacy"])
def test_a_file_from_a_newer_app_is_refused_and_left_alone(tmp_path, newer):
    path = tmp_path / "p.sqlite3"
    if newer == "alembic":
        Store(path)
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE alembic_version SET version_num = '9999'")
    elif newer == "branches":  # regression: the current revision plus another was read as HEAD
        Store(path)
        with sqlite3.connect(path) as conn:
            conn.execute("INSERT INTO alembic_version VALUES ('9999')")
    else:  # a schema_version the pre-Alembic app did not know, and no Alembic table
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA journal_mode = WAL")  # as the pre-Alembic app left its files
            conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
            conn.execute("INSERT INTO schema_version VALUES (7)")
    checkpoint(path)
    original = path.read_bytes()
    with pytest.raises(StoreError) as caught:
        Store(path)
    assert caught.value.kind == "newer" and str(path) in str(caught.value)
    assert "新版本" in caught.value.message.zh or "更新版本" in caught.value.message.zh
    assert path.read_bytes() == original


def test_a_file_upgraded_by_this_app_is_refused_by_the_pre_alembic_app(tmp_path):
    path = tmp_path / "progress.sqlite3"
    shutil.copy(FIXTURES / "progress_v1.sqlite3", path)
    Store(path)
    with sqlite3.connect(path) as conn:  # the old app compared this with its version, 1
        assert conn.execute("SELECT version FROM schema_version").fetchone()[0] > 1

# -- damaged, locked, read-only ----------------------------------------------------------------


def test_a_file_that_is_not_sqlite_is_reported_and_never_overwritten(tmp_path):
    path = tmp_path / "progress.sqlite3"
    garbage = b"this is my thesis, not a database\n" * 200
    path.write_bytes(garbage)
    with pytest.raises(StoreError) as caught:
        Store(path)
    assert caught.value.kind == "corrupt"
    assert str(path) in str(caught.value) and "untouched" in str(caught.value)
    assert path.read_bytes() == garbage
    assert sorted(p.name for p in tmp_path.iterdir()) == ["progress.sqlite3"]


def test_a_database_with_damaged_pages_is_reported_and_never_overwritten(tmp_path):
    path = tmp_path / "progress.sqlite3"
    store = Store(path)
    for i in range(200):
        graded(store, f"q{i}", Rating.Good)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(path.read_bytes())
    second_page = slice(page_size, 2 * page_size)  # page 1 is the header; damage the next one
    data[second_page] = b"\xff" * page_size
    path.write_bytes(bytes(data))
    damaged = path.read_bytes()
    with pytest.raises(StoreError) as caught:
        Store(path)
    assert caught.value.kind == "corrupt" and str(path) in str(caught.value)
    assert path.read_bytes() == damaged


def test_a_locked_database_gives_a_clear_error_and_loses_nothing(tmp_path):
    path = tmp_path / "progress.sqlite3"
    store = Store(path, timeout=SHORT_TIMEOUT_S)
    graded(store, "kept", Rating.Good)
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("PRAGMA locking_mode = EXCLUSIVE")
    locker.execute("BEGIN EXCLUSIVE")
    locker.execute("INSERT INTO cards SELECT * FROM cards WHERE 0")
    try:
        with pytest.raises(StoreError) as caught:
            graded(store, "blocked", Rating.Good)
        assert caught.value.kind == "locked" and str(path) in str(caught.value)
        with pytest.raises(StoreError) as at_open:
            Store(path, timeout=SHORT_TIMEOUT_S)
        assert at_open.value.kind == "locked"
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert set(store.cards()) == {"kept"}
    graded(store, "after", Rating.Good)
    assert set(store.cards()) == {"kept", "after"}


def test_a_read_only_file_is_reported_and_left_unchanged(tmp_path):
    path = tmp_path / "progress.sqlite3"
    graded(Store(path), "q", Rating.Good)
    checkpoint(path)
    original = path.read_bytes()
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    try:
        with pytest.raises(StoreError) as caught:
            Store(path)
        assert caught.value.kind == "readonly" and str(path) in str(caught.value)
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert path.read_bytes() == original


def test_a_read_only_folder_is_reported(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(StoreError) as caught:
            Store(folder / "progress.sqlite3")
        assert caught.value.kind == "readonly" and "ro" in str(caught.value)
    finally:
        folder.chmod(stat.S_IRWXU)
    assert list(folder.iterdir()) == []




def test_bug_moving_a_damaged_file_aside_while_the_app_runs_starts_a_new_one(tmp_path):
    """Issue 16, bug 5: the advice "move it aside, a new one will be created" left a 0-byte file
    and "no such table: cards" until a restart. The store (cached by the app) now sets up a new
    file on its next transaction."""
    path = tmp_path / "progress.sqlite3"
    store = Store(path)  # the app keeps this one open for the whole run
    graded(store, "q", Rating.Good)
    checkpoint(path)
    path.write_bytes(b"\x00garbage, not a database" * 300)
    with pytest.raises(StoreError) as caught:
        store.cards()
    assert caught.value.kind == "corrupt" and "move it aside" in str(caught.value)
    path.rename(tmp_path / "progress.damaged")  # what the message tells the learner to do

    assert store.cards() == {}
    graded(store, "fresh", Rating.Good)
    assert set(store.cards()) == {"fresh"} and store.schema_version() == SCHEMA_VERSION
    assert path.stat().st_size > 0
    assert (tmp_path / "progress.damaged").read_bytes().startswith(b"\x00garbage")


def test_a_file_replaced_by_a_backup_while_the_app_runs_is_read(tmp_path):
    path = tmp_path / "progress.sqlite3"
    backup = tmp_path / "backup.sqlite3"
    store = Store(path)
    graded(store, "kept", Rating.Good)
    source, target = sqlite3.connect(path), sqlite3.connect(backup)
    source.backup(target)  # what `sqlite3 progress.sqlite3 ".backup backup.sqlite3"` does
    source.close()
    target.close()
    graded(store, "lost", Rating.Good)
    shutil.copy(backup, tmp_path / "restored.sqlite3")
    (tmp_path / "restored.sqlite3").replace(path)
    assert set(store.cards()) == {"kept"}


@pytest.mark.parametrize(("code", "name", "kind"), [
    (11, "SQLITE_CORRUPT", "corrupt"), (26, "SQLITE_NOTADB", "corrupt"),
    (5, "SQLITE_BUSY", "locked"), (517, "SQLITE_BUSY_SNAPSHOT", "locked"),
    (8, "SQLITE_READONLY", "readonly"), (14, "SQLITE_CANTOPEN", "readonly"),
    (1, "SQLITE_ERROR", "error"),
])
def test_error_kinds_come_from_sqlite_error_names_not_messages(code, name, kind):
    exc = sqlite3.OperationalError("a message that says locked, corrupt and readonly")
    exc.sqlite_errorcode, exc.sqlite_errorname = code, name
    assert kind_of(exc) == kind


def test_a_real_sqlite_error_carries_the_name_the_kind_is_read_from(tmp_path):
    path = tmp_path / "x.sqlite3"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(sqlite3.DatabaseError) as caught, sqlite3.connect(path) as conn:
        conn.execute("PRAGMA schema_version")
    assert caught.value.sqlite_errorname == "SQLITE_NOTADB" and kind_of(caught.value) == "corrupt"
