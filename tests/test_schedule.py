"""Scheduling (fsrs previews, intervals, what to study next), progress statistics and the quiz
session, all without Streamlit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fsrs import Card, Rating, Scheduler, State

from prep import progress, schedule
from prep.quiz import QuizSession
from prep.store import Review, Store

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_preview_gives_four_outcomes_without_touching_the_card():
    card = schedule.new_card("q", NOW)
    before = card.to_dict()
    outcomes = schedule.preview(card, NOW)
    assert card.to_dict() == before
    assert list(outcomes) == [Rating.Again, Rating.Hard, Rating.Good, Rating.Easy]
    intervals = [outcomes[r].interval for r in schedule.RATINGS]
    assert intervals == sorted(intervals) and intervals[0] > timedelta(0)
    assert all(outcomes[r].card.due == NOW + outcomes[r].interval for r in schedule.RATINGS)


def test_preview_is_what_the_scheduler_gives_for_each_rating():
    card = schedule.new_card("q", NOW)
    outcomes = schedule.preview(card, NOW)
    for rating in (Rating.Again, Rating.Hard, Rating.Good):  # learning steps are not fuzzed
        expected, _ = schedule.SCHEDULER.review_card(card, rating, review_datetime=NOW)
        assert outcomes[rating].card.to_dict() == expected.to_dict()


def test_preview_refuses_a_naive_datetime():
    with pytest.raises(ValueError, match="timezone-aware"):
        schedule.preview(schedule.new_card("q", NOW), datetime(2026, 3, 1))


def test_card_ids_are_stable_per_question():
    assert schedule.new_card("a", NOW).card_id == schedule.new_card("a", NOW).card_id
    assert schedule.card_id_for("a") != schedule.card_id_for("b")


@pytest.mark.parametrize(
    ("delta", "en", "zh"),
    [
        (timedelta(seconds=30), "<1 min", "<1分钟"),
        (timedelta(minutes=10), "10 min", "10分钟"),
        (timedelta(hours=5, minutes=10), "5 h", "5小时"),
        (timedelta(days=1), "1 d", "1天"),
        (timedelta(days=3, hours=2), "3 d", "3天"),
        (timedelta(days=45), "1.5 mo", "1.5个月"),
        (timedelta(days=730), "2 y", "2年"),
    ],
)
def test_intervals_read_as_anki_shows_them(delta, en, zh):
    assert schedule.format_interval(delta, "en") == en
    assert schedule.format_interval(delta, "zh") == zh


def card_due(due: datetime) -> Card:
    return Card(card_id=1, state=State.Review, stability=5, difficulty=5, due=due,
                last_review=due - timedelta(days=5))


def test_pick_cards_puts_overdue_first_then_new_then_nothing_ahead_when_due_only():
    cards = {
        "late": card_due(NOW - timedelta(days=2)),
        "later": card_due(NOW - timedelta(days=5)),
        "future": card_due(NOW + timedelta(days=3)),
    }
    ids = ["new1", "late", "future", "later", "new2"]
    assert schedule.pick_cards(ids, cards, NOW, count=10, due_only=True) == [
        "later", "late", "new1", "new2"]
    assert schedule.pick_cards(ids, cards, NOW, count=10, due_only=False)[-1] == "future"
    assert schedule.pick_cards(ids, cards, NOW, count=3, due_only=True) == ["later", "late", "new1"]


def test_pick_cards_refuses_a_negative_count():
    with pytest.raises(ValueError, match="count"):
        schedule.pick_cards([], {}, NOW, count=-1, due_only=True)


# -- progress statistics -----------------------------------------------------------------------


def review(i: int, rating: Rating, when: datetime, qid: str = "q") -> Review:
    return Review(i, qid, rating, when, 1000, schedule.new_card(qid, when))


def test_per_day_and_retention_count_reviews_not_graded_again():
    reviews = [
        review(1, Rating.Good, NOW),
        review(2, Rating.Again, NOW + timedelta(hours=1)),
        review(3, Rating.Easy, NOW + timedelta(days=1)),
        review(4, Rating.Hard, NOW + timedelta(days=1, hours=1)),
    ]
    days = progress.per_day(reviews, UTC)
    assert [d.day for d in days] == [NOW.date(), (NOW + timedelta(days=1)).date()]
    assert [d.total for d in days] == [2, 2]
    assert [d.retention for d in days] == [0.5, 1.0]
    assert progress.retention(reviews) == 0.75
    assert progress.retention([]) is None


def test_levels_follow_the_card_state_and_interval():
    assert progress.level(None) == "new"
    assert progress.level(schedule.new_card("q", NOW)) == "learning"
    young = Card(card_id=1, state=State.Review, stability=3, difficulty=5,
                 due=NOW + timedelta(days=3), last_review=NOW)
    mature = Card(card_id=1, state=State.Review, stability=40, difficulty=5,
                  due=NOW + timedelta(days=30), last_review=NOW)
    assert progress.level(young) == "young" and progress.level(mature) == "mature"
    table = progress.mastery([("s", ["a", "b", "c"])], {"a": young, "b": mature})
    assert table == {"s": {"new": 1, "learning": 0, "young": 1, "mature": 1}}


def test_forecast_counts_overdue_as_today_and_spans_the_days_asked():
    cards = {"a": card_due(NOW - timedelta(days=3)), "b": card_due(NOW + timedelta(days=2)),
             "c": card_due(NOW + timedelta(days=30))}
    days = progress.forecast(cards, NOW, UTC, 7)
    assert len(days) == 7 and days[0] == (NOW.date(), 1)
    assert days[2] == ((NOW + timedelta(days=2)).date(), 1)
    assert sum(n for _, n in days) == 2


# -- quiz session ------------------------------------------------------------------------------


def test_readiness_is_mean_fsrs_retrievability_and_unseen_cards_count_zero():
    scheduler = Scheduler()
    reviewed, _ = scheduler.review_card(Card(), Rating.Good, NOW - timedelta(days=2))
    later = NOW + timedelta(days=5)
    expected = scheduler.get_card_retrievability(reviewed, later)
    assert 0 < expected < 1
    value = progress.readiness(["seen", "unseen"], {"seen": reviewed}, later, scheduler)
    assert value == pytest.approx(expected / 2)
    assert progress.readiness([], {}, later, scheduler) == 0.0


def test_a_quiz_grades_stores_the_previewed_card_and_summarises(tmp_path):
    store = Store(tmp_path / "p.sqlite3")
    quiz = QuizSession(["a", "b"], started=NOW)
    quiz.show(NOW)
    outcomes = quiz.reveal(store, NOW + timedelta(seconds=5))
    quiz.grade(Rating.Easy, store, NOW + timedelta(seconds=8))
    assert store.card("a").to_dict() == outcomes[Rating.Easy].card.to_dict()
    assert quiz.current == "b" and not quiz.revealed
    quiz.reveal(store, NOW + timedelta(seconds=10))
    quiz.grade(Rating.Again, store, NOW + timedelta(seconds=20))
    assert quiz.current == "b"  # Again: back before the session ends
    quiz.reveal(store, NOW + timedelta(seconds=22))
    quiz.grade(Rating.Good, store, NOW + timedelta(seconds=24))
    assert quiz.done
    summary = quiz.summary()
    assert summary["cards"] == 3 and summary["elapsed"] == timedelta(seconds=24)
    assert summary["ratings"][Rating.Easy] == 1 and summary["ratings"][Rating.Again] == 1
    assert [r.duration_ms for r in store.reviews()] == [8000, 10000, 2000]


def test_quiz_undo_brings_the_last_question_back_and_restores_its_card(tmp_path):
    store = Store(tmp_path / "p.sqlite3")
    quiz = QuizSession(["a", "b"], started=NOW)
    quiz.reveal(store, NOW)
    quiz.grade(Rating.Good, store, NOW)
    assert quiz.undo(store)
    assert quiz.current == "a" and store.card("a") is None and store.reviews() == []
    assert not quiz.undo(store)


def test_grading_before_reveal_is_refused():
    quiz = QuizSession(["a"], started=NOW)
    with pytest.raises(ValueError, match="reveal"):
        quiz.grade(Rating.Good, None, NOW)


def test_due_count_does_not_count_new_cards():
    """Bug (issue 10): due_count counted questions never studied as due."""
    cards = {"late": card_due(NOW - timedelta(days=2)), "future": card_due(NOW + timedelta(days=3))}
    ids = ["new1", "late", "future", "new2"]
    assert schedule.due_count(ids, cards, NOW) == 1
    assert schedule.due_count(ids, cards, NOW + timedelta(days=4)) == 2
    assert schedule.due_count(["new1"], {}, NOW) == 0


def test_format_duration_counts_seconds_under_a_minute():
    assert schedule.format_duration(timedelta(seconds=42.4), "en") == "42 s"
    assert schedule.format_duration(timedelta(seconds=3), "zh") == "3 秒"
    assert schedule.format_duration(timedelta(minutes=5), "en") == "5 min"
