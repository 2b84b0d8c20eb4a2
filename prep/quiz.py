"""One quiz session: a queue of questions, reveal, grade, undo, summary (no Streamlit here).

The page keeps a ``QuizSession`` in ``st.session_state`` and calls these methods; every grade is
saved at once (one transaction) through the ``Store``, so leaving the page loses nothing.

As in Anki, a card graded Again comes back within the session: it waits until its fsrs
(re)learning step is due (the card's new ``due``, e.g. 1 or 10 minutes) and is then shown next;
if the queue runs out first, it is shown at the end anyway (the earliest due first), so the
session never ends with a missed card unseen. Each Again sends it round again.

Answer first (``answer_first=True``): the learner types an answer before the reveal, then ticks
the question's key points; ``suggested()`` turns the ticked fraction into a grade with
``prep.interview.suggest_grade`` (the mock interview's rule), which the learner may override: the
grade pressed is what FSRS gets. Whatever was typed is stored with the review
(``Store.record(answer=...)``); at the next reveal of that card, answer-first or not, ``last``
holds the latest typed answer of its earlier reviews. The current card's typing, ticks and times
live in a ``prep.interview.Answer``, moved by the mock interview's own steps.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fsrs import Rating

from prep import interview_session as steps
from prep import schedule
from prep.interview import Answer
from prep.numeric import draw
from prep.store import Store

_MS_PER_S = 1000


@dataclass(frozen=True)
class Graded:
    question_id: str
    rating: Rating
    review_id: int
    duration: timedelta


@dataclass(frozen=True)
class PastAnswer:
    """What the learner typed at an earlier review of a card, and when."""

    text: str
    reviewed: datetime


@dataclass
class QuizSession:
    queue: list[str]
    started: datetime
    index: int = 0
    card_shown: datetime | None = None  # when the current question appeared
    outcomes: dict[Rating, schedule.Outcome] | None = None  # set by reveal()
    revealed_at: datetime | None = None
    grades: list[Graded] = field(default_factory=list)
    finished: datetime | None = None
    # Cards graded Again waiting to come back: (due, question id), earliest first.
    again: list[tuple[datetime, str]] = field(default_factory=list)
    # Old (merged) id -> kept id: a card filed under an old id counts for the kept question.
    moved: Mapping[str, str] = field(default_factory=dict)
    answer_first: bool = False  # type an answer before the reveal, then tick the key points
    answer: Answer | None = None  # the current card's typed answer, ticks and times (show())
    last: PastAnswer | None = None  # the answer typed at an earlier review (set by reveal())
    turn: int = 0  # cards shown so far: one card's widgets get keys of their own
    # (queue, again) before each grade, so that undo also takes back a re-queued card.
    _before: list[tuple[list[str], list[tuple[datetime, str]]]] = field(default_factory=list)

    @property
    def current(self) -> str | None:
        if self.finished is not None or self.index >= len(self.queue):
            return None
        return self.queue[self.index]

    @property
    def done(self) -> bool:
        return self.current is None

    @property
    def revealed(self) -> bool:
        return self.outcomes is not None

    def show(self, now: datetime, key_points: int = 0, numeric: object = None,
             rng: random.Random | None = None) -> None:
        """Note when the current question first appeared (for the time spent on it) and start
        its answer: ``key_points`` points to tick, or, for a ``numeric`` question (a bank
        question with a ``numeric`` block), its parameters drawn now with ``rng`` and kept."""
        if self.card_shown is None:
            self.card_shown = now
        if self.answer is None and self.current is not None:
            params = None
            if numeric is not None:
                params = dict(draw(numeric, rng or random.Random()).params)
            self.answer = Answer(self.current, total_points=key_points,
                                 asked_at=self.card_shown.timestamp(), numeric_params=params)

    @property
    def graded_by_app(self) -> bool:
        """A numeric answer was checked: its grade is the app's (``suggested()``)."""
        return self.answer is not None and self.answer.correct is not None

    def check_number(self, question: object, value: float, store: Store, now: datetime) -> bool:
        """Grade the learner's number (within the question's tolerance) and reveal."""
        if self.answer is None or self.answer.numeric_params is None:
            raise ValueError(f"check_number: the current card {self.current!r} is not numeric")
        correct = steps.check_number(self.answer, question, value, now)
        self.answer.text = f"{float(value):g}"
        self.reveal(store, now)
        return correct

    def hint(self) -> None:
        """The learner looked at the worked solution's first step (a right number is Hard)."""
        if self.answer is not None:
            steps.use_hint(self.answer)

    def type_answer(self, text: str) -> None:
        """What the learner typed before the reveal (kept with the review)."""
        if self.answer is not None and not self.revealed:
            self.answer.text = text

    def tick(self, ticked: Iterable[int]) -> None:
        """The key points the learner ticks as present in what they typed."""
        if self.answer is not None:
            steps.tick(self.answer, list(ticked))

    def suggested(self) -> Rating | None:
        """The grade the ticks suggest (answer first, after the reveal), the grade a checked
        number gets (``prep.interview.numeric_grade``), else None."""
        answer = self.answer
        if self.graded_by_app:
            return steps.suggested(answer)
        if not (self.answer_first and self.revealed and answer and answer.total_points):
            return None
        return steps.suggested(answer)

    def reveal(self, store: Store, now: datetime) -> dict[Rating, schedule.Outcome]:
        """Show the answer and compute the four outcomes (kept, since fsrs fuzzes at random)."""
        qid = self.current
        if qid is None:
            raise ValueError("reveal: the quiz has no current question (it is finished)")
        if self.outcomes is None:
            card = self._card(store, qid) or schedule.new_card(qid, now)
            self.outcomes = schedule.preview(card, now)
            self.revealed_at = now
            self.show(now)
            steps.reveal(self.answer, now)
            latest = store.latest_answer(self._ids(qid))
            self.last = PastAnswer(*latest) if latest is not None else None
        return self.outcomes

    def grade(self, rating: Rating, store: Store, now: datetime) -> Graded:
        """Save the previewed outcome of ``rating`` and move to the next question.

        If saving fails (StoreError) the session is unchanged, so the learner can try again.
        """
        qid = self.current
        if qid is None or self.outcomes is None or self.revealed_at is None:
            raise ValueError(f"grade: reveal the answer first (current question: {qid!r})")
        outcome = self.outcomes[Rating(rating)]
        duration = now - (self.card_shown or self.revealed_at)
        typed = self.answer.text.strip() if self.answer is not None else ""
        review_id = store.record(qid, outcome.rating, outcome.card, self.revealed_at,
                                 duration_ms=int(duration.total_seconds() * _MS_PER_S),
                                 based_on=outcome.before, answer=typed or None)
        graded = Graded(qid, outcome.rating, review_id, duration)
        self._before.append((list(self.queue), list(self.again)))
        self.grades.append(graded)
        if outcome.rating == Rating.Again:
            self.again.append((outcome.card.due, qid))
            self.again.sort()
        self.index += 1
        self._clear_card()
        self._bring_back(now)
        if self.index >= len(self.queue):
            self.finished = now
        return graded

    def _bring_back(self, now: datetime) -> None:
        """Put the next Again card in front: the earliest one whose step is due by ``now``, or
        the earliest one at all when the queue has run out."""
        if not self.again:
            return
        due, qid = self.again[0]
        if due <= now or self.index >= len(self.queue):
            self.again.pop(0)
            self.queue.insert(self.index, qid)

    def _ids(self, qid: str) -> list[str]:
        """``qid`` and the old ids merged into it."""
        return [qid, *(old for old, kept in self.moved.items() if kept == qid)]

    def _card(self, store: Store, qid: str):
        """The stored card of ``qid``, or of an old id merged into it (the latest reviewed)."""
        ids = self._ids(qid)
        cards = {i: card for i in ids if (card := store.card(i)) is not None}
        return schedule.merge_moved(cards, self.moved).get(qid)

    def undo(self, store: Store) -> bool:
        """Take back the last grade: the store restores the card; that question comes back."""
        if not self.grades:
            return False
        last = self.grades[-1]
        if store.undo(last.review_id) is None:
            return False
        self.grades.pop()
        if self._before:
            self.queue, self.again = self._before.pop()
        self.index -= 1
        self.finished = None
        self._clear_card()
        return True

    def finish(self, now: datetime) -> None:
        if self.finished is None:
            self.finished = now

    def _clear_card(self) -> None:
        self.card_shown = None
        self.outcomes = None
        self.revealed_at = None
        self.answer = None
        self.last = None
        self.turn += 1

    def missed(self) -> list[str]:
        """Questions graded Again at least once in this session, in the order first missed."""
        return list(dict.fromkeys(g.question_id for g in self.grades if g.rating == Rating.Again))

    def summary(self) -> dict[str, object]:
        """Cards graded, count per rating, total and mean time."""
        end = self.finished or self.started
        total = end - self.started
        counts = Counter(g.rating for g in self.grades)
        return {
            "cards": len(self.grades),
            "ratings": {rating: counts.get(rating, 0) for rating in schedule.RATINGS},
            "elapsed": total,
            "per_card": total / len(self.grades) if self.grades else timedelta(0),
        }
