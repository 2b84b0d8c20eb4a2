"""Hidden tests for cross-attention: the seed's InteractiveAttention, fixed, as a function."""

import math

import torch

from prep.exercises.harness import Mistake, attach, case, compare, entry, gen, pair, randn

ENTRY = "interactive_attention"


def _params(e, dq, dk, dv, g):
    """nn.Linear layout: weight (out, in). Query/key/value project to E; the output maps E -> E."""
    def linear(n_out, n_in):
        return [randn(n_out, n_in, generator=g, scale=1 / math.sqrt(n_in)),
                randn(n_out, generator=g, scale=0.1)]
    return linear(e, dq) + linear(e, dk) + linear(e, dv) + linear(e, e)


def reference(query, key, value, params, num_heads, *, scale_dim=None):
    query, key, value = query.double(), key.double(), value.double()
    w_q, b_q, w_k, b_k, w_v, b_v, w_o, b_o = (p.double() for p in params)
    b, n_q, _ = query.shape
    n_k = key.shape[1]
    e = w_q.shape[0]
    d = e // num_heads
    q = (query @ w_q.T + b_q).view(b, n_q, num_heads, d).transpose(1, 2)   # (B, H, L, d)
    k = (key @ w_k.T + b_k).view(b, n_k, num_heads, d).transpose(1, 2)     # (B, H, S, d)
    v = (value @ w_v.T + b_v).view(b, n_k, num_heads, d).transpose(1, 2)   # (B, H, S, d)
    weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(scale_dim or d), dim=-1)
    out = (weights @ v).transpose(1, 2).reshape(b, n_q, e)                 # (B, L, E)
    return out @ w_o.T + b_o, weights


def _check(ns, query, key, value, params, num_heads):
    out, weights = pair(entry(ns, ENTRY)(query, key, value, *params, num_heads))
    ref_out, ref_w = reference(query, key, value, params, num_heads)
    e = params[0].shape[0]
    wrong = [
        (reference(query, key, value, params, num_heads, scale_dim=e),
         "缩放用错了维度：应除以 √head_dim，不是 √embed_dim。",
         "Scaled by the wrong size: divide by √head_dim, not √embed_dim."),
        (reference(query, key, value, params, num_heads, scale_dim=1),
         "缺少缩放：分数没有除以 "
         "√head_dim。", "Missing scale: the scores were not divided by √head_dim."),
    ]
    if isinstance(weights, torch.Tensor) and weights.dim() == 4:
        attach(weights[0, 0], ref_w[0, 0])
    compare("注意力权重", "attention weights", weights, ref_w, weights=True,
            mistakes=[Mistake(w, zh, en) for (_, w), zh, en in wrong])
    compare("输出", "output", out, ref_out,
            mistakes=[Mistake(o, zh, en) for (o, _), zh, en in wrong])


@case("种子里的尺寸：各维 16、4 个头、L = 3、S = 6",
      "the seed's sizes: dims 16, 4 heads, L = 3, S = 6")
def seed_sizes(ns):
    g = gen(21)
    q = randn(2, 3, 16, generator=g)
    k, v = randn(2, 6, 16, generator=g), randn(2, 6, 16, generator=g)
    _check(ns, q, k, v, _params(16, 16, 16, 16, g), 4)


@case("query、key、value 维度各不相同", "different query, key and value dims")
def different_dims(ns):
    g = gen(22)
    q = randn(1, 4, 6, generator=g)
    k, v = randn(1, 7, 10, generator=g), randn(1, 7, 12, generator=g)
    _check(ns, q, k, v, _params(8, 6, 10, 12, g), 2)


@case("L = 1：单个 query", "L = 1: a single query")
def single_query(ns):
    g = gen(23)
    q, k, v = randn(3, 1, 8, generator=g), randn(3, 5, 4, generator=g), randn(3, 5, 4, generator=g)
    _check(ns, q, k, v, _params(8, 8, 4, 4, g), 2)
