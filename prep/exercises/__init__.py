"""Practice exercises: one YAML file (statement, starter, hints, solution) and one test module each.

``<name>.yaml`` holds what the learner reads, validated by :class:`ExerciseFile` (pydantic, with
``prep.i18n.Text`` for every bilingual field, as the bank does); ``<name>.py`` holds the hidden
tests, built from :mod:`prep.exercises.harness` and run only inside the judge's jailed child
process. Both ship as package data. ``load_exercises()`` returns the valid exercises in the order
given by each file's ``order``; a malformed file is left out and :func:`problems` says which file
and which field is wrong (the tests require none).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from prep.i18n import NonEmpty, Text

log = logging.getLogger(__name__)

EXERCISES_DIR = Path(__file__).resolve().parent
DEFAULT_TIME_S = 5.0
MAX_TIME_S = 60.0
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]


class ExerciseFile(BaseModel):
    """The schema of ``<name>.yaml`` (see FORMAT.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug
    order: int
    bank_id: Slug                 # the question id in content/10-coding.yaml
    title: Text
    difficulty: Annotated[str, StringConstraints(pattern=r"^(easy|medium|hard)$")]
    statement: Text               # Markdown
    starter: NonEmpty             # starter code with the signature
    hints: tuple[Text, ...] = Field(min_length=1)
    solution: NonEmpty            # the reference solution, revealed on demand
    time_s: float = Field(DEFAULT_TIME_S, gt=0, le=MAX_TIME_S)
    heatmap: bool = True          # whether the tests attach weight matrices


class Exercise(ExerciseFile):
    """An exercise as the app uses it: the YAML's fields plus where its hidden tests are."""

    tests_path: Path              # the hidden tests (a Python module)


class ExerciseError(ValueError):
    """An exercise file is malformed (a bug in the package, caught by the tests)."""


# libyaml's loader where PyYAML was built with it: ten times faster on the first page's cold start.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an exercise file."""

    file: str
    message: str
    field: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}: field '{self.field}'" if self.field else self.file
        return f"{where}: {self.message}"


def parse(path: Path) -> tuple[Exercise | None, list[Problem]]:
    """One exercise file, or None and what is wrong with it (file and field named)."""
    name = path.name
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return None, [Problem(name, f"cannot be read as YAML ({exc})")]
    if not isinstance(data, dict):
        return None, [Problem(name, "expected a mapping of fields at the top level")]
    tests_path = path.with_suffix(".py")
    if not tests_path.exists():
        return None, [Problem(name, f"no test module {tests_path.name} beside it")]
    try:
        return Exercise(**data, tests_path=tests_path), []
    except ValidationError as exc:
        return None, [Problem(name, error["msg"], ".".join(str(p) for p in error["loc"]) or None)
                      for error in exc.errors()]
    except TypeError as exc:  # e.g. a field named twice through tests_path
        return None, [Problem(name, str(exc))]


@cache
def _load(folder: Path) -> tuple[tuple[Exercise, ...], tuple[Problem, ...]]:
    exercises, problems = [], []
    for path in sorted(folder.glob("*.yaml")):
        exercise, found = parse(path)
        problems += found
        if exercise is not None:
            exercises.append(exercise)
    seen: set[str] = set()
    for exercise in list(exercises):
        if exercise.id in seen:
            problems.append(Problem(exercise.tests_path.with_suffix(".yaml").name,
                                    f"id '{exercise.id}' is used by another exercise", "id"))
            exercises.remove(exercise)
        seen.add(exercise.id)
    for problem in problems:
        log.warning("Practice exercise left out: %s", problem)
    return tuple(sorted(exercises, key=lambda e: (e.order, e.id))), tuple(problems)


def load_exercises() -> tuple[Exercise, ...]:
    """All valid exercises, ordered (malformed files are left out: see :func:`problems`)."""
    return _load(EXERCISES_DIR)[0]


def problems() -> tuple[Problem, ...]:
    """What is wrong with the exercise files that :func:`load_exercises` left out."""
    return _load(EXERCISES_DIR)[1]


def get(exercise_id: str) -> Exercise | None:
    return next((e for e in load_exercises() if e.id == exercise_id), None)


def for_question(question_id: str) -> Exercise | None:
    """The exercise that practises a bank question, if any (for a "Practise it" link)."""
    return next((e for e in load_exercises() if e.bank_id == question_id), None)
