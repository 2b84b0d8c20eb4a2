"""Real-browser journey of Quiz's "answer first" mode (Chromium through Playwright,
`streamlit run app.py`, the mock interview's fixture bank with key points).

By keyboard and mouse: pick the one question tagged scaled-dot-product, switch answer first on,
start, type an answer with a formula (the preview renders it), reveal, tick two of three key
points (Hard is starred as suggested), press 3 (Good) on the keyboard; the stored review has
Good and the typed answer. Then a new quiz, answer first off, studying ahead: after the reveal,
"Your last answer (date)" opens on what was typed. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import wait_idle
from fsrs import Rating

from prep.store import Store

ROOT = Path(__file__).resolve().parent.parent
BANK_DIR = ROOT / "tests" / "fixtures" / "interview_bank"
WORDS = "Variance grows like d_k, so divide by "
FORMULA = r"$\sqrt{d_k}$"

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def rubric_bank(monkeypatch):
    """Set before app_server starts (autouse fixtures come first), so the server reads it."""
    monkeypatch.setenv("ATTN_PREP_CONTENT", str(BANK_DIR))


def no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0


def blur(page) -> None:
    """No control focused: the page's shortcuts (Space, 1-4) apply."""
    page.evaluate("document.activeElement && document.activeElement.blur()")


def choose_why_sqrt(page) -> None:
    """Type into the tags picker, then click the one tag it offers."""
    page.locator(".st-key-quiz_tags input").click()
    page.keyboard.type("scaled-dot")
    page.get_by_role("option", name="scaled-dot-product").click()
    page.keyboard.press("Escape")
    page.get_by_text("1 question selected").wait_for()
    wait_idle(page)


def start(page) -> None:
    page.locator(".st-key-quiz_start button").click()
    page.get_by_text("Card 1 of 1").wait_for()
    wait_idle(page)


def test_answer_first_quiz_by_keyboard_and_mouse(app_server, page, artifacts, tmp_path):
    page.goto(f"{app_server.url}/Quiz?lang=en")
    choose_why_sqrt(page)
    page.locator(".st-key-quiz_answer_first label").click()            # the switch, by mouse
    wait_idle(page)
    start(page)
    assert "iv-why-sqrt" in page.locator(".st-key-quiz_card").inner_text()
    box = page.locator(".st-key-quiz_card textarea")
    box.click()
    page.keyboard.type(WORDS + FORMULA)
    page.keyboard.press("Control+Enter")                                  # commit: the preview
    preview = page.locator(".st-key-quiz_preview")
    preview.get_by_text("Variance grows like").wait_for()
    assert preview.locator(".katex").count() >= 1                         # the formula rendered
    wait_idle(page)
    page.screenshot(path=artifacts / "quiz-answer-first-typed.png", full_page=True)

    page.locator(".st-key-quiz_reveal button").click()
    boxes = page.locator('[data-testid="stCheckbox"]')
    boxes.first.wait_for()
    wait_idle(page)
    assert "Variance grows like" in page.locator(".st-key-quiz_mine").inner_text()
    assert "keeps the variance" in page.locator(".st-key-quiz_model").inner_text()
    assert boxes.count() == 3
    for index in range(2):                                                # 2 of 3 key points
        boxes.nth(index).click()
        wait_idle(page)
    primary = '[data-testid="stBaseButton-primary"]'
    page.locator(f".st-key-quiz_grade_2 {primary}").first.wait_for()      # starred: suggested
    assert [page.locator(f".st-key-quiz_grade_{n} {primary}").count() for n in (1, 3, 4)] == [
        0, 0, 0]
    no_exception(page)
    page.screenshot(path=artifacts / "quiz-answer-first-rubric.png", full_page=True)

    blur(page)
    page.keyboard.press("3")                                              # Good, overriding Hard
    page.get_by_text("Summary").wait_for()
    wait_idle(page)
    (review,) = Store(tmp_path / "progress.sqlite3").reviews()
    assert (review.question_id, review.rating, review.answer) == (
        "iv-why-sqrt", Rating.Good, WORDS + FORMULA)

    # The next review of that card: answer first off, studying ahead.
    page.locator(".st-key-quiz_new button").click()
    page.locator(".st-key-quiz_due_only label").filter(has_text="Everything").click()
    wait_idle(page)
    page.locator(".st-key-quiz_answer_first label").click()
    wait_idle(page)
    start(page)
    assert page.locator(".st-key-quiz_card textarea").count() == 0
    blur(page)
    page.keyboard.press("Space")                                          # reveal
    last = page.locator(".st-key-quiz_last_answer")
    last.wait_for()
    wait_idle(page)
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert f"Your last answer ({today})" in last.inner_text()
    last.locator("summary").click()
    last.get_by_text("Variance grows like").wait_for()
    page.wait_for_timeout(500)                                            # the expander's slide
    no_exception(page)
    page.screenshot(path=artifacts / "quiz-last-answer.png", full_page=True)
