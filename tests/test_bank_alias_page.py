"""A merged question's old id still opens it: Browse's deep link goes through Bank.question."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_BANK = ROOT / "tests" / "fixtures" / "bank"
KEPT, OLD = "fx-gqa-kv-cache", "fx-old-gqa-question"


def test_a_deep_link_to_a_merged_question_opens_the_kept_one(tmp_path, monkeypatch):
    for source in FIXTURE_BANK.glob("*.yaml"):
        text = source.read_text(encoding="utf-8")
        text = text.replace(f"  - id: {KEPT}\n", f"  - id: {KEPT}\n    aliases: [{OLD}]\n")
        (tmp_path / source.name).write_text(text, encoding="utf-8")
    monkeypatch.setenv("ATTN_PREP_CONTENT", str(tmp_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/1_Browse.py").run()
    at.query_params["q"] = OLD
    at.run()
    assert not at.exception, at.exception
    assert not at.warning, [w.value for w in at.warning]
    assert at.button(key=f"linked-reveal-{KEPT}")
