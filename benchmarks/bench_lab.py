"""Lab budgets: server time of one rerun and bytes sent, at the default and the largest settings.

Budgets (PRODUCT.md, issue 5): a slider change re-renders in at most 150 ms server time at the
default settings and 600 ms at the largest offered (16 heads, 256 tokens); what one rerun sends
is at most 1 MB at the largest settings, with hover values exact to 0.01.

"logic" is what the Lab's fragment does on the server for one rerun: run(config) (uncached, as
after a slider change), building every figure, and serialising each one as the app's chart
component sends it (prep.ui_chart.figure_json, itself a string inside the element's JSON).
"AppTest rerun" is a whole-script rerun after changing the seed (a new configuration of the
same size, so no cache hit; AppTest reruns the whole page even for widgets
inside a fragment, so it is an upper bound).
"bytes sent" is the plotly JSON of all figures of one rerun, raw and after the websocket's
permessage-deflate (server.enableWebsocketCompression; zlib level 6, raw deflate).

Run: .venv/bin/python benchmarks/bench_lab.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prep import lab, ui_chart  # noqa: E402

REPEATS = 7
APPTEST_REPEATS = 3
DEFLATE_LEVEL = 6          # tornado's default for websocket compression
RAW_DEFLATE = -15          # permessage-deflate has no zlib header
MS = 1000.0
MB = 1_000_000
DEFAULT = lab.LabConfig()
LARGEST = replace(DEFAULT, tokens="random", seq_len=lab.MAX_TOKENS, heads=lab.MAX_HEADS,
                  embed_dim=max(lab.EMBED_DIMS))
BUDGET_MS = {"default": 150.0, "largest": 600.0}
BUDGET_BYTES = 1 * MB
HOVER_TOLERANCE = 0.01
HOVER = lab.viz.HOVER_NAMES


def figures(result: lab.LabResult) -> list:
    titles = [f"head {h + 1}" for h in range(result.weights.shape[0])]
    built = [
        lab.heads_figure(result, titles, HOVER),
        lab.average_figure(result, "average", HOVER),
        lab.row_figure(result, ("head", "average")),
    ]
    built += [lab.matrix_figure(s.values, s.row_labels, s.col_labels, "") for s in result.steps]
    return built


def one_rerun(config: lab.LabConfig) -> list[str]:
    result = lab.run(config)
    return [json.dumps(ui_chart.figure_json(figure)) for figure in figures(result)]


def time_logic(config: lab.LabConfig) -> tuple[float, float]:
    """(median, fastest) of REPEATS reruns, in ms; the fastest is the least disturbed by other
    processes on the machine."""
    one_rerun(config)  # warm-up
    samples = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        one_rerun(config)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * MS, min(samples) * MS


def deflated(payload: str) -> int:
    compressor = zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, RAW_DEFLATE)
    return len(compressor.compress(payload.encode()) + compressor.flush(zlib.Z_SYNC_FLUSH))


def hover_error(config: lab.LabConfig, grid_json: str) -> float:
    """Largest difference between a hover value (z in percent) and the exact weight."""
    spec = json.loads(json.loads(grid_json))  # the figure's JSON, sent as a string
    weights = lab.run(config).weights
    shown = np.stack([lab.decode_z(t) for t in spec["data"] if t["type"] == "heatmap"])
    return float(np.abs(shown.astype(np.float64) / 100.0 - weights).max())


def time_apptest(config: lab.LabConfig) -> float:
    from streamlit.testing.v1 import AppTest

    params = config.to_query_params()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("pages/3_Lab.py")
    at.query_params.update(params)
    at.run()
    samples = []
    for i in range(APPTEST_REPEATS):
        # A new seed each time: a new configuration of the same size (no cache hit).
        start = time.perf_counter()
        at.number_input(key="lab_seed").set_value(config.seed + i + 1).run()
        samples.append(time.perf_counter() - start)
        if at.exception or at.error:
            raise SystemExit(f"AppTest rerun failed: {at.exception or at.error}")
    return statistics.median(samples) * MS


def main() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    rows = []
    for name, config in (("default", DEFAULT), ("largest", LARGEST)):
        payloads = one_rerun(config)
        raw = sum(len(p) for p in payloads)
        wire = sum(deflated(p) for p in payloads)
        rows.append((name, config, time_logic(config), time_apptest(config), raw, wire,
                     hover_error(config, payloads[0])))
    print(f"{'settings':<9} {'L':>4} {'H':>3} {'E':>4} | {'logic ms':>8} {'(min)':>7} "
          f"{'budget':>6} {'ratio':>5} | {'AppTest ms':>10} | {'raw MB':>6} {'sent MB':>7} "
          f"{'budget':>6} {'ratio':>5} | {'hover err':>9} {'budget':>6}")
    for name, config, (logic_ms, fastest_ms), apptest_ms, raw, wire, error in rows:
        length, _ = lab.token_counts(config)
        budget = BUDGET_MS[name]
        print(f"{name:<9} {length:>4} {config.heads:>3} {config.embed_dim:>4} | "
              f"{logic_ms:>8.1f} {fastest_ms:>7.1f} {budget:>6.0f} {logic_ms / budget:>5.2f} | "
              f"{apptest_ms:>10.1f} | "
              f"{raw / MB:>6.3f} {wire / MB:>7.3f} {BUDGET_BYTES / MB:>6.1f} "
              f"{wire / BUDGET_BYTES:>5.2f} | {error:>9.4f} {HOVER_TOLERANCE:>6.2f}")
    print("logic = median (fastest) of one rerun's server work; ratio = median / budget.")
    print("sent = raw plotly JSON after permessage-deflate (server.enableWebsocketCompression);"
          " hover err = max |hover value - exact weight|.")
    print(f"machine load average (1 min): {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
