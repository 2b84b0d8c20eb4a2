"""The steps of a running mock interview on the fixture bank (no Streamlit): ask, reveal, tick,
numbers with a hint, grade, skip, stop, and resume from the saved form."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fsrs import Rating

from prep import interview_session as steps
from prep.bank import load_bank
from prep.interview import Interview
from prep.interview_plan import follow_up_graph
from prep.interview_store import StoreInterviews

BANK = load_bank(Path(__file__).parent / "fixtures" / "interview_bank")
QUESTIONS = {q.id: q for q in BANK.questions}
GRAPH = follow_up_graph(BANK.questions)
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_main_question_then_its_follow_up_then_a_numeric_one_then_the_end(tmp_path):
    run = Interview(main=["iv-why-sqrt", "iv-window-keys"], started=NOW)
    rng = random.Random(3)
    first = steps.ask_next(run, QUESTIONS, GRAPH, NOW, rng)
    assert (first.question_id, first.total_points) == ("iv-why-sqrt", 3)
    assert steps.ask_next(run, QUESTIONS, GRAPH, NOW, rng) is first   # asked once
    first.text = "variance d_k, so scale"
    steps.reveal(first, NOW + timedelta(seconds=40))
    steps.tick(first, [1, 0, 2])
    assert first.seconds == 40 and first.ticked == [0, 1, 2]
    assert steps.suggested(first) == Rating.Easy                       # all, under a minute
    steps.tick(first, [0])
    assert steps.suggested(first) == Rating.Again
    with pytest.raises(ValueError, match=r"key point indexes must be 0\.\.2"):
        steps.tick(first, [3])
    steps.finish_answer(first, Rating.Hard)                            # the learner overrides
    follow = steps.ask_next(run, QUESTIONS, GRAPH, NOW, rng)
    assert (follow.question_id, follow.parent_id) == ("iv-saturation", "iv-why-sqrt")
    follow.text = "half typed"
    repo = StoreInterviews.at(tmp_path / "db.sqlite3")
    repo.save("local", "one", run)                                     # then the server stops
    _, run = StoreInterviews.at(tmp_path / "db.sqlite3").open_interview("local")
    follow = steps.ask_next(run, QUESTIONS, GRAPH, NOW, rng)
    assert (follow.question_id, follow.text) == ("iv-saturation", "half typed")
    steps.skip(follow, NOW + timedelta(seconds=30))
    number = steps.ask_next(run, QUESTIONS, GRAPH, NOW + timedelta(minutes=1), rng)
    assert number.question_id == "iv-window-keys" and number.numeric_params
    drawn = steps.instance(number, QUESTIONS["iv-window-keys"])
    steps.use_hint(number)
    assert steps.check_number(number, QUESTIONS["iv-window-keys"], drawn.answer,
                              NOW + timedelta(minutes=2))
    assert steps.suggested(number) == Rating.Hard and number.score == 0.5
    steps.finish_answer(number, steps.suggested(number))
    assert steps.ask_next(run, QUESTIONS, GRAPH, NOW + timedelta(minutes=3), rng) is None
    assert run.finished == NOW + timedelta(minutes=3)


def test_a_wrong_number_is_again_and_stop_skips_the_answer_in_progress():
    run = Interview(main=["iv-window-keys", "iv-mask-meaning"], started=NOW)
    number = steps.ask_next(run, QUESTIONS, GRAPH, NOW, random.Random(0))
    drawn = steps.instance(number, QUESTIONS["iv-window-keys"])
    assert not steps.check_number(number, QUESTIONS["iv-window-keys"], drawn.answer * 2, NOW)
    assert steps.suggested(number) == Rating.Again
    steps.finish_answer(number, Rating.Again)
    typing = steps.ask_next(run, QUESTIONS, GRAPH, NOW, random.Random(0))
    typing.text = "True means"
    steps.stop(run, NOW + timedelta(seconds=5))
    assert run.finished is not None and typing.skipped and typing.text == "True means"
    assert steps.ask_next(run, QUESTIONS, GRAPH, NOW, random.Random(0)) is None


def test_a_question_gone_from_the_bank_is_skipped():
    run = Interview(main=["vanished", "iv-mask-meaning"], started=NOW)
    asked = steps.ask_next(run, QUESTIONS, GRAPH, NOW, random.Random(0))
    assert asked.question_id == "iv-mask-meaning"
    assert run.answers[0].skipped and run.answers[0].question_id == "vanished"
