"""Make the README's screenshots (docs/*.png) from the real app and the real bank.

    .venv/bin/python scripts/screenshots.py [--lang en|zh] [--out docs]

Starts `streamlit run app.py` on a free port with a throw-away progress database, drives Debian's
Chromium through Playwright (no download), and saves:

    home.png                 Home
    browse.png               Browse, an answer revealed
    browse-search.png        Browse searching "KV cache": ranked results, matched words highlighted
    quiz.png                 Quiz, a card revealed, grade buttons with their intervals
    quiz-answer-first.png    Quiz in answer-first mode after the reveal: typed answer, key points
    lab.png                  Lab at its default settings (the attention heatmaps)
    interview.png            Mock interview: typed answer, key points ticked, grade suggested
    interview-report.png     Mock interview report
    progress.png             Progress (after the grades above)

Every step waits for the app to be connected and idle; the waits retry until their timeout.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1400, "height": 1000}
START_TIMEOUT_S = 60.0
POLL_S = 0.2
# Connected and not running: before the websocket connects, "notRunning" also holds.
IDLE = ('[data-testid="stApp"][data-test-connection-state="CONNECTED"]'
        '[data-test-script-state="notRunning"]')
QUIZ_GRADES = ("3", "4", "1")  # Good, Easy, Again: enough history for the Progress charts
SLOW_MS = 120_000  # the Lab's first run imports torch; on a busy machine that takes a while
MAX_HEIGHT = 4000  # px: the tallest viewport fit() makes
MAX_BYTES = 300_000  # a larger PNG is re-saved with a 256-colour palette
SEARCH = "KV cache"
GRID = ".st-key-lab_grid .js-plotly-plot"
# The mock interview: a question with five key points, asked first, and an answer to it.
INTERVIEW_FIRST = "fund-why-sqrt-dk"
INTERVIEW_COUNT = 2
INTERVIEW_TICKS = 3  # of five: "Hard" is suggested
FOLLOW_UP_TICKS = 0  # follow-ups graded untouched: a tick right after their reveal got lost
ANSWER = {
    "en": "q·k sums d_k products of unit-variance terms, so its variance is d_k. Dividing by "
          "$\\sqrt{d_k}$ brings it back to 1; otherwise softmax saturates and its gradient "
          "vanishes.",
    "zh": "q·k 是 d_k 个单位方差乘积之和，方差为 d_k。除以 $\\sqrt{d_k}$ 让方差回到 1；"
          "否则 softmax 饱和，梯度消失。",
}
QUIZ_TAG = "variance"  # the one question tagged so (it has key points)
OTHER_ANSWER = {"en": "It depends on the sequence length and the head dimension.",
                "zh": "取决于序列长度和头维度。"}
TEXT = {  # the few page texts the script waits for
    "en": {"card": "Card 1 of 1", "selected": "1 question selected"},
    "zh": {"card": "第 1 / 1 张", "selected": "所选范围 1 题"},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(db_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "ATTN_PREP_DB": str(db_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
                if response.read().strip() == b"ok":
                    return process, url
        except OSError:
            time.sleep(POLL_S)
    process.terminate()
    raise SystemExit(f"the app did not become healthy within {START_TIMEOUT_S:.0f} s")


def idle(page) -> None:
    page.wait_for_selector(IDLE, state="attached")


def blur(page) -> None:
    """No control focused: the page's shortcuts (Space, 1-4) apply, and no focus ring shows."""
    page.evaluate("document.activeElement && document.activeElement.blur()")


def no_error(page, name: str) -> None:
    if page.locator('[data-testid="stException"]').count():
        raise SystemExit(f"{name}: the page shows an error box")


