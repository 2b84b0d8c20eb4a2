"""Real model budgets: bytes one rerun sends at 128 tokens, model load time, time per sentence.

Budget (issue 7, PRODUCT.md's Lab budget): sentences up to 128 tokens stay within 1 MB per rerun.
"bytes per rerun" is the serialized size of every element the page draws in one AppTest run
(plotly JSON, dataframe, text), raw and after the websocket's permessage-deflate
(server.enableWebsocketCompression). "load" is a fresh tokenizer + model load from the installed
package (imports excluded after the first); "attend" runs one sentence through the model with
every layer's attention and hidden states; "reproduce" is our MultiHeadAttention on one layer;
"figures" builds the head heatmap and the 6 x 12 thumbnail grid.

Run: .venv/bin/python benchmarks/bench_realmodel.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import zlib
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prep import realmodel  # noqa: E402
from prep import realmodel_figures as figures  # noqa: E402

REPEATS = 5
MS = 1000.0
MB = 1_000_000
BUDGET_BYTES = 1 * MB
DEFLATE_LEVEL = 6  # tornado's default for websocket compression
RAW_DEFLATE = -15  # permessage-deflate has no zlib header
SHORT = "The animal didn't cross the street because it was too tired."
LONG = (
    "Attention lets every token read from every other token, weighted by how well its query "
    "matches their keys; the weights of each query sum to one. "
) * 8  # well over 128 WordPiece tokens: truncated to 128


def median_ms(action, repeats: int = REPEATS) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * MS


def element_payloads(at) -> list[bytes]:
    """The serialized proto of every element the page drew in one run."""
    found: list[bytes] = []

    def walk(node) -> None:
        children = getattr(node, "children", None)
        if children:
            for child in children.values():
                walk(child)
            return
        proto = getattr(node, "proto", None)
        if hasattr(proto, "SerializeToString"):
            found.append(proto.SerializeToString())

    walk(at._tree)
    return found


def deflated(payload: bytes) -> int:
    compressor = zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, RAW_DEFLATE)
    return len(compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH))


def page_bytes(sentence: str) -> tuple[int, int, int]:
    """(tokens, raw bytes, deflated bytes) of one page run with ``sentence`` typed in."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["lang"] = "en"
    at.run()
    at.switch_page("pages/5_Real_model.py").run()
    at.text_input(key="rm_a").input(sentence).run()
    at.selectbox(key="rm_layer").set_value(3).run()  # a widget change: one more rerun
    if at.exception or at.error:
        raise SystemExit(f"page failed: {at.exception or at.error}")
    payloads = element_payloads(at)
    tokens = realmodel.attend(sentence).num_tokens
    return tokens, sum(map(len, payloads)), sum(deflated(p) for p in payloads)


def main() -> None:
    if not realmodel.available():
        raise SystemExit(realmodel.how_to_enable("en"))
    start = time.perf_counter()
    model = realmodel.load_fresh()
    first_load_s = time.perf_counter() - start  # includes importing transformers
    warm_load_s = median_ms(realmodel.load_fresh, repeats=3) / MS
    print(f"model load: first {first_load_s:.2f} s (with imports), again {warm_load_s:.2f} s")

    print(f"{'sentence':<9} {'T':>4} | {'attend ms':>9} {'stats ms':>8} {'reproduce ms':>12} "
          f"{'figures ms':>10} | {'max |diff|':>10}")
    for name, sentence in (("short", SHORT), ("128 tok", LONG)):
        result = realmodel.attend(sentence, model=model)
        attend_ms = median_ms(lambda s=sentence: realmodel.attend(s, model=model))
        stats_ms = median_ms(result.statistics)
        reproduce_ms = median_ms(lambda r=result: realmodel.reproduce(r, 3, model=model))
        figures_ms = median_ms(lambda r=result: (
            figures.head_heatmap(r.attentions, r.tokens, 3, 5, "").to_json(),
            figures.head_grid(r.attentions, selected=(3, 5)).to_json(),
        ))
        worst = max(realmodel.reproduce(result, layer, model=model).max_diff
                    for layer in range(model.num_layers))
        print(f"{name:<9} {result.num_tokens:>4} | {attend_ms:>9.1f} {stats_ms:>8.1f} "
              f"{reproduce_ms:>12.1f} {figures_ms:>10.1f} | {worst:>10.1e}")

    print(f"\n{'sentence':<9} {'T':>4} | {'raw MB':>6} {'sent MB':>7} {'budget MB':>9} "
          f"{'raw/budget':>10}")
    for name, sentence in (("short", SHORT), ("128 tok", LONG)):
        tokens, raw, wire = page_bytes(sentence)
        print(f"{name:<9} {tokens:>4} | {raw / MB:>6.3f} {wire / MB:>7.3f} "
              f"{BUDGET_BYTES / MB:>9.1f} {raw / BUDGET_BYTES:>10.2f}")
    print("raw = every element's serialized proto in one page run; "
          "sent = after permessage-deflate.")


if __name__ == "__main__":
    main()
