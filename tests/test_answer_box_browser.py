"""Real-browser tests of the answer box (``prep.ui_answer_box``) in the mock interview and Quiz.

The bug: ``st.text_area`` sent its text only when the box lost focus, so an answer typed without
leaving the box was lost when the server restarted. Now the text reaches the server while the
learner types (a second after a pause, at least every three seconds), never mid-composition of
an input method, and a rerun answering an older send does not wipe newer keystrokes.
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from conftest import wait_idle
from fsrs import Rating
from playwright.sync_api import expect
from test_accessibility_browser import BLOCKING, DEVICES, _describe

from prep.bank import load_bank
from prep.interview_plan import plan
from prep.interview_store import StoreInterviews
from prep.store import Store

ROOT = Path(__file__).resolve().parent.parent
BANK_DIR = ROOT / "tests" / "fixtures" / "interview_bank"
TYPED = "The dot product of two random unit-variance vectors has variance d_k"
PAUSE_S = 4.0        # longer than the box's pause (1 s) and its longest wait (3 s)
SAVE_WAIT_S = 30.0
RUN_START_MS = 500
WHY_SQRT = {"en": "Why divide the scores by", "zh": "为什么要除以"}

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def interview_bank(monkeypatch):
    """Set before app_server starts (autouse fixtures come first), so the server reads it."""
    monkeypatch.setenv("ATTN_PREP_CONTENT", str(BANK_DIR))


def saved_text(db: Path) -> str | None:
    opened = StoreInterviews.at(db).open_interview("local")
    return opened[1].answers[-1].text if opened and opened[1].answers else None


def wait_saved(db: Path, text: str) -> None:
    deadline = time.monotonic() + SAVE_WAIT_S
    while saved_text(db) != text:
        assert time.monotonic() < deadline, f"not saved: {saved_text(db)!r}"
        time.sleep(0.2)


def open_page(page, url: str, path: str, lang: str = "en") -> None:
    page.goto(f"{url}/{path}?lang={lang}")
    wait_idle(page)


def start_interview(page, url: str, lang: str = "en") -> None:
    """A one-question interview on iv-why-sqrt (a rubric question), started by mouse."""
    questions = load_bank(BANK_DIR).questions
    seed = next(s for s in range(200)
                if plan(questions, random.Random(s), count=1)[0] == "iv-why-sqrt")
    open_page(page, url, "Mock_interview", lang)
    for key, value in (("iv_count", 1), ("iv_seed", seed)):
        field = page.locator(f".st-key-{key} input")
        field.fill(str(value))
        field.press("Enter")
        page.wait_for_timeout(RUN_START_MS)          # the rerun the value starts, then its end
        wait_idle(page)
    page.locator(".st-key-iv_start button").click()
    page.locator(".st-key-iv_question").get_by_text(WHY_SQRT[lang]).wait_for()
    answer_box(page).wait_for()
    wait_idle(page)


def start_quiz(page, url: str, lang: str = "en") -> None:
    """Quiz, answer first, on the fixture bank's first card (a rubric question)."""
    open_page(page, url, "Quiz", lang)
    page.locator(".st-key-quiz_answer_first label").click()
    wait_idle(page)
    page.locator(".st-key-quiz_start button").click()
    page.locator(".st-key-quiz_card textarea").wait_for()
    wait_idle(page)


def answer_box(page):
    return page.locator(".st-key-iv_question textarea")


def has_focus(box) -> bool:
    return box.evaluate("e => e.matches(':focus')")


def test_answer_typed_without_leaving_the_box_survives_a_server_restart(app_server, page):
    db = Path(app_server.env["ATTN_PREP_DB"])
    start_interview(page, app_server.url)
    box = answer_box(page)
    box.click()
    page.keyboard.type(TYPED)
    page.wait_for_timeout(PAUSE_S * 1000)            # no blur, no Tab, no click: just wait
    assert has_focus(box)
    assert box.input_value() == TYPED                # the rerun did not wipe what is typed
    app_server.restart()
    page.reload()
    answer_box(page).wait_for()
    wait_idle(page)
    expect(answer_box(page)).to_have_value(TYPED)    # resumed from the database
    assert saved_text(db) == TYPED


