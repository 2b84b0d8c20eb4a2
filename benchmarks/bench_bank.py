"""Time to load and validate the whole question bank (budget: under 100 ms), and to read it back
from the cache a later start uses (``prep.bank.cache``).

Run: .venv/bin/python benchmarks/bench_bank.py (from a worktree: PYTHONPATH=. so that the
worktree's prep is imported). On a busy machine wall time grows with the load; the CPU-time row
is what this process itself spent.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from prep import numeric, settings
from prep.bank import cache, load_bank

BUDGET_MS = 100.0
REPEATS = 20


def main() -> None:
    path = settings.content_dir()
    load_bank(path)  # warm the file cache and imports
    times, cpu_times = [], []
    for _ in range(REPEATS):
        start, cpu_start = time.perf_counter(), time.process_time()
        bank = load_bank(path)
        times.append((time.perf_counter() - start) * 1000)
        cpu_times.append((time.process_time() - cpu_start) * 1000)
    median = statistics.median(times)
    numbers = [q for q in bank.questions if q.numeric is not None]
    numeric_times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for q in numbers:
            numeric.spec_problems(q)
        numeric_times.append((time.perf_counter() - start) * 1000)
    print(
        f"bank: {len(bank.sections)} sections, {len(bank.questions)} questions, "
        f"{len(bank.problems)} problems"
    )
    with tempfile.TemporaryDirectory() as folder:  # a later start: read from prep.bank.cache
        cache.load(path, Path(folder))
        cached_times = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            cache.load(path, Path(folder))
            cached_times.append((time.perf_counter() - start) * 1000)
    print(f"{'measure':<28}{'ours':>10}{'budget':>10}{'ratio':>8}")
    rows = (
        ("load + validate (median)", median),
        ("load + validate (max)", max(times)),
        ("  CPU time (median)", statistics.median(cpu_times)),
        (f"  of which {len(numbers)} numeric", statistics.median(numeric_times)),
        ("read from the cache (median)", statistics.median(cached_times)),
    )
    for label, value in rows:
        print(f"{label:<28}{value:>8.1f}ms{BUDGET_MS:>8.0f}ms{value / BUDGET_MS:>8.2f}")


if __name__ == "__main__":
    main()
