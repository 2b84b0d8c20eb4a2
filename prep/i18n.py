"""Two languages, zh and en, chosen per session and kept in the URL (?lang=en)."""

from __future__ import annotations

from collections.abc import Mapping

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"


def normalize(lang: str | None) -> str:
    return lang if lang in LANGS else DEFAULT_LANG


def pick(text: Mapping[str, str], lang: str) -> str:
    """The text in ``lang``, falling back to the other language if it is empty."""
    primary = text.get(lang) or ""
    if primary:
        return primary
    return next((text.get(other) or "" for other in LANGS if other != lang), "")
