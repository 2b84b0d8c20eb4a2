"""Mock interview logic without Streamlit: grade suggestion, numeric grades, follow-up walk,
readiness from fsrs, resume from a saved interview, the report's totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from fsrs import Rating

from prep import interview
from prep.i18n import Text
from prep.interview import Answer, Interview

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
SLOW = timedelta(minutes=3)
FAST = timedelta(seconds=20)


@dataclass
class Q:
    id: str
    section_id: str
    key_points: list[Text] = field(default_factory=list)
    follow_ups: list[str] = field(default_factory=list)


@pytest.mark.parametrize(("ticked", "total", "elapsed", "expected"), [
    (0, 4, SLOW, Rating.Again), (1, 4, SLOW, Rating.Again),   # 0.25
    (2, 4, SLOW, Rating.Hard),                                # 0.5 is not under a half
    (2, 3, SLOW, Rating.Hard),                                # 0.67
    (3, 4, SLOW, Rating.Good),                                # 0.75 is not under 3/4
    (4, 4, SLOW, Rating.Good), (4, 4, FAST, Rating.Easy),
    (3, 4, FAST, Rating.Good),                                # fast but not every point
])  # fmt: skip
def test_suggest_grade_follows_the_ticked_fraction(ticked, total, elapsed, expected):
    assert interview.suggest_grade(ticked, total, elapsed) == expected


@pytest.mark.parametrize(("ticked", "total", "message"), [
    (1, 0, "total must be a positive number"), (5, 4, "ticked must be between 0 and total=4"),
    (-1, 4, "ticked must be between"),
])
def test_suggest_grade_rejects_impossible_counts(ticked, total, message):
    with pytest.raises(ValueError, match=message):
        interview.suggest_grade(ticked, total, SLOW)


def test_numeric_grades_and_scores():
    assert interview.numeric_grade(True, hint_used=False, elapsed=FAST) == Rating.Easy
    assert interview.numeric_grade(True, hint_used=False, elapsed=SLOW) == Rating.Good
    assert interview.numeric_grade(True, hint_used=True, elapsed=FAST) == Rating.Hard
    assert interview.numeric_grade(False, hint_used=False, elapsed=FAST) == Rating.Again
    assert interview.numeric_score(True, hint_used=True) == 0.5
    assert interview.numeric_score(False, hint_used=False) == 0.0


def test_follow_up_walk_goes_deep_skips_missing_ids_and_ends_on_cycles():
    graph = {"a": ["missing", "b", "c"], "b": ["a", "d"], "c": [], "d": ["b"]}
    assert interview.follow_up_walk("a", graph, limit=5) == ["b", "d", "c"]
    assert interview.follow_up_walk("a", graph) == ["b", "d"]          # limit 2 by default
    assert interview.follow_up_walk("a", graph, asked=["b"]) == ["c"]  # b was asked: its chain too
    assert interview.follow_up_walk("zzz", graph) == []


GRAPH = {"m1": ["f1"], "f1": ["f2"], "f2": [], "m2": [], "m3": ["m1"]}


def test_the_interview_walks_main_then_follow_ups_and_resumes_from_its_saved_form():
    run = Interview(main=["m1", "m2"], started=NOW)
    assert run.next_question(GRAPH) == ("m1", None)
    run.answers.append(Answer("m1", text="softmax of QK^T", ticked=[0], total_points=2,
                              finished=True))
    assert run.next_question(GRAPH) == ("f1", "m1")
    run.answers.append(Answer("f1", parent_id="m1", text="half typed"))  # not finished yet
    resumed = Interview.from_dict(run.to_dict())          # e.g. after a server restart
    assert resumed == run
    assert resumed.next_question(GRAPH) == ("f1", "m1")   # the unfinished answer comes back
    resumed.answers[-1].finished = True
    assert resumed.next_question(GRAPH) == ("f2", "m1")
    resumed.answers.append(Answer("f2", parent_id="m1", finished=True, skipped=True))
    assert resumed.next_question(GRAPH) == ("m2", None)   # two follow-ups asked: next main
    resumed.answers.append(Answer("m2", finished=True, skipped=True))
    assert resumed.next_question(GRAPH) == ("", None)


def test_a_skipped_main_question_gets_no_follow_ups():
    run = Interview(main=["m1", "m2"], started=NOW,
                    answers=[Answer("m1", skipped=True, finished=True)])
    assert run.next_question(GRAPH) == ("m2", None)


def test_report_totals_sections_and_missed_points():
    points = [Text("甲", "alpha"), Text("乙", "beta"), Text("丙", "gamma")]
    questions = {
        "m1": Q("m1", "fund", points, ["f1"]),
        "f1": Q("f1", "masks", points[:2]),
        "n1": Q("n1", "numbers"),
    }
    run = Interview(main=["m1", "n1"], started=NOW, answers=[
        Answer("m1", ticked=[0, 1, 2], total_points=3, seconds=50, finished=True),
        Answer("f1", parent_id="m1", ticked=[0], total_points=2, seconds=70, finished=True),
        Answer("n1", numeric_value=1.0, correct=True, hint_used=True, seconds=30, finished=True),
    ], finished=NOW + timedelta(minutes=4))  # fmt: skip
    result = interview.report(run, questions, NOW + timedelta(hours=1))
    assert [s.score for s in result.questions] == [1.0, 0.5, 0.5]
    assert result.total == pytest.approx(2.0 / 3)
    assert result.by_section == {"fund": 1.0, "masks": 0.5, "numbers": 0.5}
    assert result.missed_points == [(points[1], 1)]
    assert result.weakest == ["f1", "n1"]                  # equal scores: the slower one first
    assert result.elapsed == timedelta(minutes=4)
