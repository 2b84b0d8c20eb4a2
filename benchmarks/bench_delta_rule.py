"""Delta rule: the chunkwise-parallel form (WY / UT transform) vs the token-by-token recurrence.

Same inputs on both sides: B=1, H=4 heads as a batch dimension, L=2048 tokens, Dk=Dv=64,
L2-normalised keys, beta in (0, 1), decay in (0.9, 1] (Gated DeltaNet); the recurrence runs
``delta_rule(..., chunk_size=None)``, the chunkwise form ``chunk_size=64`` by default. Outputs
are checked equal (to 1e-4, float32) before timing. CPU time (time.process_time), one intra-op
thread by default, fastest of --rounds runs. Goal: chunkwise >= 5x faster.

Usage (from the repository root): PYTHONPATH=. python benchmarks/bench_delta_rule.py
      [--length 2048] [--chunk 64] [--rounds 3] [--threads 1]
It never fails on a missed goal: it prints "MISSED".
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from attention import delta_rule

HEADS, KEY_DIM, VALUE_DIM = 4, 64, 64
SPEED_GOAL = 5.0


def fastest(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=2048)
    parser.add_argument("--chunk", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    shape = (1, HEADS, args.length)
    query = torch.randn(*shape, KEY_DIM) / KEY_DIM**0.5
    key = F.normalize(torch.randn(*shape, KEY_DIM), dim=-1)
    value = torch.randn(*shape, VALUE_DIM)
    beta = torch.rand(*shape)
    decay = 0.9 + 0.1 * torch.rand(*shape)

    def recurrent() -> object:
        return delta_rule(query, key, value, beta, decay=decay)

    def chunkwise() -> object:
        return delta_rule(query, key, value, beta, decay=decay, chunk_size=args.chunk)

    with torch.no_grad():
        torch.testing.assert_close(chunkwise().output, recurrent().output, atol=1e-4, rtol=1e-4)
        fast = fastest(chunkwise, args.rounds)
        slow = fastest(recurrent, args.rounds)
    ratio = slow / fast
    status = "ok" if ratio >= SPEED_GOAL else "MISSED"
    print(
        f"delta rule at B=1, H={HEADS}, L={args.length}, Dk=Dv={KEY_DIM} "
        f"(CPU time, {torch.get_num_threads()} thread(s))"
    )
    print(f"{'ours':<28}{'baseline':<24}{'ours vs baseline':>22}{'speed-up':>10}  goal")
    print(
        f"{'chunkwise (C=' + str(args.chunk) + ')':<28}{'recurrence (1 token/step)':<24}"
        f"{fast * 1e3:>9.0f} ms vs {slow * 1e3:>5.0f} ms{ratio:>9.1f}x"
        f"  >= {SPEED_GOAL:.0f}x {status}"
    )


if __name__ == "__main__":
    main()
