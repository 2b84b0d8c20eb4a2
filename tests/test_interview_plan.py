"""Role presets and the plan of a mock interview (no Streamlit)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest

from prep import interview_plan
from prep.i18n import Text
from prep.interview_plan import ROLES, candidates, count_for, follow_up_graph, plan

POINTS = [Text("甲", "a"), Text("乙", "b"), Text("丙", "c")]


@dataclass
class Q:
    id: str
    section_id: str
    tags: list[str] = field(default_factory=list)
    key_points: list[Text] = field(default_factory=lambda: list(POINTS))
    follow_ups: list[str] = field(default_factory=list)
    numeric: object | None = None


BANK = [
    Q("inf-a", "inference", ["kv-cache"], follow_ups=["inf-b", "no-rubric"]),
    Q("inf-b", "inference", ["serving"]),
    Q("num-a", "numbers", ["memory"], key_points=[], numeric=object()),
    Q("fund-a", "fundamentals", ["softmax"]),
    Q("fund-b", "fundamentals", ["kv-cache"]),  # a fundamentals question tagged kv-cache
    Q("no-rubric", "fundamentals", ["softmax"], key_points=[]),
    Q("vis-a", "vision", ["vit"]),
]


def test_every_role_has_a_bilingual_label_and_real_looking_sections():
    assert {r.id for r in ROLES} == {"llm-inference", "research", "ml-engineering"}
    for role in ROLES:
        assert role.label.zh and role.label.en and role.sections


def test_candidates_are_askable_questions_of_the_sections_or_the_role():
    ids = lambda qs: sorted(q.id for q in qs)  # noqa: E731
    assert ids(candidates(BANK)) == sorted(q.id for q in BANK if q.id != "no-rubric")
    assert ids(candidates(BANK, sections=["fundamentals"])) == ["fund-a", "fund-b"]
    # the role takes its sections and, from other sections, questions with its tags
    assert ids(candidates(BANK, role="llm-inference")) == ["fund-b", "inf-a", "inf-b", "num-a"]
    with pytest.raises(ValueError, match="role must be one of"):
        candidates(BANK, role="astronaut")


def test_length_as_count_or_minutes():
    assert count_for(count=3) == 3
    assert count_for(minutes=15) == 3
    assert count_for(minutes=2) == 1          # at least one question
    with pytest.raises(ValueError, match="exactly one of count and minutes"):
        count_for(count=2, minutes=10)
    with pytest.raises(ValueError, match="count must be between 1 and"):
        count_for(count=0)


def test_plan_is_seeded_sized_and_avoids_drawing_a_follow_up_beside_its_parent():
    first = plan(BANK, random.Random(7), role="llm-inference", count=3)
    assert first == plan(BANK, random.Random(7), role="llm-inference", count=3)
    assert len(first) == len(set(first)) == 3
    assert not {"inf-a", "inf-b"} <= set(first)   # inf-b is inf-a's follow-up
    many = {tuple(plan(BANK, random.Random(s), sections=["fundamentals", "vision"], count=2))
            for s in range(20)}
    assert len(many) > 1                          # the seed matters
    assert sorted(plan(BANK, random.Random(1), sections=["inference"], count=5)) == [
        "inf-a", "inf-b"]                         # fewer candidates than asked: all of them


def test_follow_up_graph_keeps_only_askable_targets():
    graph = follow_up_graph(BANK)
    assert graph["inf-a"] == ["inf-b"]             # no-rubric cannot be scored: left out
    assert "no-rubric" not in graph
    assert interview_plan.askable(BANK[2])         # numeric without key points is askable
