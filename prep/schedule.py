"""Spaced repetition with the ``fsrs`` package: new cards, previews of each grade, what is due.

fsrs fuzzes intervals at random, so the page shows ``preview(card, now)`` on the four buttons and
stores the previewed card of the chosen grade (never a recomputed one).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fsrs import Card, Rating, ReviewLog, Scheduler

from prep.i18n import Text, normalize

DESIRED_RETENTION = 0.9
SCHEDULER = Scheduler(desired_retention=DESIRED_RETENTION)
RATINGS = (Rating.Again, Rating.Hard, Rating.Good, Rating.Easy)
RATING_NAMES = {
    Rating.Again: Text("重来", "Again"),
    Rating.Hard: Text("困难", "Hard"),
    Rating.Good: Text("良好", "Good"),
    Rating.Easy: Text("简单", "Easy"),
}
_CARD_ID_HEX_DIGITS = 12  # 48 bits: a stable card id that fits SQLite's and Anki's integers

_MINUTE = timedelta(minutes=1)
_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)
_DAYS_PER_MONTH = 30
_DAYS_PER_YEAR = 365
_LESS_THAN_A_MINUTE = Text("<1分钟", "<1 min")
_UNITS = {
    "min": Text("{n}分钟", "{n} min"),
    "h": Text("{n}小时", "{n} h"),
    "d": Text("{n}天", "{n} d"),
    "mo": Text("{n}个月", "{n} mo"),
    "y": Text("{n}年", "{n} y"),
}


@dataclass(frozen=True)
class Outcome:
    """What grading a card with ``rating`` at ``now`` gives."""

    rating: Rating
    card: Card
    log: ReviewLog
    interval: timedelta
    before: Card | None = None  # the card it was computed from (the store checks it is current)


def card_id_for(question_id: str) -> int:
    """A stable integer id for a question's card (fsrs would otherwise use the clock)."""
    return int(hashlib.sha1(question_id.encode("utf-8")).hexdigest()[:_CARD_ID_HEX_DIGITS], 16)


def new_card(question_id: str, now: datetime) -> Card:
    """A card never reviewed, due at ``now``."""
    return Card(card_id=card_id_for(question_id), due=now)


def preview(
    card: Card, now: datetime, scheduler: Scheduler = SCHEDULER
) -> dict[Rating, Outcome]:
    """The outcome of each of the four grades, computed on copies (``card`` is unchanged)."""
    if now.tzinfo is None:
        raise ValueError(f"now must be timezone-aware (UTC); got naive {now!r}")
    outcomes = {}
    for rating in RATINGS:
        after, log = scheduler.review_card(card, rating, review_datetime=now)
        outcomes[rating] = Outcome(rating, after, log, after.due - now, card)
    return outcomes


def _number(value: float) -> str:
    """One decimal below ten (1.5 mo), whole numbers above (14 d)."""
    return f"{value:.1f}".rstrip("0").rstrip(".") if value < 10 else str(round(value))


def format_interval(delta: timedelta, lang: str = "en") -> str:
    """A short human interval as Anki shows it: "<1 min", "10 min", "5 h", "3 d", "1.5 mo"."""
    lang = normalize(lang)
    if delta < _MINUTE:
        return _LESS_THAN_A_MINUTE.pick(lang)
    if delta < _HOUR:
        unit, value = "min", delta / _MINUTE
    elif delta < _DAY:
        unit, value = "h", delta / _HOUR
    else:
        days = delta / _DAY
        if days < _DAYS_PER_MONTH:
            unit, value = "d", days
        elif days < _DAYS_PER_YEAR:
            unit, value = "mo", days / _DAYS_PER_MONTH
        else:
            unit, value = "y", days / _DAYS_PER_YEAR
    text = str(round(value)) if unit in ("min", "h", "d") else _number(value)
    return _UNITS[unit].format(n=text).pick(lang)


_SECONDS = Text("{n} 秒", "{n} s")


def format_duration(delta: timedelta, lang: str = "en") -> str:
    """Time spent: whole seconds under a minute ("42 s"; a short quiz is not "<1 min"), else as
    ``format_interval``."""
    if delta < _MINUTE:
        return _SECONDS.format(n=round(delta.total_seconds())).pick(lang)
    return format_interval(delta, lang)


def new_order(question_ids: Iterable[str], learner: str) -> list[str]:
    """New questions in a shuffled order that is stable for one learner and differs between
    learners: sorted by ``sha1(learner + NUL + question id)``.

    Stable across reruns and restarts (no random state), so a learner who stops and comes back
    meets the same next new card; another learner starts elsewhere in the bank.
    """
    def key(question_id: str) -> str:
        return hashlib.sha1(f"{learner}\0{question_id}".encode()).hexdigest()

    return sorted(dict.fromkeys(question_ids), key=key)


def pick_cards(
    question_ids: Iterable[str],
    cards: Mapping[str, Card],
    now: datetime,
    *,
    count: int,
    due_only: bool,
    learner: str | None = None,
) -> list[str]:
    """The next ``count`` questions to study, among ``question_ids``.

    Due cards first (most overdue first), then new questions: in ``new_order(ids, learner)``, or
    in the given order when ``learner`` is None; unless ``due_only``, then the not-yet-due ones,
    soonest first (studying ahead).
    """
    if count < 0:
        raise ValueError(f"count must be >= 0; got {count}")
    ids = list(dict.fromkeys(question_ids))
    seen = [q for q in ids if q in cards]
    due = sorted((q for q in seen if cards[q].due <= now), key=lambda q: cards[q].due)
    new = [q for q in ids if q not in cards]
    if learner is not None:
        new = new_order(new, learner)
    chosen = due + new
    if not due_only:
        ahead = sorted((q for q in seen if cards[q].due > now), key=lambda q: cards[q].due)
        chosen += ahead
    return chosen[:count]


def due_count(question_ids: Iterable[str], cards: Mapping[str, Card], until: datetime) -> int:
    """How many of the questions have a card due by ``until``.

    New questions (no card yet) are not due: they are counted apart (``prep.study.counts``).
    """
    return sum(1 for q in set(question_ids) if q in cards and cards[q].due <= until)


def _last_review(card: Card) -> datetime:
    return card.last_review or datetime.min.replace(tzinfo=UTC)


def merge_moved(cards: Mapping[str, Card], moved: Mapping[str, str]) -> dict[str, Card]:
    """The cards keyed by the ids the bank keeps: a card filed under an old (merged) id counts
    for the question it was merged into (``moved``: old id -> kept id, ``prep.bank.moved_ids``).

    When both the old and the kept id have a card (or several old ids do), the most recently
    reviewed card wins (a card never reviewed loses to any reviewed one; ties keep the kept id's
    card). Nothing is written: the store still holds the history under the old id.
    """
    merged: dict[str, Card] = {}
    # Kept ids first, so that on a tie the kept id's own card stays.
    for question_id in sorted(cards, key=lambda q: q in moved):
        card = cards[question_id]
        kept = moved.get(question_id, question_id)
        if kept not in merged or _last_review(card) > _last_review(merged[kept]):
            merged[kept] = card
    return merged
