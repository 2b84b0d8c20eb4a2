"""Numeric questions: parameters drawn fresh, the answer computed by a registered function.

A ``type: numeric`` question names a function of :mod:`prep.numeric.formulas` and gives each of
its keyword parameters a set of values (``choices``) or a range (``min``/``max``/``step``).
:func:`draw` picks one value per parameter, fills the ``{name}`` placeholders of the question
text and asks the function for the answer and a worked solution; :func:`grade` compares a
learner's number with it by relative tolerance. No code lives in YAML: the bank names a function,
and only functions registered here with :func:`register` can be named.

Pure Python (no torch), so the loader can validate every numeric question in a few milliseconds.
"""

from __future__ import annotations

import inspect
import math
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from prep.i18n import Text

Value = int | float | str


@dataclass(frozen=True)
class Solution:
    """What an answer function returns: the value and the worked steps, in both languages."""

    value: float
    steps: tuple[Text, ...]


@dataclass(frozen=True)
class Instance:
    """One drawn numeric question: what the learner sees and what grading compares with."""

    question_id: str
    params: Mapping[str, Value]
    question: Text
    answer: float
    unit: Text
    tolerance: float
    steps: tuple[Text, ...]


AnswerFunction = Callable[..., Solution]
FUNCTIONS: dict[str, AnswerFunction] = {}
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
MATH_DELIMITER = re.compile(r"\$\$|\$")  # an odd count before a place: inside a formula
IN_MATH_OR = Text(r"\text{ 或 }", r"\text{ or }")  # choices inside a formula, per language
IN_MATH_DASH = r"\text{–}"  # a range inside a formula
_MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]*\$", re.S)


def register(function: AnswerFunction) -> AnswerFunction:
    """Make ``function`` nameable from the bank (``numeric: {function: <its name>}``)."""
    FUNCTIONS[function.__name__] = function
    return function


def fmt(value: float, digits: int = 4) -> str:
    """A number for a worked step: integers in full with thin grouping, others to ``digits``."""
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.{digits}g}"


def param_values(spec: Any) -> list[Value]:
    """Every value a parameter spec can draw (``choices``, or ``min``..``max`` by ``step``)."""
    if spec.choices is not None:
        return list(spec.choices)
    count = math.floor((spec.max - spec.min) / spec.step + 1e-9) + 1
    values = [spec.min + i * spec.step for i in range(count)]
    if all(isinstance(x, int) for x in (spec.min, spec.max, spec.step)):
        return [int(v) for v in values]
    return [round(v, 12) for v in values]


def _draw_one(spec: Any, rng: random.Random) -> Value:
    if spec.choices is not None:
        return rng.choice(list(spec.choices))
    count = math.floor((spec.max - spec.min) / spec.step + 1e-9) + 1
    value = spec.min + rng.randrange(count) * spec.step
    if all(isinstance(x, int) for x in (spec.min, spec.max, spec.step)):
        return int(value)
    return round(value, 12)


def fill(text: Text, params: Mapping[str, Value]) -> Text:
    """``text`` with each ``{name}`` of a parameter replaced by its value (other braces kept)."""

    def one(source: str) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            return _show(params[name]) if name in params else match.group(0)

        return PLACEHOLDER.sub(replace, source)

    return Text(one(text.zh), one(text.en))


