"""The steps of a running mock interview, without Streamlit: ask, reveal, tick, check a number,
take a hint, grade, skip, stop. The page calls one of these, then saves the interview through an
``InterviewRepository`` (one write per step), so whatever reached the server survives a rerun, a
page switch and a server restart.

The FSRS grade itself is recorded by the page through ``prep.store.Store.record`` (as Quiz does);
here a grade only marks the answer finished and remembers which grade it was.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from fsrs import Rating

from prep.interview import Answer, Interview, numeric_grade, suggest_grade
from prep.numeric import Instance, draw, grade
from prep.numeric.core import solve


def _elapsed(answer: Answer, now: datetime) -> float:
    return max(0.0, now.timestamp() - answer.asked_at) if answer.asked_at is not None else 0.0


def current(run: Interview) -> Answer | None:
    """The answer being given now (asked, not finished), if any."""
    if run.finished is None and run.answers and not run.answers[-1].finished:
        return run.answers[-1]
    return None


def ask_next(run: Interview, questions: Mapping[str, object],
             graph: Mapping[str, Sequence[str]], now: datetime,
             rng: random.Random) -> Answer | None:
    """The question to answer now: the unfinished one, else the next one asked (appended).

    A numeric question's parameters are drawn here and kept in the answer, so a restart shows
    the same numbers. A question gone from the bank is skipped. No question left: the interview
    is finished (``run.finished = now``) and None is returned.
    """
    if run.finished is not None:
        return None
    if (answer := current(run)) is not None:
        return answer
    while True:
        qid, parent = run.next_question(graph)
        if not qid:
            run.finished = now
            return None
        question = questions.get(qid)
        if question is not None:
            break
        run.answers.append(Answer(qid, parent, skipped=True, finished=True))
    spec = getattr(question, "numeric", None)
    params = dict(draw(question, rng).params) if spec is not None else None
    answer = Answer(qid, parent, total_points=len(getattr(question, "key_points", None) or []),
                    asked_at=now.timestamp(), numeric_params=params)
    run.answers.append(answer)
    return answer


def instance(answer: Answer, question: object) -> Instance:
    """The drawn numeric question of this answer (the same numbers after a restart)."""
    if answer.numeric_params is None:
        raise ValueError(
            f"answer: expected a numeric question's answer, got {answer.question_id!r}")
    return solve(question, answer.numeric_params)


def reveal(answer: Answer, now: datetime) -> None:
    """Show the model answer; the answer's time stops here."""
    if not answer.revealed:
        answer.revealed = True
        answer.seconds = _elapsed(answer, now)


def tick(answer: Answer, ticked: Sequence[int]) -> None:
    """The key points the learner ticks as present in what they said."""
    bad = [i for i in ticked if not 0 <= i < answer.total_points]
    if bad:
        raise ValueError(
            f"ticked: key point indexes must be 0..{answer.total_points - 1}; got {bad}")
    answer.ticked = sorted(set(ticked))


def use_hint(answer: Answer) -> None:
    """The learner looked at the worked solution's first step (a right number is then Hard)."""
    answer.hint_used = True


def check_number(answer: Answer, question: object, value: float, now: datetime) -> bool:
    """Grade the learner's number against the drawn instance (within its tolerance)."""
    answer.numeric_value = float(value)
    answer.correct = grade(instance(answer, question), value)
    reveal(answer, now)
    return answer.correct


def read_number(raw: str) -> float:
    """A typed number: spaces and thousands commas ignored ("1,024" -> 1024.0, "1.5e3" ->
    1500.0). Raises ValueError when it is not one (``float``'s own message)."""
    return float(str(raw).strip().replace(",", "").replace(" ", ""))


def suggested(answer: Answer) -> Rating:
    """The grade the app suggests (rubric) or gives (numeric) for a revealed answer."""
    elapsed = timedelta(seconds=answer.seconds)
    if answer.correct is not None:
        return numeric_grade(answer.correct, hint_used=answer.hint_used, elapsed=elapsed)
    if answer.total_points <= 0:
        return Rating.Again
    return suggest_grade(len(answer.ticked), answer.total_points, elapsed)


def finish_answer(answer: Answer, rating: Rating) -> None:
    """The grade the learner pressed (already recorded for FSRS): the next question may come."""
    answer.rating = int(rating)
    answer.finished = True


def skip(answer: Answer, now: datetime) -> None:
    """Skip the current question (scored 0, no FSRS grade, no follow-ups of it)."""
    if not answer.revealed:
        answer.seconds = _elapsed(answer, now)
    answer.skipped = True
    answer.finished = True


def stop(run: Interview, now: datetime) -> None:
    """End the interview now; an answer in progress counts as skipped (its text is kept)."""
    if (answer := current(run)) is not None:
        skip(answer, now)
    if run.finished is None:
        run.finished = now
