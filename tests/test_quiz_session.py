"""A quiz as Anki runs one: new cards shuffled per learner, Again cards back within the session,
missed cards listed, review history of merged questions counted for the kept question."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fsrs import Card, Rating, State

from prep import schedule
from prep.interview_session import instance, read_number
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


# -- answer first ---------------------------------------------------------------------------


def answer_first(quiz: QuizSession, store: Store, text: str, ticked: list[int], points: int,
                 seconds: float) -> None:
    quiz.show(NOW, key_points=points)
    quiz.type_answer(text)
    quiz.reveal(store, NOW + timedelta(seconds=seconds))
    quiz.tick(ticked)


def test_ticks_suggest_a_grade_the_learner_may_override_and_the_typed_answer_is_stored(tmp_path):
    store = Store(tmp_path / "p.sqlite3")
    quiz = QuizSession(["a", "b", "c", "d"], started=NOW, answer_first=True)
    cases = [([0, 1], 3, 90, Rating.Hard), ([0], 3, 90, Rating.Again),
             ([0, 1, 2], 3, 90, Rating.Good), ([0, 1, 2, 3], 4, 30, Rating.Easy)]
    for ticked, points, seconds, suggested in cases:
        qid = quiz.current
        answer_first(quiz, store, f"my answer to {qid}", ticked, points, seconds)
        assert quiz.suggested() == suggested, (ticked, points, seconds)
        quiz.type_answer("typed after the reveal")  # ignored: the answer is what was revealed
        quiz.grade(Rating.Good, store, NOW + timedelta(seconds=seconds + 5))  # the override
    reviews = store.reviews()
    assert [r.rating for r in reviews] == [Rating.Good] * 4  # FSRS got the grade pressed
    assert [r.answer for r in reviews] == [f"my answer to {q}" for q in "abcd"]


def test_no_suggestion_without_answer_first_or_without_key_points(tmp_path):
    store = Store(tmp_path / "p.sqlite3")
    plain = QuizSession(["a"], started=NOW)
    answer_first(plain, store, "", [0, 1], 3, 10)
    assert plain.suggested() is None
    no_points = QuizSession(["b"], started=NOW, answer_first=True)
    answer_first(no_points, store, "text but no rubric", [], 0, 10)
    assert no_points.suggested() is None
    no_points.grade(Rating.Hard, store, NOW + timedelta(seconds=20))
    assert store.reviews()[-1].answer == "text but no rubric"
    plain.grade(Rating.Good, store, NOW + timedelta(seconds=20))
    assert store.reviews()[-1].answer is None  # nothing typed: nothing stored


def test_the_next_review_of_a_card_offers_the_latest_typed_answer(tmp_path):
    store = Store(tmp_path / "p.sqlite3")
    first = QuizSession(["a", "old-b"], started=NOW, answer_first=True)
    answer_first(first, store, "first try", [0], 2, 10)
    assert first.last is None  # never typed before
    first.grade(Rating.Again, store, NOW + timedelta(seconds=20))
    answer_first(first, store, "the old id's answer", [0], 2, 30)
    first.grade(Rating.Good, store, NOW + timedelta(seconds=40))
    later = NOW + timedelta(seconds=60)
    assert first.current == "a"  # Again brought it back in the same session
    answer_first(first, store, "second try", [0, 1], 2, 70)
    assert first.last is not None and first.last.text == "first try"
    first.grade(Rating.Good, store, later)
    # A new session, answer first off, and the card filed under a merged id too.
    plain = QuizSession(["a", "b"], started=later, moved={"old-b": "b"})
    plain.reveal(store, later)
    assert plain.last.text == "second try"
    plain.grade(Rating.Good, store, later)  # nothing typed: the last answer stays
    plain.reveal(store, later)
    assert plain.last.text == "the old id's answer"  # history of the merged id


def test_latest_answer_skips_blank_answers_and_other_questions(tmp_path):
    store = Store(tmp_path / "p.sqlite3")
    for minute, (qid, answer) in enumerate([("a", "early"), ("a", "   "), ("b", "other"),
                                            ("a", None)], start=1):
        when = NOW + timedelta(minutes=minute)
        card = schedule.preview(schedule.new_card(qid, when), when)[Rating.Good].card
        store.record(qid, Rating.Good, card, when, answer=answer)
    assert store.latest_answer(["a"]) == ("early", NOW + timedelta(minutes=1))
    assert store.latest_answer(["a", "b"]) == ("other", NOW + timedelta(minutes=3))
    assert store.latest_answer(["c"]) is None and store.latest_answer([]) is None


def test_undo_forgets_the_ticks_and_starts_the_card_again(tmp_path):
    store = Store(tmp_path / "p.sqlite3")
    quiz = QuizSession(["a", "b"], started=NOW, answer_first=True)
    answer_first(quiz, store, "typed", [0, 1], 3, 10)
    turn = quiz.turn
    quiz.grade(Rating.Hard, store, NOW + timedelta(seconds=20))
    assert quiz.undo(store) and quiz.current == "a"
    assert quiz.answer is None and quiz.last is None and quiz.turn > turn  # fresh widgets
    quiz.show(NOW, key_points=3)
    assert quiz.answer.text == "" and quiz.answer.ticked == []


def test_a_numeric_card_keeps_its_drawn_numbers_and_gets_the_apps_grade(tmp_path):
    import random

    from prep.bank import load_bank

    bank = load_bank(Path(__file__).parent / "fixtures" / "interview_bank")
    question = bank.question("iv-window-keys")
    store = Store(tmp_path / "p.sqlite3")
    quiz = QuizSession(["iv-window-keys"], started=NOW)
    quiz.show(NOW, numeric=question, rng=random.Random(3))
    params = dict(quiz.answer.numeric_params)
    quiz.show(NOW + timedelta(seconds=1), numeric=question, rng=random.Random(4))  # a rerun
    assert quiz.answer.numeric_params == params and quiz.suggested() is None
    drawn = instance(quiz.answer, question)
    assert quiz.check_number(question, drawn.answer * 1.5, store, NOW + timedelta(seconds=20)) \
        is False
    assert quiz.graded_by_app and quiz.suggested() == Rating.Again and quiz.revealed
    quiz.grade(quiz.suggested(), store, NOW + timedelta(seconds=25))
    wrong = f"{drawn.answer * 1.5:g}"
    assert store.reviews()[-1].answer == wrong
    quiz.show(NOW + timedelta(minutes=5), numeric=question, rng=random.Random(5))  # back again
    drawn = instance(quiz.answer, question)
    assert quiz.check_number(question, drawn.answer, store, NOW + timedelta(minutes=5, seconds=30))
    assert quiz.suggested() == Rating.Easy  # right, no hint, within a minute
    assert quiz.last.text == wrong  # the number given last time
    plain = QuizSession(["a"], started=NOW)
    plain.show(NOW)
    with pytest.raises(ValueError, match="not numeric"):
        plain.check_number(question, 1.0, store, NOW)


@pytest.mark.parametrize("raw, value", [(" 1,024 ", 1024.0), ("1.5e3", 1500.0), ("2 048", 2048.0)])
def test_read_number_ignores_spaces_and_thousands_commas(raw, value):
    assert read_number(raw) == value


@pytest.mark.parametrize("raw", ["", "a few", "1..2"])
def test_read_number_refuses_what_is_not_a_number(raw):
    with pytest.raises(ValueError):
        read_number(raw)
