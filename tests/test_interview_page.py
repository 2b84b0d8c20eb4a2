"""AppTest of the mock-interview page on a fixture bank with rubrics, follow-ups and a number,
in both languages: set-up, answer, reveal, tick, the suggested grade on the buttons, grade (FSRS
gets what was pressed), a follow-up, skip, the report's totals; resume in a new session; Home and
Progress show readiness."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from answer_box import answer_box, has_answer_box
from fsrs import Rating
from streamlit.testing.v1 import AppTest

from prep import settings
from prep.bank import load_bank
from prep.interview_plan import plan
from prep.interview_store import StoreInterviews
from prep.store import Store

ROOT = Path(__file__).resolve().parent.parent
BANK_DIR = ROOT / "tests" / "fixtures" / "interview_bank"
APP = str(ROOT / "app.py")
PAGE = "pages/7_Mock_interview.py"
TIMEOUT_S = 60
WORDS = {
    "en": {"suggested": " [The suggested grade]", "hard": "Hard", "again": "Again", "good": "Good",
           "total": "Total score", "questions": "Questions",
           "follow": "The interviewer follows up:", "box": "Your answer (Markdown"},
    "zh": {"suggested": " [建议的评分]", "hard": "困难", "again": "重来", "good": "良好",
           "total": "总分", "questions": "题数", "follow": "面试官追问：",
           "box": "你的回答（Markdown"},
}


@pytest.fixture(autouse=True)
def interview_bank(monkeypatch):
    monkeypatch.setenv("ATTN_PREP_CONTENT", str(BANK_DIR))


def _seed_starting_with(first: str) -> int:
    questions = load_bank(BANK_DIR).questions
    return next(s for s in range(100)
                if plan(questions, random.Random(s), sections=["basics"], count=2)[0] == first)


def open_interview_page(lang: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def start(at: AppTest, seed: int) -> None:
    at.multiselect(key="iv_sections").set_value(["basics"]).run()
    at.number_input(key="iv_count").set_value(2).run()
    at.number_input(key="iv_seed").set_value(seed).run()
    at.button(key="iv_start").click().run()
    assert not at.exception, at.exception


def answer_and_reveal(at: AppTest, text: str) -> None:
    answer_box(at).set_value(text).run()
    at.button(key="iv_reveal").click().run()
    assert not at.exception, at.exception


def grade_labels(at: AppTest) -> dict[int, str]:
    """Each grade button's label; the suggested one (primary, starred, "suggested" in its
    tooltip) gets the marker ``words["suggested"]`` appended here."""
    labels = {}
    for button in at.button:
        if button.key and button.key.startswith("iv_grade_"):
            marked = button.proto.type == "primary" and "star" in button.proto.icon
            assert marked == bool(button.help), button.key
            suffix = f" [{button.help}]" if marked else ""
            labels[int(button.key.removeprefix("iv_grade_"))] = button.label + suffix
    return labels


def markdown_text(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "caption") for e in at.get(kind))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_two_question_interview_with_a_follow_up_ends_in_a_report(lang):
    words = WORDS[lang]
    at = open_interview_page(lang)
    start(at, _seed_starting_with("iv-why-sqrt"))
    assert "sqrt{d_k}" in markdown_text(at)
    assert answer_box(at).label.startswith(words["box"])
    answer_and_reveal(at, "the dot product has variance d_k")
    assert "the dot product has variance d_k" in markdown_text(at)   # beside the model answer
    at.checkbox[0].check().run()
    at.checkbox[1].check().run()                                     # 2 of 3 ticked: Hard
    labels = grade_labels(at)
    assert labels[int(Rating.Hard)].startswith(words["hard"])
    assert labels[int(Rating.Hard)].endswith(words["suggested"])
    assert [r for r, label in labels.items() if label.endswith(words["suggested"])] == [2]
    at.button(key="iv_grade_3").click().run()                        # the learner presses Good
    assert words["follow"] in markdown_text(at)                      # iv-saturation follows up
    answer_and_reveal(at, "nearly one-hot")
    at.checkbox[0].check().run()                                     # 1 of 3: Again
    assert grade_labels(at)[int(Rating.Again)].endswith(words["suggested"])
    at.button(key="iv_grade_1").click().run()
    assert "boolean" in markdown_text(at) or "布尔" in markdown_text(at)  # second main question
    at.button(key="iv_skip").click().run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[words["total"]] == "33%"                          # (2/3 + 1/3 + 0) / 3
    assert metrics[words["questions"]] == "3"
    assert at.get("download_button")
    assert "The Jacobian goes to zero (×1)" in markdown_text(at) or "雅可比矩阵趋于 0 (×1)" in \
        markdown_text(at)                                             # missed most, on the page
    store = Store(settings.db_path())
    assert [(r.question_id, r.rating) for r in store.reviews()] == [
        ("iv-why-sqrt", Rating.Good), ("iv-saturation", Rating.Again)]
    ((_, saved),) = StoreInterviews.at(settings.db_location()).finished("local")
    assert [a.text for a in saved.answers[:2]] == ["the dot product has variance d_k",
                                                   "nearly one-hot"]
    at.switch_page("pages/6_Progress.py").run()
    assert not at.exception, at.exception
    progress = markdown_text(at)
    assert "| 33% (" in progress or "33% (" in progress                # latest score of basics
    assert "· 3 " in progress                                          # the past interview


def test_typed_text_survives_a_new_session_and_a_page_switch():
    at = open_interview_page("en")
    start(at, _seed_starting_with("iv-why-sqrt"))
    store = StoreInterviews.at(settings.db_location())
    for arrival in ("half", "half of my", "half of my answer"):      # sent while typing
        answer_box(at).set_value(arrival).run()
        assert store.open_interview("local")[1].answers[-1].text == arrival   # saved each time
        assert answer_box(at).value == arrival
    at.switch_page("pages/1_Browse.py").run()
    at.switch_page(PAGE).run()
    assert answer_box(at).value == "half of my answer"               # a page switch
    again = open_interview_page("en")                                 # a new session (a restart)
    assert answer_box(again).value == "half of my answer"
    assert "sqrt{d_k}" in markdown_text(again)


def test_a_numeric_question_with_a_hint_is_hard_and_shows_the_worked_solution():
    at = open_interview_page("en")
    at.multiselect(key="iv_sections").set_value(["numbers"]).run()
    at.number_input(key="iv_count").set_value(1).run()
    at.button(key="iv_start").click().run()
    assert "keys" in at.text_input[0].label
    at.text_input[0].set_value("not a number")  # inside a form: sent with the button
    at.button(key="iv_check").click().run()
    assert "is not a number" in "\n".join(w.value for w in at.warning)
    at.button(key="iv_hint").click().run()
    assert "Inside the window" in "\n".join(i.value for i in at.info)
    _, run = StoreInterviews.at(settings.db_location()).open_interview("local")
    position, window, sinks = (run.answers[0].numeric_params[k]
                               for k in ("position", "window", "sinks"))
    right = min(position + 1, window) + max(0, min(sinks, position + 1 - window))
    at.text_input[0].set_value(str(right))
    at.button(key="iv_check").click().run()
    assert f"Right: {right}" in "\n".join(s.value for s in at.success)
    (label,) = grade_labels(at).values()
    assert label.startswith("Record Hard")
    at.button(key="iv_grade_2").click().run()
    assert {m.label: m.value for m in at.metric}["Total score"] == "50%"


def test_home_shows_readiness_per_section():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.query_params["lang"] = "en"
    at.run()
    assert "Interview readiness (share recalled now): Basics 0% · Numbers 0%" in markdown_text(at)


def test_question_removed_from_the_bank_mid_interview_is_skipped(monkeypatch, tmp_path):
    at = open_interview_page("en")
    start(at, _seed_starting_with("iv-why-sqrt"))
    answer_box(at).set_value("typed before the bank changed").run()
    smaller = tmp_path / "bank"
    smaller.mkdir()
    basics = (BANK_DIR / "01-basics.yaml").read_text(encoding="utf-8")
    kept = basics[: basics.index("  - id: iv-why-sqrt")] + basics[basics.index("  - id: iv-sat"):]
    (smaller / "01-basics.yaml").write_text(kept, encoding="utf-8")
    (smaller / "02-numbers.yaml").write_text(
        (BANK_DIR / "02-numbers.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("ATTN_PREP_CONTENT", str(smaller))
    after = open_interview_page("en")                        # e.g. a restart with a new bank
    assert not after.exception
    assert "Main question 2 of 2" in "\n".join(p.proto.text for p in after.get("progress"))
    _, run = StoreInterviews.at(settings.db_location()).open_interview("local")
    assert run.answers[0].skipped and run.answers[0].text == "typed before the bank changed"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_damaged_database_gives_a_message_not_a_traceback(lang):
    settings.db_path().write_bytes(b"not a database" * 200)
    at = open_interview_page(lang)
    assert not at.exception
    assert ("damaged" if lang == "en" else "已损坏") in at.error[0].value


@pytest.mark.parametrize("role", ["llm-inference", "research", "ml-engineering"])
def test_each_role_starts_an_interview_on_the_real_bank(monkeypatch, role):
    monkeypatch.setenv("ATTN_PREP_CONTENT", str(ROOT / "content"))
    at = open_interview_page("zh")
    at.radio(key="iv_by").set_value("role").run()
    at.radio(key="iv_role").set_value(role).run()
    at.button(key="iv_start").click().run()
    assert not at.exception, at.exception
    assert "第 1 / 3 道主问题" in "\n".join(p.proto.text for p in at.get("progress"))
    assert has_answer_box(at) or at.text_input           # a rubric box or a number box
