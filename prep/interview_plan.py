"""Which questions a mock interview asks: role presets and the plan.

A role is a preset over sections and tags (a question is in the role if its section is one of the
role's sections or it carries one of the role's tags). Only questions the interview can score are
asked: those with ``key_points`` (a rubric to tick) or ``type: numeric`` (graded by the app).
The plan draws the main questions with a seeded ``random.Random``, so a test (or a learner sharing
a seed) gets the same interview; follow-ups are walked later from each main question's
``follow_ups`` (``prep.interview.follow_up_walk``), among askable questions only.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from prep.i18n import Text

MINUTES_PER_MAIN = 5     # a main question with its follow-ups takes about this long
MAX_MAIN = 20


@dataclass(frozen=True)
class Role:
    """A role focus: a label and the sections and tags it draws from."""

    id: str
    label: Text
    sections: tuple[str, ...]
    tags: tuple[str, ...] = ()


ROLES: tuple[Role, ...] = (
    Role("llm-inference", Text("大模型推理工程师", "LLM inference engineer"),
         ("inference", "numbers", "efficient", "multi-head"),
         ("kv-cache", "flash-attention", "gqa", "mla", "serving", "long-context", "decoding")),
    Role("research", Text("研究员", "Research scientist"),
         ("fundamentals", "positions", "training", "interpretation", "efficient"),
         ("linear-attention", "length-extrapolation", "induction-heads")),
    Role("ml-engineering", Text("机器学习工程师（通用）", "ML engineer (general)"),
         ("fundamentals", "masks", "multi-head", "coding", "vision"),
         ("pytorch", "hand-written-code", "debugging")),
)
ROLE_BY_ID: Mapping[str, Role] = {role.id: role for role in ROLES}


def askable(question: object) -> bool:
    """Whether the interview can score this question (a rubric, or a number the app grades)."""
    return bool(getattr(question, "key_points", None)) or (
        getattr(question, "numeric", None) is not None)


def follow_up_graph(questions: Iterable[object]) -> dict[str, list[str]]:
    """question id -> its follow-ups, over askable questions only (the walk skips the others)."""
    kept = [q for q in questions if askable(q)]
    ids = {q.id for q in kept}  # type: ignore[attr-defined]
    return {q.id: [f for f in q.follow_ups if f in ids] for q in kept}  # type: ignore[attr-defined]


def count_for(*, count: int | None = None, minutes: int | None = None) -> int:
    """Main questions for a length given as a count or in minutes (exactly one of them)."""
    if (count is None) == (minutes is None):
        raise ValueError(f"give exactly one of count and minutes; got count={count}, "
                         f"minutes={minutes}")
    if count is not None:
        if not 1 <= count <= MAX_MAIN:
            raise ValueError(f"count must be between 1 and {MAX_MAIN}; got {count}")
        return count
    assert minutes is not None
    if minutes < 1:
        raise ValueError(f"minutes must be at least 1; got {minutes}")
    return max(1, min(MAX_MAIN, minutes // MINUTES_PER_MAIN))


def candidates(questions: Sequence[object], *, sections: Iterable[str] = (),
               role: str | None = None) -> list[object]:
    """Askable questions of the chosen sections, or of the role's sections and tags.

    No sections and no role: every askable question. An unknown role is a ValueError.
    """
    wanted_sections, wanted_tags = set(sections), set()
    if role is not None:
        if role not in ROLE_BY_ID:
            raise ValueError(f"role must be one of {', '.join(ROLE_BY_ID)}; got {role!r}")
        wanted_sections |= set(ROLE_BY_ID[role].sections)
        wanted_tags = set(ROLE_BY_ID[role].tags)
    chosen = []
    for q in questions:
        if not askable(q):
            continue
        if (wanted_sections or wanted_tags) and not (
            q.section_id in wanted_sections or wanted_tags.intersection(q.tags)  # type: ignore[attr-defined]
        ):
            continue
        chosen.append(q)
    return chosen


def plan(questions: Sequence[object], rng: random.Random, *, sections: Iterable[str] = (),
         role: str | None = None, count: int | None = None,
         minutes: int | None = None) -> list[str]:
    """The main questions' ids, drawn at random (``rng``) from the candidates.

    A question that is a follow-up of another drawn question (or has one among its own) is
    avoided while others remain, so the follow-up walk has something to ask. Fewer candidates
    than asked for: all of them.
    """
    wanted = count_for(count=count, minutes=minutes)
    pool = candidates(questions, sections=sections, role=role)
    rng.shuffle(pool)
    chosen: list[object] = []
    followed: set[str] = set()
    drawn: set[str] = set()
    for q in pool:  # first pass: skip follow-ups of questions already drawn
        if len(chosen) == wanted:
            break
        links = {q.id, *q.follow_ups}  # type: ignore[attr-defined]
        if q.id in followed or links & drawn:  # type: ignore[attr-defined]
            continue
        chosen.append(q)
        drawn.add(q.id)  # type: ignore[attr-defined]
        followed.update(q.follow_ups)  # type: ignore[attr-defined]
    for q in pool:  # not enough: fill up
        if len(chosen) == wanted:
            break
        if q not in chosen:
            chosen.append(q)
    return [q.id for q in chosen]  # type: ignore[attr-defined]