def save_png(data: bytes, path: Path) -> Path:
    """Write ``data``; above MAX_BYTES, as a palette PNG (Pillow) instead."""
    if len(data) > MAX_BYTES:
        from PIL import Image

        image = Image.open(io.BytesIO(data)).convert("RGB")
        buffer = io.BytesIO()
        image.quantize(256, method=Image.Quantize.MEDIANCUT).save(buffer, "PNG", optimize=True)
        data = buffer.getvalue()
    path.write_bytes(data)
    return path


def tick(page, ticks: int, prefix: str, check: bool = True) -> None:
    """Tick the first ``ticks`` key points; with ``check``, wait until the suggested grade
    (computed as the app does) is the starred button: the last tick's rerun has finished."""
    sys.path.insert(0, str(ROOT))
    from prep.interview import suggest_grade

    boxes = page.locator('[data-testid="stCheckbox"]')
    boxes.first.wait_for()
    idle(page)
    total = boxes.count()
    for index in range(min(ticks, total)):
        boxes.nth(index).click()
        boxes.nth(index).locator("input").wait_for(state="attached")
        page.wait_for_function("box => box.checked", arg=boxes.nth(index).locator("input")
                               .element_handle())
        page.wait_for_timeout(500)  # the rerun starts
        idle(page)
    if not check:
        page.locator(f'[class*="st-key-{prefix}_grade_"] [data-testid="stBaseButton-primary"]') \
            .first.wait_for()
        idle(page)
        return
    grade = int(suggest_grade(min(ticks, total), total, timedelta(0)))
    page.locator(f".st-key-{prefix}_grade_{grade} [data-testid=\"stBaseButton-primary\"]").first \
        .wait_for()
    idle(page)


