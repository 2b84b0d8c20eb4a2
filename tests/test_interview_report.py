"""The mock-interview report as Markdown (a pure function), in both languages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fsrs import Rating

from prep import schedule
from prep.bank import load_bank
from prep.interview import Answer, Interview
from prep.interview_report import latest_scores, question_title, study_links, to_markdown
from prep.progress import readiness_by_section

BANK = load_bank(Path(__file__).parent / "fixtures" / "interview_bank")
QUESTIONS = {q.id: q for q in BANK.questions}
TITLES = {s.id: s.title for s in BANK.sections}
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _finished() -> Interview:
    return Interview(main=["iv-why-sqrt", "iv-mask-meaning"], started=NOW, answers=[
        Answer("iv-why-sqrt", text="variance d_k\n\nso scale", ticked=[0, 1, 2],
               total_points=3, seconds=42, finished=True, rating=3, revealed=True),
        Answer("iv-saturation", parent_id="iv-why-sqrt", text="gradient | zero", ticked=[0],
               total_points=3, seconds=75, finished=True, rating=1, revealed=True),
        Answer("iv-mask-meaning", seconds=10, skipped=True, finished=True),
    ], finished=NOW + timedelta(minutes=5))


def test_markdown_report_has_totals_sections_times_missed_points_links_and_answers():
    text = to_markdown(_finished(), QUESTIONS, TITLES, "en",
                       practice_for=lambda qid: "ex-mask" if qid == "iv-mask-meaning" else None)
    assert text.startswith("# Mock interview report · 2026-12-01 12:00 UTC\n")
    assert "Total 44% over 3 questions in 5 min" in text          # (1 + 1/3 + 0) / 3
    assert "| Basics | 44% |" in text
    assert "| 1 | Why divide the scores by $\\sqrt{d_k}$? | 100% | 42 s |" in text
    assert "| 2 | ↳ (follow-up) What happens to the gradient" in text
    assert "| 3 | What does True mean in a boolean attention mask? | skipped | 10 s |" in text
    assert "- The Jacobian goes to zero (×1)" in text
    assert "[Browse](Browse?q=iv-mask-meaning&lang=en)" in text
    assert "[Lab](Lab?module=sdpa&mask=causal&lang=en)" in text
    assert "[Practice](Practice?ex=ex-mask&lang=en)" in text
    assert "> variance d_k\n>\n> so scale" in text                  # typed text, quoted
    weakest = text.split("## Weakest questions")[1].split("##")[0]
    assert weakest.index("iv-mask-meaning") < weakest.index("iv-saturation")  # 0 before 1/3


def test_markdown_report_in_chinese_and_numeric_titles_show_ranges():
    text = to_markdown(_finished(), QUESTIONS, TITLES, "zh")
    assert "# 模拟面试报告" in text and "| 基础 | 44% |" in text and "跳过" in text
    assert "(×1)" in text and "[在题库中查看](Browse?q=iv-saturation&lang=zh)" in text
    numeric = QUESTIONS["iv-window-keys"]
    assert "128 / 256" in question_title(numeric, numeric.id, "en")
    assert [link.url_path for link in study_links(numeric, None)] == ["Browse"]


def test_readiness_by_section_uses_fsrs_and_latest_scores_take_the_newest_interview():
    card, _ = schedule.SCHEDULER.review_card(schedule.new_card("iv-why-sqrt", NOW), Rating.Good,
                                             NOW)
    later = NOW + timedelta(days=3)
    ready = readiness_by_section(BANK.sections, {"iv-why-sqrt": card}, later)
    one = schedule.SCHEDULER.get_card_retrievability(card, later)
    assert ready["basics"] == pytest.approx(one / 3)   # two cards never reviewed
    assert ready["numbers"] == 0.0
    old = _finished()
    new = Interview(main=["iv-mask-meaning"], started=NOW + timedelta(days=1), answers=[
        Answer("iv-mask-meaning", ticked=[0, 1], total_points=3, finished=True)],
        finished=NOW + timedelta(days=1, minutes=3))
    scores = latest_scores([new, old], QUESTIONS)
    assert scores["basics"][0] == pytest.approx(2 / 3)
    assert scores["basics"][1] == new.finished


def test_question_title_cut_never_leaves_a_lone_dollar():
    """Bug (qa): the report's "review these first" title was cut inside a formula
    ("... GQA-$…"), showing a raw "$" in the page."""
    from prep.i18n import Text
    from prep.interview_report import TITLE_CHARS, question_title

    class _Q:
        numeric = None
        question = Text("中" * (TITLE_CHARS - 8) + "，GQA-$H$ 就是 MHA？",
                        "x" * (TITLE_CHARS - 8) + " GQA-$H$ is MHA?")

    for lang in ("zh", "en"):
        title = question_title(_Q(), "q", lang)
        assert title.endswith("…") and title.count("$") % 2 == 0, title
