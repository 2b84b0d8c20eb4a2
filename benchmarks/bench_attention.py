"""Budget check for the `attention` package: our modules beside torch's, printed as ratios.

Goals (PRODUCT.md, "Budgets"):
  1. MultiHeadAttention with weights <= 1.1x nn.MultiheadAttention(need_weights=True,
     average_attn_weights=False) at B=8, L=256, E=512, H=8.
  2. MultiHeadAttention(need_weights=False) <= 1.1x the same projections around
     F.scaled_dot_product_attention (our module routes to it; the ratio is our overhead).
  3. tiled_attention's peak memory at 8192 tokens <= 10% of the naive (full-matrix) version's.

How it measures:
  * Time: both sides run in the same process on the same inputs, in eval mode under no_grad,
    alternating A, B, A, B ... for several rounds of a few calls each; the table shows the
    fastest round's time per call (disturbances only ever add time, so the minimum is the most
    repeatable estimate, as timeit advises). The clock is this process's CPU time
    (time.process_time) with one intra-op thread by default (--threads), so other programs
    competing for the cores move the ratio much less than they would move wall-clock time.
    Absolute times are for this machine only. In eval mode under no_grad, nn.MultiheadAttention
    takes its fused C++ fast path (torch._native_multi_head_attention) even with weights: that is
    the bar our readable Python meets.
  * Memory: torch.profiler with profile_memory=True records every allocation and free of the
    CPU allocator (c10), each with the running total of bytes allocated since profiling started.
    The peak of that running total is the peak *tensor* memory the call needed on top of its
    inputs: exact bytes, no allocator caching or RSS noise (torch's CPU allocator does not cache).

Usage (from the repository root; PYTHONPATH=. makes it measure this tree's package):
    PYTHONPATH=. python benchmarks/bench_attention.py [--threads N] [--rounds R] [--tokens 8192]
It never fails on a missed goal (budgets are reported, not asserted): it prints "MISSED".
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch._C._profiler import _EventType
from torch.profiler import ProfilerActivity, profile

from attention import MultiHeadAttention, scaled_dot_product_attention, tiled_attention

BATCH, LENGTH, EMBED, HEADS = 8, 256, 512, 8
TIME_GOAL = 1.10
MEMORY_GOAL = 0.10
MEMORY_HEADS, MEMORY_HEAD_DIM = 2, 64
TILE = 128
MIB = 2**20


def fastest_times(
    a: Callable[[], object], b: Callable[[], object], rounds: int
) -> tuple[float, float]:
    """Seconds per call of a and b (fastest round), measured alternately so drift hits both."""
    for fn in (a, b):  # warm up: first calls allocate and pick kernels
        fn()
        fn()
    calls = 5
    times_a, times_b = [], []
    for _ in range(rounds):
        for fn, times in ((a, times_a), (b, times_b)):
            start = time.process_time()
            for _ in range(calls):
                fn()
            times.append((time.process_time() - start) / calls)
    return min(times_a), min(times_b)


def peak_tensor_bytes(fn: Callable[[], object]) -> int:
    """Peak bytes of CPU tensor memory allocated while fn runs (its result included)."""
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        result = fn()
        del result
    peak = 0
    stack = list(prof.profiler.kineto_results.experimental_event_tree())
    while stack:
        event = stack.pop()
        stack.extend(event.children)
        if event.tag == _EventType.Allocation:
            peak = max(peak, event.extra_fields.total_allocated)
    return peak


def time_once(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--tokens", type=int, default=8192)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rows: list[tuple[str, str, str, float, str]] = []

    # 1-2. Multi-head attention, same weights on both sides.
    reference = nn.MultiheadAttention(EMBED, HEADS, batch_first=True).eval()
    ours = MultiHeadAttention.from_torch(reference).eval()
    x = torch.randn(BATCH, LENGTH, EMBED)

    def torch_with_weights() -> object:
        return reference(x, x, x, need_weights=True, average_attn_weights=False)

    def ours_with_weights() -> object:
        return ours(x, need_weights=True)

    def ours_without_weights() -> object:
        return ours(x, need_weights=False)

    def projections_and_fused_sdpa() -> object:
        # The same computation with no checks and no branches: what need_weights=False should cost.
        q = ours.query_linear(x).view(BATCH, LENGTH, HEADS, -1).transpose(1, 2)
        k = ours.key_linear(x).view(BATCH, LENGTH, HEADS, -1).transpose(1, 2)
        v = ours.value_linear(x).view(BATCH, LENGTH, HEADS, -1).transpose(1, 2)
        context = F.scaled_dot_product_attention(q, k, v)  # (B, H, L, D)
        return ours.out_linear(context.transpose(1, 2).reshape(BATCH, LENGTH, EMBED))

    def torch_without_weights() -> object:
        return reference(x, x, x, need_weights=False)

    with torch.no_grad():
        mine, theirs = fastest_times(ours_with_weights, torch_with_weights, args.rounds)
        rows.append(
            (
                "MHA with weights",
                "nn.MultiheadAttention(need_weights=True)",
                f"{mine * 1e3:.2f} ms vs {theirs * 1e3:.2f} ms",
                mine / theirs,
                f"<= {TIME_GOAL:.2f}x",
            )
        )
        mine, theirs = fastest_times(ours_without_weights, projections_and_fused_sdpa, args.rounds)
        rows.append(
            (
                "MHA need_weights=False",
                "projections + F.scaled_dot_product_attention",
                f"{mine * 1e3:.2f} ms vs {theirs * 1e3:.2f} ms",
                mine / theirs,
                f"<= {TIME_GOAL:.2f}x",
            )
        )
        mine, theirs = fastest_times(ours_without_weights, torch_without_weights, args.rounds)
        rows.append(
            (
                "MHA need_weights=False",
                "nn.MultiheadAttention(need_weights=False)",
                f"{mine * 1e3:.2f} ms vs {theirs * 1e3:.2f} ms",
                mine / theirs,
                "(info)",
            )
        )
        q = torch.randn(BATCH, HEADS, LENGTH, EMBED // HEADS)
        mine, theirs = fastest_times(
            lambda: scaled_dot_product_attention(q, q, q),
            lambda: F.scaled_dot_product_attention(q, q, q),
            args.rounds,
        )
        rows.append(
            (
                "scaled_dot_product_attention",
                "F.scaled_dot_product_attention (fused)",
                f"{mine * 1e3:.2f} ms vs {theirs * 1e3:.2f} ms",
                mine / theirs,
                "(info: price of the weights)",
            )
        )

        # 3. Tiled vs naive at args.tokens tokens, one batch item, a few heads.
        n = args.tokens
        q, k, v = (torch.randn(1, MEMORY_HEADS, n, MEMORY_HEAD_DIM) for _ in range(3))

        def naive() -> object:
            return scaled_dot_product_attention(q, k, v)

        def tiled() -> object:
            return tiled_attention(q, k, v, block_size=TILE)

        naive_peak, tiled_peak = peak_tensor_bytes(naive), peak_tensor_bytes(tiled)
        rows.append(
            (
                f"tiled_attention (block {TILE})",
                f"naive, full {n}x{n} matrix",
                f"{tiled_peak / MIB:.1f} MiB vs {naive_peak / MIB:.1f} MiB",
                tiled_peak / naive_peak,
                f"<= {MEMORY_GOAL:.2f}x",
            )
        )
        naive_time, tiled_time = time_once(naive), time_once(tiled)
        rows.append(
            (
                f"tiled_attention (block {TILE})",
                f"naive, full {n}x{n} matrix",
                f"{tiled_time:.2f} s vs {naive_time:.2f} s",
                tiled_time / naive_time,
                "(info: time)",
            )
        )

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); "
        f"MHA at B={BATCH}, L={LENGTH}, E={EMBED}, H={HEADS}; "
        f"memory at 1 x {MEMORY_HEADS} heads x {args.tokens} tokens x {MEMORY_HEAD_DIM}"
    )
    header = ("ours", "baseline", "ours vs baseline", "ratio", "goal", "")
    table = [(a, b, c, f"{r:.3f}x", g, _verdict(r, g)) for a, b, c, r, g in rows]
    widths = [max(len(str(row[i])) for row in (header, *table)) for i in range(len(header))]
    for row in (header, tuple("-" * w for w in widths), *table):
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


def _verdict(ratio: float, goal: str) -> str:
    if not goal.startswith("<="):
        return ""
    limit = float(goal.removeprefix("<= ").removesuffix("x"))
    return "ok" if ratio <= limit else "MISSED"


if __name__ == "__main__":
    main()
