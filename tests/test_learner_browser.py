"""Real-browser checks of issue 16's learner items (Chromium through Playwright, fixture bank):

1. bug 3: with the focus on "End quiz", Space presses it instead of revealing the answer; with no
   control focused, Space still reveals;
2. keyboard hints are hidden on a touch screen (390 x 844) and shown on a desktop;
3. Home's section cards open Browse filtered to that section.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CHROMIUM, wait_idle  # noqa: F401  (CHROMIUM: the fixtures' browser)

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_BANK = ROOT / "tests" / "fixtures" / "bank"
HINTS = ".st-key-key_hints"
SHORTCUT_BADGES = '[aria-label^="Shortcut "]'

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def fixture_bank(monkeypatch):
    """Set before app_server starts (autouse fixtures come first), so the server reads it."""
    monkeypatch.setenv("ATTN_PREP_CONTENT", str(FIXTURE_BANK))


def no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0


def start_quiz(page, url: str) -> None:
    page.goto(f"{url}/Quiz?lang=en")
    page.locator(".st-key-quiz_start button").click()
    page.get_by_text("Card 1 of").wait_for()
    wait_idle(page)


def test_bug16_3_space_on_a_focused_end_quiz_pressed_reveal_instead(app_server, page, artifacts):
    start_quiz(page, app_server.url)
    end = page.locator(".st-key-quiz_end button")
    end.focus()
    assert page.evaluate("document.activeElement.closest('.st-key-quiz_end') !== null")
    page.keyboard.press("Space")
    page.get_by_text("Summary").wait_for()
    wait_idle(page)
    no_exception(page)
    page.screenshot(path=artifacts / "learner-space-on-end-quiz.png", full_page=True)
    assert page.locator(".st-key-quiz_grade_1").count() == 0  # never revealed
    metrics = page.locator('[data-testid="stMetric"]').all_inner_texts()
    assert any(m.startswith("Cards") and m.endswith("0") for m in metrics), metrics

    # The shortcut itself still works when no control has the focus.
    page.locator(".st-key-quiz_new button").click()
    page.locator(".st-key-quiz_start button").click()
    page.get_by_text("Card 1 of").wait_for()
    wait_idle(page)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Space")
    page.locator(".st-key-quiz_grade_3 button").wait_for()
    no_exception(page)


def test_keyboard_hints_are_hidden_on_a_touch_screen_and_shown_on_a_desktop(
    app_server, page, browser, artifacts
):
    start_quiz(page, app_server.url)
    assert page.locator(HINTS).is_visible()
    assert page.locator(SHORTCUT_BADGES).first.is_visible()  # "Space" on Show answer

    phone = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True,
                                is_mobile=True, locale="en-US")
    try:
        mobile = phone.new_page()
        mobile.set_default_timeout(30_000)
        start_quiz(mobile, app_server.url)
        mobile.locator(".st-key-quiz_reveal button").wait_for()
        mobile.screenshot(path=artifacts / "learner-quiz-phone.png", full_page=True)
        assert mobile.locator(HINTS).count() == 1 and not mobile.locator(HINTS).is_visible()
        badges = mobile.locator(SHORTCUT_BADGES)
        assert badges.count() >= 1
        assert not any(badges.nth(i).is_visible() for i in range(badges.count()))
        no_exception(mobile)
    finally:
        phone.close()


def test_home_section_card_opens_browse_filtered_to_its_section(app_server, page, artifacts):
    page.goto(f"{app_server.url}/?lang=en")
    wait_idle(page)
    page.locator(".st-key-home_section_heads [data-testid='stPageLink'] a").click()
    page.locator(".st-key-card-fx-why-heads").wait_for()
    wait_idle(page)
    no_exception(page)
    page.screenshot(path=artifacts / "learner-home-section-to-browse.png", full_page=True)
    cards = page.locator("[class*='st-key-card-']")
    assert cards.count() == 2  # fx-why-heads, fx-gqa-kv-cache
    assert page.locator(".st-key-card-fx-why-sqrt").count() == 0
    chosen = page.locator(".st-key-browse_sections").inner_text()
    assert "Heads" in chosen
    assert "section=" not in page.url  # read once, then dropped: the filter is the learner's
