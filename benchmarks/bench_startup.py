"""Cold start: `streamlit run app.py` healthy, then the first page rendered in Chromium.

Budget (warm install): healthy and first page rendered within 5 s. Run:
    .venv/bin/python benchmarks/bench_startup.py
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = 5.0
REPEATS = 3
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
            return response.read().strip() == b"ok"
    except OSError:
        return False


def one_start(browser, path: str) -> tuple[float, float]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ATTN_PREP_DB": str(Path(tempfile.mkdtemp()) / "progress.sqlite3")}
    start = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        while not healthy(url):
            time.sleep(0.05)
        health_s = time.perf_counter() - start
        page = browser.new_page()
        page.goto(f"{url}{path}")
        page.wait_for_selector('[data-testid="stMarkdown"]')
        page.wait_for_selector(IDLE, state="attached")
        rendered_s = time.perf_counter() - start
        page.close()
        return health_s, rendered_s
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)


def main() -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        header = ("first request", "healthy s", "rendered s", "budget s", "ratio")
        print("{:<28}{:>10}{:>12}{:>10}{:>7}".format(*header))
        for path in ("/", "/Browse?q=fund-why-sqrt-dk"):
            runs = [one_start(browser, path) for _ in range(REPEATS)]
            health = sorted(r[0] for r in runs)[REPEATS // 2]
            rendered = sorted(r[1] for r in runs)[REPEATS // 2]
            print(f"{path:<28}{health:>10.2f}{rendered:>12.2f}{BUDGET_S:>10.1f}"
                  f"{rendered / BUDGET_S:>7.2f}")
        browser.close()
    print(f"median of {REPEATS} cold starts each; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
