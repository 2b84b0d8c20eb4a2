"""Hidden tests for kv-cache-block: a multi-token block after a prefill, bottom-right causal.

The reference is the package: ``attention.scaled_dot_product_attention`` with
``attention.kv_cache.cache_keep_mask`` (query t of the block sees keys j <= P + t).
"""

import torch

from attention import scaled_dot_product_attention
from attention.kv_cache import cache_keep_mask
from prep.exercises.harness import (
    Failed,
    Mistake,
    attach,
    case,
    compare,
    entry,
    gen,
    pair,
    randn,
    reference_attention,
)

ENTRY = "attend_block"

TOP_LEFT = (
    "因果掩码对齐错了：T 个新 query 对 S 个 key 时，is_causal=True / tril(ones(T, S)) 是左上对齐，"
    "新块的第 0 个 token 只看到第 0 个 key。要右下对齐：第 t 个新 token 看到位置 ≤ S−T+t 的 key。",
    "The causal mask is aligned top-left: with T new queries and S keys, is_causal=True / "
    "tril(ones(T, S)) lets the block's first token see only key 0. Align it bottom-right: new "
    "token t sees keys at positions <= S - T + t.",
)
STALE = (
    "先注意力、后追加：新 token 只看到了缓存里原有的 key，看不到这一块（包括它自己）。"
    "应先把新的 key/value 接进缓存，再算注意力。",
    "Attended before appending: new tokens saw only the keys already cached, not this block "
    "(not even themselves). Append the new keys/values first, then attend.",
)
NO_CACHE = (
    "缓存没有用上：新 token 只关注了这一块里的 token，应当也关注缓存里之前的 key/value。",
    "The cache was not used: new tokens attended only within this block, not to the cached "
    "keys and values.",
)


def _mistakes(q, k, v, past, chunks):
    """Outputs of the classic bugs, block by block, concatenated: (top-left, stale, no cache)."""
    top_left, stale, stale_shifted, no_cache = [], [], [], []
    start = past
    for size in chunks:
        end = start + size
        block = slice(start, end)
        qb = q[..., block, :]
        top_left.append(reference_attention(qb, k[..., :end, :], v[..., :end, :],
                                            torch.ones(size, end, dtype=torch.bool).tril())[0])
        stale.append(reference_attention(qb, k[..., :start, :], v[..., :start, :])[0])
        shifted = torch.ones(size, start, dtype=torch.bool).tril(diagonal=start - size)
        stale_shifted.append(reference_attention(qb, k[..., :start, :], v[..., :start, :],
                                                 shifted)[0])
        no_cache.append(reference_attention(qb, k[..., block, :], v[..., block, :],
                                            torch.ones(size, size, dtype=torch.bool).tril())[0])
        start = end
    messages = (TOP_LEFT, STALE, STALE, NO_CACHE)
    return [Mistake(torch.cat(out, -2), zh, en)
            for out, (zh, en) in zip((top_left, stale, stale_shifted, no_cache), messages,
                                     strict=True)]


def _run(ns, past, chunks, seed, *, heads=2):
    """Prefill ``past`` tokens into the cache (the test's own tensors), then feed the chunks."""
    g = gen(seed)
    n = past + sum(chunks)
    q, k, v = (randn(2, heads, n, 4, generator=g) for _ in range(3))
    cache = {"key": k[..., :past, :].clone(), "value": v[..., :past, :].clone()}
    outs, last_weights, start = [], None, past
    for size in chunks:
        block = slice(start, start + size)
        out, weights = pair(entry(ns, ENTRY)(q[..., block, :], k[..., block, :], v[..., block, :],
                                             cache), "attend_block")
        outs.append(out)
        last_weights = weights
        start += size
    _attach_last(q, k, last_weights, chunks[-1])
    if not all(isinstance(o, torch.Tensor) for o in outs):
        raise Failed("输出应是 torch.Tensor。", "The output should be a torch.Tensor.")
    full_mask = torch.ones(n, n, dtype=torch.bool).tril()
    expected = scaled_dot_product_attention(q.double(), k.double(), v.double(),
                                            attn_mask=full_mask).output   # (B, H, n, D)
    compare("分块送入后的输出", "output of the blocks", torch.cat(outs, -2),
            expected[..., past:, :],
            mistakes=_mistakes(q, k, v, past, chunks))
    return q, k, v, cache, last_weights


def _last_reference(q, k, v, size):
    """The package's weights for the last block (B, H, T, S) and its keep mask (T, S)."""
    offset = q.shape[-2] - size
    keep = cache_keep_mask(size, offset)                                      # (T, S)
    ref = scaled_dot_product_attention(q[..., offset:, :].double(), k.double(), v.double(),
                                       attn_mask=keep).weights                # (B, H, T, S)
    return ref, keep


def _attach_last(q, k, weights, size):
    if isinstance(weights, torch.Tensor) and weights.dim() == 4:
        ref, _ = _last_reference(q, k, k, size)
        attach(weights[0, 0], ref[0, 0])


def _check_last_weights(q, k, v, weights, size):
    """The last block's weights against the package, bottom-right aligned."""
    n = q.shape[-2]
    offset = n - size
    ref, keep = _last_reference(q, k, v, size)
    if isinstance(weights, torch.Tensor) and weights.dim() == 4 and weights.shape[-1] == offset:
        raise Failed(*STALE)
    top_left = reference_attention(q[..., offset:, :], k, v,
                                   torch.ones(size, n, dtype=torch.bool).tril())[1]
    compare("最后一块的注意力权重", "last block's attention weights", weights, ref, weights=True,
            keep_mask=keep, mistakes=[Mistake(top_left, *TOP_LEFT)])


@case("缓存已有 3 个 token，再送入 4 个", "3 tokens cached, then a block of 4")
def block_after_prefill(ns):
    q, k, v, _, weights = _run(ns, 3, [4], 151)
    _check_last_weights(q, k, v, weights, 4)


@case("空缓存起步，依次送入 3、1、2 个 token = 完整因果注意力",
      "from an empty cache, blocks of 3, 1, 2 = full causal attention")
def blocks_from_empty(ns):
    q, k, v, _, weights = _run(ns, 0, [3, 1, 2], 152, heads=3)
    _check_last_weights(q, k, v, weights, 2)


@case("之后缓存里有全部 S 个 key 和 value", "the cache then holds all S keys and values")
def cache_contents(ns):
    _, k, v, cache, _ = _run(ns, 2, [3, 2], 153)
    got_k = cache.get("key") if isinstance(cache, dict) else None
    got_v = cache.get("value") if isinstance(cache, dict) else None
    compare('cache["key"]', 'cache["key"]', got_k, k)
    compare('cache["value"]', 'cache["value"]', got_v, v)
