"""Progress statistics from the review history and cards (pure; the Progress and Home pages plot
and print them).

Mastery of a question, as Anki counts it: *new* (never graded), *learning* (fsrs Learning or
Relearning), *young* (Review, interval under 21 days), *mature* (Review, interval of 21 days or
more).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from fsrs import Card, Rating, Scheduler, State

from prep import schedule
from prep.i18n import Text

if TYPE_CHECKING:
    from prep.store import Review

MATURE_INTERVAL = timedelta(days=21)
LEVELS = ("new", "learning", "young", "mature")
LEVEL_NAMES = {
    "new": Text("未学", "New"),
    "learning": Text("学习中", "Learning"),
    "young": Text("复习中", "Young"),
    "mature": Text("已掌握", "Mature"),
}


def level(card: Card | None) -> str:
    """One of LEVELS for a question's card (None: never graded)."""
    if card is None:
        return "new"
    if card.state != State.Review:
        return "learning"
    interval = card.due - card.last_review if card.last_review else timedelta(0)
    return "mature" if interval >= MATURE_INTERVAL else "young"


@dataclass(frozen=True)
class DayStats:
    day: date
    by_rating: dict[Rating, int]

    @property
    def total(self) -> int:
        return sum(self.by_rating.values())

    @property
    def retention(self) -> float | None:
        """Share of the day's reviews not graded Again; None on a day without reviews."""
        return 1 - self.by_rating.get(Rating.Again, 0) / self.total if self.total else None


def per_day(reviews: Iterable[Review], tz: tzinfo) -> list[DayStats]:
    """Reviews per calendar day in ``tz``, with the count of each rating; days in order."""
    counts: dict[date, Counter[Rating]] = {}
    for review in reviews:
        day = review.reviewed.astimezone(tz).date()
        counts.setdefault(day, Counter())[review.rating] += 1
    return [DayStats(day, dict(counts[day])) for day in sorted(counts)]


def retention(reviews: Sequence[Review]) -> float | None:
    """Share of all reviews not graded Again (None without reviews)."""
    if not reviews:
        return None
    return 1 - sum(r.rating == Rating.Again for r in reviews) / len(reviews)


def mastery(
    sections: Iterable[tuple[str, Sequence[str]]], cards: Mapping[str, Card]
) -> dict[str, dict[str, int]]:
    """For each (section id, question ids): the number of questions at each level."""
    table = {}
    for section_id, question_ids in sections:
        row = dict.fromkeys(LEVELS, 0)
        for qid in question_ids:
            row[level(cards.get(qid))] += 1
        table[section_id] = row
    return table


def forecast(
    cards: Mapping[str, Card], now: datetime, tz: tzinfo, days: int
) -> list[tuple[date, int]]:
    """Cards falling due on each of the next ``days`` days (today includes the overdue ones)."""
    if days < 1:
        raise ValueError(f"days must be >= 1; got {days}")
    today = now.astimezone(tz).date()
    counts = Counter()
    for card in cards.values():
        day = max(card.due.astimezone(tz).date(), today)
        counts[day] += 1
    return [(today + timedelta(days=i), counts.get(today + timedelta(days=i), 0))
            for i in range(days)]


def readiness(question_ids: Iterable[str], cards: Mapping[str, Card], now: datetime,
              scheduler: Scheduler = schedule.SCHEDULER) -> float:
    """Expected share of these questions recalled now: mean FSRS retrievability, unseen = 0."""
    ids = list(question_ids)
    if not ids:
        return 0.0
    total = 0.0
    for qid in ids:
        card = cards.get(qid)
        if card is not None and card.last_review is not None:
            total += scheduler.get_card_retrievability(card, now)
    return total / len(ids)


def readiness_by_section(sections: Sequence[object], cards: Mapping[str, Card], now: datetime,
                         scheduler: Scheduler = schedule.SCHEDULER) -> dict[str, float]:
    """Section id -> expected share of its cards recalled now (``readiness``); Home, Progress
    and the mock interview's report show it."""
    return {s.id: readiness([q.id for q in s.questions], cards, now, scheduler)  # type: ignore[attr-defined]
            for s in sections}
