"""The question bank: YAML sections under ``content/`` -> validated ``Bank``.

One file per section (format in ``content/FORMAT.md``). Loading never raises on bad content:
each problem names the file, the line, the question id and the field, and every good section and
question still loads. ``run_code_blocks`` executes the ``code`` + ``check`` of each question; it
is slow (torch) and used by the validator command and the tests, never by the app at start-up.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from prep.i18n import LANGS, NonEmpty, Text

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
SOURCE_PATTERN = r"^seed-[1-3]\.[1-8]$"


class QuestionType(StrEnum):
    CONCEPT = "concept"
    CALCULATION = "calculation"
    CODING = "coding"
    FIND_THE_BUG = "find-the-bug"
    DESIGN = "design"
    COMPARISON = "comparison"


class Difficulty(StrEnum):
    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reference(_Strict):
    title: NonEmpty
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")] | None = None


class Question(_Strict):
    id: Slug
    type: QuestionType
    difficulty: Difficulty
    tags: list[Slug] = Field(min_length=1)
    question: Text
    answer: Text
    explanation: Text
    code: NonEmpty | None = None
    check: NonEmpty | None = None
    module: NonEmpty | None = None
    references: list[Reference] = Field(default_factory=list)
    source: Annotated[str, StringConstraints(pattern=SOURCE_PATTERN)] | None = None
    # Filled by the loader, not by the YAML.
    section_id: str = ""
    file: str = ""
    line: int = 0


class Section(_Strict):
    id: Slug
    title: Text
    description: Text
    questions: list[Question] = Field(default_factory=list)
    file: str = ""
    order: int = 0


_SECTION_FIELDS = {"id", "title", "description", "questions"}
_LOADER_FIELDS = {"section_id", "file", "line"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the bank, located as precisely as the YAML allows."""

    file: str
    line: int | None
    message: str
    question_id: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        parts = [where]
        if self.question_id:
            parts.append(f"question '{self.question_id}'")
        if self.field:
            parts.append(f"field '{self.field}'")
        return ": ".join(parts) + f": {self.message}"


@dataclass
class Bank:
    sections: list[Section] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_id = {q.id: q for s in self.sections for q in s.questions}
        self._section_by_id = {s.id: s for s in self.sections}

    @property
    def questions(self) -> list[Question]:
        return [q for s in self.sections for q in s.questions]

    def question(self, question_id: str) -> Question | None:
        return self._by_id.get(question_id)

    def section(self, section_id: str) -> Section | None:
        return self._section_by_id.get(section_id)

    def section_of(self, question_id: str) -> Section | None:
        q = self._by_id.get(question_id)
        return self._section_by_id.get(q.section_id) if q else None

    def tags(self) -> list[str]:
        return sorted({t for q in self._by_id.values() for t in q.tags})

    def filter(
        self,
        query: str = "",
        sections: Iterable[str] = (),
        tags: Iterable[str] = (),
        difficulties: Iterable[str] = (),
        types: Iterable[str] = (),
        lang: str | None = None,
    ) -> list[Question]:
        """Questions matching every given criterion.

        ``query`` is split on whitespace; each term must occur (case-insensitively) in the id,
        tags, question, answer or explanation, in ``lang`` if given, else in either language.
        Within one criterion the values are alternatives (any tag of ``tags`` matches).
        """
        sections, tags = set(sections), set(tags)
        difficulties, types = set(difficulties), set(types)
        terms = query.lower().split()
        langs = (lang,) if lang in LANGS else LANGS
        found = []
        for q in self.questions:
            if sections and q.section_id not in sections:
                continue
            if tags and not tags.intersection(q.tags):
                continue
            if difficulties and q.difficulty not in difficulties:
                continue
            if types and q.type not in types:
                continue
            if terms:
                haystack = _search_text(q, langs)
                if not all(term in haystack for term in terms):
                    continue
            found.append(q)
        return found


def _search_text(q: Question, langs: Sequence[str]) -> str:
    texts = [q.id, " ".join(q.tags)]
    for lang in langs:
        texts += [q.question[lang], q.answer[lang], q.explanation[lang]]
    return "\n".join(texts).lower()


# ---------------------------------------------------------------------------------------------
# Loading


def load_bank(paths: str | Path | Iterable[str | Path]) -> Bank:
    """Load a folder of section files (or the given files). Never raises on bad content."""
    files = _section_files(paths)
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
    return Bank(sections, problems)


def _section_files(paths: str | Path | Iterable[str | Path]) -> list[Path]:
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
                {**raw, "section_id": section.id, "file": file, "line": line}
            )
        except ValidationError as exc:
            problems += _problems_from(exc, file, root, prefix=node_path, question_id=qid)
            continue
        question_problems = _question_rules(q, known_modules, root, node_path)
        if question_problems:
            problems += question_problems
            continue
        questions.append(q)
    return section.model_copy(update={"questions": questions}), problems


def _question_rules(
    q: Question, known_modules: frozenset[str], root: yaml.Node, node_path: tuple[Any, ...]
) -> list[Problem]:
    found = []

    def add(field_name: str, message: str) -> None:
        line = _line_of(root, (*node_path, field_name))
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
    for name in ("code", "check"):
        source = getattr(q, name)
        if source is None:
            continue
        try:
            compile(source, f"{q.id}.{name}", "exec")
        except SyntaxError as exc:
            add(name, f"does not compile: {exc.msg} (line {exc.lineno} of the block)")
    return found


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


# ---------------------------------------------------------------------------------------------
# Running code blocks


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


def run_code_blocks(bank: Bank) -> list[Problem]:
    problems = []
    for q in bank.questions:
        error = run_code_block(q)
        if error:
            problems.append(Problem(q.file, q.line, error, question_id=q.id, field="code"))
    return problems
