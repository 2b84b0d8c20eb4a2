"""A quiz as Anki runs one: new cards shuffled per learner, Again cards back within the session,
missed cards listed, review history of merged questions counted for the kept question."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fsrs import Card, Rating, State

from prep import schedule
from prep.quiz import QuizSession
from prep.store import Store

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BANK_ORDER = [f"q{i:02d}" for i in range(30)]


def grade(quiz: QuizSession, store: Store, rating: Rating, at: datetime) -> str:
    qid = quiz.current
    quiz.reveal(store, at)
    quiz.grade(rating, store, at)
    return qid


def test_new_cards_are_shuffled_per_learner_and_the_order_is_stable():
    ann = schedule.pick_cards(BANK_ORDER, {}, NOW, count=30, due_only=True, learner="ann")
    bob = schedule.pick_cards(BANK_ORDER, {}, NOW, count=30, due_only=True, learner="bob")
    assert sorted(ann) == BANK_ORDER and sorted(bob) == BANK_ORDER  # every card, once
    assert ann != BANK_ORDER and bob != BANK_ORDER  # not in bank order
    assert ann[:3] != bob[:3]  # two learners do not start on the same cards
    again = schedule.pick_cards(BANK_ORDER, {}, NOW, count=30, due_only=True, learner="ann")
    assert again == ann  # stable across reruns
    # Narrowing the selection keeps the relative order (each id has its own key).
    assert schedule.new_order(BANK_ORDER[:10], "ann") == [q for q in ann if q in BANK_ORDER[:10]]
    # Without a learner, the given order (as before).
    assert schedule.pick_cards(BANK_ORDER, {}, NOW, count=3, due_only=True) == BANK_ORDER[:3]


def test_again_comes_back_after_its_learning_step_while_the_session_runs(tmp_path):
    store = Store(tmp_path / "p.sqlite3")
    quiz = QuizSession(["a", "b", "c", "d"], started=NOW)
    assert grade(quiz, store, Rating.Again, NOW) == "a"
    step = store.card("a").due - NOW  # fsrs's first learning step
    assert timedelta(0) < step <= timedelta(minutes=10)
    assert grade(quiz, store, Rating.Good, NOW + step / 2) == "b"  # step not over: next card
    assert quiz.current == "c"
    assert grade(quiz, store, Rating.Good, NOW + step) == "c"  # step over: "a" comes next
    assert quiz.current == "a"
    assert grade(quiz, store, Rating.Good, NOW + step * 2) == "a"
    assert grade(quiz, store, Rating.Good, NOW + step * 2) == "d"
    assert quiz.done
    assert quiz.missed() == ["a"]
    assert quiz.summary()["cards"] == 5  # five grades: "a" twice


def test_again_comes_back_at_the_end_when_the_queue_runs_out_before_its_step(tmp_path):
    store = Store(tmp_path / "p.sqlite3")
    quiz = QuizSession(["a", "b"], started=NOW)
    grade(quiz, store, Rating.Again, NOW)
    grade(quiz, store, Rating.Good, NOW + timedelta(seconds=5))
    assert not quiz.done and quiz.current == "a"  # shown again before the session ends
    grade(quiz, store, Rating.Again, NOW + timedelta(seconds=9))  # missed twice: round again
    assert quiz.current == "a"
    grade(quiz, store, Rating.Good, NOW + timedelta(seconds=15))
    assert quiz.done and quiz.missed() == ["a"]
    assert quiz.summary()["ratings"][Rating.Again] == 2


def test_undo_of_a_grade_also_takes_back_the_card_it_brought_back(tmp_path):
    store = Store(tmp_path / "p.sqlite3")
    quiz = QuizSession(["a", "b"], started=NOW)
    grade(quiz, store, Rating.Again, NOW)
    grade(quiz, store, Rating.Good, NOW + timedelta(seconds=5))
    assert quiz.queue == ["a", "b", "a"]
    assert quiz.undo(store)  # "b" again; "a" waits again
    assert quiz.current == "b" and quiz.queue == ["a", "b"] and len(quiz.again) == 1
    assert quiz.undo(store)  # the Again itself: nothing waits any more
    assert quiz.current == "a" and quiz.again == [] and quiz.missed() == []


def reviewed_card(days_ago: float, stability: float) -> Card:
    when = NOW - timedelta(days=days_ago)
    return Card(card_id=1, state=State.Review, stability=stability, difficulty=5,
                due=when + timedelta(days=stability), last_review=when)


def test_merge_moved_counts_an_old_ids_history_for_the_kept_question():
    moved = {"old-kv": "kv-cache", "older-kv": "kv-cache", "old-only": "rope"}
    recent, stale, older = reviewed_card(1, 3), reviewed_card(10, 8), reviewed_card(20, 2)
    cards = {"kv-cache": stale, "old-kv": recent, "older-kv": older, "old-only": stale,
             "untouched": older}
    merged = schedule.merge_moved(cards, moved)
    assert set(merged) == {"kv-cache", "rope", "untouched"}  # no old id left
    assert merged["kv-cache"] is recent  # the most recently reviewed wins
    assert merged["rope"] is stale  # history only under the old id moves over
    assert merged["untouched"] is older
    # The kept id's own card wins when it is the newer one, whatever the dict order.
    assert schedule.merge_moved({"old-kv": stale, "kv-cache": recent}, moved)["kv-cache"] is recent
    assert schedule.merge_moved({}, moved) == {}


def test_a_quiz_reveal_previews_from_the_history_filed_under_an_old_id(tmp_path):
    store = Store(tmp_path / "p.sqlite3")
    old = reviewed_card(3, 30)
    store.record("old-kv", Rating.Good, old, NOW - timedelta(days=3))
    quiz = QuizSession(["kv-cache"], started=NOW, moved={"old-kv": "kv-cache"})
    outcomes = quiz.reveal(store, NOW)
    assert outcomes[Rating.Good].card.state == State.Review  # a review, not a new card
    assert outcomes[Rating.Good].interval > timedelta(days=10)
