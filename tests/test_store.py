"""The progress store: grades are atomic and durable, undo restores, and a damaged, locked or
read-only file gives a clear StoreError naming it and is never overwritten."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fsrs import Card, Rating

from prep import schedule
from prep.store import SCHEMA_VERSION, Store, StoreError

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
SHORT_TIMEOUT_S = 0.2  # how long a store waits on a lock in the tests that expect it to give up


def graded(store: Store, qid: str, rating: Rating, now: datetime = NOW) -> int:
    card = store.card(qid) or schedule.new_card(qid, now)
    outcome = schedule.preview(card, now)[rating]
    return store.record(qid, rating, outcome.card, now, duration_ms=1500)


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def assert_cards_match_latest_reviews(path: Path) -> None:
    """Card upsert and review insert are one transaction: each card is its latest review's."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT c.question_id, c.card_json, r.card_after FROM cards c JOIN reviews r "
            "ON r.id = (SELECT MAX(id) FROM reviews WHERE question_id = c.question_id)"
        ).fetchall()
        card_count = conn.execute("SELECT COUNT(*) FROM cards").fetchone()[0]
    assert len(rows) == card_count
    for qid, card_json, after in rows:
        assert card_json == after, qid


def test_a_grade_saves_the_previewed_card_and_a_review(tmp_path):
    path = tmp_path / "sub" / "progress.sqlite3"
    store = Store(path)
    assert store.schema_version() == SCHEMA_VERSION
    card = schedule.new_card("q1", NOW)
    outcome = schedule.preview(card, NOW)[Rating.Easy]
    review_id = store.record("q1", Rating.Easy, outcome.card, NOW, duration_ms=2000)

    again = Store(path)  # a new process would see the same
    assert again.card("q1").to_dict() == outcome.card.to_dict()
    [review] = again.reviews()
    assert (review.id, review.question_id, review.rating) == (review_id, "q1", Rating.Easy)
    assert review.reviewed == NOW and review.duration_ms == 2000
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_due_lists_overdue_cards_first_and_not_future_ones(tmp_path):
    store = Store(tmp_path / "p.sqlite3")
    graded(store, "soon", Rating.Again)  # due in a minute
    graded(store, "later", Rating.Easy)  # due in days
    graded(store, "sooner", Rating.Again, NOW - timedelta(hours=1))
    assert store.due(NOW + timedelta(minutes=5)) == ["sooner", "soon"]
    assert store.due(NOW - timedelta(days=1)) == []
    assert set(store.cards()) == {"soon", "later", "sooner"}


def test_undo_restores_the_previous_card_and_deletes_the_review(tmp_path):
    store = Store(tmp_path / "p.sqlite3")
    graded(store, "q", Rating.Good)
    before = store.card("q")
    last = graded(store, "q", Rating.Again, NOW + timedelta(minutes=20))
    assert store.card("q").to_dict() != before.to_dict()
    assert store.undo(last) == "q"
    assert store.card("q").to_dict() == before.to_dict()
    assert [r.rating for r in store.reviews()] == [Rating.Good]
    assert store.undo(last) is None  # already undone


def test_undo_of_a_first_grade_forgets_the_card(tmp_path):
    store = Store(tmp_path / "p.sqlite3")
    first = graded(store, "q", Rating.Good)
    assert store.undo(first) == "q"
    assert store.card("q") is None and store.reviews() == []


def test_undo_refuses_a_grade_that_a_later_grade_built_on(tmp_path):
    store = Store(tmp_path / "p.sqlite3")
    first = graded(store, "q", Rating.Good)
    graded(store, "q", Rating.Good, NOW + timedelta(minutes=20))
    assert store.undo(first) is None
    assert store.review_count() == 2


def test_users_are_kept_apart(tmp_path):
    path = tmp_path / "p.sqlite3"
    graded(Store(path, user="ana"), "q", Rating.Good)
    assert Store(path, user="bo").cards() == {}
    assert set(Store(path, user="ana").cards()) == {"q"}


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


def test_a_file_from_a_newer_app_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "p.sqlite3"
    Store(path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    original = path.read_bytes()
    with pytest.raises(StoreError) as caught:
        Store(path)
    assert caught.value.kind == "newer" and str(path) in str(caught.value)
    assert path.read_bytes() == original


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
    locker.execute("INSERT INTO schema_version SELECT version FROM schema_version WHERE 0")
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
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
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


# -- crashes and concurrency -------------------------------------------------------------------

WRITER = textwrap.dedent("""
    import sys
    from datetime import UTC, datetime
    from fsrs import Rating
    from prep import schedule
    from prep.store import Store

    store = Store(sys.argv[1], timeout=30)
    prefix, count = sys.argv[2], int(sys.argv[3])
    for i in range(count):
        qid = f"{prefix}{i % 7}"
        now = datetime.now(UTC)
        card = store.card(qid) or schedule.new_card(qid, now)
        outcome = schedule.preview(card, now)[Rating.Good]
        review_id = store.record(qid, Rating.Good, outcome.card, now)
        print(review_id, flush=True)
""")
ENDLESS = 10**9


def start_writer(path: Path, prefix: str, count: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", WRITER, str(path), prefix, str(count)],
                            stdout=subprocess.PIPE, text=True, env=env)


@pytest.mark.parametrize("committed_before_kill", [1, 25, 60])
def test_a_writer_killed_mid_review_loses_only_the_grade_in_flight(tmp_path, committed_before_kill):
    path = tmp_path / "progress.sqlite3"
    Store(path)
    writer = start_writer(path, "q", ENDLESS)
    acknowledged = [int(writer.stdout.readline()) for _ in range(committed_before_kill)]
    os.kill(writer.pid, signal.SIGKILL)  # the writer is busy grading the next card
    writer.wait()
    acknowledged += [int(line) for line in writer.stdout.read().split()]  # printed before death
    writer.stdout.close()

    assert integrity(path) == "ok"
    saved = {r.id for r in Store(path).reviews()}
    assert set(acknowledged) <= saved
    assert len(saved - set(acknowledged)) <= 1  # committed, killed before it could say so
    assert_cards_match_latest_reviews(path)


def test_two_processes_grading_at_once_lose_nothing(tmp_path):
    path = tmp_path / "progress.sqlite3"
    Store(path)
    grades_each = 40
    writers = [start_writer(path, prefix, grades_each) for prefix in ("a", "b")]
    outputs = [w.communicate(timeout=120)[0] for w in writers]
    assert [w.returncode for w in writers] == [0, 0]
    acknowledged = {int(line) for out in outputs for line in out.split()}
    reviews = Store(path).reviews()
    assert len(acknowledged) == len(reviews) == 2 * grades_each
    assert {r.id for r in reviews} == acknowledged
    assert_cards_match_latest_reviews(path)


def test_two_sessions_sharing_one_store_lose_nothing(tmp_path):
    store = Store(tmp_path / "progress.sqlite3")
    grades_each = 30
    errors: list[BaseException] = []

    def session(prefix: str) -> None:
        try:
            for i in range(grades_each):
                graded(store, f"{prefix}{i % 5}", Rating.Good, NOW + timedelta(minutes=i))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=session, args=(p,)) for p in ("x", "y")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.review_count() == 2 * grades_each
    assert len(store.cards()) == 10


def test_naive_datetimes_are_refused_with_a_clear_message(tmp_path):
    store = Store(tmp_path / "p.sqlite3")
    with pytest.raises(ValueError, match="timezone-aware"):
        store.due(datetime(2026, 1, 1))
    assert isinstance(Card.from_json(schedule.new_card("q", NOW).to_json()), Card)
