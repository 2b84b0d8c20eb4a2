"""AppTest of Quiz's "answer first" mode in both languages, on the mock interview's fixture bank
(questions with key points): type an answer, reveal, tick two of three key points, see Hard
suggested on the buttons, press Good (FSRS gets Good, the review keeps the typed answer), and on
the next review of that card read the answer typed last time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from answer_box import answer_box
from fsrs import Rating
from streamlit.testing.v1 import AppTest

from prep import settings
from prep.store import Store

ROOT = Path(__file__).resolve().parent.parent
BANK_DIR = ROOT / "tests" / "fixtures" / "interview_bank"
APP = str(ROOT / "app.py")
PAGE = "pages/2_Quiz.py"
TIMEOUT_S = 60
TYPED = "The dot product has variance $d_k$; scaling brings it back to one."
WORDS = {
    "en": {"suggested": "The suggested grade", "hard": "Hard", "good": "Good",
           "last": "Your last answer (", "mine": "Your answer"},
    "zh": {"suggested": "建议的评分", "hard": "困难", "good": "良好",
           "last": "你上次的回答（", "mine": "你的回答"},
}


@pytest.fixture(autouse=True)
def rubric_bank(monkeypatch):
    monkeypatch.setenv("ATTN_PREP_CONTENT", str(BANK_DIR))


def open_quiz(lang: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def start_why_sqrt(at: AppTest, *, answer_first: bool, due_only: bool = True) -> None:
    at.multiselect(key="quiz_tags").set_value(["scaled-dot-product"]).run()  # iv-why-sqrt alone
    at.toggle(key="quiz_answer_first").set_value(answer_first).run()
    at.radio(key="quiz_due_only").set_value(due_only).run()
    at.button(key="quiz_start").click().run()
    assert not at.exception, at.exception
    assert at.session_state["quiz_session"].current == "iv-why-sqrt"


def page_text(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "caption") for e in at.get(kind))


def suggested_grades(at: AppTest) -> list[int]:
    """The grade buttons marked as suggested: primary, starred, "suggested" in the tooltip."""
    marked = []
    for button in at.button:
        if button.key and button.key.startswith("quiz_grade_"):
            starred = button.proto.type == "primary" and "star" in button.proto.icon
            assert starred == bool(button.help), button.key
            if starred:
                marked.append(int(button.key.removeprefix("quiz_grade_")))
    return marked


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_answer_first_suggests_hard_for_two_of_three_points_and_keeps_the_typed_answer(lang):
    words = WORDS[lang]
    at = open_quiz(lang)
    start_why_sqrt(at, answer_first=True)
    assert not [b for b in at.button if b.key.startswith("quiz_grade_")]
    answer_box(at).set_value(TYPED).run()
    assert TYPED in page_text(at)                                    # the live preview
    at.button(key="quiz_reveal").click().run()
    assert not at.exception, at.exception
    assert TYPED in page_text(at) and words["mine"] in page_text(at)  # beside the model answer
    assert len(at.checkbox) == 3 and suggested_grades(at) == [int(Rating.Again)]  # none ticked
    at.checkbox[0].check().run()
    at.checkbox[1].check().run()                                     # 2 of 3: Hard
    assert suggested_grades(at) == [int(Rating.Hard)]
    hard = at.button(key="quiz_grade_2")
    assert hard.label.startswith(words["hard"]) and hard.help == words["suggested"]
    assert at.button(key="quiz_grade_3").label.startswith(f":green[{words['good']} · ")
    at.button(key="quiz_grade_3").click().run()                      # the learner overrides
    assert not at.exception, at.exception
    (review,) = Store(settings.db_path()).reviews()
    assert (review.question_id, review.rating, review.answer) == ("iv-why-sqrt", Rating.Good,
                                                                  TYPED)
    # The next review of that card (studied ahead), answer first off: last time's answer.
    at.button(key="quiz_new").click().run()
    assert at.toggle(key="quiz_answer_first").value is True          # the option is kept
    start_why_sqrt(at, answer_first=False, due_only=False)
    assert not at.expander or all(words["last"] not in e.label for e in at.expander)
    at.button(key="quiz_reveal").click().run()
    (last,) = [e for e in at.expander if e.label.startswith(words["last"])]
    assert datetime.now(UTC).strftime("%Y-%m-%d") in last.label
    assert TYPED in "\n".join(m.value for m in last.markdown)
    assert suggested_grades(at) == []                                # no rubric: no suggestion


def test_all_points_within_a_minute_suggest_easy_and_an_empty_answer_stores_none():
    at = open_quiz("en")
    start_why_sqrt(at, answer_first=True)
    at.button(key="quiz_reveal").click().run()
    assert "(no answer typed)" in page_text(at)
    for box in at.checkbox:
        box.check().run()
    assert suggested_grades(at) == [int(Rating.Easy)]
    at.button(key="quiz_grade_4").click().run()
    (review,) = Store(settings.db_path()).reviews()
    assert (review.rating, review.answer) == (Rating.Easy, None)


def test_the_answer_first_option_is_kept_across_pages():
    at = open_quiz("en")
    at.toggle(key="quiz_answer_first").set_value(True).run()
    at.switch_page("pages/1_Browse.py").run()
    at.switch_page(PAGE).run()
    assert at.toggle(key="quiz_answer_first").value is True


def test_text_sent_while_typing_updates_the_preview_and_the_last_arrival_is_reviewed():
    """The box sends its text while the learner types, without leaving it: every arrival
    redraws the preview, and the review keeps the last one."""
    at = open_quiz("en")
    start_why_sqrt(at, answer_first=True)
    for arrival in ("The dot", "The dot product has", TYPED):
        answer_box(at).set_value(arrival).run()
        assert arrival in page_text(at)                              # the preview
        assert at.session_state["quiz_session"].answer.text == arrival
    at.button(key="quiz_reveal").click().run()
    at.button(key="quiz_grade_3").click().run()
    (review,) = Store(settings.db_path()).reviews()
    assert review.answer == TYPED


def test_a_half_typed_answer_survives_a_page_switch():
    at = open_quiz("en")
    start_why_sqrt(at, answer_first=True)
    answer_box(at).set_value("half of my answer").run()
    at.switch_page("pages/1_Browse.py").run()
    at.switch_page(PAGE).run()
    assert answer_box(at).value == "half of my answer"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_numeric_question_draws_numbers_and_the_app_grades_the_learners_number(lang):
    at = open_quiz(lang)
    at.multiselect(key="quiz_tags").set_value(["sliding-window"]).run()  # iv-window-keys
    at.button(key="quiz_start").click().run()
    answer = at.session_state["quiz_session"].answer
    position, window, sinks = (answer.numeric_params[k] for k in ("position", "window", "sinks"))
    assert f"{window}" in page_text(at) and "{window}" not in page_text(at)  # drawn, not raw
    assert "quiz_reveal" not in [b.key for b in at.button]         # the app grades it
    (box,) = at.text_input
    # QA: the placeholder "132" looked like a pre-filled answer; it must not be a bare number.
    assert not box.placeholder.replace(",", "").replace(".", "").isdigit()
    box.set_value("a few")  # inside a form: sent with the button, as in a browser
    at.button(key="quiz_check").click().run()
    assert ("is not a number" if lang == "en" else "不是一个数") in at.warning[0].value
    at.button(key="quiz_hint").click().run()                        # the first step: a hint
    assert at.info
    right = min(position + 1, window) + max(0, min(sinks, position + 1 - window))
    at.text_input[0].set_value(f"{right:,}")
    at.button(key="quiz_check").click().run()
    assert not at.exception, at.exception
    assert f"{right}" in at.success[0].value
    grades = [b for b in at.button if b.key.startswith("quiz_grade_")]
    assert [b.key for b in grades] == ["quiz_grade_2"]              # right after a hint: Hard
    assert grades[0].label.startswith("Record Hard" if lang == "en" else "记为 困难")
    grades[0].click().run()
    (review,) = Store(settings.db_path()).reviews()
    assert (review.question_id, review.rating, review.answer) == ("iv-window-keys", Rating.Hard,
                                                                  f"{right}")


def test_an_answer_typed_in_a_mock_interview_is_offered_at_the_next_quiz_review():
    import random

    from prep.bank import load_bank
    from prep.interview_plan import plan

    questions = load_bank(BANK_DIR).questions
    seed = next(s for s in range(100)
                if plan(questions, random.Random(s), sections=["basics"], count=1)[0]
                == "iv-why-sqrt")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.query_params["lang"] = "en"
    at.run()
    at.switch_page("pages/7_Mock_interview.py").run()
    at.multiselect(key="iv_sections").set_value(["basics"]).run()
    at.number_input(key="iv_count").set_value(1).run()
    at.number_input(key="iv_seed").set_value(seed).run()
    at.button(key="iv_start").click().run()
    answer_box(at).set_value("said in the interview").run()
    at.button(key="iv_reveal").click().run()
    at.button(key="iv_grade_3").click().run()
    assert not at.exception, at.exception
    assert Store(settings.db_path()).reviews()[0].answer == "said in the interview"
    at.switch_page(PAGE).run()
    start_why_sqrt(at, answer_first=False, due_only=False)
    at.button(key="quiz_reveal").click().run()
    (last,) = [e for e in at.expander if e.label.startswith("Your last answer (")]
    assert "said in the interview" in "\n".join(m.value for m in last.markdown)