def test_continuous_typing_reaches_the_server_every_few_seconds(app_server, page):
    """Typing without a one-second pause for about seven seconds: the server gets a part of the
    answer while typing goes on, and the box loses no keystroke to the reruns it causes."""
    db = Path(app_server.env["ATTN_PREP_DB"])
    start_interview(page, app_server.url)
    seen: list[str] = []
    typing = threading.Event()
    typing.set()

    def watch() -> None:
        while typing.is_set():
            text = saved_text(db)
            if text and (not seen or seen[-1] != text):
                seen.append(text)
            time.sleep(0.1)

    watcher = threading.Thread(target=watch)
    box = answer_box(page)
    box.click()
    watcher.start()
    long_answer = TYPED + "; scaling by 1/sqrt(d_k) keeps softmax out of saturation."
    page.keyboard.type(long_answer, delay=60)        # ~125 keys, 60 ms apart: no pause of 1 s
    typing.clear()
    watcher.join()
    assert any(0 < len(text) < len(long_answer) and long_answer.startswith(text)
               for text in seen), seen               # a part arrived while typing went on
    assert box.input_value() == long_answer
    wait_saved(db, long_answer)


def test_nothing_is_sent_in_the_middle_of_an_input_method_composition(app_server, page):
    db = Path(app_server.env["ATTN_PREP_DB"])
    start_interview(page, app_server.url)
    box = answer_box(page)
    box.click()
    page.keyboard.type("Attention ")
    wait_saved(db, "Attention ")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.imeSetComposition", {"text": "zhu yi", "selectionStart": 6,
                                         "selectionEnd": 6})
    assert box.input_value() == "Attention zhu yi"   # composing: shown, not yet meant
    page.wait_for_timeout(PAUSE_S * 1000)
    assert saved_text(db) == "Attention "            # the pinyin being composed is not sent
    cdp.send("Input.insertText", {"text": "注意力"})  # the learner picks the characters
    wait_saved(db, "Attention 注意力")
    assert box.input_value() == "Attention 注意力"


def test_quiz_answer_first_preview_and_review_get_text_typed_without_leaving_the_box(
        app_server, page):
    db = Path(app_server.env["ATTN_PREP_DB"])
    start_quiz(page, app_server.url)
    box = page.locator(".st-key-quiz_card textarea")
    box.click()
    page.keyboard.type(TYPED)
    preview = page.locator(".st-key-quiz_preview")
    preview.get_by_text(TYPED).wait_for(timeout=PAUSE_S * 1000)  # arrived without a blur
    assert has_focus(box)
    page.locator(".st-key-quiz_reveal button").click()
    page.locator('[data-testid="stCheckbox"]').first.wait_for()
    wait_idle(page)
    page.locator(".st-key-quiz_grade_3 button").click()
    wait_idle(page)
    deadline = time.monotonic() + SAVE_WAIT_S
    while not Store(db).reviews():
        assert time.monotonic() < deadline, "no review stored"
        time.sleep(0.2)
    (review,) = Store(db).reviews()
    assert (review.rating, review.answer) == (Rating.Good, TYPED)


@pytest.mark.parametrize("device", list(DEVICES))
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_answer_box_has_no_serious_accessibility_violation(app_server, browser, lang, device):
    """axe-core on the interview's and Quiz's pages with the answer box typed into and focused
    (label, contrast, focus), in both languages, on a desktop and on a phone."""
    context = browser.new_context(locale="en-US", **DEVICES[device])
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        for start, where in ((start_interview, ".st-key-iv_question"),
                             (start_quiz, ".st-key-quiz_card")):
            box = f"{where} textarea"
            start(page, app_server.url, lang)
            page.locator(box).click()
            page.keyboard.type("softmax")
            page.wait_for_timeout(PAUSE_S * 1000)
            wait_idle(page)
            assert page.locator(box).evaluate("e => e.labels.length") == 1   # a real <label>
            results = Axe().run(page).response
            serious = [v for v in results["violations"] if v["impact"] in BLOCKING]
            assert not serious, f"{start.__name__} ({lang}, {device}):\n{_describe(serious)}"
    finally:
        context.close()
