"""Hidden tests for differential-attention: against ``attention.differential_attention``."""

import math

import torch

from attention import differential_attention
from prep.exercises.harness import Mistake, attach, case, compare, entry, gen, pair, randn

ENTRY = "differential_attention"


def _scores(q, k, mask):
    scores = q.double() @ k.double().transpose(-2, -1) / math.sqrt(q.shape[-1])
    return scores if mask is None else scores.masked_fill(~mask, float("-inf"))


def _mistakes(q1, k1, q2, k2, v, lam, mask):
    lam = lam.double() if isinstance(lam, torch.Tensor) else lam
    s1, s2 = _scores(q1, k1, mask), _scores(q2, k2, mask)
    first, second = torch.softmax(s1, -1), torch.softmax(s2, -1)
    s2_finite = s2.masked_fill(~torch.isfinite(s2), 0.0)                 # -inf - -inf would be NaN
    variants = [
        (torch.softmax(s1 - lam * s2_finite, -1),
         "在 softmax 之前把分数相减了：差分注意力是两张 softmax 图相减，"
         "softmax(s1) − λ·softmax(s2)，"
         "不是 softmax(s1 − λ·s2)。",
         "The scores were subtracted before the softmax: differential attention subtracts two "
         "softmax maps, softmax(s1) - λ softmax(s2), not softmax(s1 - λ s2)."),
        (lam * first - second,
         "λ 乘到第一张图上了：W = softmax(s1) − λ·softmax(s2)，λ 只乘第二张（被减去的那张）。",
         "λ was applied to the first map: W = softmax(s1) - λ softmax(s2); λ multiplies only the "
         "second map, the one subtracted."),
        (first - second,
         "忘了乘 λ：W = softmax(s1) − λ·softmax(s2)。",
         "λ is missing: W = softmax(s1) - λ softmax(s2)."),
        ((first - lam * second) / (1 - lam),
         "把差重新归一化了：W 每行之和就是 1 − λ，不要再除以它。",
         "The difference was renormalised: each row of W sums to 1 - λ; do not divide by it."),
    ]
    v = v.double()
    return ([Mistake(w, zh, en) for w, zh, en in variants],
            [Mistake(w @ v, zh, en) for w, zh, en in variants])


def _check(ns, shapes, lam, seed, mask=None):
    g = gen(seed)
    (b, h, n, s, d, dv) = shapes
    q1, q2 = randn(b, h, n, d, generator=g), randn(b, h, n, d, generator=g)
    k1, k2 = randn(b, h, s, d, generator=g), randn(b, h, s, d, generator=g)
    v = randn(b, h, s, dv, generator=g)
    kwargs = {} if mask is None else {"attn_mask": mask}
    out, weights = pair(entry(ns, ENTRY)(q1, k1, q2, k2, v, lam, **kwargs),
                        "differential_attention")
    lam64 = lam.double() if isinstance(lam, torch.Tensor) else lam
    expected = differential_attention(q1.double(), k1.double(), q2.double(), k2.double(),
                                      v.double(), lam64, attn_mask=mask)
    if isinstance(weights, torch.Tensor) and weights.dim() == 4:
        attach(weights[0, 0], expected.weights[0, 0])
    weight_mistakes, output_mistakes = _mistakes(q1, k1, q2, k2, v, lam, mask)
    compare("差分注意力权重", "differential weights", weights, expected.weights,
            mistakes=weight_mistakes)
    compare("输出", "output", out, expected.output, mistakes=output_mistakes)


@case("λ = 0.3，两个头", "λ = 0.3, two heads")
def scalar_lambda(ns):
    _check(ns, (2, 2, 4, 5, 4, 3), 0.3, 221)


@case("每个头一个 λ，形状 (H, 1, 1)", "one λ per head, shape (H, 1, 1)")
def per_head_lambda(ns):
    _check(ns, (1, 3, 5, 5, 4, 4), torch.tensor([0.2, 0.5, 0.8])[:, None, None], 222)


@case("因果掩码", "causal mask")
def causal(ns):
    _check(ns, (2, 2, 5, 5, 4, 3), 0.6, 223, torch.ones(5, 5, dtype=torch.bool).tril())
