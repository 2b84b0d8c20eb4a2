"""Two languages, zh and en, chosen per session and kept in the URL (?lang=en).

``Text`` is the one bilingual text type of the codebase: bank fields, judge messages, Lab labels,
rating names and exercise statements are all ``Text(zh, en)``; ``text.pick(lang)`` (or
``text[lang]``) reads it. Pages may write ``ui.t(zh, en)`` as shorthand for a literal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import ConfigDict, StringConstraints
from pydantic.dataclasses import dataclass

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def normalize(lang: str | None) -> str:
    return lang if lang in LANGS else DEFAULT_LANG


@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class Text:
    """A text in both languages: ``Text("注意力", "attention").pick("en") == "attention"``.

    Validated by pydantic wherever it is built (neither language may be blank), so bank YAML and
    exercise YAML use it as a field type; ``Text(**{"zh": ..., "en": ...})`` rebuilds one from JSON.
    """

    zh: NonEmpty
    en: NonEmpty

    def pick(self, lang: str) -> str:
        """The text in ``lang``; an unknown language gets the default one."""
        return self.zh if normalize(lang) == "zh" else self.en

    def __getitem__(self, lang: str) -> str:
        if lang not in LANGS:
            raise KeyError(lang)
        return self.pick(lang)

    def as_dict(self) -> dict[str, str]:
        """``{"zh": ..., "en": ...}``: for JSON (the judge's child process sends these)."""
        return {"zh": self.zh, "en": self.en}

    def format(self, *args: object, **kwargs: object) -> Text:
        """Both languages formatted with the same arguments."""
        return Text(self.zh.format(*args, **kwargs), self.en.format(*args, **kwargs))


def pick(text: Text | Mapping[str, str], lang: str) -> str:
    """``text`` in ``lang``; a plain mapping falls back to the other language when empty."""
    if isinstance(text, Text):
        return text.pick(lang)
    primary = text.get(lang) or ""
    if primary:
        return primary
    return next((text.get(other) or "" for other in LANGS if other != lang), "")
