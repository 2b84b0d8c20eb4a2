"""Study counts (prep.study): new, learning, due now, due today; no Streamlit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fsrs import Card, State

from prep import study

NOW = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)  # 21:00 in Berlin, 04:00 next day in Shanghai


def card(due: datetime, state: State = State.Review) -> Card:
    return Card(card_id=1, state=state, stability=5, difficulty=5, due=due,
                last_review=due - timedelta(days=5))


def test_new_questions_are_new_and_never_due():
    result = study.counts(["a", "b"], {}, NOW, UTC)
    assert result == study.StudyCounts(total=2, new=2, learning=0, due_now=0, due_today=0)
    assert result.to_study == 2


def test_due_now_due_today_and_learning_are_counted_apart():
    cards = {
        "overdue": card(NOW - timedelta(days=1)),
        "later_today": card(NOW + timedelta(hours=2)),   # 22:00 UTC, still today in UTC
        "tomorrow": card(NOW + timedelta(hours=5)),      # 01:00 UTC next day
        "relearning": card(NOW + timedelta(minutes=10), State.Relearning),
        "learning": card(NOW - timedelta(minutes=1), State.Learning),
        "not_asked": card(NOW - timedelta(days=3)),      # outside the question ids: ignored
    }
    ids = ["overdue", "later_today", "tomorrow", "relearning", "learning", "new", "new"]
    result = study.counts(ids, cards, NOW, UTC)
    assert result.total == 6
    assert result.new == 1
    assert result.learning == 2
    assert result.due_now == 2  # overdue, learning
    assert result.due_today == 4  # + later_today, relearning
    assert result.to_study == 3


def test_today_ends_at_midnight_in_the_learners_time_zone():
    cards = {"x": card(NOW + timedelta(hours=2))}  # 22:00 UTC
    assert study.counts(["x"], cards, NOW, UTC).due_today == 1
    # In Shanghai it is already 04:00 on the 11th; 06:00 that day is still today.
    assert study.counts(["x"], cards, NOW, ZoneInfo("Asia/Shanghai")).due_today == 1
    # In Los Angeles it is 13:00 on the 10th, and 15:00 is today too; a card due in 12 h is not.
    late = {"x": card(NOW + timedelta(hours=12))}
    assert study.counts(["x"], late, NOW, ZoneInfo("America/Los_Angeles")).due_today == 0


def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="now"):
        study.counts(["a"], {}, NOW.replace(tzinfo=None), UTC)
