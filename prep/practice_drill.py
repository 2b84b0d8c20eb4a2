"""A drill, as a coding round runs it: a blank editor, a clock, the hidden tests at the end.

``blank_starter`` keeps only the imports, the signatures and their docstrings (the contract the
interviewer states); every body becomes ``raise NotImplementedError``. The clock starts when the
learner starts the drill and stops at the first accepted submission; that elapsed time is stored
as the submission's ``seconds`` (``Store.add_submission``), and the personal best of an exercise
is the shortest accepted drill time among the learner's submissions. No Streamlit here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from prep.practice import ACCEPTED

BODY = "raise NotImplementedError"


def _blank_function(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
    """Replace ``node``'s body (all but its docstring) in ``lines`` (edited in place)."""
    body = node.body
    docstring = (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                 and isinstance(body[0].value.value, str))
    rest = body[1:] if docstring else body
    indent = " " * body[0].col_offset
    if not rest:  # only a docstring: add the body after it
        lines.insert(body[0].end_lineno, indent + BODY)
        return
    # from just after the docstring (comments such as "# your code here" go too)
    start = body[0].end_lineno if docstring else rest[0].lineno - 1
    lines[start:rest[-1].end_lineno] = [indent + BODY]


def blank_starter(starter: str) -> str:
    """The starter with every function and method body removed (signatures, docstrings and
    imports kept). A starter that does not parse is returned unchanged."""
    try:
        tree = ast.parse(starter)
    except SyntaxError:
        return starter
    functions = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            functions.append(node)
        elif isinstance(node, ast.ClassDef):
            functions += [n for n in node.body
                          if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    lines = starter.splitlines()
    for node in sorted(functions, key=lambda n: n.lineno, reverse=True):
        _blank_function(lines, node)
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Drill:
    """One drill of one exercise: started at ``started`` (epoch seconds), finished after
    ``seconds`` once a submission passed (None while the clock runs)."""

    exercise_id: str
    started: float
    seconds: float | None = None

    @property
    def finished(self) -> bool:
        return self.seconds is not None

    def elapsed(self, now: float) -> float:
        """Seconds on the clock at ``now`` (frozen once finished)."""
        return self.seconds if self.seconds is not None else max(0.0, now - self.started)

    def finish(self, now: float) -> Drill:
        return replace(self, seconds=self.elapsed(now))


def drill_times(submissions: Iterable[Any], exercise_id: str) -> list[float]:
    """Accepted drill times of one exercise, oldest first (submissions with ``seconds``)."""
    return [s.seconds for s in submissions
            if s.exercise_id == exercise_id and s.verdict == ACCEPTED and s.seconds is not None]


def personal_best(submissions: Iterable[Any], exercise_id: str) -> float | None:
    """The shortest accepted drill time of ``exercise_id``, or None before the first one."""
    times = drill_times(submissions, exercise_id)
    return min(times) if times else None


def is_new_best(seconds: float, previous_best: float | None) -> bool:
    """Whether a passing drill in ``seconds`` beats the best before it."""
    return previous_best is None or seconds < previous_best
