"""Hidden tests for block-sparse: causal MoBA selection against
``attention.block_sparse_attention``."""

import math

import torch

from attention import block_sparse_attention
from prep.exercises.harness import Mistake, attach, case, compare, entry, gen, pair, randn

ENTRY = "block_sparse_attention"


def formula(q, k, v, block_size, top_k, *, pool="mean", own="forced", future=False,
            causal_inside=True):
    """Float64 causal block-sparse attention; the flags build the typical mistakes.

    own: "forced" (kept besides the top-k), "compete" (one of the top-k candidates), "missing".
    """
    q, k, v = (t.double() for t in (q, k, v))
    n, s = q.shape[-2], k.shape[-2]
    nb = -(-s // block_size)
    scale = 1 / math.sqrt(q.shape[-1])
    chunks = [k[..., b * block_size:(b + 1) * block_size, :] for b in range(nb)]
    pooled = [c.mean(-2) if pool == "mean" else c.amax(-2) for c in chunks]
    gate = q @ torch.stack(pooled, -2).transpose(-2, -1) * scale       # (B, H, L, nb)
    own_block = (torch.arange(n) // block_size)[:, None]                # (L, 1)
    blocks = torch.arange(nb)[None, :]                                  # (1, nb)
    if future:
        eligible = blocks != own_block
    elif own == "compete":
        eligible = blocks <= own_block
    else:
        eligible = blocks < own_block
    gate = gate.masked_fill(~eligible, float("-inf"))
    top = gate.topk(min(top_k, nb), dim=-1).indices
    chosen = torch.zeros_like(gate, dtype=torch.bool).scatter(-1, top, True) & eligible
    if own == "forced":
        chosen = chosen | (blocks == own_block)
    keep = chosen[..., torch.arange(s) // block_size]                   # (B, H, L, S)
    if causal_inside:
        keep = keep & (torch.arange(s)[None, :] <= torch.arange(n)[:, None])
    scores = (q @ k.transpose(-2, -1) * scale).masked_fill(~keep, float("-inf"))
    weights = torch.softmax(scores, -1).nan_to_num(0.0)
    return weights @ v, weights


def _check(ns, n, block_size, top_k, seed):
    g = gen(seed)
    q, k, v = (randn(2, 2, n, 4, generator=g) for _ in range(3))
    out, weights = pair(entry(ns, ENTRY)(q, k, v, block_size, top_k), "block_sparse_attention")
    expected = block_sparse_attention(q.double(), k.double(), v.double(), block_size=block_size,
                                      top_k=top_k, is_causal=True)
    if isinstance(weights, torch.Tensor) and weights.dim() == 4:
        attach(weights[0, 0], expected.weights[0, 0])
    args = (q, k, v, block_size, top_k)
    wrong = [
        (formula(*args, own="missing"),
         "漏掉了 query 自己所在的块：它必须总是保留（还包括块内 j ≤ i 的 key），"
         "top_k 是在它之前的块里另选的。",
         "The query's own block is missing: it is always kept (its keys j <= i), and top_k more "
         "are chosen among the earlier blocks."),
        (formula(*args, own="compete"),
         "自己的块参与了 top_k 竞争：它应当无条件保留，top_k 另外在之前的块里选。",
         "The own block competed in the top-k: keep it unconditionally and choose top_k more "
         "among the earlier blocks."),
        (formula(*args, pool="max"),
         "块的代表用了最大池化：MoBA 用块内 key 的平均值 mean(k) 给块打分。",
         "Blocks were max-pooled: MoBA scores a block by the mean of its keys."),
        (formula(*args, causal_inside=False),
         "自己的块里没有因果掩码：query i 看到了同一块里 j > i 的 key（未来的 token）。",
         "No causal mask inside the own block: query i saw keys j > i of its block (future "
         "tokens)."),
        (formula(*args, future=True),
         "块选择看到了未来的块：只能在 query 所在块之前的块里选 top_k，"
         "之后的块全部被因果掩码挡掉，选了也是浪费。",
         "The selection considered future blocks: choose the top_k among the blocks before the "
         "query's own; later blocks are all masked anyway, so picking them wastes the budget."),
    ]
    keep = expected.weights > 0
    compare("注意力权重", "attention weights", weights, expected.weights, weights=True,
            keep_mask=keep, mistakes=[Mistake(w, zh, en) for (_, w), zh, en in wrong])
    compare("输出", "output", out, expected.output,
            mistakes=[Mistake(o, zh, en) for (o, _), zh, en in wrong])
    return q, k, v, out


@case("L = 8，块长 2，top_k = 1", "L = 8, blocks of 2, top_k = 1")
def small(ns):
    _check(ns, 8, 2, 1, 191)


@case("L = 10，块长 3（最后一块只有 1 个 key），top_k = 2",
      "L = 10, blocks of 3 (the last holds 1 key), top_k = 2")
def ragged(ns):
    _check(ns, 10, 3, 2, 192)


@case("top_k 覆盖全部块 = 普通因果注意力", "top_k covering every block = plain causal attention")
def dense(ns):
    q, k, v, out = _check(ns, 7, 2, 4, 193)
    causal = torch.ones(7, 7, dtype=torch.bool).tril()
    expected = torch.nn.functional.scaled_dot_product_attention(
        q.double(), k.double(), v.double(), attn_mask=causal)
    compare("输出（应等于因果注意力）", "output (should equal causal attention)", out, expected)
