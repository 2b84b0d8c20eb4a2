"""Slow checks, run by ``python -m prep validate`` and the tests, never at app start-up:
each question's code blocks (torch) and each ``lab:`` preset (imports the Lab)."""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from typing import Any

from prep.bank.model import Bank, Problem, Question


def run_code_block(q: Question) -> str | None:
    """Run a question's ``code`` then its ``check`` in one fresh namespace.

    Returns None when both run, else the error (last traceback lines, relative to the block).
    """
    if q.code is None:
        return None
    namespace: dict[str, Any] = {"__name__": f"bank_{q.id.replace('-', '_')}"}
    for name, source in (("code", q.code), ("check", q.check or "")):
        try:
            exec(compile(source, f"<{q.id}.{name}>", "exec"), namespace)
        except Exception as exc:  # the validator reports whatever the block raised
            frames = traceback.extract_tb(exc.__traceback__)
            block_lines = [f.lineno for f in frames if f.filename == f"<{q.id}.{name}>"]
            where = f" (line {block_lines[-1]} of `{name}`)" if block_lines else ""
            return f"`{name}` raised {type(exc).__name__}: {exc}{where}"
    return None


def syntax_problems(bank: Bank) -> list[Problem]:
    """Code blocks that do not compile. Checked here, not while loading: compiling every block
    cost about 30 ms of the 100 ms the app may spend loading the bank, and the app only shows
    the code, it never runs it."""
    problems = []
    for q in bank.questions:
        for name in ("code", "check"):
            source = getattr(q, name)
            if source is None:
                continue
            try:
                compile(source, f"{q.id}.{name}", "exec")
            except SyntaxError as exc:
                problems.append(Problem(q.file, q.line, f"does not compile: {exc.msg} (line "
                                        f"{exc.lineno} of the block)", question_id=q.id,
                                        field=name))
    return problems


def run_code_blocks(bank: Bank) -> list[Problem]:
    problems = []
    for q in bank.questions:
        error = run_code_block(q)
        if error:
            problems.append(Problem(q.file, q.line, error, question_id=q.id, field="code"))
    return problems


def preset_problems(params: Mapping[str, Any]) -> list[str]:
    """What is wrong with a Lab preset: it must name its ``module``, and ``prep.lab`` must open
    it as written (nothing moved to another value)."""
    from prep import lab  # imports torch: only here, never while loading the bank

    if params.get("module") is None:
        return ["a Lab preset names its `module`"]
    return list(lab.preset_problems(dict(params)))


def lab_preset_problems(bank: Bank) -> list[Problem]:
    """One problem per wrong ``lab:`` preset, at the line of its ``lab`` field."""
    found = []
    for q in bank.questions:
        if not q.lab:
            continue
        for message in preset_problems(q.lab):
            line = q.field_lines.get("lab", q.line)
            found.append(Problem(q.file, line, message, question_id=q.id, field="lab"))
    return found
