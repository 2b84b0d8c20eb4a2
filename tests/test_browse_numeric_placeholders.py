"""Bug (qa): Browse showed a numeric question's raw template, "RoPE with base {base} and head
dimension $D={head_dim}$" (the braces inside the formula even rendered as a subscript). Browse
now shows each parameter as its range, as the interview report does."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{(base|head_dim|pair|position)\}")


def _browse(lang: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page("pages/1_Browse.py").run()
    at.query_params["q"] = "num-rope-angle"
    at.run()
    assert not at.exception, at.exception
    return at


def test_browse_numeric_question_shows_ranges_not_placeholders():
    for lang, base in (("en", "RoPE with base"), ("zh", "RoPE 的底数为")):
        at = _browse(lang)
        texts = [m.value for m in at.markdown if base in m.value]
        assert texts, f"{lang}: the numeric question is not on the page"
        for text in texts:
            assert not PLACEHOLDER.search(text), text
            assert "10000 / 500000" in text and "D=64\\text{ " in text, text


def test_browse_numeric_type_badge_is_translated_and_filterable():
    """Bug (qa): the zh badge of a numeric question read "numeric" in English, and the Type
    filter offered no way to pick the numeric questions."""
    at = _browse("zh")
    badges = [m.value for m in at.markdown if "num-rope-angle" in m.value]
    assert badges and ":blue-badge[数值计算]" in badges[0], badges
    del at.query_params["q"]
    at.run()
    assert "数值计算" in at.multiselect(key="browse_type").options
