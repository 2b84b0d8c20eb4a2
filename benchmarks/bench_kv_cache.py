"""KV cache: elements held per token and layer (DeepSeek-V2's Table 1), and decoding speed.

1. Elements per token per layer, measured by running our MultiHeadAttention,
   GroupedQueryAttention and MultiHeadLatentAttention at DeepSeek-V2's dimensions (n_h = 128
   heads, d_h = 128, d_c = 4 d_h = 512, d_h^R = d_h / 2 = 64, E = 5120; the modules are built on
   torch's "meta" device, so no weights are allocated) into a KVCache and reading
   ``cache.numel / len(cache)``, printed beside the formulas of DeepSeek-V2's Table 1
   (https://arxiv.org/abs/2405.04434): MHA 2 n_h d_h, GQA 2 n_g d_h, MQA 2 d_h,
   MLA (d_c + d_h^R) = 4.5 d_h, "equal to GQA with only 2.25 groups".
2. Decoding: a prompt of --prompt tokens, then --steps new tokens one at a time, through one
   attention layer (E=512, H=8, B=1, eval, no_grad, need_weights=False), either with a KVCache
   (each step projects one token) or recomputing the whole prefix at each step (a full causal
   forward, keeping the last row). Both give the same outputs (checked). Goal: cache >= 5x faster.
   CPU time (time.process_time), one intra-op thread by default, the fastest of --rounds runs.

Usage (from the repository root): PYTHONPATH=. python benchmarks/bench_kv_cache.py
       [--steps 256] [--prompt 16] [--rounds 3] [--threads 1]
It never fails on a missed goal: it prints "MISSED".
"""

from __future__ import annotations

import argparse
import functools
import time
from collections.abc import Callable

import torch

from attention import (
    AttentionOutput,
    GroupedQueryAttention,
    KVCache,
    MultiHeadAttention,
    MultiHeadLatentAttention,
)

HEADS, HEAD_DIM = 128, 128  # DeepSeek-V2: n_h, d_h
EMBED = 5120  # DeepSeek-V2's model width, MLA's E
HEADS_WIDTH = HEADS * HEAD_DIM  # MHA / GQA have D = E / H, so E = n_h d_h = 16384 gives d_h = 128
KV_LORA_RANK, ROPE_DIM = 4 * HEAD_DIM, HEAD_DIM // 2  # d_c = 4 d_h, d_h^R = d_h / 2
GQA_GROUPS = 8
SPEED_GOAL = 5.0
DECODE_EMBED, DECODE_HEADS = 512, 8


def deepseek_mla(embed: int = EMBED) -> MultiHeadLatentAttention:
    return MultiHeadLatentAttention(
        embed,
        HEADS,
        kv_lora_rank=KV_LORA_RANK,
        qk_nope_head_dim=HEAD_DIM,
        qk_rope_head_dim=ROPE_DIM,
        v_head_dim=HEAD_DIM,
        q_lora_rank=1536,
    )


def held_per_token(module: torch.nn.Module, embed: int) -> int:
    """Run 3 tokens through ``module`` into a cache; elements it holds per token (batch 1)."""
    cache = KVCache()
    x = torch.empty(1, 3, embed, device="meta")
    module(x, is_causal=True, kv_cache=cache, need_weights=False)
    return cache.numel // len(cache)


