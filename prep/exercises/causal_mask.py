"""Hidden tests for causal-mask: the mask itself and causal self-attention."""

import torch

from prep.exercises.harness import (
    Failed,
    Mistake,
    case,
    check_attention_result,
    compare,
    entry,
    gen,
    randn,
)

MASK = "causal_mask"
ATTENTION = "causal_attention"

_WRONG = [
    (lambda n, m: torch.ones(n, m, dtype=torch.bool).triu(),
     "方向反了：用了 triu，query 看到的是未来而不是过去。因果掩码是下三角 tril：j ≤ i 为 True。",
     "The wrong triangle: triu lets a query see the future, not the past. A causal mask is "
     "lower-triangular (tril): True where j <= i."),
    (lambda n, m: torch.ones(n, m, dtype=torch.bool).tril(diagonal=-1),
     "对角线被排除了：每个位置也要能看到自己（diagonal=0），否则第一行整行被屏蔽。",
     "The diagonal is excluded: each position must also see itself (diagonal=0); otherwise the "
     "first row is fully masked."),
    (lambda n, m: ~torch.ones(n, m, dtype=torch.bool).tril(),
     "掩码的含义用反了：这里 True 表示可以关注（与 torch 的 SDPA 一致），被挡住的未来位置才是 "
     "False。",
     "The opposite mask convention: True means 'may attend' (as in torch's SDPA); the blocked "
     "future positions are False."),
]


def _check_mask(ns, n, m):
    got = entry(ns, MASK)(n, m) if m is not None else entry(ns, MASK)(n)
    m = n if m is None else m
    if isinstance(got, torch.Tensor) and got.dtype != torch.bool:
        raise Failed(f"掩码应是布尔张量，实际 dtype 是 {got.dtype}。",
                     f"The mask should be a bool tensor; its dtype is {got.dtype}.")
    expected = torch.ones(n, m, dtype=torch.bool).tril()   # torch's is_causal: top-left aligned
    mistakes = [Mistake(f(n, m).double(), zh, en) for f, zh, en in _WRONG]
    compare("因果掩码", "causal mask", got.double() if isinstance(got, torch.Tensor) else got,
            expected.double(), mistakes=mistakes)


@case("causal_mask(5)：方阵", "causal_mask(5): square")
def square_mask(ns):
    _check_mask(ns, 5, None)


@case("causal_mask(3, 5)：L ≠ S，与 torch 的 is_causal 一样左上对齐",
      "causal_mask(3, 5): L != S, top-left aligned like torch's is_causal")
def rectangular_mask(ns):
    _check_mask(ns, 3, 5)


@case("causal_attention 与 F.scaled_dot_product_attention(is_causal=True) 一致",
      "causal_attention equals F.scaled_dot_product_attention(is_causal=True)")
def causal_attention(ns):
    g = gen(31)
    q, k, v = (randn(2, 2, 6, 4, generator=g) for _ in range(3))
    keep = torch.ones(6, 6, dtype=torch.bool).tril()
    check_attention_result(entry(ns, ATTENTION)(q, k, v), q, k, v, keep)


@case("L = 1：只有一个位置", "L = 1: a single position")
def single_position(ns):
    g = gen(32)
    q, k, v = randn(1, 1, 4, generator=g), randn(1, 1, 4, generator=g), randn(1, 1, 4, generator=g)
    keep = torch.ones(1, 1, dtype=torch.bool)
    check_attention_result(entry(ns, ATTENTION)(q, k, v), q, k, v, keep)
