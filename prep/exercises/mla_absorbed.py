"""Hidden tests for mla-absorbed: MLA's inference form against
``attention.MultiHeadLatentAttention``.

Every weight of the package's module is set from tensors drawn here; the module runs with a
:class:`attention.KVCache` and ``absorb=True``, and the learner receives what that cache holds
(latents and rotated RoPE keys), the per-head up-projections and the queries.
"""

import math

import torch

from attention import KVCache, MultiHeadLatentAttention, split_heads
from attention.positional import apply_rope
from prep.exercises.harness import Mistake, attach, case, compare, entry, gen, pair, randn

ENTRY = "mla_absorbed"
E, H, C, DN, DR, DV = 12, 2, 6, 4, 4, 3


def _module(g):
    mla = MultiHeadLatentAttention(E, H, kv_lora_rank=C, qk_nope_head_dim=DN,
                                   qk_rope_head_dim=DR, v_head_dim=DV)
    with torch.no_grad():
        for param in mla.parameters():
            if param.dim() == 2:                       # a projection: (out, in)
                param.copy_(randn(*param.shape, generator=g, scale=param.shape[1] ** -0.5))
            else:                                      # the RMSNorm gain
                param.copy_(1.0 + randn(*param.shape, generator=g, scale=0.1))
    return mla.eval()


def _inputs(mla, x_new, positions, cache):
    """The learner's arguments: queries of the new tokens and everything the cache holds."""
    q = split_heads(x_new @ mla.query_linear.weight.T, H)          # (B, H, L, Dn + Dr)
    q_nope, q_rope = q.split((DN, DR), dim=-1)
    c_kv, k_rope = cache.parts                                      # (B, S, C), (B, S, Dr)
    w_uk, w_uv = mla.up_weights()                                   # (H, Dn, C), (H, Dv, C)
    return (q_nope, apply_rope(q_rope, positions), c_kv, k_rope, w_uk, w_uv,
            mla.out_linear.weight)


def formula(q_nope, q_rope, c_kv, k_rope, w_uk, w_uv, w_o, *, rope=True, scale_dim=DN + DR,
            bottom_right=True):
    """Float64 absorbed MLA; the flags build the typical mistakes."""
    q_nope, q_rope, c_kv, k_rope, w_uk, w_uv, w_o = (
        t.detach().double() for t in (q_nope, q_rope, c_kv, k_rope, w_uk, w_uv, w_o))
    b, _, n, _ = q_nope.shape
    s = c_kv.shape[1]
    scores = (q_nope @ w_uk) @ c_kv[:, None].transpose(-2, -1)     # (B, H, L, S)
    if rope:
        scores = scores + q_rope @ k_rope[:, None].transpose(-2, -1)
    scores = scores / math.sqrt(scale_dim)
    keep = torch.ones(n, s, dtype=torch.bool).tril(diagonal=s - n if bottom_right else 0)
    weights = torch.softmax(scores.masked_fill(~keep, float("-inf")), dim=-1)
    context = (weights @ c_kv[:, None]) @ w_uv.transpose(-2, -1)    # (B, H, L, Dv)
    return context.transpose(1, 2).reshape(b, n, -1) @ w_o.T, weights


def _check(ns, past, new, seed):
    g = gen(seed)
    mla = _module(g)
    x = randn(2, past + new, E, generator=g)
    cache = KVCache()
    with torch.no_grad():
        if past:
            mla(x[:, :past], kv_cache=cache, is_causal=True)
        expected = mla(x[:, past:], kv_cache=cache, is_causal=True, absorb=True)
        args = _inputs(mla, x[:, past:], torch.arange(past, past + new), cache)
        naive = mla(x, is_causal=True)                              # the same, without cache
    torch.testing.assert_close(expected.output, naive.output[:, past:], atol=1e-5, rtol=1e-5)
    out, weights = pair(entry(ns, ENTRY)(*args), "mla_absorbed")
    if isinstance(weights, torch.Tensor) and weights.dim() == 4:
        attach(weights[0, 0], expected.weights[0, 0])
    wrong = [
        (formula(*args, rope=False),
         "漏掉了 RoPE 那一路：分数还要加上 q_rope · k_rope（k_rope 各头共用）。",
         "The RoPE path is missing: the scores also get q_rope . k_rope (k_rope shared by all "
         "heads)."),
        (formula(*args, scale_dim=DN),
         "缩放只用了 √Dn：query/key 的总维度是 Dn + Dr，应除以 √(Dn + Dr)。",
         "Scaled by √Dn only: the query/key size is Dn + Dr, so divide by √(Dn + Dr)."),
        (formula(*args, scale_dim=C),
         "缩放用了潜向量的维度 √C：吸收只是改变了乘法的顺序，分数不变，仍除以 √(Dn + Dr)。",
         "Scaled by the latent size √C: absorbing only reorders the products, the scores are "
         "unchanged, so still divide by √(Dn + Dr)."),
        (formula(*args, bottom_right=False),
         "因果掩码左上对齐了：这 L 个 query 是序列最后 L 个 token，第 t 个看到 key j ≤ S − L + t。",
         "The causal mask is aligned top-left: the L queries are the last L tokens, so query t "
         "sees keys j <= S - L + t."),
    ]
    compare("注意力权重", "attention weights", weights, expected.weights, weights=True,
            mistakes=[Mistake(w, zh, en) for (_, w), zh, en in wrong])
    compare("输出", "output", out, expected.output,
            mistakes=[Mistake(o, zh, en) for (o, _), zh, en in wrong])


@case("缓存 5 个 token 后解码 1 个（L = 1, S = 6）", "decode 1 token after 5 cached (L = 1, S = 6)")
def decode_one(ns):
    _check(ns, 5, 1, 171)


@case("空缓存 prefill 4 个 token（L = S = 4，因果）", "prefill 4 tokens, empty cache (L = S = 4)")
def prefill(ns):
    _check(ns, 0, 4, 172)


@case("缓存 4 个 token 后再来 3 个（右下对齐）", "a block of 3 after 4 cached (bottom-right)")
def block_after_cache(ns):
    _check(ns, 4, 3, 173)
