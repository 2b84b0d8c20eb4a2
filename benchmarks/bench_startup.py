"""Cold start: `streamlit run app.py` healthy, then the first page rendered in Chromium.

Budget (warm install): healthy and first page rendered within 5 s. Three cases: Home on a new
database (the first start after an install: the schema created; the bank read from the cache that
the install wrote, ``python -m prep cache`` in ``make setup``, where the checkout has one), Home
and a deep link to Browse on an existing one (every later start). With ``--baseline REV`` the
same starts are made, turn about, from a throwaway git worktree of REV (same Python, same machine,
same run), so a machine that is slower today than the day a figure was written does not hide or
invent a regression. Run:
    .venv/bin/python benchmarks/bench_startup.py [--baseline 6eb7f33] [--repeats 5]

6eb7f33 is the last commit before wave 2.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = 5.0
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
START_TIMEOUT_S = 60
CASES = (("/", "new"), ("/", "existing"), ("/Browse?q=fund-why-sqrt-dk", "existing"))


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


def one_start(browser, checkout: Path, path: str, db: Path, cache: Path) -> tuple[float, float]:
    """Start the app in ``checkout`` on the database ``db`` with the bank cache folder ``cache``;
    seconds to healthy and to rendered."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ATTN_PREP_DB": str(db), "ATTN_PREP_CACHE": str(cache),
           "PYTHONPATH": str(checkout)}
    start = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=checkout, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        while not healthy(url):
            if server.poll() is not None or time.perf_counter() - start > START_TIMEOUT_S:
                raise RuntimeError(f"{checkout}: the app did not start (exit {server.poll()})")
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


def install(checkout: Path, cache: Path) -> Path:
    """What ``make setup`` leaves in the bank cache folder ``cache``: the entry written by
    ``python -m prep cache`` (a checkout without that command leaves nothing). Untimed, and done
    for every round before the first start, so it warms no file for one start only."""
    env = {**os.environ, "ATTN_PREP_CACHE": str(cache), "PYTHONPATH": str(checkout)}
    done = subprocess.run([sys.executable, "-m", "prep", "cache"], cwd=checkout, env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 2 and not any(cache.glob("bank-*.json")):  # 2: no such command there
        raise RuntimeError(f"{checkout}: python -m prep cache wrote no entry: {done.stderr}")
    return cache


def measure(browser, checkouts: dict[str, Path], repeats: int) -> dict:
    """{(case, checkout name): [(healthy, rendered), ...]}, the checkouts taking turns (each
    goes first in every other round, so a warm-up effect falls on both)."""
    work = Path(tempfile.mkdtemp())
    try:
        existing = {}
        for name, checkout in checkouts.items():  # an untimed first start creates each database
            existing[name] = work / f"{name}.sqlite3"  # (and the bank cache of later starts)
            one_start(browser, checkout, "/", existing[name], work / f"{name}-cache")
        runs: dict = {}
        installed = {(name, repeat): install(checkout, work / f"{name}-{repeat}-cache")
                     for repeat in range(repeats) for name, checkout in checkouts.items()}
        for case in CASES:
            path, database = case
            for repeat in range(repeats):
                order = list(checkouts.items())
                for name, checkout in order[::-1] if repeat % 2 else order:
                    if database == "existing":
                        db, cache = existing[name], work / f"{name}-cache"
                    else:  # the first start after an install: no database yet
                        db = work / f"{name}-{repeat}.sqlite3"
                        cache = installed[name, repeat]
                    runs.setdefault((case, name), []).append(
                        one_start(browser, checkout, path, db, cache))
        return runs
    finally:
        shutil.rmtree(work, ignore_errors=True)


def worktree(rev: str) -> Path:
    folder = Path(tempfile.mkdtemp()) / "baseline"
    subprocess.run(["git", "worktree", "add", "--detach", "-q", str(folder), rev], cwd=ROOT,
                   check=True)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="a git revision to start beside ours, turn about")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if args.baseline and args.repeats < 2:
        parser.error("--baseline needs --repeats 2 or more (the ratios' quartiles)")
    checkouts = {"ours": ROOT}
    if args.baseline:
        checkouts["baseline"] = worktree(args.baseline)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            runs = measure(browser, checkouts, args.repeats)
            browser.close()
    finally:
        if args.baseline:
            subprocess.run(["git", "worktree", "remove", "--force", str(checkouts["baseline"])],
                           cwd=ROOT, check=False)
            shutil.rmtree(checkouts["baseline"].parent, ignore_errors=True)
    header = ["first request (database)", "healthy s", "rendered s"]
    if args.baseline:
        header += [f"{args.baseline} s", "ours/base", "quartiles"]
    print(f"{header[0]:<42}" + "".join(f"{h:>12}" for h in header[1:]) + f"{'budget s':>10}")
    for case in CASES:
        health = statistics.median(r[0] for r in runs[case, "ours"])
        rendered = statistics.median(r[1] for r in runs[case, "ours"])
        line = f"{case[0] + ' (' + case[1] + ')':<42}{health:>12.2f}{rendered:>12.2f}"
        if args.baseline:
            base = statistics.median(r[1] for r in runs[case, "baseline"])
            # Each round started both, one after the other: the ratio within a round cancels
            # what the machine was doing then. The median of those ratios, and its quartiles.
            ratios = [o[1] / b[1] for o, b in zip(runs[case, "ours"], runs[case, "baseline"],
                                                  strict=True)]
            low, mid, high = statistics.quantiles(ratios, n=4, method="inclusive")
            line += f"{base:>12.2f}{mid:>12.2f}{f'{low:.2f}-{high:.2f}':>12}"
        print(line + f"{BUDGET_S:>10.1f}")
    print(f"median of {args.repeats} starts each (ours/base: the median of the ratios within a "
          f"round); load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
