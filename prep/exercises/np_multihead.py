"""Hidden tests for np-multihead: NumPy multi-head attention, checked against the package's
split_heads / scaled_dot_product_attention / merge_heads in float64."""

import math

import torch

from attention import merge_heads, scaled_dot_product_attention, split_heads
from prep.exercises.harness import (
    Mistake,
    as_tensor,
    attach,
    case,
    compare,
    entry,
    gen,
    np_randn,
    numpy_only,
    pair,
)

ENTRY = "multi_head_attention"


def formula(x, w_q, w_k, w_v, w_o, heads, *, split_transpose=True, merge_transpose=True,
            scale_dim=None):
    """Float64 multi-head attention in torch; the flags build the typical mistakes."""
    x, w_q, w_k, w_v, w_o = (torch.from_numpy(t) for t in (x, w_q, w_k, w_v, w_o))
    b, n, e = x.shape
    d = e // heads

    def split(t):
        return split_heads(t, heads) if split_transpose else t.reshape(b, heads, n, d)

    q, k, v = split(x @ w_q), split(x @ w_k), split(x @ w_v)
    scores = q @ k.transpose(-2, -1) / math.sqrt(scale_dim or d)
    weights = torch.softmax(scores, -1)
    context = weights @ v                                             # (B, H, L, d)
    merged = merge_heads(context) if merge_transpose else context.reshape(b, n, e)
    return merged @ w_o, weights


def _check(ns, seed, batch, length, embed, heads):
    numpy_only(ns)
    g = gen(seed)
    x = np_randn(batch, length, embed, generator=g)
    weights_in = [np_randn(embed, embed, generator=g, scale=embed ** -0.5) for _ in range(4)]
    out, weights = pair(entry(ns, ENTRY)(x, *weights_in, heads), "multi_head_attention")
    out = as_tensor(out, "输出", "output")
    weights = as_tensor(weights, "注意力权重", "attention weights")
    w_q, w_k, w_v, w_o = (torch.from_numpy(w) for w in weights_in)
    xt = torch.from_numpy(x)
    q, k, v = (split_heads(xt @ w, heads) for w in (w_q, w_k, w_v))  # (B, H, L, d)
    context, expected_w = scaled_dot_product_attention(q, k, v)
    expected = merge_heads(context) @ w_o                            # (B, L, E)
    if weights.dim() == 4:
        attach(weights[0, 0], expected_w[0, 0])
    args = (x, *weights_in, heads)
    wrong = [
        (formula(*args, split_transpose=False),
         "拆头时少了转置：应 reshape 成 (B, L, H, d) 再 transpose(0, 2, 1, 3)；直接 reshape 成 "
         "(B, H, L, d) 会把不同位置混进同一个头。",
         "Heads split without a transpose: reshape to (B, L, H, d) then transpose(0, 2, 1, 3); "
         "reshaping straight to (B, H, L, d) mixes positions into heads."),
        (formula(*args, merge_transpose=False),
         "合并时少了转置：应先 transpose(0, 2, 1, 3) 成 (B, L, H, d) 再 reshape 成 (B, L, E)。",
         "Heads merged without a transpose: transpose(0, 2, 1, 3) to (B, L, H, d) before "
         "reshaping to (B, L, E)."),
        (formula(*args, scale_dim=embed),
         "缩放用错了维度：应除以 √d（每个头的维度），不是 √E。",
         "Scaled by the wrong size: divide by √d (per head), not √E."),
        (formula(*args, scale_dim=1),
         "缺少缩放：分数没有除以 √d。", "Missing scale: the scores were not divided by √d."),
    ]
    compare("注意力权重", "attention weights", weights, expected_w, weights=True,
            mistakes=[Mistake(w, zh, en) for (_, w), zh, en in wrong])
    compare("输出", "output", out, expected,
            mistakes=[Mistake(o, zh, en) for (o, _), zh, en in wrong])


@case("2 个头，B = 2，L = 5，E = 8", "2 heads, B = 2, L = 5, E = 8")
def two_heads(ns):
    _check(ns, 241, 2, 5, 8, 2)


@case("4 个头，L = 6，E = 16", "4 heads, L = 6, E = 16")
def four_heads(ns):
    _check(ns, 242, 1, 6, 16, 4)


@case("单头 H = 1", "a single head, H = 1")
def one_head(ns):
    _check(ns, 243, 2, 4, 6, 1)
