"""Study counts: how many questions are new, learning, due now and due today (no Streamlit).

The one place that counts "due": Home, Quiz and Progress all show these numbers. A question with
no card yet is *new*, never due; a card is *due now* when its due time has passed and *due today*
when it falls due before the end of the learner's calendar day (in their time zone).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from fsrs import Card, State

from prep.schedule import due_count


@dataclass(frozen=True)
class StudyCounts:
    """Counts over one set of questions (each question counted once).

    total      questions in the set
    new        questions never graded (no card)
    learning   cards in fsrs Learning or Relearning (due soon, in minutes or hours)
    due_now    cards due at ``now`` (overdue included)
    due_today  cards due before the end of today; ``due_now`` is part of it
    """

    total: int
    new: int
    learning: int
    due_now: int
    due_today: int

    @property
    def to_study(self) -> int:
        """What a quiz of "what is due" holds right now: the due cards, then the new questions."""
        return self.due_now + self.new


def end_of_day(now: datetime, tz: tzinfo) -> datetime:
    """The first instant of the next calendar day in ``tz`` (aware, in ``tz``)."""
    if now.tzinfo is None:
        raise ValueError(f"now must be timezone-aware (UTC); got naive {now!r}")
    today = now.astimezone(tz).date()
    return datetime.combine(today + timedelta(days=1), time(0), tzinfo=tz)


def counts(
    question_ids: Iterable[str], cards: Mapping[str, Card], now: datetime, tz: tzinfo
) -> StudyCounts:
    """Study counts of ``question_ids`` given the learner's ``cards`` at ``now`` in zone ``tz``.

    Cards of questions outside ``question_ids`` are ignored.

    Raises:
        ValueError: ``now`` is naive.
    """
    ids = set(question_ids)
    tomorrow = end_of_day(now, tz)
    seen = [cards[q] for q in ids if q in cards]
    return StudyCounts(
        total=len(ids),
        new=len(ids) - len(seen),
        learning=sum(card.state in (State.Learning, State.Relearning) for card in seen),
        due_now=due_count(ids, cards, now),
        due_today=sum(card.due < tomorrow for card in seen),
    )
