"""Hidden tests for np-kv-cache: NumPy causal attention and one-token decoding with a cache,
checked against ``attention.scaled_dot_product_attention`` with ``attention.masks.causal_mask``."""


import torch

from attention import scaled_dot_product_attention
from attention.masks import causal_mask
from prep.exercises.harness import (
    Failed,
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
    reference_attention,
)

CAUSAL = "causal_attention"
STEP = "decode_step"


def _qkv(seed, length, dim=4, dim_v=3):
    g = gen(seed)
    return (np_randn(length, dim, generator=g), np_randn(length, dim, generator=g),
            np_randn(length, dim_v, generator=g))


def _full(q, k, v):
    q, k, v = (torch.from_numpy(t) for t in (q, k, v))
    return scaled_dot_product_attention(q, k, v, attn_mask=causal_mask(q.shape[0]))


def _decode(ns, q, k, v, past):
    """Prefill ``past`` tokens into the cache (the test's own arrays), decode the rest."""
    numpy_only(ns)
    step = entry(ns, STEP)
    cache = {"k": k[:past].copy(), "v": v[:past].copy()}
    outs = []
    for t in range(past, q.shape[0]):
        outs.append(as_tensor(step(q[t], k[t], v[t], cache), "decode_step 的输出",
                              "output of decode_step"))
    if any(o.shape != outs[0].shape for o in outs):
        raise Failed("decode_step 每一步输出的形状不同。",
                     "decode_step's outputs differ in shape.")
    got = torch.stack(outs)                                          # (T, Dv)
    qt, kt, vt = (torch.from_numpy(a) for a in (q, k, v))
    no_cache = vt[past:]                                             # attending to itself only
    stale = torch.stack([reference_attention(qt[t:t + 1], kt[:t], vt[:t])[0][0]
                         for t in range(past, q.shape[0])])
    compare("逐个解码的输出", "decoded outputs", got, _full(q, k, v).output[past:], mistakes=[
        Mistake(no_cache, "缓存没有用上：新 token 只关注了它自己，"
                "应关注缓存里全部之前的 key/value。",
                "The cache was not used: the new token attended only to itself, not to every "
                "cached key and value."),
        Mistake(stale, "先注意力、后追加：新 token 看不到它自己。"
                "应先把 k_t、v_t 接进缓存，再算注意力。",
                "Attended before appending: the new token cannot see itself. Append k_t and v_t "
                "to the cache first, then attend."),
    ])
    return cache


@case("causal_attention：L = 6，与完整因果注意力一致", "causal_attention: L = 6, full causal")
def causal(ns):
    numpy_only(ns)
    q, k, v = _qkv(251, 6)
    out, weights = pair(entry(ns, CAUSAL)(q, k, v), "causal_attention")
    out, weights = as_tensor(out, "输出", "output"), as_tensor(weights, "注意力权重", "weights")
    expected = _full(q, k, v)
    keep = causal_mask(6)
    if weights.dim() == 2:
        attach(weights, expected.weights)
    qt, kt, vt = (torch.from_numpy(t) for t in (q, k, v))
    weight_mistakes, output_mistakes = attention_mistakes(qt, kt, vt, keep)
    variants = [
        (reference_attention(qt, kt, vt, keep.T),
         "三角取反了：应保留下三角 np.tril（j ≤ i），上三角会让 token 看到未来。",
         "The wrong triangle: keep the lower triangle np.tril (j <= i); the upper one lets tokens "
         "see the future."),
        (reference_attention(qt, kt, vt, torch.ones(6, 6, dtype=torch.bool).tril(-1)),
         "对角线被排除了：每个 token 应能看到自己（j ≤ i，包括 j = i）。",
         "The diagonal is excluded: each token should see itself (j <= i, including j = i)."),
    ]
    weight_mistakes += [Mistake(w, zh, en) for (_, w), zh, en in variants]
    output_mistakes += [Mistake(o, zh, en) for (o, _), zh, en in variants]
    compare("注意力权重", "attention weights", weights, expected.weights, weights=True,
            keep_mask=keep, mistakes=weight_mistakes)
    compare("输出", "output", out, expected.output, mistakes=output_mistakes)


@case("缓存 2 个 token 后逐个解码 5 步 = 完整因果注意力",
      "2 tokens cached, then 5 decoding steps = full causal attention")
def decode_after_prefill(ns):
    q, k, v = _qkv(252, 7)
    attach(None, _full(q, k, v).weights)
    _decode(ns, q, k, v, 2)


@case("从空缓存开始解码，缓存里最终有全部 k 和 v",
      "decoding from an empty cache keeps every k and v")
def decode_from_empty(ns):
    q, k, v = _qkv(253, 5, dim=3, dim_v=4)
    cache = _decode(ns, q, k, v, 0)
    got_k = cache.get("k") if isinstance(cache, dict) else None
    got_v = cache.get("v") if isinstance(cache, dict) else None
    compare('cache["k"]', 'cache["k"]', as_tensor(got_k, 'cache["k"]', 'cache["k"]'),
            torch.from_numpy(k))
    compare('cache["v"]', 'cache["v"]', as_tensor(got_v, 'cache["v"]', 'cache["v"]'),
            torch.from_numpy(v))
