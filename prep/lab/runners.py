"""Runners: one Lab run of an `attention` module, returning a LabResult.

A runner is ``runner(config, query_tokens, key_tokens) -> LabResult``; the registry names one
per module, and :func:`run` dispatches through it. Q, K and V come from the package modules'
public ``project()``; nothing here reaches into their layers or private helpers.

Shape legend: B batch (always 1 here), H query heads, G key/value heads, L queries, S keys,
E embed dim, D = E / H head dim.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import torch

import attention
import prep.lab.registry as registry
from attention import masks, positional
from prep.lab.config import LabConfig, uses
from prep.lab.inputs import (
    check_lab_settings,
    embed,
    init_parameters,
    keep_mask,
    padded_queries,
    token_labels,
    tokens_of,
)
from prep.lab.results import LabResult, finish
from prep.lab.steps import additive_steps, linear_steps, sdpa_steps


def run(config: LabConfig) -> LabResult:
    """Run the configured module; ValueError (the package's own message) if impossible."""
    record = registry.get(config.module)
    check_lab_settings(config)
    queries, keys = tokens_of(config)
    with torch.no_grad():
        return record.runner(config, queries, keys)


def projector(config: LabConfig) -> torch.nn.Module:
    """The package module whose Q, K, V projections feed the functional paths; its constructor
    checks the sizes and raises the package's own ValueError."""
    heads = config.heads
    kv_heads = config.kv_heads if uses(config, "kv_heads") else heads
    if kv_heads != heads:
        module = attention.GroupedQueryAttention(config.embed_dim, heads, kv_heads)
    else:
        module = attention.MultiHeadAttention(config.embed_dim, heads)
    return init_parameters(module, config.seed)


def _scale(config: LabConfig, head_dim: int) -> float:
    base = 1.0 / math.sqrt(head_dim) if config.scaled else 1.0
    return base / config.temperature


def run_functional(config: LabConfig, queries: list[str], keys: list[str]) -> LabResult:
    """SDPA, sliding window, RoPE, ALiBi and tiled: the functional core on per-head Q, K, V."""
    heads, head_dim = config.heads, config.embed_dim // config.heads
    x = embed(queries, config.embed_dim, config.seed)                        # (1, L, E)
    q, k, v = projector(config).project(x)                   # (1, H, L, D), (1, G, S, D) x2
    kv_heads, length = k.shape[1], q.shape[2]
    sources: list[Any] = []
    q_formula, k_formula = r"Q = X W_Q", r"K = X W_K"
    if config.rope:
        q, k = positional.apply_rope(q), positional.apply_rope(k)
        sources.append(positional.apply_rope)
        q_formula = r"Q = \operatorname{RoPE}(X W_Q)"
        k_formula = r"K = \operatorname{RoPE}(X W_K)"
    keep = keep_mask(config, length, length)                                 # (L, S) or None
    if config.mask == "sliding":
        sources.append(masks.sliding_window_mask)
    float_mask = None                                                        # (1, H, L, S)
    if config.alibi:
        bias = positional.alibi_bias(heads, length, length).to(q.dtype)
        float_mask = bias.reshape(1, heads, length, length).clone()
        sources.append(positional.alibi_bias)
    if keep is not None:
        float_mask = masks.combine_masks(float_mask, masks.to_additive(keep))  # (1|H.., L, S)
        float_mask = float_mask.expand(1, heads, length, length)
    scale = _scale(config, head_dim)
    exact = attention.scaled_dot_product_attention(
        q, k, v, attn_mask=float_mask, scale=scale, enable_gqa=kv_heads != heads
    )
    notes: list[tuple[str, str]] = []
    output = exact.output
    if uses(config, "block_size"):  # tiled attention: its output, exact attention's weights
        tiled = attention.tiled_attention(
            q, k, v, attn_mask=float_mask, scale=scale, block_size=config.block_size
        )
        output = tiled.output
        difference = (tiled.output - exact.output).abs().max().item()
        notes.append((
            f"分块注意力从不构建 L×S 权重矩阵（返回的 weights 为 None）；热力图是同一输入上"
            f"精确注意力的权重。分块输出与精确输出的最大差：{difference:.2e}。",
            f"Tiled attention never builds the L×S weight matrix (it returns weights=None); the "
            f"heatmaps show exact attention's weights on the same inputs. Largest difference "
            f"between the tiled and the exact output: {difference:.2e}.",
        ))
        sources.append(attention.tiled_attention)
    else:
        sources.append(attention.scaled_dot_product_attention)
    steps = sdpa_steps(config, q, k, v, float_mask, scale, token_labels(queries),
                       token_labels(keys), q_formula, k_formula)
    return finish(config, queries, keys, exact.weights, output, steps, sources, notes,
                  padded_queries(config, length))


def run_linear(config: LabConfig, queries: list[str], keys: list[str]) -> LabResult:
    """Linear attention: the linear-time output, and the weights it implies (need_weights)."""
    x = embed(queries, config.embed_dim, config.seed)                        # (1, L, E)
    q, k, v = projector(config).project(x)                                   # (1, H, L, D)
    causal = config.mask == "causal"
    result = attention.linear_attention(q, k, v, is_causal=causal)           # the linear path
    # The same attention through the L x S matrix it implies, to draw its weights.
    implied = attention.linear_attention(q, k, v, is_causal=causal, need_weights=True)
    difference = (implied.output - result.output).abs().max().item()
    steps = linear_steps(config, q, k, v, implied.weights, result.output, queries)
    notes = [(
        f"线性注意力按 φ(Q)(φ(K)ᵀV) 的顺序计算，复杂度随长度线性增长，不需要 L×S 矩阵；热力图画的是"
        f"它隐含的权重 P。P·V 与线性计算的输出最大差：{difference:.2e}。",
        f"Linear attention computes φ(Q)(φ(K)ᵀV), linear in length, without an L×S matrix; the "
        f"heatmaps draw the weights P it implies. Largest difference between P·V and the "
        f"linear-time output: {difference:.2e}.",
    )]
    return finish(config, queries, keys, implied.weights, result.output, steps,
                  [attention.linear_attention], notes)


def _run_projected(config: LabConfig, module: torch.nn.Module, queries: list[str],
                   keys: list[str]) -> LabResult:
    """A multi-head module called as a learner would (self- or cross-attention), and its steps
    recomputed from its own ``project()``."""
    init_parameters(module, config.seed)
    cross = uses(config, "text2")
    x = embed(queries, config.embed_dim, config.seed)                        # (1, L, E)
    context = embed(keys, config.embed_dim, config.seed) if cross else x     # (1, S, E)
    keep = keep_mask(config, x.shape[1], context.shape[1])                   # (L, S) or None
    attn_mask = None if keep is None else keep.view(1, 1, *keep.shape)       # (1, 1, L, S)
    if cross:
        output, weights = module(x, context, context, attn_mask=attn_mask)
    else:
        output, weights = module(x, attn_mask=attn_mask)
    q, k, v = module.project(x, context, context)            # (1, H, L, D), (1, G, S, D) x2
    float_mask = None
    if keep is not None:
        float_mask = masks.to_additive(keep).expand(1, q.shape[1], *keep.shape)  # (1, H, L, S)
    plain = replace(config, scaled=True, temperature=1.0, alibi=False)
    steps = sdpa_steps(plain, q, k, v, float_mask, 1.0 / math.sqrt(q.shape[-1]),
                       token_labels(queries), token_labels(keys))
    return finish(config, queries, keys, weights, output, steps, [type(module)],
                  padded_queries=padded_queries(config, x.shape[1]))


def run_mha(config: LabConfig, queries: list[str], keys: list[str]) -> LabResult:
    module = attention.MultiHeadAttention(config.embed_dim, config.heads)
    return _run_projected(config, module, queries, keys)


def run_cross(config: LabConfig, queries: list[str], keys: list[str]) -> LabResult:
    dim = config.embed_dim
    module = attention.InteractiveAttention(dim, dim, dim, config.heads)
    return _run_projected(config, module, queries, keys)


def run_gqa(config: LabConfig, queries: list[str], keys: list[str]) -> LabResult:
    module = attention.GroupedQueryAttention(config.embed_dim, config.heads, config.kv_heads)
    return _run_projected(config, module, queries, keys)


def run_additive(config: LabConfig, queries: list[str], keys: list[str]) -> LabResult:
    """Bahdanau: one head; its steps recomputed from the module's own layers."""
    dim = config.embed_dim
    module = init_parameters(attention.AdditiveAttention(dim, dim, dim), config.seed)
    x = embed(queries, dim, config.seed)                                     # (1, L, E)
    keep = keep_mask(config, x.shape[1], x.shape[1])                         # (L, S) or None
    output, weights = module(x, x, x, attn_mask=keep)
    steps = additive_steps(module, x, x, keep, queries, keys)
    return finish(config, queries, keys, weights.unsqueeze(1), output, steps, [type(module)],
                  padded_queries=padded_queries(config, x.shape[1]))
