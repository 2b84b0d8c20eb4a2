"""Hidden tests for np-self-attention: NumPy in, NumPy out, checked against
``attention.scaled_dot_product_attention`` in float64."""


import numpy as np
import torch

from attention import scaled_dot_product_attention
from prep.exercises.harness import (
    Mistake,
    as_tensor,
    attach,
    attention_mistakes,
    case,
    compare,
    entry,
    gen,
    np_randn,
    numpy_only,
    pair,
)

ENTRY = "self_attention"


def _check(ns, seed, length, embed, dim, dim_v, mask=None):
    numpy_only(ns)
    g = gen(seed)
    x = np_randn(length, embed, generator=g)
    w_q, w_k = (np_randn(embed, dim, generator=g, scale=embed ** -0.5) for _ in range(2))
    w_v = np_randn(embed, dim_v, generator=g, scale=embed ** -0.5)
    args = (x, w_q, w_k, w_v) if mask is None else (x, w_q, w_k, w_v, mask.numpy())
    out, weights = pair(entry(ns, ENTRY)(*args), "self_attention")
    out = as_tensor(out, "输出", "output")
    weights = as_tensor(weights, "注意力权重", "attention weights")
    q, k, v = (torch.from_numpy(x @ w) for w in (w_q, w_k, w_v))
    expected = scaled_dot_product_attention(q, k, v, attn_mask=mask)
    if weights.dim() == 2:
        attach(weights, expected.weights)
    weight_mistakes, output_mistakes = attention_mistakes(q, k, v, mask)
    if embed != dim:                                   # scaled by the model width instead
        scores = (q @ k.T) / np.sqrt(embed)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        wrong = torch.softmax(scores, -1)
        zh = "缩放用错了维度：除以 √D（query/key 的维度），不是 √E（x 的维度）。"
        en = "Scaled by the wrong size: divide by √D (the query/key size), not √E (x's width)."
        weight_mistakes.append(Mistake(wrong, zh, en))
        output_mistakes.append(Mistake(wrong @ v, zh, en))
    compare("注意力权重", "attention weights", weights, expected.weights, weights=True,
            keep_mask=mask, mistakes=weight_mistakes)
    compare("输出", "output", out, expected.output, mistakes=output_mistakes)


@case("L = 5，E = 8，D = 4", "L = 5, E = 8, D = 4")
def basic(ns):
    _check(ns, 231, 5, 8, 4, 4)


@case("D ≠ Dv：E = 6，D = 4，Dv = 3", "D != Dv: E = 6, D = 4, Dv = 3")
def rectangular(ns):
    _check(ns, 232, 4, 6, 4, 3)


@case("因果掩码（True = 可以关注）", "causal mask (True = may attend)")
def causal(ns):
    _check(ns, 233, 6, 8, 4, 4, torch.ones(6, 6, dtype=torch.bool).tril())