def retry(shot, page, url: str, lang: str, out: Path, attempts: int = 2):
    """Run ``shot`` again (from its page's start) if a wait times out, e.g. on a busy machine."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(attempts):
        try:
            return shot(page, url, lang, out)
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise
            sys.stderr.write(f"{shot.__name__}: a wait timed out; trying again\n")
            unfit(page)


def fit(page) -> None:
    """Make the viewport as tall as the page: Streamlit scrolls inside its own container, so a
    full-page or element screenshot shows only what fits in the window."""
    height = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
        " const b = document.querySelector('[data-testid=\"stMainBlockContainer\"]');"
        " return Math.max(m ? m.scrollHeight : 0, b ? b.scrollHeight : 0); }")
    page.set_viewport_size({"width": VIEWPORT["width"],
                            "height": max(VIEWPORT["height"], min(int(height) + 40, MAX_HEIGHT))})
    page.wait_for_timeout(300)  # the relayout
    idle(page)


def unfit(page) -> None:
    page.set_viewport_size(VIEWPORT)


def clip_between(page, top, bottom, margin: int = 16) -> dict:
    """The clip from ``top``'s top to ``bottom``'s bottom (locators), as wide as both."""
    first, last = top.bounding_box(), bottom.bounding_box()
    left = min(first["x"], last["x"]) - margin
    right = max(first["x"] + first["width"], last["x"] + last["width"]) + margin
    y = first["y"] - margin
    return {"x": max(0, left), "y": max(0, y), "width": right - max(0, left),
            "height": last["y"] + last["height"] + margin - max(0, y)}


def interview_seed() -> int:
    """A seed whose interview starts with INTERVIEW_FIRST (the app draws with the same plan)."""
    sys.path.insert(0, str(ROOT))
    from prep import interview_plan
    from prep.bank import load_bank

    questions = load_bank(ROOT / "content").questions
    for seed in range(5000):
        chosen = interview_plan.plan(questions, random.Random(seed), count=INTERVIEW_COUNT)
        if chosen[0] == INTERVIEW_FIRST:
            return seed
    raise SystemExit(f"no seed starts the interview with {INTERVIEW_FIRST}")


def lab_shot(page, url: str, lang: str, out: Path) -> Path:
    page.goto(f"{url}/Lab?lang={lang}")
    page.wait_for_function(
        f"() => {{ const el = document.querySelector({GRID!r});"
        " return el && el.data && el.data.some(t => t.type === 'heatmap'); }",
        timeout=SLOW_MS)
    idle(page)
    page.wait_for_timeout(500)  # plotly's first draw
    no_error(page, "lab")
    below = page.evaluate(  # the bottom of the grid's "as text" expander, else of the grid
        "sel => { const grid = document.querySelector(sel).getBoundingClientRect();"
        " const after = Array.from(document.querySelectorAll('[data-testid=\"stExpander\"]'))"
        ".map(e => e.getBoundingClientRect()).filter(r => r.top > grid.bottom - 1);"
        " return after.length ? after[0].bottom : grid.bottom; }", ".st-key-lab_grid")
    clip = {"x": 0, "y": 0, "width": VIEWPORT["width"],
            "height": min(VIEWPORT["height"], below + 24)}
    return save_png(page.screenshot(clip=clip), out / "lab.png")


def search_shot(page, url: str, lang: str, out: Path) -> Path:
    page.goto(f"{url}/Browse?lang={lang}")
    box = page.locator(".st-key-browse_query input")
    box.wait_for()
    idle(page)
    box.fill(SEARCH)
    box.press("Enter")
    page.locator('[class*="st-key-card-"] mark, [class*="st-key-card-"] span[style]').first \
        .wait_for(state="attached")
    idle(page)
    blur(page)
    no_error(page, "browse search")
    return save_png(page.screenshot(), out / "browse-search.png")


def quiz_answer_first_shot(page, url: str, lang: str, out: Path) -> Path:
    page.goto(f"{url}/Quiz?lang={lang}")
    tags = page.locator(".st-key-quiz_tags input")
    tags.wait_for()
    idle(page)
    tags.click()
    page.keyboard.type(QUIZ_TAG)
    page.get_by_role("option", name=QUIZ_TAG, exact=True).click()
    page.keyboard.press("Escape")
    page.get_by_text(TEXT[lang]["selected"]).wait_for()
    idle(page)
    page.locator(".st-key-quiz_answer_first label").click()
    idle(page)
    page.locator(".st-key-quiz_start button").click()
    page.get_by_text(TEXT[lang]["card"]).wait_for()
    idle(page)
    page.locator(".st-key-quiz_card textarea").click()
    page.keyboard.type(ANSWER[lang])
    page.keyboard.press("Control+Enter")
    page.locator(".st-key-quiz_preview .katex").first.wait_for()
    idle(page)
    page.locator(".st-key-quiz_reveal button").click()
    tick(page, INTERVIEW_TICKS, "quiz")
    blur(page)
    no_error(page, "quiz answer first")
    fit(page)
    clip = clip_between(page, page.locator("h1").first,
                        page.locator(".st-key-quiz_grade_4").first)
    path = save_png(page.screenshot(clip=clip), out / "quiz-answer-first.png")
    unfit(page)
    page.keyboard.press("3")  # Good: one more review for Progress
    page.locator(".st-key-quiz_grade_1").wait_for(state="detached")
    idle(page)
    return path


def interview_shots(page, url: str, lang: str, out: Path) -> list[Path]:
    page.goto(f"{url}/Mock_interview?lang={lang}")
    count = page.locator(".st-key-iv_count input")
    count.wait_for()
    idle(page)
    count.fill(str(INTERVIEW_COUNT))
    count.press("Enter")
    idle(page)
    seed = page.locator(".st-key-iv_seed input")
    seed.fill(str(interview_seed()))
    seed.press("Enter")
    idle(page)
    page.locator(".st-key-iv_start button").click()
    question = page.locator(".st-key-iv_question")
    question.locator("textarea").wait_for()
    idle(page)
    saved = []
    report = page.locator(".st-key-iv_report")
    for step in range(8):  # the main questions and their follow-ups, until the report
        idle(page)
        if report.count():
            break
        if not question.locator("textarea").count():  # a numeric question: skip it
            page.locator(".st-key-iv_skip button").click()
            idle(page)
            continue
        question.locator("textarea").click()
        page.keyboard.type(ANSWER[lang] if step == 0 else OTHER_ANSWER[lang])
        page.keyboard.press("Tab")  # leaving the box sends the text
        idle(page)
        page.locator(".st-key-iv_reveal button").click()
        tick(page, INTERVIEW_TICKS if step == 0 else FOLLOW_UP_TICKS, "iv", check=step == 0)
        blur(page)
        no_error(page, "interview")
        if step == 0:
            fit(page)
            clip = clip_between(page, page.locator("h1").first,
                                page.locator(".st-key-iv_grade_4").first)
            saved.append(save_png(page.screenshot(clip=clip), out / "interview.png"))
            unfit(page)
        page.locator(".st-key-iv_grade_3 button").first.click()
        page.locator('[data-testid="stCheckbox"]').first.wait_for(state="detached")
    report.wait_for()
    idle(page)
    page.wait_for_timeout(500)  # the report's charts
    no_error(page, "interview report")
    fit(page)
    clip = clip_between(page, report, report)
    saved.append(save_png(page.screenshot(clip=clip), out / "interview-report.png"))
    unfit(page)
    return saved


def shoot(url: str, lang: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    saved = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(30_000)

        page.goto(f"{url}/?lang={lang}")
        page.locator('[data-testid="stMetric"]').first.wait_for()
        idle(page)
        saved.append(out / "home.png")
        page.screenshot(path=saved[-1])

        page.goto(f"{url}/Browse?lang={lang}")
        reveal = page.locator('[class*="st-key-reveal-"] button').first
        reveal.wait_for()
        idle(page)
        shown = reveal.inner_text()
        reveal.click()
        page.wait_for_function(  # the button now says "Hide answer": the rerun has drawn it
            "([sel, before]) => { const b = document.querySelector(sel);"
            " return b && b.innerText !== before; }",
            arg=['[class*="st-key-reveal-"] button', shown])
        idle(page)
        blur(page)
        saved.append(out / "browse.png")
        page.screenshot(path=saved[-1])
        saved.append(retry(search_shot, page, url, lang, out))

        page.goto(f"{url}/Quiz?lang={lang}")
        page.locator(".st-key-quiz_start button").click()
        for number, grade in enumerate(QUIZ_GRADES):
            page.locator(".st-key-quiz_reveal button").wait_for()
            idle(page)
            page.evaluate("document.activeElement && document.activeElement.blur()")
            page.keyboard.press("Space")
            page.locator(f".st-key-quiz_grade_{grade} button").wait_for()
            idle(page)
            if number == 0:  # the whole card: question, answer, grade buttons
                fit(page)
                clip = clip_between(page, page.locator("h1").first,
                                    page.locator(".st-key-quiz_grade_4").first)
                saved.append(save_png(page.screenshot(clip=clip), out / "quiz.png"))
                unfit(page)
                blur(page)
            page.keyboard.press(grade)
            page.locator(".st-key-quiz_grade_1").wait_for(state="detached")
        saved.append(retry(quiz_answer_first_shot, page, url, lang, out))
        saved.append(retry(lab_shot, page, url, lang, out))
        saved.extend(interview_shots(page, url, lang, out))

        page.goto(f"{url}/Progress?lang={lang}")
        page.locator('.prep-chart.js-plotly-plot').first.wait_for()
        idle(page)
        saved.append(out / "progress.png")
        page.screenshot(path=saved[-1], full_page=True)
        browser.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=("en", "zh"), default="en")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        process, url = start_server(Path(tmp) / "progress.sqlite3")
        try:
            for path in shoot(url, args.lang, args.out):
                sys.stdout.write(f"{path}\n")
        finally:
            process.terminate()
            process.wait()


if __name__ == "__main__":
    main()
