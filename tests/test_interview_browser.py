"""Real-browser journey of a mock interview (Chromium through Playwright, `streamlit run app.py`).

Start a three-question interview by keyboard and mouse, type answers, tick key points, answer a
follow-up, stop the server mid-interview, reload, resume (the typed text is back), finish, read
the report, and find the session on Progress. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

import pytest
from conftest import wait_idle
from playwright.sync_api import expect

from prep.bank import load_bank
from prep.interview_plan import plan
from prep.interview_store import StoreInterviews

ROOT = Path(__file__).resolve().parent.parent
BANK_DIR = ROOT / "tests" / "fixtures" / "interview_bank"
SAVE_WAIT_S = 30.0
FOLLOW_UP_TEXT = "It is nearly one-hot, so the gradient vanishes"

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def interview_bank(monkeypatch):
    """Set before app_server starts (autouse fixtures come first), so the server reads it."""
    monkeypatch.setenv("ATTN_PREP_CONTENT", str(BANK_DIR))


def _seed() -> int:
    """A seed whose three main questions start with iv-why-sqrt (it has a follow-up) and
    include the numeric question."""
    questions = load_bank(BANK_DIR).questions
    for seed in range(200):
        chosen = plan(questions, random.Random(seed), count=3)
        if chosen[0] == "iv-why-sqrt" and "iv-window-keys" in chosen:
            return seed
    raise AssertionError("no seed gives the wanted interview")


def no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0


def saved_text(db: Path) -> str | None:
    opened = StoreInterviews.at(db).open_interview("local")
    return opened[1].answers[-1].text if opened else None


def wait_saved(db: Path, text: str) -> None:
    """Until the server has written ``text`` into the open interview (poll the database)."""
    deadline = time.monotonic() + SAVE_WAIT_S
    while saved_text(db) != text:
        assert time.monotonic() < deadline, f"not saved: {saved_text(db)!r}"
        time.sleep(0.2)


def question_box(page):
    return page.locator(".st-key-iv_question")


def type_answer(page, text: str) -> None:
    box = question_box(page).locator("textarea")
    box.click()
    page.keyboard.type(text)


def reveal_and_tick(page, ticks: int) -> None:
    page.locator(".st-key-iv_reveal button").click()
    boxes = page.locator('[data-testid="stCheckbox"]')
    boxes.first.wait_for()
    wait_idle(page)
    for index in range(ticks):
        boxes.nth(index).click()
        wait_idle(page)


def press_grade(page, rating: int) -> None:
    wait_idle(page)
    page.locator(f".st-key-iv_grade_{rating} button").first.click()


def answer_number(page, artifacts: Path) -> None:
    text = question_box(page).inner_text()
    window, sinks, position = (int(x) for x in re.search(
        r"window of (\d+) and (\d+) sink tokens, how many keys does query (\d+)", text).groups())
    right = min(position + 1, window) + max(0, min(sinks, position + 1 - window))
    field = question_box(page).locator("input")
    field.click()
    page.keyboard.type(str(right))
    page.screenshot(path=artifacts / "interview-number.png", full_page=True)
    page.keyboard.press("Enter")  # QA: Enter only kept the value; now it checks, like Check
    page.get_by_text(f"Right: {right} keys").wait_for()
    wait_idle(page)
    page.get_by_role("button", name=re.compile(r"Record (Good|Easy)")).click()


def test_mock_interview_resumes_after_a_restart_and_lands_on_progress(app_server, page,
                                                                       artifacts):
    db = Path(app_server.env["ATTN_PREP_DB"])
    page.goto(f"{app_server.url}/?lang=en")
    wait_idle(page)
    page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"]').get_by_text(
        "Mock interview", exact=True).click()
    count = page.locator(".st-key-iv_count input")
    count.wait_for()
    count.click()
    count.press("ControlOrMeta+a")
    page.keyboard.type("3")
    page.keyboard.press("Tab")                      # the keyboard moves on; the value commits
    seed = page.locator(".st-key-iv_seed input")
    seed.fill(str(_seed()))
    seed.press("Enter")
    page.get_by_text("this interview: 3 main questions").wait_for()
    wait_idle(page)
    page.screenshot(path=artifacts / "interview-setup.png", full_page=True)
    page.locator(".st-key-iv_start button").click()

    # Main question 1: type, reveal, tick two points, grade Good with the keyboard.
    page.get_by_text("Main question 1 of 3").wait_for()
    question_box(page).get_by_text("Why divide the scores by").wait_for()
    wait_idle(page)
    type_answer(page, "The dot product has variance d_k; scaling keeps softmax unsaturated")
    reveal_and_tick(page, 2)
    page.get_by_text("Your ticks suggest Hard").wait_for()        # 2 of 3 key points
    wait_idle(page)
    assert page.locator(".st-key-iv_grade_2 button").first.get_attribute("kind") == "primary"
    assert page.locator(".st-key-iv_grade_3 button").first.get_attribute("kind") == "secondary"
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.screenshot(path=artifacts / "interview-rubric.png", full_page=True)
    page.keyboard.press("3")                        # Good, overriding the suggestion

    # The follow-up: type, let it save, then the server stops mid-interview.
    page.get_by_text("The interviewer follows up:").wait_for()
    wait_idle(page)
    type_answer(page, FOLLOW_UP_TEXT)
    page.keyboard.press("Tab")                      # leaving the box sends the text
    wait_saved(db, FOLLOW_UP_TEXT)
    app_server.restart()
    page.reload()
    page.get_by_text("The interviewer follows up:").wait_for()
    wait_idle(page)
    no_exception(page)
    # The box shows the saved text once its script has run (it retries until then).
    expect(question_box(page).locator("textarea")).to_have_value(FOLLOW_UP_TEXT)
    page.screenshot(path=artifacts / "interview-resumed-after-restart.png", full_page=True)
    reveal_and_tick(page, 3)
    press_grade(page, 3)

    # Main questions 2 and 3: the numeric one (graded by the app) and the mask question.
    for number in (2, 3):
        page.get_by_text(f"Main question {number} of 3").wait_for()
        wait_idle(page)
        if question_box(page).locator("textarea").count():
            type_answer(page, "In SDPA True means take part; a float mask is added")
            reveal_and_tick(page, 1)
            press_grade(page, 1)
        else:
            answer_number(page, artifacts)
        no_exception(page)

    # The report, then Progress.
    report = page.locator(".st-key-iv_report")
    report.wait_for()
    wait_idle(page)
    no_exception(page)
    metrics = report.locator('[data-testid="stMetric"]').all_inner_texts()
    assert any(m.startswith("Questions") and m.endswith("4") for m in metrics), metrics
    assert any(m.startswith("Total score") and m.endswith("75%") for m in metrics), metrics
    assert report.locator('[data-testid="stDownloadButton"]').count() == 1
    page.screenshot(path=artifacts / "interview-report.png", full_page=True)
    page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"]').get_by_text(
        "Progress", exact=True).click()
    panel = page.locator(".st-key-iv_progress")
    panel.wait_for()
    wait_idle(page)
    no_exception(page)
    assert "4 questions" in panel.inner_text()
    assert "Basics" in panel.inner_text() and "(" in panel.inner_text()  # latest score, dated
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=artifacts / "interview-progress.png")
