"""The real bank for claim tests: loaded once, and a question's whole text by id.

A claim test names the question whose text states the claim; a renamed or deleted id fails
loudly here instead of silently checking nothing.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from prep.bank import Bank, load_bank

CONTENT = Path(__file__).resolve().parents[1] / "content"


@cache
def bank() -> Bank:
    return load_bank(CONTENT)


def question_text(question_id: str) -> str:
    """Question, answer, explanation and key points, in both languages."""
    q = bank().question(question_id)
    assert q is not None, f"question {question_id!r} was renamed or deleted; update this claim test"
    parts = [q.question, q.answer, q.explanation, *q.key_points]
    return "\n".join(t[lang] for t in parts for lang in ("zh", "en"))
