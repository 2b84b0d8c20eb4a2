"""Hidden tests for kv-cache: incremental decoding equals full causal recomputation."""

import torch

from prep.exercises.harness import (
    Failed,
    Mistake,
    attach,
    case,
    compare,
    entry,
    gen,
    randn,
    reference_attention,
)

CACHE = "KVCache"
STEP = "attend_with_cache"


def _full(q, k, v):
    n = q.shape[-2]
    return reference_attention(q, k, v, torch.ones(n, n, dtype=torch.bool).tril())


def _run(ns, q, k, v, chunks):
    """Feed the sequence in chunks; return the learner's outputs concatenated and the cache."""
    cache = entry(ns, CACHE)()
    step = entry(ns, STEP)
    outs, start = [], 0
    for size in chunks:
        out = step(q[..., start:start + size, :], k[..., start:start + size, :],
                   v[..., start:start + size, :], cache)
        if not isinstance(out, torch.Tensor):
            raise Failed(f"attend_with_cache 应返回张量，实际返回了 {type(out).__name__}。",
                         f"attend_with_cache should return a tensor; it returned "
                         f"{type(out).__name__}.")
        outs.append(out)
        start += size
    return torch.cat(outs, dim=-2), cache


def _mistakes(q, k, v, chunks):
    """Outputs of the two classic bugs: no cache, and a top-left causal mask on each chunk."""
    no_cache, top_left, start = [], [], 0
    for size in chunks:
        sl = slice(start, start + size)
        end = start + size
        chunk_mask = torch.ones(size, size, dtype=torch.bool).tril()
        no_cache.append(
            reference_attention(q[..., sl, :], k[..., sl, :], v[..., sl, :], chunk_mask)[0])
        top_left_mask = torch.ones(size, end, dtype=torch.bool).tril()   # is_causal with L != S
        top_left.append(reference_attention(q[..., sl, :], k[..., :end, :], v[..., :end, :],
                                            top_left_mask)[0])
        start = end
    return [
        Mistake(torch.cat(no_cache, -2),
                "缓存没有用上：新 token 只关注了本次传入的 token，应当关注缓存里所有之前的 "
                "key/value。",
                "The cache was not used: new tokens attended only to this call's tokens, not to "
                "every cached key and value."),
        Mistake(torch.cat(top_left, -2),
                "因果掩码对齐错了：T 个新 query 对 S 个 key 时，is_causal / tril(ones(T, S)) "
                "是左上对齐，"
                "新 token 只能看到最前面几个 key。掩码要右下对齐：第 t 个新 token 看到位置 ≤ S−T+t "
                "的 key。",
                "The causal mask is aligned wrongly: with T new queries and S keys, is_causal / "
                "tril(ones(T, S)) aligns top-left, so new tokens see only the first keys. Align it "
                "bottom-right: new token t sees keys at positions <= S - T + t."),
    ]


def _check(ns, chunks, seed):
    g = gen(seed)
    n = sum(chunks)
    q, k, v = (randn(2, 2, n, 4, generator=g) for _ in range(3))
    got, cache = _run(ns, q, k, v, chunks)
    ref_out, ref_w = _full(q, k, v)
    attach(None, ref_w[0, 0])
    compare("逐步解码的输出", "decoded output", got, ref_out, mistakes=_mistakes(q, k, v, chunks))
    return cache, k, v


@case("逐个 token 解码 6 步 = 完整因果注意力",
      "decoding 6 tokens one by one = full causal attention")
def one_by_one(ns):
    _check(ns, [1] * 6, 61)


@case("先 prefill 4 个 token，再解码 3 步", "prefill 4 tokens, then decode 3")
def prefill_then_decode(ns):
    _check(ns, [4, 1, 1, 1], 62)


@case("缓存里保存了全部 key 和 value", "the cache holds every key and value")
def cache_contents(ns):
    cache, k, v = _check(ns, [2, 1, 3], 63)
    keys = getattr(cache, "key", None)
    values = getattr(cache, "value", None)
    compare("cache.key", "cache.key", keys, k)
    compare("cache.value", "cache.value", values, v)
