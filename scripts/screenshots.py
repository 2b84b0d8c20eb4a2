"""Make the README's screenshots (docs/*.png) from the real app and the real bank.

    .venv/bin/python scripts/screenshots.py [--lang en|zh] [--out docs]

Starts `streamlit run app.py` on a free port with a throw-away progress database, drives Debian's
Chromium through Playwright (no download), and saves Home, Browse (an answer revealed), Quiz (a card
revealed, grade buttons with their intervals) and Progress (after a few grades).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1400, "height": 1000}
START_TIMEOUT_S = 60.0
POLL_S = 0.2
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
QUIZ_GRADES = ("3", "4", "1")  # Good, Easy, Again: enough history for the Progress charts


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
        reveal.click()
        page.locator('[class*="st-key-reveal-"] button').first.wait_for()
        idle(page)
        saved.append(out / "browse.png")
        page.screenshot(path=saved[-1])

        page.goto(f"{url}/Quiz?lang={lang}")
        page.locator(".st-key-quiz_start button").click()
        for number, grade in enumerate(QUIZ_GRADES):
            page.locator(".st-key-quiz_reveal button").wait_for()
            idle(page)
            page.evaluate("document.activeElement && document.activeElement.blur()")
            page.keyboard.press("Space")
            page.locator(f".st-key-quiz_grade_{grade} button").wait_for()
            idle(page)
            if number == 0:
                saved.append(out / "quiz.png")
                page.screenshot(path=saved[-1])
            page.keyboard.press(grade)
            page.locator(".st-key-quiz_grade_1").wait_for(state="detached")

        page.goto(f"{url}/Progress?lang={lang}")
        page.locator('[data-testid="stPlotlyChart"]').first.wait_for()
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
