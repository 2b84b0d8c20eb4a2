"""Practice's code editor in a real browser with the network cut off: every request that is not
to this machine is aborted (and recorded), so an editor that fetched Ace, a theme or a font from
a CDN would fail here. The editor loads, Tab indents, Ctrl+Enter runs the tests, a wrong
solution fails with its message, the fix passes, Esc then Tab leaves the editor, and the draft
survives a browser reload."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from conftest import wait_idle

from prep.exercises import get

EXERCISE = "sdpa-masked"
EDITOR = f".st-key-practice_code_{EXERCISE}_0 iframe"
RESULT_TIMEOUT_MS = 60_000
MAX_TABS_OUT = 4  # the editor text -> Esc -> its frame, two scroll bars, then out
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def block_the_network(page) -> list[str]:
    """Abort every request to another host; returns the list the attempts are written to."""
    attempted: list[str] = []

    def route(route) -> None:
        url = route.request.url
        host = urlparse(url).hostname or ""
        if url.startswith(("data:", "blob:", "about:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            attempted.append(url)
            route.abort()

    page.context.route("**/*", route)
    return attempted


def ace(page):
    """The Ace editor's text box inside the component's iframe."""
    return page.frame_locator(EDITOR).locator(".ace_text-input")


def editor_text(page) -> str:
    return page.frame_locator(EDITOR).locator(".ace_editor").evaluate(
        "e => e.env.editor.getValue()")


def replace_code(page, code: str) -> None:
    """Put ``code`` in the editor (as a paste would) and leave the cursor at the end."""
    page.frame_locator(EDITOR).locator(".ace_editor").evaluate(
        "(e, code) => { e.env.editor.setValue(code, 1); e.env.editor.focus(); }", code)


@pytest.mark.browser
def test_editor_offline_tab_ctrl_enter_wrong_then_fixed(app_server, page, artifacts):
    attempted = block_the_network(page)
    exercise = get(EXERCISE)
    page.goto(f"{app_server.url}/Practice?lang=en&ex={EXERCISE}")
    wait_idle(page)
    page.frame_locator(EDITOR).locator(".ace_line").first.wait_for(timeout=RESULT_TIMEOUT_MS)
    assert editor_text(page) == exercise.starter
    frame = page.frame_locator(EDITOR)
    assert frame.locator(".ace_gutter-cell").count() > 5, "line numbers"
    assert frame.locator(".ace_keyword").count() > 0, "Python highlighting"

    # Tab indents four spaces; Shift+Tab takes them back
    replace_code(page, "x = (1, 2)\n")
    page.keyboard.press("Tab")
    assert editor_text(page).endswith("\n    ")
    page.keyboard.press("Shift+Tab")
    assert editor_text(page) == "x = (1, 2)\n"
    # bracket matching: with the cursor after ")", both brackets are marked
    frame.locator(".ace_editor").evaluate("e => e.env.editor.gotoLine(1, 10)")
    frame.locator(".ace_bracket").first.wait_for(state="attached")
    assert frame.locator(".ace_bracket").count() == 2

    # a wrong solution, run with Ctrl+Enter: it fails with the message naming the mistake
    wrong = exercise.solution.replace("masked_fill(~attn_mask", "masked_fill(attn_mask")
    replace_code(page, wrong)
    page.keyboard.press("Control+Enter")
    failures = page.locator(".st-key-practice_failures")
    failures.get_by_text("opposite mask convention").first.wait_for(timeout=RESULT_TIMEOUT_MS)
    wait_idle(page)
    assert page.get_by_text("tests did not pass").count() >= 1
    page.screenshot(path=str(artifacts / "practice-editor-wrong.png"), full_page=True)

    # the fix, run with Ctrl+Enter: every test passes
    replace_code(page, exercise.solution)
    page.keyboard.press("Control+Enter")
    page.get_by_text("All 4 tests passed").wait_for(timeout=RESULT_TIMEOUT_MS)
    wait_idle(page)
    assert failures.count() == 0
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(artifacts / "practice-editor-passed.png"), full_page=True)

    # Esc then Tab leaves the editor: the keyboard is never trapped (Ace's keyboard-accessible
    # mode: Esc moves focus from the text to the editor's frame; Tab then walks on, past its
    # scroll bars, out of the component to the page's next control)
    ace(page).focus()
    page.keyboard.press("Escape")
    for _ in range(MAX_TABS_OUT):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.tagName") != "IFRAME":
            break
    assert page.evaluate("() => document.activeElement.tagName") != "IFRAME", "trapped"
    assert editor_text(page) == exercise.solution, "a Tab after Esc typed into the code"

    # the draft was saved when the editor sent its text: a reload brings it back
    page.reload()
    wait_idle(page)
    page.frame_locator(EDITOR).locator(".ace_line").first.wait_for()
    assert editor_text(page) == exercise.solution
    assert attempted == [], f"requests to other hosts: {attempted}"
