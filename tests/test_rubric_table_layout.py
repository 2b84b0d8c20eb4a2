"""Bug (qa): in the mock interview (and answer-first quiz) the model answer sat in half the page;
a Markdown table in it (the MHA/GQA/MLA cache sizes) was squeezed to a word per line and cut off
at the right. A model answer with a table is now shown below the learner's answer, full width."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _page(model_en: str) -> AppTest:
    def script(model_en: str) -> None:
        from prep.i18n import Text
        from prep.ui_rubric import side_by_side

        side_by_side("my answer", Text(model_en, model_en), "t")

    at = AppTest.from_function(script, args=(model_en,), default_timeout=30)
    at.query_params["lang"] = "en"
    at.run()
    assert not at.exception, at.exception
    return at


def test_model_answer_with_a_table_is_not_squeezed_into_a_column():
    at = _page("Sizes:\n\n| scheme | bytes |\n|---|---|\n| MHA | 32768 |\n")
    assert len(at.columns) == 0


def test_model_answer_without_a_table_stays_beside_the_learners():
    at = _page("Scores are $QK^T/\\sqrt{d}$ | not a table.")
    assert len(at.columns) == 2
