"""Hidden tests for sliding-window: causal attention over the last `window` positions."""

import torch

from prep.exercises.harness import (
    Mistake,
    case,
    check_attention_result,
    compare,
    entry,
    gen,
    randn,
    reference_attention,
)

ENTRY = "sliding_window_attention"


def window_mask(n, window):
    offset = torch.arange(n)[:, None] - torch.arange(n)[None, :]         # i - j, (L, L)
    return (offset >= 0) & (offset < window)


def _check(ns, n, window, seed):
    g = gen(seed)
    q, k, v = (randn(1, 2, n, 4, generator=g) for _ in range(3))
    result = entry(ns, ENTRY)(q, k, v, window)
    offset = torch.arange(n)[:, None] - torch.arange(n)[None, :]
    wrong = [
        ((offset >= 0) & (offset <= window),
         "差了一位：窗口含当前 token 共 window 个位置，条件是 0 ≤ i − j < window，不是 ≤ window。",
         "Off by one: the window holds `window` positions including the token itself, "
         "0 <= i - j < window, not <= window."),
        (offset.abs() < window,
         "窗口是双向的：|i − j| < window 让 query 看到了未来的 token，这里要求因果（只看过去）。",
         "A two-sided window: |i - j| < window lets a query see future tokens; this one is causal "
         "(the past only)."),
    ]
    keep = window_mask(n, window)
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], torch.Tensor):
        mistakes = [Mistake(reference_attention(q, k, v, m)[1], zh, en) for m, zh, en in wrong]
        compare("注意力权重", "attention weights", result[1], reference_attention(q, k, v, keep)[1],
                mistakes=mistakes, weights=True, keep_mask=keep)
    check_attention_result(result, q, k, v, keep)


@case("L = 8，window = 3", "L = 8, window = 3")
def basic(ns):
    _check(ns, 8, 3, 91)


@case("window = 1：只看自己", "window = 1: each token sees only itself")
def self_only(ns):
    _check(ns, 5, 1, 92)


@case("window ≥ L：等于普通因果注意力", "window >= L: plain causal attention")
def wide(ns):
    _check(ns, 6, 10, 93)
