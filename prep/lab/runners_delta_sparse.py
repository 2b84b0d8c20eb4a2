"""Runners of the delta rule (beside softmax and linear attention) and block-sparse attention
(which blocks each query chose). See ``runners_modern.py`` for the other 2024-26 modules.

Shape legend: H heads, L queries (= keys), E embed dim, D head dim, nb key blocks.
"""

from __future__ import annotations

import math
from dataclasses import replace

import torch
import torch.nn.functional as F

import attention
import prep.lab.steps_modern as steps_modern
from prep.i18n import Text
from prep.lab.config import MAX_SEED, LabConfig
from prep.lab.inputs import embed, token_labels
from prep.lab.module_view import Metric, ModuleView, Panel, short
from prep.lab.results import LabResult, finish, to_numpy
from prep.lab.runners import projector

RECURRENCE_CHECK = 64  # tokens on which the chunkwise form is compared with the recurrence


def _head(config: LabConfig) -> int:
    return min(max(config.head, 0), config.heads - 1)


def _diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max())


def delta_inputs(config: LabConfig, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """q, k (L2-normalised, as DeltaNet's callers do), v ``(1, H, L, D)``, beta ``(1, H, L)``
    from a seeded writing-strength projection, and decay ``(1, H, L)`` or None."""
    q, k, v = projector(config).project(x)                                   # (1, H, L, D)
    q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
    generator = torch.Generator().manual_seed((config.seed + 1) % MAX_SEED)
    w_beta = torch.randn(config.heads, config.embed_dim, generator=generator)  # (H, E)
    w_beta = w_beta / math.sqrt(config.embed_dim)
    beta = torch.sigmoid(torch.einsum("ble,he->bhl", x, w_beta))             # (1, H, L)
    decay = None if config.decay >= 1.0 else torch.full_like(beta, config.decay)
    return q, k, v, beta, decay


def run_delta_rule(config: LabConfig, queries: list[str], keys: list[str]) -> LabResult:
    """The delta rule's implied matrix W (output = W V) beside causal softmax and linear
    attention on the same q, k, v."""
    x = embed(queries, config.embed_dim, config.seed)                        # (1, L, E)
    q, k, v, beta, decay = delta_inputs(config, x)
    chunk = config.chunk_size or None
    result = attention.delta_rule(q, k, v, beta, decay=decay, chunk_size=chunk,
                                  need_weights=True)                         # W (1, H, L, L)
    # The recurrence is L sequential steps: compare on the first tokens only (causal, so the
    # first n outputs depend on the first n tokens only).
    n = min(q.shape[2], RECURRENCE_CHECK)
    recurrent = attention.delta_rule(q[:, :, :n], k[:, :, :n], v[:, :, :n], beta[:, :, :n],
                                     decay=None if decay is None else decay[:, :, :n])
    softmax = attention.scaled_dot_product_attention(q, k, v, is_causal=True)
    linear = attention.linear_attention(q, k, v, is_causal=True, need_weights=True)
    head = _head(config)
    labels = token_labels(queries)
    form = (Text(f"分块形式（块长 {chunk}）", f"chunkwise (chunk {chunk})") if chunk
            else Text("递推形式", "the recurrence"))
    view = ModuleView("delta_rule", Text("Delta 规则：隐含的混合矩阵", "Delta rule: the implied "
                                         "mixing matrix"), metrics=[
        Metric("w_identity", Text("max |W V − 输出|", "max |W V − output|"),
               _diff(result.weights @ v, result.output),
               short(_diff(result.weights @ v, result.output))),
        Metric("chunk_difference", Text(f"与递推的最大差（前 {n} 个）",
                                        f"max diff vs the recurrence (first {n})"),
               _diff(result.output[:, :, :n], recurrent.output),
               short(_diff(result.output[:, :, :n], recurrent.output))),
        Metric("mean_beta", Text("平均 β", "mean β"), float(beta.mean()),
               f"{float(beta.mean()):.3f}"),
        Metric("decay", Text("衰减 α", "decay α"), config.decay, f"{config.decay:g}"),
    ], panels=[
        Panel("delta", Text(f"Delta 规则 W（头 {head + 1}）", f"delta rule W (head {head + 1})"),
              to_numpy(result.weights[0, head]), labels, labels, signed=True),
        Panel("softmax", Text("softmax（因果）", "softmax (causal)"),
              to_numpy(softmax.weights[0, head]), labels, labels),
        Panel("linear", Text("线性注意力（因果）", "linear attention (causal)"),
              to_numpy(linear.weights[0, head]), labels, labels),
    ], intro=Text(f"同一组 q、k（L2 归一化）、v。W 由 {form.zh}算出；"
                  "它是下三角的，可以为负（delta 规则会"
                  "擦掉旧的写入），行和也不为 1。",
                  f"The same q, k (L2-normalised) and v. W comes from {form.en}; it is lower "
                  "triangular, can be negative (the delta rule erases earlier writes) and its rows "
                  "do not sum to 1."))
    steps = steps_modern.delta_steps(q, k, v, beta, result.weights, result.output, head, labels)
    lab_result = finish(config, queries, keys, result.weights, result.output, steps,
                        [attention.delta_rule])
    return replace(lab_result, view=view)


def block_labels(length: int, block_size: int) -> list[str]:
    starts = range(0, length, block_size)
    return [f"b{i}:{s}–{min(s + block_size, length) - 1}" for i, s in enumerate(starts)]


def run_block_sparse(config: LabConfig, queries: list[str], keys: list[str]) -> LabResult:
    """The weights over the selected blocks, and which blocks each query chose."""
    x = embed(queries, config.embed_dim, config.seed)                        # (1, L, E)
    q, k, v = projector(config).project(x)                                   # (1, H, L, D)
    causal = config.mask == "causal"
    options = {"block_size": config.block_size, "top_k": config.top_k, "is_causal": causal}
    result = attention.block_sparse_attention(q, k, v, **options)
    chosen = attention.block_selection(q, k, **options)                      # (1, H, L, nb)
    scores = attention.block_scores(q, k, block_size=config.block_size)      # (1, H, L, nb)
    dense = attention.scaled_dot_product_attention(q, k, v, is_causal=causal)
    head = _head(config)
    labels = token_labels(queries)
    blocks = block_labels(len(queries), config.block_size)
    read = float((result.weights > 0).float().mean())
    dense_read = float((dense.weights > 0).float().mean())
    view = ModuleView("block_sparse", Text("块稀疏：每个查询选了哪些块", "Block-sparse: the "
                                           "blocks each query chose"), metrics=[
        Metric("blocks", Text("块数 nb", "blocks nb"), len(blocks), str(len(blocks))),
        Metric("chosen", Text("每个查询选中的块（平均）", "blocks chosen per query (mean)"),
               float(chosen.float().sum(-1).mean()), f"{float(chosen.float().sum(-1).mean()):.2f}"),
        Metric("keys_read", Text("读到的键 / 稠密", "keys read / dense"), read / dense_read,
               f"{read / dense_read:.1%}"),
    ], panels=[
        Panel("selection", Text(f"选中的块（头 {head + 1}，1 = 选中）",
                                f"chosen blocks (head {head + 1}, 1 = chosen)"),
              to_numpy(chosen[0, head].float()), labels, blocks),
        Panel("block_scores", Text("块分数 q·mean(k)·s", "block scores q·mean(k)·s"),
              to_numpy(scores[0, head]), labels, blocks, signed=True),
        Panel("dense", Text("稠密注意力（对照）", "dense attention (for comparison)"),
              to_numpy(dense.weights[0, head]), labels, labels),
    ], intro=Text(("因果：每个查询总保留自己的块，外加分数最高的 top_k 个更早的块。" if causal else
                   "非因果：每个查询保留分数最高的 top_k 个块。")
                  + "块内只算 softmax，其余权重为 0。",
                  ("Causal: each query keeps its own block plus the top_k highest-scoring earlier "
                   "blocks. " if causal else "Not causal: each query keeps its top_k "
                   "highest-scoring blocks. ") + "Softmax runs inside them; other weights are 0."))
    steps = steps_modern.block_steps(q, scores, chosen, result.weights, head, labels, blocks)
    lab_result = finish(config, queries, keys, result.weights, result.output, steps,
                        [attention.block_sparse_attention, attention.block_selection,
                         attention.block_scores])
    return replace(lab_result, view=view)