def _show(value: Value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def solve(question: Any, params: Mapping[str, Value]) -> Instance:
    """The instance of ``question`` at the given parameter values."""
    spec = question.numeric
    solution = FUNCTIONS[spec.function](**params)
    return Instance(
        question_id=question.id,
        params=dict(params),
        question=fill(question.question, params),
        answer=float(solution.value),
        unit=spec.unit,
        tolerance=spec.tolerance,
        steps=tuple(solution.steps),
    )


def template(question: Any) -> Text:
    """The question with each parameter shown as its range (for a list, an export or a search
    result, where no instance is drawn): ``{dtype}`` -> ``fp32 / bf16 / fp8``, ``{batch}`` ->
    ``1–16``."""
    specs = question.numeric.params

    def shown(name: str, in_math: bool, lang: str) -> str:
        spec = specs[name]
        if spec.choices is not None:  # in a formula "64 / 128" would read as a fraction
            return (IN_MATH_OR[lang] if in_math else " / ").join(_show(v) for v in spec.choices)
        return (IN_MATH_DASH if in_math else "–").join((_show(spec.min), _show(spec.max)))

    def one(source: str, lang: str) -> str:
        def replace(match: re.Match[str]) -> str:
            if match.group(1) not in specs:
                return match.group(0)
            in_math = len(MATH_DELIMITER.findall(source, 0, match.start())) % 2 == 1
            return shown(match.group(1), in_math, lang)

        return PLACEHOLDER.sub(replace, source)

    return Text(one(question.question.zh, "zh"), one(question.question.en, "en"))


def draw(question: Any, rng: random.Random) -> Instance:
    """A fresh instance of a ``type: numeric`` question, its parameters drawn with ``rng``."""
    if getattr(question, "numeric", None) is None:
        raise ValueError(f"question: expected a numeric question, got {question.id!r}")
    params = {name: _draw_one(spec, rng) for name, spec in question.numeric.params.items()}
    return solve(question, params)


def grade(instance: Instance, answer: float) -> bool:
    """Whether ``answer`` is within the relative tolerance: ``|answer - x| <= tol * |x|``.

    A non-finite answer is wrong; an exact answer of 0 accepts ``|answer| <= tol``.
    """
    try:
        answer = float(answer)
    except (TypeError, ValueError):
        return False
    if not math.isfinite(answer):
        return False
    expected = instance.answer
    allowed = instance.tolerance * (abs(expected) if expected else 1.0)
    return abs(answer - expected) <= allowed + 1e-12 * abs(expected)


def _sample_draws(params: Mapping[str, Any]) -> list[dict[str, Value]]:
    """All-first and all-last draws, each parameter's last value with the others at their
    first, and every value of a text parameter (a dtype name has no order)."""
    values = {name: param_values(spec) for name, spec in params.items()}
    first = {name: v[0] for name, v in values.items()}
    draws = [first, {name: v[-1] for name, v in values.items()}]
    for name, options in values.items():
        tried = options[1:] if any(isinstance(v, str) for v in options) else options[-1:]
        draws += [{**first, name: option} for option in tried]
    return draws


def spec_problems(question: Any) -> list[tuple[str, str]]:
    """What is wrong with a numeric question, as ``(field, message)`` pairs (empty if fine).

    Checks: the function is registered; the params are exactly its keyword parameters; every
    parameter appears as ``{name}`` in both languages of the question and no other ``{name}``
    outside maths does (so every draw formats); the function gives a finite answer and worked
    steps on the all-min and all-max draws, each parameter's max alone and every dtype-like text
    value. Not checked here: every combination (tests/test_numeric.py runs every combination of
    the shipped questions, with long ranges cut to their ends and a few values between).
    """
    spec = question.numeric
    function = FUNCTIONS.get(spec.function)
    if function is None:
        known = ", ".join(sorted(FUNCTIONS))
        message = f"unknown function '{spec.function}'; expected one of: {known}"
        return [("numeric.function", message)]
    signature = inspect.signature(function).parameters
    wanted = set(signature)
    given = set(spec.params)
    found: list[tuple[str, str]] = []
    if wanted != given:
        missing = ", ".join(sorted(wanted - given)) or "-"
        extra = ", ".join(sorted(given - wanted)) or "-"
        found.append(
            ("numeric.params", f"must match {spec.function}({', '.join(signature)}); "
                               f"missing: {missing}; unknown: {extra}")
        )
        return found
    for lang in ("zh", "en"):
        text = question.question[lang]
        used = set(PLACEHOLDER.findall(text))
        for name in sorted(given - used):
            found.append((f"question.{lang}", f"parameter '{name}' is not shown as {{{name}}}"))
        outside = set(PLACEHOLDER.findall(_MATH.sub("", text)))
        for name in sorted(outside - given):
            found.append((f"question.{lang}", f"placeholder {{{name}}} is not a parameter"))
    if found:
        return found
    for params in _sample_draws(spec.params):
        try:
            solution = function(**params)
        except Exception as exc:  # report whatever the function raised on this draw
            found.append(("numeric", f"{spec.function}{_args(params)} raised "
                                     f"{type(exc).__name__}: {exc}"))
            break
        if not math.isfinite(solution.value) or not solution.steps:
            found.append(("numeric", f"{spec.function}{_args(params)} gave no finite answer "
                                     "and worked steps"))
            break
    return found


def _args(params: Mapping[str, Value]) -> str:
    return "(" + ", ".join(f"{k}={v!r}" for k, v in params.items()) + ")"