def table() -> None:
    with torch.device("meta"):
        gqa = GroupedQueryAttention(HEADS_WIDTH, HEADS, GQA_GROUPS)
        modules = {
            "MHA": (
                MultiHeadAttention(HEADS_WIDTH, HEADS),
                HEADS_WIDTH,
                2 * HEADS * HEAD_DIM,
                "2 n_h d_h",
            ),
            f"GQA ({GQA_GROUPS} groups)": (
                gqa,
                HEADS_WIDTH,
                2 * GQA_GROUPS * HEAD_DIM,
                "2 n_g d_h",
            ),
            "MQA": (
                GroupedQueryAttention(HEADS_WIDTH, HEADS, 1),
                HEADS_WIDTH,
                2 * HEAD_DIM,
                "2 d_h",
            ),
            "MLA": (deepseek_mla(), EMBED, KV_LORA_RANK + ROPE_DIM, "(d_c + d_h^R) = 9/2 d_h"),
        }
    print(
        f"KV cache per token per layer at DeepSeek-V2's dimensions (n_h={HEADS}, d_h={HEAD_DIM}, "
        f"d_c={KV_LORA_RANK}, d_h^R={ROPE_DIM}; MLA E={EMBED}, MHA/GQA E=n_h d_h={HEADS_WIDTH})"
    )
    header = f"{'module':<16}{'ours (elements)':>16}{'Table 1':>10}  {'formula':<26}{'in d_h':>8}"
    print(header + f"{'vs MHA':>9}")
    mha_elements = 2 * HEADS * HEAD_DIM
    for name, (module, embed, paper, formula) in modules.items():
        ours = held_per_token(module, embed)
        status = "ok" if ours == paper else "MISMATCH"
        row = f"{name:<16}{ours:>16,}{paper:>10,}  {formula:<26}{ours / HEAD_DIM:>8.2f}"
        print(row + f"{ours / mha_elements:>9.2%}  {status}")
    mla = KV_LORA_RANK + ROPE_DIM
    groups = mla / (2 * HEAD_DIM)
    print(f"MLA = {mla / HEAD_DIM:.2f} d_h = GQA with {groups:.2f} groups (paper: 4.5 d_h, 2.25)")


def decode_with_cache(
    module: Callable[..., AttentionOutput], x: torch.Tensor, prompt: int
) -> torch.Tensor:
    cache = KVCache()
    outputs = [module(x[:, :prompt], is_causal=True, kv_cache=cache, need_weights=False).output]
    for t in range(prompt, x.size(1)):
        step = module(x[:, t : t + 1], is_causal=True, kv_cache=cache, need_weights=False)
        outputs.append(step.output)
    return torch.cat(outputs, dim=1)


def decode_recomputing(
    module: Callable[..., AttentionOutput], x: torch.Tensor, prompt: int
) -> torch.Tensor:
    outputs = [module(x[:, :prompt], is_causal=True, need_weights=False).output]
    for t in range(prompt, x.size(1)):
        prefix = module(x[:, : t + 1], is_causal=True, need_weights=False).output
        outputs.append(prefix[:, -1:])
    return torch.cat(outputs, dim=1)


def fastest(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def speed(steps: int, prompt: int, rounds: int) -> None:
    torch.manual_seed(0)
    layers = {
        "MHA": MultiHeadAttention(DECODE_EMBED, DECODE_HEADS),
        "GQA (2 kv heads)": GroupedQueryAttention(DECODE_EMBED, DECODE_HEADS, 2),
        "MLA (absorbed)": MultiHeadLatentAttention(
            DECODE_EMBED,
            DECODE_HEADS,
            kv_lora_rank=4 * 64,
            qk_nope_head_dim=64,
            qk_rope_head_dim=32,
            v_head_dim=64,
        ),
    }
    x = torch.randn(1, prompt + steps, DECODE_EMBED)
    print(
        f"\nDecoding {steps} tokens after a {prompt}-token prompt, one layer, E={DECODE_EMBED}, "
        f"H={DECODE_HEADS}, B=1 (CPU time, {torch.get_num_threads()} thread(s))"
    )
    print(f"{'layer':<18}{'with KVCache':>14}{'recompute prefix':>18}{'speed-up':>10}  goal")
    for name, module in layers.items():
        module.eval()
        # MLA decodes in its inference form: W^UK and W^UV folded, attention over the latent.
        is_mla = isinstance(module, MultiHeadLatentAttention)
        run = functools.partial(module, absorb=True) if is_mla else module
        with torch.no_grad():
            cached = decode_with_cache(run, x, prompt)
            recomputed = decode_recomputing(run, x, prompt)
            torch.testing.assert_close(cached, recomputed, atol=1e-4, rtol=1e-4)
            with_cache = fastest(lambda r=run: decode_with_cache(r, x, prompt), rounds)
            without = fastest(lambda r=run: decode_recomputing(r, x, prompt), rounds)
        ratio = without / with_cache
        status = "ok" if ratio >= SPEED_GOAL else "MISSED"
        row = f"{name:<18}{with_cache * 1e3:>11.0f} ms{without * 1e3:>15.0f} ms{ratio:>9.1f}x"
        print(row + f"  >= {SPEED_GOAL:.0f}x {status}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=256)
    parser.add_argument("--prompt", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    table()
    speed(args.steps, args.prompt, args.rounds)


if __name__ == "__main__":
    main()
