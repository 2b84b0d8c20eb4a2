"""Loading: YAML section files -> ``Bank``, each problem located by file, line, question and field.

Loading never raises on bad content: every good section and question still loads. Per-question
rules and the bank-wide ones (aliases, follow-ups) are in :mod:`prep.bank.rules`.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from prep.bank.model import Bank, Problem, Question, Section
from prep.bank.rules import cross_check, question_problems

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SECTION_FIELDS = {"id", "title", "description", "questions"}
_LOADER_FIELDS = {"section_id", "file", "line", "field_lines"}
_LOCATED_LISTS = ("follow_ups", "aliases")


def load_bank(paths: str | Path | Iterable[str | Path]) -> Bank:
    """Load a folder of section files (or the given files). Never raises on bad content."""
    files = section_files(paths)
    sections: list[Section] = []
    problems: list[Problem] = []
    if not files:
        where = ", ".join(str(p) for p in ([paths] if isinstance(paths, str | Path) else paths))
        problems.append(Problem(where, None, "no section files (*.yaml) found"))
    known_modules = attention_exports()
    seen_sections: dict[str, str] = {}
    seen_questions: dict[str, str] = {}
    for order, path in enumerate(files):
        section, file_problems = _load_section(path, order, known_modules)
        problems += file_problems
        if section is None:
            continue
        if section.id in seen_sections:
            problems.append(
                Problem(
                    str(path),
                    1,
                    f"duplicate section id '{section.id}' (also in {seen_sections[section.id]})",
                    field="id",
                )
            )
            continue
        seen_sections[section.id] = str(path)
        unique = []
        for q in section.questions:
            if q.id in seen_questions:
                problems.append(
                    Problem(
                        str(path),
                        q.line,
                        f"duplicate question id (also at {seen_questions[q.id]})",
                        question_id=q.id,
                        field="id",
                    )
                )
                continue
            seen_questions[q.id] = f"{path}:{q.line}"
            unique.append(q)
        sections.append(section.model_copy(update={"questions": unique}))
    outside = _ids_beside(paths, files)
    sections, aliases, cross_problems = cross_check(sections, outside)
    return Bank(sections, problems + cross_problems, aliases)


_ID_LINE = re.compile(r"^\s*-\s+id:\s*([a-z0-9-]+)\s*$", re.M)


def _ids_beside(paths: str | Path | Iterable[str | Path], files: list[Path]) -> frozenset[str]:
    """Question ids of the section files next to individually given files but not loaded.

    Loading one section (a test, ``validate content/06-x.yaml``) must not call its follow-ups
    into other sections unknown; their ids are read with a regular expression, not loaded.
    A folder loads every file, so this is empty then.
    """
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    loaded = {path.resolve() for path in files}
    folders = {Path(item).resolve().parent for item in items if Path(item).is_file()}
    found: set[str] = set()
    for folder in folders:
        for path in folder.glob("*.yaml"):
            if path.name.startswith("_") or path.resolve() in loaded:
                continue
            try:
                found.update(_ID_LINE.findall(path.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError):
                continue
    return frozenset(found)


def section_files(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    """The section files ``load_bank(paths)`` reads: a folder's ``*.yaml`` not starting with
    ``_``, in name order, or the files given."""
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    files: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            files += sorted(p for p in item.glob("*.yaml") if not p.name.startswith("_"))
        else:
            files.append(item)
    return files


def _load_section(
    path: Path, order: int, known_modules: frozenset[str]
) -> tuple[Section | None, list[Problem]]:
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(file, None, f"cannot read file: {exc}")]
    try:
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else None
        reason = getattr(exc, "problem", None) or str(exc)
        return None, [
            Problem(file, line, f"invalid YAML: {reason}", question_id=_question_before(text, line))
        ]
    if not isinstance(data, dict):
        return None, [
            Problem(
                file,
                1,
                "a section file must be a mapping with id, title, "
                f"description and questions; got {type(data).__name__}",
            )
        ]

    problems: list[Problem] = []
    head = {k: v for k, v in data.items() if k != "questions"}
    unknown = set(head) - _SECTION_FIELDS
    for key in sorted(map(str, unknown)):
        problems.append(Problem(file, _line_of(root, (key,)), "unknown field", field=key))
        head.pop(key, None)
    try:
        section = Section.model_validate({**head, "file": file, "order": order})
    except ValidationError as exc:
        problems += _problems_from(exc, file, root, prefix=(), question_id=None)
        return None, problems

    raw_questions = data.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        problems.append(
            Problem(
                file,
                _line_of(root, ("questions",)),
                "expected a non-empty list of questions",
                field="questions",
            )
        )
        return section, problems

    questions = []
    for index, raw in enumerate(raw_questions):
        node_path: tuple[Any, ...] = ("questions", index)
        line = _line_of(root, node_path)
        qid = raw.get("id") if isinstance(raw, dict) else None
        qid = str(qid) if qid is not None else None
        if not isinstance(raw, dict):
            problems.append(Problem(file, line, "a question must be a mapping", question_id=qid))
            continue
        loader_keys = _LOADER_FIELDS.intersection(raw)
        if loader_keys:
            key = sorted(loader_keys)[0]
            problems.append(
                Problem(
                    file,
                    _line_of(root, (*node_path, key)),
                    "is set by the loader, not in YAML",
                    question_id=qid,
                    field=key,
                )
            )
            continue
        try:
            q = Question.model_validate(
                {
                    **raw,
                    "section_id": section.id,
                    "file": file,
                    "line": line,
                    "field_lines": _field_lines(root, node_path, raw),
                }
            )
        except ValidationError as exc:
            problems += _problems_from(exc, file, root, prefix=node_path, question_id=qid)
            continue

        def line_of(name: str, node_path: tuple[Any, ...] = node_path) -> int | None:
            return _line_of(root, (*node_path, name))

        rule_problems = question_problems(q, known_modules, line_of)
        if rule_problems:
            problems += rule_problems
            continue
        questions.append(q)
    return section.model_copy(update={"questions": questions}), problems


def _field_lines(root: yaml.Node, node_path: tuple[Any, ...], raw: dict) -> dict[str, int]:
    """Lines of the fields the bank-wide rules report on (they run after the YAML is gone)."""
    lines = {}
    for name in (*_LOCATED_LISTS, "lab"):
        if name not in raw:
            continue
        lines[name] = _line_of(root, (*node_path, name)) or 0
        items = raw[name] if name in _LOCATED_LISTS and isinstance(raw[name], list) else []
        for index in range(len(items)):
            lines[f"{name}.{index}"] = _line_of(root, (*node_path, name, index)) or 0
    return lines


def _problems_from(
    exc: ValidationError,
    file: str,
    root: yaml.Node,
    prefix: tuple[Any, ...],
    question_id: str | None,
) -> list[Problem]:
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        field_name = ".".join(str(part) for part in loc) or None
        line = _line_of(root, (*prefix, *loc))
        message = error["msg"]
        if error["type"] == "missing":
            message = "missing required field"
        elif error["type"] == "extra_forbidden":
            message = "unknown field"
        elif "input" in error and not isinstance(error["input"], dict | list):
            message += f" (got {error['input']!r})"
        problems.append(Problem(file, line, message, question_id=question_id, field=field_name))
    return problems


def _line_of(root: yaml.Node, path: tuple[Any, ...]) -> int | None:
    """1-based line of the field at ``path`` (keys and list indices), or of its nearest parent.

    A mapping entry is found by its key (``difficulty: x`` -> that line), a list item by its start.
    """
    node, line = root, root.start_mark.line + 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            entry = next((kv for kv in node.value if kv[0].value == str(part)), None)
            if entry is None:
                break
            line, node = entry[0].start_mark.line + 1, entry[1]
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _question_before(text: str, line: int | None) -> str | None:
    """The id of the last question that starts before ``line`` (for syntax errors)."""
    if line is None:
        return None
    found = None
    for number, content in enumerate(text.splitlines()[:line], start=1):
        match = re.match(r"^\s*-?\s*id:\s*([A-Za-z0-9-]+)\s*$", content)
        if match and number <= line and content.lstrip().startswith("- "):
            found = match.group(1)
    return found


def attention_exports() -> frozenset[str]:
    """Names in ``attention.__all__``, read without importing torch (keeps loading fast)."""
    spec = importlib.util.find_spec("attention")
    if spec is None or spec.origin is None:
        return frozenset()
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return frozenset(ast.literal_eval(node.value))
    return frozenset()
