"""Practice in a real browser: open an exercise, type a wrong solution, run it, see the failure,
fix it, run it, see every test pass."""

from __future__ import annotations

import re

import pytest
from conftest import wait_idle
from playwright.sync_api import expect

from prep.exercises import get

EXERCISE = "sdpa-masked"
EDITOR = f".st-key-practice_code_{EXERCISE}_0 iframe"  # the Ace editor component
RUN = ".st-key-practice_run button"
RESULT_TIMEOUT_MS = 60_000


def editor_text(page) -> str:
    return page.frame_locator(EDITOR).locator(".ace_editor").evaluate(
        "e => e.env.editor.getValue()")


def wait_for_editor(page, text: str) -> None:
    page.frame_locator(EDITOR).locator(".ace_line").first.wait_for(timeout=RESULT_TIMEOUT_MS)
    assert editor_text(page) == text


def run_code(page, code: str) -> None:
    """Fill the editor, then click the Run button (the editor sends its text on blur)."""
    page.frame_locator(EDITOR).locator(".ace_editor").evaluate(
        "(e, code) => { e.env.editor.setValue(code, 1); e.env.editor.focus(); }", code)
    page.locator(RUN).click()


@pytest.mark.browser
def test_wrong_solution_fails_then_fixed_solution_passes(app_server, page, artifacts):
    exercise = get(EXERCISE)
    page.goto(f"{app_server.url}/Practice?lang=en&ex={EXERCISE}")
    wait_idle(page)
    wait_for_editor(page, exercise.starter)

    run_code(page, exercise.solution.replace("masked_fill(~attn_mask", "masked_fill(attn_mask"))
    failures = page.locator(".st-key-practice_failures")
    failures.get_by_text("opposite mask convention").first.wait_for(timeout=RESULT_TIMEOUT_MS)
    wait_idle(page)
    assert page.get_by_text("tests did not pass").count() >= 1
    page.locator('.prep-chart.js-plotly-plot').first.wait_for()  # yours beside the reference
    page.screenshot(path=str(artifacts / "practice-wrong.png"), full_page=True)

    run_code(page, exercise.solution)
    page.get_by_text("All 4 tests passed").wait_for(timeout=RESULT_TIMEOUT_MS)
    wait_idle(page)
    assert failures.count() == 0
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(artifacts / "practice-passed.png"), full_page=True)


@pytest.mark.browser
def test_switching_language_keeps_the_chosen_exercise(app_server, page):
    # The picker's value lives in the browser as the exercise title: after a language switch
    # the next click fell back to the first exercise and put the old title in the URL.
    page.goto(f"{app_server.url}/Practice?lang=en&ex=gqa")
    wait_idle(page)
    for language, title in (("中文", get("gqa").title["zh"]), ("English", get("gqa").title["en"])):
        page.get_by_text(language, exact=True).click()
        page.wait_for_function(
            "title => document.querySelector('.st-key-practice_exercise input')?.value === title",
            arg=title,
        )
        wait_idle(page)
        page.locator(".st-key-practice_hint button").click()
        page.locator('[data-testid="stAlertContentInfo"]').first.wait_for()
        wait_idle(page)
        expect(page.locator(".st-key-practice_exercise input")).to_have_value(title)
        assert re.search(r"[?&]ex=gqa(&|$)", page.url), page.url
        assert page.locator(".st-key-practice_code_gqa_0 iframe").count() == 1


@pytest.mark.browser
def test_bug16_4_the_verdict_is_greyed_once_typing_pauses_and_marked_stale(
    app_server, page, artifacts
):
    exercise = get(EXERCISE)
    page.goto(f"{app_server.url}/Practice?lang=en&ex={EXERCISE}")
    wait_idle(page)
    wait_for_editor(page, exercise.starter)
    run_code(page, exercise.solution)
    page.get_by_text("All 4 tests passed").wait_for(timeout=RESULT_TIMEOUT_MS)
    wait_idle(page)
    note = page.get_by_text("This verdict is for earlier code")
    verdict = page.locator(".st-key-practice_verdict")
    assert note.count() == 0
    assert verdict.evaluate("e => getComputedStyle(e).opacity") == "1"

    frame = page.frame_locator(EDITOR)
    frame.locator(".ace_text-input").focus()
    page.keyboard.press("Control+End")
    page.keyboard.type("  # edited")  # still focused: the editor sends its text once typing
    stale = page.locator(".st-key-practice_verdict_stale")  # pauses, and the server greys it
    stale.wait_for(timeout=RESULT_TIMEOUT_MS)
    expect(note).to_be_visible()
    page.wait_for_function(  # greyed (its style element may mount a moment after it)
        "() => parseFloat(getComputedStyle("
        "document.querySelector('.st-key-practice_verdict_stale')).opacity) < 1")
    assert page.locator(".st-key-practice_verdict").count() == 0
    page.screenshot(path=str(artifacts / "practice-stale-typing.png"), full_page=True)

    page.locator("h1").first.click()  # blur: the server reruns and keeps it stale
    wait_idle(page)
    expect(page.locator(".st-key-practice_verdict_stale")).to_be_visible()
    assert page.get_by_text("This verdict is for earlier code").count() == 1
