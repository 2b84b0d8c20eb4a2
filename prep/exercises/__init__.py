"""Practice exercises: one YAML file (statement, starter, hints, solution) and one test module each.

``<name>.yaml`` holds what the learner reads; ``<name>.py`` holds the hidden tests, built from
:mod:`prep.exercises.harness` and run only inside the judge's child process. Both ship as package
data. ``load_exercises()`` returns them in the order given by each file's ``order``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

EXERCISES_DIR = Path(__file__).resolve().parent
_REQUIRED = ("id", "order", "bank_id", "title", "difficulty", "statement", "starter", "hints",
             "solution")


@dataclass(frozen=True)
class Exercise:
    id: str
    order: int
    bank_id: str                  # the question id in content/10-coding.yaml
    title: dict[str, str]
    difficulty: str
    statement: dict[str, str]     # Markdown
    starter: str                  # starter code with the signature
    hints: tuple[dict[str, str], ...]
    solution: str                 # the reference solution, revealed on demand
    tests_path: Path              # the hidden tests (a Python module)
    time_s: float = 5.0
    heatmap: bool = True          # whether the tests attach weight matrices


class ExerciseError(ValueError):
    """An exercise file is malformed (a bug in the package, caught by the tests)."""


def _load(path: Path) -> Exercise:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    missing = [key for key in _REQUIRED if key not in data]
    if missing:
        raise ExerciseError(f"{path.name}: missing {', '.join(missing)}")
    tests_path = path.with_suffix(".py")
    if not tests_path.exists():
        raise ExerciseError(f"{path.name}: no test module {tests_path.name}")
    return Exercise(
        id=data["id"],
        order=int(data["order"]),
        bank_id=data["bank_id"],
        title=dict(data["title"]),
        difficulty=data["difficulty"],
        statement=dict(data["statement"]),
        starter=data["starter"],
        hints=tuple(dict(h) for h in data["hints"]),
        solution=data["solution"],
        tests_path=tests_path,
        time_s=float(data.get("time_s", 5.0)),
        heatmap=bool(data.get("heatmap", True)),
    )


@cache
def load_exercises() -> tuple[Exercise, ...]:
    """All exercises, ordered; raises :class:`ExerciseError` on a malformed file."""
    exercises = [_load(path) for path in sorted(EXERCISES_DIR.glob("*.yaml"))]
    return tuple(sorted(exercises, key=lambda e: (e.order, e.id)))


def get(exercise_id: str) -> Exercise | None:
    return next((e for e in load_exercises() if e.id == exercise_id), None)


def for_question(question_id: str) -> Exercise | None:
    """The exercise that practises a bank question, if any (for a "Practise it" link)."""
    return next((e for e in load_exercises() if e.bank_id == question_id), None)
