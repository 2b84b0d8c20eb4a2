"""Rules beyond the schema: one question at a time (module, code/check, numeric), then across
the whole bank once every file has loaded (aliases, follow-ups)."""

from __future__ import annotations

from collections.abc import Callable

from prep.bank.model import Problem, Question, QuestionType, Section

AddProblem = Callable[[str, str], None]


def question_problems(
    q: Question, known_modules: frozenset[str], line_of: Callable[[str], int | None]
) -> list[Problem]:
    """What makes ``q`` unusable (it is then left out); ``line_of(field)`` locates a field."""
    found: list[Problem] = []

    def add(field_name: str, message: str) -> None:
        line = line_of(field_name.split(".")[0])
        found.append(Problem(q.file, line, message, question_id=q.id, field=field_name))

    if q.module is not None and q.module not in known_modules:
        add(
            "module",
            f"unknown module '{q.module}'; expected one of: {', '.join(sorted(known_modules))}",
        )
    if q.code is not None and q.check is None:
        add(
            "check",
            "a question with `code` needs a `check` that compares it with torch or "
            "the attention package",
        )
    if q.check is not None and q.code is None:
        add("check", "`check` without `code`")
    _numeric_rules(q, add)
    return found


def _numeric_rules(q: Question, add: AddProblem) -> None:
    if q.type == QuestionType.NUMERIC and q.numeric is None:
        add("numeric", "a `type: numeric` question needs a `numeric` block")
        return
    if q.numeric is None:
        return
    if q.type != QuestionType.NUMERIC:
        add("numeric", f"a `numeric` block needs `type: numeric`, got type '{q.type}'")
        return
    from prep.numeric import spec_problems  # pure Python; imported here to keep layers simple

    for field_name, message in spec_problems(q):
        add(field_name, message)


def cross_check(
    sections: list[Section], outside: frozenset[str] = frozenset()
) -> tuple[list[Section], dict[str, str], list[Problem]]:
    """Check aliases and follow-ups against the whole bank.

    An alias that is a live id or claimed twice, and a follow-up that names no live question
    (or the question itself), is reported and dropped; the question itself still loads.
    ``outside``: ids of section files that were not loaded (a follow-up may name them).
    Returns the sections with those dropped, the alias map (old id -> kept id) and the problems.
    """
    live = {q.id for s in sections for q in s.questions} | outside
    aliases: dict[str, str] = {}
    problems: list[Problem] = []

    def report(q: Question, name: str, index: int, message: str) -> None:
        line = q.field_lines.get(f"{name}.{index}") or q.field_lines.get(name) or q.line
        problems.append(Problem(q.file, line, message, question_id=q.id, field=name))

    kept_aliases: dict[str, list[str]] = {}
    for q in (q for s in sections for q in s.questions):
        kept_aliases[q.id] = []
        for index, alias in enumerate(q.aliases):
            if alias in live:
                report(q, "aliases", index, f"alias '{alias}' is the id of a live question")
            elif alias in aliases:
                report(q, "aliases", index,
                       f"alias '{alias}' is already an alias of '{aliases[alias]}'")
            else:
                aliases[alias] = q.id
                kept_aliases[q.id].append(alias)

    updated = []
    for section in sections:
        questions = []
        for q in section.questions:
            follow_ups = []
            for index, target in enumerate(q.follow_ups):
                if target == q.id:
                    report(q, "follow_ups", index, "a question cannot follow itself")
                elif target in aliases:
                    report(q, "follow_ups", index,
                           f"'{target}' is an old id of '{aliases[target]}'; use that id")
                elif target not in live:
                    report(q, "follow_ups", index, f"unknown question id '{target}'")
                else:
                    follow_ups.append(target)
            if follow_ups != q.follow_ups or kept_aliases[q.id] != q.aliases:
                q = q.model_copy(update={"follow_ups": follow_ups, "aliases": kept_aliases[q.id]})
            questions.append(q)
        updated.append(section.model_copy(update={"questions": questions}))
    return updated, aliases, problems
