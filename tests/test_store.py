"""The progress store on both engines (SQLite and a throwaway PostgreSQL): grades are atomic and
durable, undo restores, users are apart, concurrent writers lose nothing, Practice work and typed
answers are kept. File-level guarantees of SQLite are in test_store_sqlite.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fsrs import Card, Rating
from pg_server import pg_url, postgres  # noqa: F401  (fixtures)

from prep import schedule
from prep.store import SCHEMA_VERSION, Store

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def location(request, tmp_path) -> str:
    """Where a store lives: an SQLite file, or a new database on a throwaway PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "sub" / "progress.sqlite3")
    return request.getfixturevalue("pg_url")


def graded(store: Store, qid: str, rating: Rating, now: datetime = NOW, **extra) -> int:
    card = store.card(qid) or schedule.new_card(qid, now)
    outcome = schedule.preview(card, now)[rating]
    return store.record(qid, rating, outcome.card, now, duration_ms=1500, based_on=card, **extra)


def assert_cards_match_latest_reviews(store: Store) -> None:
    """Card upsert and review insert are one transaction: each card is its latest review's."""
    with store.db.engine.connect() as conn:
        latest = dict(conn.execute(sa.text(
            'SELECT question_id, card_after FROM reviews r WHERE id = (SELECT MAX(id) FROM '
            'reviews WHERE question_id = r.question_id AND "user" = r."user")')).all())
        cards = dict(conn.execute(sa.text("SELECT question_id, card_json FROM cards")).all())
    assert cards == latest


def test_a_grade_saves_the_previewed_card_and_a_review(location):
    store = Store(location)
    assert store.schema_version() == SCHEMA_VERSION
    card = schedule.new_card("q1", NOW)
    outcome = schedule.preview(card, NOW)[Rating.Easy]
    review_id = store.record("q1", Rating.Easy, outcome.card, NOW, duration_ms=2000)

    again = Store(location)  # a new process would see the same
    assert again.card("q1").to_dict() == outcome.card.to_dict()
    [review] = again.reviews()
    assert (review.id, review.question_id, review.rating) == (review_id, "q1", Rating.Easy)
    assert review.reviewed == NOW and review.duration_ms == 2000 and review.answer is None


def test_the_typed_answer_is_kept_with_its_review(location):
    store = Store(location)
    graded(store, "q1", Rating.Hard, answer="softmax(QKᵀ/√d)V — 缩放")
    graded(store, "q2", Rating.Good)
    assert [r.answer for r in store.reviews()] == ["softmax(QKᵀ/√d)V — 缩放", None]


def test_due_lists_overdue_cards_first_and_not_future_ones(location):
    store = Store(location)
    graded(store, "soon", Rating.Again)  # due in a minute
    graded(store, "later", Rating.Easy)  # due in days
    graded(store, "sooner", Rating.Again, NOW - timedelta(hours=1))
    assert store.due(NOW + timedelta(minutes=5)) == ["sooner", "soon"]
    assert store.due(NOW - timedelta(days=1)) == []
    assert set(store.cards()) == {"soon", "later", "sooner"}


def test_undo_restores_the_previous_card_and_deletes_the_review(location):
    store = Store(location)
    graded(store, "q", Rating.Good)
    before = store.card("q")
    last = graded(store, "q", Rating.Again, NOW + timedelta(minutes=20))
    assert store.card("q").to_dict() != before.to_dict()
    assert store.undo(last) == "q"
    assert store.card("q").to_dict() == before.to_dict()
    assert [r.rating for r in store.reviews()] == [Rating.Good]
    assert store.undo(last) is None  # already undone


def test_undo_of_a_first_grade_forgets_the_card(location):
    store = Store(location)
    first = graded(store, "q", Rating.Good)
    assert store.undo(first) == "q"
    assert store.card("q") is None and store.reviews() == []


def test_undo_refuses_a_grade_that_a_later_grade_built_on(location):
    store = Store(location)
    first = graded(store, "q", Rating.Good)
    graded(store, "q", Rating.Good, NOW + timedelta(minutes=20))
    assert store.undo(first) is None
    assert store.review_count() == 2


def test_users_are_kept_apart(location):
    graded(Store(location, user="ana"), "q", Rating.Good)
    Store(location, user="bo").save_draft("ex", "mine", NOW)
    assert Store(location, user="bo").cards() == {}
    assert set(Store(location, user="ana").cards()) == {"q"}
    assert Store(location, user="ana").draft("ex") is None


def test_practice_drafts_keep_the_latest_code_and_submissions_every_verdict(location):
    store = Store(location)
    assert store.draft("softmax") is None
    store.save_draft("softmax", "def f(): pass", NOW)
    store.save_draft("softmax", "def f(): return 1", NOW + timedelta(seconds=5))
    assert store.draft("softmax") == "def f(): return 1"
    first = store.add_submission("softmax", "v1", "failed", 0.4, NOW)
    store.add_submission("mask", "m", "passed", 0.2, NOW + timedelta(minutes=1))
    store.add_submission("softmax", "v2", "passed", None, NOW + timedelta(minutes=2))
    mine = store.submissions("softmax")
    assert [(s.code, s.verdict, s.seconds) for s in mine] == [("v1", "failed", 0.4),
                                                              ("v2", "passed", None)]
    assert mine[0].id == first and mine[0].created == NOW
    assert len(store.submissions()) == 3


