"""Numeric questions (``type: numeric``): draw parameters, compute the answer, grade a number.

``draw(question, rng) -> Instance`` and ``grade(instance, answer) -> bool`` are the API; the
answer functions live in :mod:`prep.numeric.formulas` and register themselves on import.
"""

from prep.numeric import formulas
from prep.numeric.core import (
    FUNCTIONS,
    Instance,
    Solution,
    draw,
    fill,
    grade,
    spec_problems,
    template,
)

__all__ = ["FUNCTIONS", "Instance", "Solution", "draw", "fill", "formulas", "grade",
           "spec_problems", "template"]
