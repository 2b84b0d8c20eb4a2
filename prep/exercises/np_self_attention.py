"""Hidden tests for np-self-attention: NumPy in, NumPy out, checked against
``attention.scaled_dot_product_attention`` in float64."""

import types

import numpy as np
import torch

from attention import scaled_dot_product_attention
from prep.exercises.harness import (
    Failed,
    Mistake,
    attach,
    attention_mistakes,
    case,
    compare,
    entry,
    gen,
    pair,
    randn,
)

ENTRY = "self_attention"


def numpy_only(ns):
    """Fail when the learner's code brought in torch: this drill is NumPy only."""
    for name, value in ns.items():
        origin = value.__name__ if isinstance(value, types.ModuleType) else \
            getattr(value, "__module__", None)
        if isinstance(origin, str) and origin.split(".")[0] == "torch":
            raise Failed(f"这道题只用 NumPy：代码里引入了 torch（`{name}`）。"
                         "面试时常常没有 torch 可用。",
                         f"NumPy only: the code brings in torch (`{name}`). Interviews often ask "
                         "for this without torch.")


def as_tensor(value, what_zh, what_en):
    """The learner's NumPy array as a float64 tensor (for harness.compare)."""
    if isinstance(value, torch.Tensor) or not isinstance(value, np.ndarray | np.generic):
        raise Failed(f"{what_zh}应是 NumPy 数组（np.ndarray），实际是 {type(value).__name__}。",
                     f"The {what_en} should be a NumPy array (np.ndarray); got "
                     f"{type(value).__name__}.")
    return torch.from_numpy(np.asarray(value, dtype=np.float64).copy())


def np_randn(*shape, generator, scale=1.0):
    """Small float64 NumPy inputs drawn from a seeded torch generator."""
    return randn(*shape, generator=generator, scale=scale).double().numpy()


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
