"""Hidden tests for multihead-self: multi-head self-attention from given projection weights."""

import math

import torch

from prep.exercises.harness import Mistake, attach, case, compare, entry, gen, pair, randn

ENTRY = "multi_head_self_attention"


def _weights(e, g):
    """Projection weights as nn.Linear stores them: weight (out, in), bias (out,)."""
    bound = 1 / math.sqrt(e)
    params = []
    for _ in range(4):
        params += [randn(e, e, generator=g, scale=bound), randn(e, generator=g, scale=0.1)]
    return params


def reference(x, params, num_heads, keep_mask=None, *, transpose=True, scale_dim=None):
    """Float64 multi-head self-attention; the flags build the typical mistakes."""
    x = x.double()
    w_q, b_q, w_k, b_k, w_v, b_v, w_o, b_o = (p.double() for p in params)
    b, n, e = x.shape
    d = e // num_heads

    def heads(t):
        if transpose:
            return t.view(b, n, num_heads, d).transpose(1, 2)      # (B, H, L, d)
        return t.view(b, num_heads, n, d)                           # the mistake: no transpose

    q, k, v = heads(x @ w_q.T + b_q), heads(x @ w_k.T + b_k), heads(x @ w_v.T + b_v)
    scores = q @ k.transpose(-2, -1) / math.sqrt(scale_dim or d)    # (B, H, L, L)
    if keep_mask is not None:
        scores = scores.masked_fill(~keep_mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1).nan_to_num(0.0)
    out = (weights @ v).transpose(1, 2).reshape(b, n, e)            # (B, L, E)
    return out @ w_o.T + b_o, weights


def _check(ns, x, params, num_heads, keep_mask=None):
    kwargs = {} if keep_mask is None else {"attn_mask": keep_mask}
    out, weights = pair(entry(ns, ENTRY)(x, *params, num_heads, **kwargs))
    ref_out, ref_w = reference(x, params, num_heads, keep_mask)
    wrong = [
        (reference(x, params, num_heads, keep_mask, transpose=False),
         "拆头时忘了转置：应先 view 成 (B, L, H, d) 再 transpose(1, 2)，直接 view 成 (B, H, L, d) "
         "会把不同位置混进同一个头。",
         "Heads split without a transpose: view as (B, L, H, d) then transpose(1, 2); viewing "
         "straight to (B, H, L, d) mixes positions into heads."),
        (reference(x, params, num_heads, keep_mask, scale_dim=x.shape[-1]),
         "缩放用错了维度：应除以 √head_dim（每个头的维度），不是 √embed_dim。",
         "Scaled by the wrong size: divide by √head_dim (per head), not √embed_dim."),
        (reference(x, params, num_heads, keep_mask, scale_dim=1),
         "缺少缩放：分数没有除以 "
         "√head_dim。", "Missing scale: the scores were not divided by √head_dim."),
    ]
    if isinstance(weights, torch.Tensor) and weights.dim() == 4:
        attach(weights[0, 0], ref_w[0, 0])
    compare("注意力权重", "attention weights", weights, ref_w, weights=True, keep_mask=keep_mask,
            mistakes=[Mistake(w, zh, en) for (_, w), zh, en in wrong])
    compare("输出", "output", out, ref_out,
            mistakes=[Mistake(o, zh, en) for (o, _), zh, en in wrong])


@case("2 个头，E = 8，L = 5", "2 heads, E = 8, L = 5")
def two_heads(ns):
    g = gen(11)
    _check(ns, randn(2, 5, 8, generator=g), _weights(8, g), 2)


@case("4 个头，奇数长度 L = 7", "4 heads, odd length L = 7")
def four_heads(ns):
    g = gen(12)
    _check(ns, randn(1, 7, 16, generator=g), _weights(16, g), 4)


@case("因果掩码（True = 可以关注）", "causal mask (True = may attend)")
def causal(ns):
    g = gen(13)
    keep = torch.ones(6, 6, dtype=torch.bool).tril()
    _check(ns, randn(2, 6, 8, generator=g), _weights(8, g), 2, keep)


@case("单头 H = 1", "a single head, H = 1")
def one_head(ns):
    g = gen(14)
    _check(ns, randn(1, 4, 6, generator=g), _weights(6, g), 1)
