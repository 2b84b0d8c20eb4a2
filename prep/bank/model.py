"""The bank's types: the YAML schema (pydantic) and the loaded ``Bank`` with its lookups."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from prep.i18n import LANGS, NonEmpty, Text

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Scalar = bool | int | float | str
Number = int | float
SOURCE_PATTERN = r"^seed-[1-3]\.[1-8]$"
KEY_POINTS_MIN, KEY_POINTS_MAX = 3, 7


class QuestionType(StrEnum):
    CONCEPT = "concept"
    CALCULATION = "calculation"
    CODING = "coding"
    FIND_THE_BUG = "find-the-bug"
    DESIGN = "design"
    COMPARISON = "comparison"
    NUMERIC = "numeric"


class Difficulty(StrEnum):
    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reference(_Strict):
    title: NonEmpty
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")] | None = None


class NumericParam(_Strict):
    """One drawn parameter: ``choices: [...]``, or ``min``/``max`` with ``step`` (default 1)."""

    choices: Annotated[list[Number | str], Field(min_length=1)] | None = None
    min: Number | None = None
    max: Number | None = None
    step: Annotated[Number, Field(gt=0)] = 1
    unit: Text | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> NumericParam:
        has_range = self.min is not None or self.max is not None
        if (self.choices is None) == (not has_range):
            raise ValueError("give either `choices` or `min` and `max`")
        if has_range and (self.min is None or self.max is None or self.min > self.max):
            raise ValueError(f"need min <= max, got min={self.min}, max={self.max}")
        return self


class NumericSpec(_Strict):
    """How a ``type: numeric`` question is drawn and graded (see ``prep.numeric``)."""

    function: Identifier
    params: Annotated[dict[Identifier, NumericParam], Field(min_length=1)]
    unit: Text
    tolerance: Annotated[float, Field(gt=0, le=0.5)]


class Question(_Strict):
    id: Slug
    type: QuestionType
    difficulty: Difficulty
    tags: list[Slug] = Field(min_length=1)
    question: Text
    answer: Text
    explanation: Text
    key_points: (
        Annotated[list[Text], Field(min_length=KEY_POINTS_MIN, max_length=KEY_POINTS_MAX)] | None
    ) = None
    follow_ups: list[Slug] = Field(default_factory=list)
    aliases: list[Slug] = Field(default_factory=list)
    lab: dict[Identifier, Scalar] | None = None
    numeric: NumericSpec | None = None
    code: NonEmpty | None = None
    check: NonEmpty | None = None
    module: NonEmpty | None = None
    references: list[Reference] = Field(default_factory=list)
    source: Annotated[str, StringConstraints(pattern=SOURCE_PATTERN)] | None = None
    # Filled by the loader, not by the YAML.
    section_id: str = ""
    file: str = ""
    line: int = 0
    field_lines: dict[str, int] = Field(default_factory=dict)

    @field_validator("lab", mode="before")
    @classmethod
    def _flat_preset(cls, value: object) -> object:
        if value is None:
            return value
        if not isinstance(value, dict):
            raise ValueError(f"a Lab preset is a mapping of URL parameters, got {value!r}")
        for name, item in value.items():
            if item is None or not isinstance(item, Scalar):
                raise ValueError(
                    f"Lab parameter `{name}` must be one value (text, number or true/false), "
                    f"got {item!r}"
                )
        return value

    def lab_params(self) -> dict[str, str]:
        """URL parameters of this question's "Open in Lab" link: its ``lab`` preset, else its
        ``module``; empty when it has neither."""
        if self.lab:
            return {k: _url_value(v) for k, v in self.lab.items()}
        return {"module": self.module} if self.module else {}


def _url_value(value: Scalar) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


class Section(_Strict):
    id: Slug
    title: Text
    description: Text
    questions: list[Question] = Field(default_factory=list)
    file: str = ""
    order: int = 0


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
    """The loaded bank. ``aliases`` maps an old (merged) id to the id that now answers it."""

    sections: list[Section] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_id = {q.id: q for s in self.sections for q in s.questions}
        self._section_by_id = {s.id: s for s in self.sections}

    @property
    def questions(self) -> list[Question]:
        return [q for s in self.sections for q in s.questions]

    def canonical_id(self, question_id: str) -> str:
        """The live id for ``question_id``: itself, or the question an old id was merged into."""
        return self.aliases.get(question_id, question_id)

    def question(self, question_id: str) -> Question | None:
        """The question with this id or alias (so old deep links still open it)."""
        return self._by_id.get(self.canonical_id(question_id))

    def section(self, section_id: str) -> Section | None:
        return self._section_by_id.get(section_id)

    def section_of(self, question_id: str) -> Section | None:
        q = self.question(question_id)
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


def moved_ids(bank: Bank) -> dict[str, str]:
    """Old id -> kept id for every merged question: what a store moves review history along."""
    return dict(bank.aliases)
