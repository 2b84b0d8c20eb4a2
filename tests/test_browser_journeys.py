"""Real-browser journeys (Chromium through Playwright) against `streamlit run app.py`.

1. Browse to a question, reveal its answer, take a three-card quiz with the keyboard only (the
   card graded Again comes back as a fourth), restart the server, and find the progress kept.
2. After a restart, the very first request is a deep link to one question, and it shows.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import wait_idle
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_BANK = ROOT / "tests" / "fixtures" / "bank"
ANSWER_EN = "keeps the variance of the dot product at one"

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def fixture_bank(monkeypatch):
    """Set before app_server starts (autouse fixtures come first), so the server reads it."""
    monkeypatch.setenv("ATTN_PREP_CONTENT", str(FIXTURE_BANK))


def no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0


def test_browse_reveal_keyboard_quiz_and_progress_survives_a_restart(
    readme_server, page, artifacts
):
    page.goto(readme_server.url)
    wait_idle(page)
    page.get_by_text("English", exact=True).click()  # the sidebar language switch
    page.wait_for_selector("text=Attention interview prep")
    assert "lang=en" in page.url

    page.locator('[data-testid="stMain"] [data-testid="stPageLink"]').get_by_text(
        "Browse", exact=True).click()
    card = page.locator(".st-key-card-fx-why-sqrt")
    card.wait_for()
    assert ANSWER_EN not in card.inner_text()
    card.locator(".st-key-reveal-fx-why-sqrt button").click()
    page.get_by_text(ANSWER_EN).wait_for()
    wait_idle(page)
    no_exception(page)
    assert "lang=en" in page.url
    page.screenshot(path=artifacts / "journey-browse-revealed.png", full_page=True)

    page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"]').get_by_text(
        "Quiz", exact=True).click()
    count = page.locator(".st-key-quiz_count input")
    count.wait_for()
    assert "lang=en" in page.url  # the language survives the sidebar navigation
    count.fill("3")
    count.press("Enter")
    page.get_by_text("This quiz: 3 cards").wait_for()
    page.locator(".st-key-quiz_start button").click()
    page.get_by_text("Card 1 of 3").wait_for()
    wait_idle(page)

    # The card graded Again (1) comes back before the session ends: a fourth card.
    for number, total, key in ((1, 3, "3"), (2, 3, "4"), (3, 3, "1"), (4, 4, "3")):
        page.get_by_text(f"Card {number} of {total}").wait_for()
        page.evaluate("document.activeElement && document.activeElement.blur()")  # no widget focus
        page.keyboard.press("Space")
        page.locator(f".st-key-quiz_grade_{key} button").wait_for()
        wait_idle(page)
        if number == 1:
            page.screenshot(path=artifacts / "journey-quiz-revealed.png", full_page=True)
        page.keyboard.press(key)
        page.locator(".st-key-quiz_grade_1").wait_for(state="detached")
        wait_idle(page)
    page.get_by_text("Summary").wait_for()
    no_exception(page)
    page.screenshot(path=artifacts / "journey-quiz-summary.png", full_page=True)
    metrics = page.locator('[data-testid="stMetric"]').all_inner_texts()
    assert any(m.startswith("Cards") and m.endswith("4") for m in metrics), metrics
    assert page.locator(".st-key-quiz_missed [data-testid='stPageLink']").count() == 1

    readme_server.restart()
    page.goto(f"{readme_server.url}/Progress?lang=en")
    page.get_by_text("Reviews per day").wait_for()
    wait_idle(page)
    no_exception(page)
    metrics = page.locator('[data-testid="stMetric"]').all_inner_texts()
    assert any(m.startswith("Reviews") and m.endswith("4") for m in metrics), metrics
    expect(page.locator('.prep-chart.js-plotly-plot')).to_have_count(4)
    page.screenshot(path=artifacts / "journey-progress-after-restart.png", full_page=True)


def test_a_deep_link_is_the_first_request_after_a_restart(app_server, page, artifacts):
    app_server.restart()
    page.goto(f"{app_server.url}/Browse?q=fx-gqa-kv-cache")
    linked = page.locator(".st-key-linked-card-fx-gqa-kv-cache")
    linked.wait_for()
    wait_idle(page)
    no_exception(page)
    assert "GQA 如何减小 KV 缓存" in linked.inner_text()
    assert "链接的题目" in page.locator('[data-testid="stMain"]').inner_text()
    linked.locator(".st-key-linked-reveal-fx-gqa-kv-cache button").click()
    page.get_by_text("缓存缩小为原来的").first.wait_for()
    assert "lang=zh" in page.url and "q=fx-gqa-kv-cache" in page.url
    page.screenshot(path=artifacts / "journey-deep-link.png", full_page=True)