def test_naive_datetimes_are_refused_with_a_clear_message(location):
    store = Store(location)
    with pytest.raises(ValueError, match="timezone-aware"):
        store.due(datetime(2026, 1, 1))
    assert isinstance(Card.from_json(schedule.new_card("q", NOW).to_json()), Card)


# -- concurrency and crashes -------------------------------------------------------------------


def test_concurrent_grades_of_one_card_are_both_logged_and_both_applied(location):
    """Two replicas preview the same card; the second to commit is applied to the card as the
    first left it (recomputed), not to the stale card it previewed."""
    one, two = Store(location), Store(location)
    graded(one, "q", Rating.Good)
    later = NOW + timedelta(minutes=15)
    seen_by_one, seen_by_two = one.card("q"), two.card("q")
    good = schedule.preview(seen_by_one, later)[Rating.Good]
    again = schedule.preview(seen_by_two, later)[Rating.Again]
    one.record("q", Rating.Good, good.card, later, based_on=seen_by_one)
    two.record("q", Rating.Again, again.card, later, based_on=seen_by_two)

    assert [r.rating for r in two.reviews()] == [Rating.Good, Rating.Good, Rating.Again]
    expected, _ = schedule.SCHEDULER.review_card(good.card, Rating.Again, later)
    stored = one.card("q")
    assert stored.to_dict() != again.card.to_dict()  # not the stale preview
    assert (stored.state, stored.step, stored.stability, stored.difficulty) == (
        expected.state, expected.step, expected.stability, expected.difficulty)
    assert_cards_match_latest_reviews(one)


WRITER = textwrap.dedent("""
    import sys
    from datetime import UTC, datetime
    from fsrs import Rating
    from prep import schedule
    from prep.store import Store

    store = Store(sys.argv[1], timeout=30)
    prefix, count, same = sys.argv[2], int(sys.argv[3]), sys.argv[4] == "same"
    for i in range(count):
        qid = "shared" if same else f"{prefix}{i % 7}"
        now = datetime.now(UTC)
        card = store.card(qid)
        outcome = schedule.preview(card or schedule.new_card(qid, now), now)[Rating.Good]
        review_id = store.record(qid, Rating.Good, outcome.card, now, based_on=card)
        print(review_id, flush=True)
""")
ENDLESS = 10**9


def start_writer(location: str, prefix: str, count: int, same: bool = False) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-c", WRITER, location, prefix, str(count), "same" if same else "own"]
    return subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env)


@pytest.mark.parametrize("committed_before_kill", [1, 25])
def test_a_writer_killed_mid_review_loses_only_the_grade_in_flight(location,
                                                                  committed_before_kill):
    Store(location)
    writer = start_writer(location, "q", ENDLESS)
    acknowledged = [int(writer.stdout.readline()) for _ in range(committed_before_kill)]
    os.kill(writer.pid, signal.SIGKILL)  # the writer is busy grading the next card
    writer.wait()
    acknowledged += [int(line) for line in writer.stdout.read().split()]  # printed before death
    writer.stdout.close()

    store = Store(location)
    saved = {r.id for r in store.reviews()}
    assert set(acknowledged) <= saved
    assert len(saved - set(acknowledged)) <= 1  # committed, killed before it could say so
    assert_cards_match_latest_reviews(store)


@pytest.mark.parametrize("same_card", [False, True], ids=["own-cards", "same-card"])
def test_two_processes_grading_at_once_lose_nothing(location, same_card):
    Store(location)
    grades_each = 25
    writers = [start_writer(location, p, grades_each, same_card) for p in ("a", "b")]
    outputs = [w.communicate(timeout=120)[0] for w in writers]
    assert [w.returncode for w in writers] == [0, 0]
    acknowledged = {int(line) for out in outputs for line in out.split()}
    store = Store(location)
    reviews = store.reviews()
    assert len(acknowledged) == len(reviews) == 2 * grades_each
    assert {r.id for r in reviews} == acknowledged
    assert_cards_match_latest_reviews(store)
    if same_card:  # every grade built on the one before it: the card saw all 50 Good grades
        assert store.card("shared").to_dict() == reviews[-1].card_after.to_dict()


def test_two_sessions_sharing_one_store_lose_nothing(location):
    store = Store(location)
    grades_each = 20
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


def test_the_head_constant_is_the_head_of_the_migration_history():
    from alembic.script import ScriptDirectory

    from prep.store.engine import MIGRATIONS_DIR

    assert ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head() == SCHEMA_VERSION


def test_the_database_url_wins_over_the_sqlite_path(monkeypatch, tmp_path):
    from prep import settings

    monkeypatch.setenv("ATTN_PREP_DB", str(tmp_path / "p.sqlite3"))
    monkeypatch.delenv("ATTN_PREP_DB_URL", raising=False)
    assert settings.db_location() == str(tmp_path / "p.sqlite3")
    monkeypatch.setenv("ATTN_PREP_DB_URL", "postgresql+psycopg://app@db/prep")
    assert settings.db_location() == "postgresql+psycopg://app@db/prep"


def test_an_unreachable_postgres_server_gives_a_clear_bilingual_error(request):
    from prep.store import StoreError

    server = request.getfixturevalue("postgres")
    closed = server.url().replace(f":{server.port}/", ":1/")  # nothing listens on port 1
    with pytest.raises(StoreError) as caught:
        Store(closed.replace("app@", "app:secret@"), timeout=1)
    assert caught.value.kind == "unavailable" and "127.0.0.1:1" in str(caught.value)
    assert "secret" not in str(caught.value) and "ATTN_PREP_DB_URL" in caught.value.message.zh
