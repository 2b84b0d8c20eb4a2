"""A mock interview without Streamlit: plan, follow-up walk, rubric scores, grades, report.

How an answer is scored:
- a rubric question: the learner ticks the key points their typed answer contains; the score is
  the ticked fraction, and ``suggest_grade`` turns it into an FSRS grade (under 1/2 Again, under
  3/4 Hard, else Good; every point within a minute Easy). The learner may press another grade.
- a numeric question: right (within tolerance) on the first try is Good, Easy within a minute;
  right only after revealing the worked solution's first step is Hard; otherwise Again. Score 1,
  0.5 or 0.

Readiness of a section (``prep.progress.readiness``) is shown beside the latest rubric scores.

Persistence is the store's (one row per answer, written as the answer is typed); this module only
says what an interview is and how it moves, so it is tested without Streamlit or a database.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from fsrs import Rating

from prep.i18n import Text

AGAIN_BELOW = 0.5        # ticked fraction under this: Again
HARD_BELOW = 0.75        # under this: Hard; otherwise Good
EASY_WITHIN = timedelta(minutes=1)  # every point (or a right number) this fast: Easy
MAX_FOLLOW_UPS = 2       # follow-ups asked after each main question
NUMERIC_HINT_SCORE = 0.5


class Rubric(Protocol):
    """What the interview needs of a bank question (``prep.bank.Question`` has these)."""

    id: str
    section_id: str
    key_points: Sequence[Text]
    follow_ups: Sequence[str]


def suggest_grade(ticked: int, total: int, elapsed: timedelta) -> Rating:
    """The grade a ticked rubric suggests (the learner may still press another)."""
    if total <= 0:
        raise ValueError(f"total must be a positive number of key points; got {total}")
    if not 0 <= ticked <= total:
        raise ValueError(f"ticked must be between 0 and total={total}; got {ticked}")
    fraction = ticked / total
    if fraction < AGAIN_BELOW:
        return Rating.Again
    if fraction < HARD_BELOW:
        return Rating.Hard
    if ticked == total and elapsed < EASY_WITHIN:
        return Rating.Easy
    return Rating.Good


def numeric_grade(correct: bool, *, hint_used: bool, elapsed: timedelta) -> Rating:
    """The grade of a numeric answer: the app grades it itself."""
    if not correct:
        return Rating.Again
    if hint_used:
        return Rating.Hard
    return Rating.Easy if elapsed < EASY_WITHIN else Rating.Good


def numeric_score(correct: bool, *, hint_used: bool) -> float:
    if not correct:
        return 0.0
    return NUMERIC_HINT_SCORE if hint_used else 1.0


def follow_up_walk(
    start: str, follow_ups: Mapping[str, Sequence[str]], *, asked: Iterable[str] = (),
    limit: int = MAX_FOLLOW_UPS,
) -> list[str]:
    """The interviewer's next questions after ``start``: up to ``limit``, depth first.

    Walks ``follow_ups`` (question id -> ids asked next) from ``start``, skipping ids that do not
    exist (no entry in ``follow_ups``), that were already asked, or that would come back round a
    cycle; so it always ends.
    """
    seen = {start, *asked}
    walk: list[str] = []
    frontier = list(follow_ups.get(start, ()))
    while frontier and len(walk) < limit:
        candidate = frontier.pop(0)
        if candidate in seen or candidate not in follow_ups:
            continue
        seen.add(candidate)
        walk.append(candidate)
        frontier = list(follow_ups.get(candidate, ())) + frontier  # go deeper first
    return walk


@dataclass
class Answer:
    """One answered (or skipped) question of an interview."""

    question_id: str
    parent_id: str | None = None          # the main question a follow-up belongs to
    text: str = ""
    ticked: list[int] = field(default_factory=list)  # indexes of the key points ticked
    total_points: int = 0
    numeric_value: float | None = None
    hint_used: bool = False
    correct: bool | None = None           # numeric questions only
    seconds: float = 0.0                  # from being asked to the reveal (or the skip)
    skipped: bool = False
    finished: bool = False                # scored: the next question may come
    asked_at: float | None = None         # UTC epoch seconds when it was first shown
    revealed: bool = False
    rating: int | None = None             # the FSRS grade recorded (1..4), None if skipped
    numeric_params: dict[str, int | float | str] | None = None  # the drawn numbers, kept

    @property
    def score(self) -> float:
        if self.skipped:
            return 0.0
        if self.correct is not None:
            return numeric_score(self.correct, hint_used=self.hint_used)
        return len(self.ticked) / self.total_points if self.total_points else 0.0


@dataclass
class Interview:
    """Main questions in order; each main question is followed by its follow-up walk."""

    main: list[str]
    started: datetime
    answers: list[Answer] = field(default_factory=list)
    finished: datetime | None = None

    def to_dict(self) -> dict[str, object]:
        return {"main": self.main, "started": self.started.isoformat(),
                "finished": self.finished.isoformat() if self.finished else None,
                "answers": [asdict(a) for a in self.answers]}  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Interview:
        finished = data.get("finished")
        return cls(
            main=list(data["main"]),  # type: ignore[arg-type]
            started=datetime.fromisoformat(str(data["started"])),
            answers=[Answer(**a) for a in data.get("answers", [])],  # type: ignore[union-attr]
            finished=datetime.fromisoformat(str(finished)) if finished else None,
        )

    def asked(self) -> list[str]:
        return [a.question_id for a in self.answers]

    def next_question(self, follow_ups: Mapping[str, Sequence[str]]) -> tuple[str, str | None]:
        """(question id, parent id) to ask now, or ("", None) when the interview is over.

        An unfinished answer is asked again (a rerun or a restart resumes it).
        """
        if self.finished is not None:
            return "", None
        if self.answers and not self.answers[-1].finished:
            last = self.answers[-1]
            return last.question_id, last.parent_id
        if self.answers:
            last = self.answers[-1]
            parent = last.parent_id or last.question_id
            if not last.skipped:
                # The parent's walk as it was when the parent was asked, then the next unasked step.
                start = self.asked().index(parent)
                walk = follow_up_walk(parent, follow_ups, asked=self.asked()[:start])
                done = sum(1 for a in self.answers if a.parent_id == parent)
                if done < len(walk):
                    return walk[done], parent
        asked = set(self.asked())
        for qid in self.main:
            if qid not in asked:
                return qid, None
        return "", None


@dataclass(frozen=True)
class QuestionScore:
    question_id: str
    parent_id: str | None
    section_id: str
    score: float
    seconds: float
    skipped: bool


@dataclass(frozen=True)
class Report:
    questions: list[QuestionScore]
    by_section: dict[str, float]           # section id -> mean score
    missed_points: list[tuple[Text, int]]  # key points missed most, with how often
    weakest: list[str]                     # question ids, lowest score first
    total: float                           # mean score over the questions asked
    elapsed: timedelta


def report(interview: Interview, questions: Mapping[str, Rubric], now: datetime) -> Report:
    """Scores per question and per section, missed key points, weakest questions."""
    scores: list[QuestionScore] = []
    per_section: dict[str, list[float]] = defaultdict(list)
    missed: Counter[Text] = Counter()
    for answer in interview.answers:
        question = questions.get(answer.question_id)
        section = question.section_id if question is not None else ""
        scores.append(QuestionScore(answer.question_id, answer.parent_id, section, answer.score,
                                    answer.seconds, answer.skipped))
        per_section[section].append(answer.score)
        if question is not None and answer.correct is None:
            for index, point in enumerate(question.key_points):
                if index not in answer.ticked:
                    missed[point] += 1
    end = interview.finished or now
    weakest = [s.question_id for s in sorted(scores, key=lambda s: (s.score, -s.seconds))]
    return Report(
        questions=scores,
        by_section={sid: sum(v) / len(v) for sid, v in per_section.items()},
        missed_points=missed.most_common(),
        weakest=[qid for qid in weakest if _score_of(scores, qid) < 1.0],
        total=sum(s.score for s in scores) / len(scores) if scores else 0.0,
        elapsed=end - interview.started,
    )


def _score_of(scores: Sequence[QuestionScore], question_id: str) -> float:
    return next(s.score for s in scores if s.question_id == question_id)
