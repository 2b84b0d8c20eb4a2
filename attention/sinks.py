r"""Attention with a learned sink logit per head (gpt-oss).

Each head h has one extra logit :math:`s_h` that joins every row's softmax as if it were a key
with no value; it takes probability mass and is then dropped, so a row's weights sum to less
than 1 and a head can attend to "nothing":

.. math::

    w_{ij} = \frac{\exp(z_{ij})}{\exp(s_h) + \sum_{j'} \exp(z_{ij'})},
    \qquad z_{ij} = q_i \cdot k_j \cdot \mathrm{scale} + M_{ij}

``s_h = -inf`` gives plain softmax attention. StreamingLLM (Xiao et al., 2023,
https://arxiv.org/abs/2309.17453) found that models dump attention on the first tokens when they
have nowhere else to put it; a sink logit gives them that place explicitly (OpenAI, gpt-oss
model card, 2025, https://arxiv.org/abs/2508.10925). A row with every key masked gives zeros.

Shape legend:
    N... batch dimensions, H heads, L query length, S key length, D query/key features,
    Dv value features.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from attention._checks import (
    argument_error,
    check_attn_mask,
    check_qkv,
    check_tensor,
    shape_str,
)
from attention.functional import AttentionOutput
from attention.masks import causal_mask


def sink_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    sink_logits: Tensor,
    *,
    attn_mask: Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
) -> AttentionOutput:
    """Softmax attention with one extra, value-less logit per head in every row.

    Args:
        query: ``(N..., H, L, D)``; key ``(N..., H, S, D)``; value ``(N..., H, S, Dv)``.
        sink_logits: ``(H,)``, one logit per head (learned in a model).
        attn_mask: broadcastable to ``(N..., H, L, S)``; bool True = attend, float = added.
        is_causal: query i attends to keys j <= i (top-left aligned, as torch's SDPA).
        scale: multiplies the scores; default ``1 / sqrt(D)``.
    Returns:
        ``AttentionOutput(output (N..., H, L, Dv), weights (N..., H, L, S))``; each row of the
        weights sums to ``1 - p_sink < 1``, ``p_sink`` being the sink's share.
    """
    scores_shape, length, source = check_qkv(query, key, value)
    if query.ndim < 3:
        raise argument_error("query", "a tensor (N..., H, L, D) with a head dimension",
                             f"shape {shape_str(query.shape)}")  # fmt: skip
    heads = query.size(-3)
    sink_logits = check_tensor("sink_logits", sink_logits, ndim=1)
    if sink_logits.size(0) != heads:
        raise argument_error("sink_logits", f"shape ({heads},), one logit per head of query",
                             f"shape {shape_str(sink_logits.shape)}")  # fmt: skip
    attn_mask = check_attn_mask(attn_mask, scores_shape, is_causal)
    if is_causal:
        attn_mask = causal_mask(length, source, device=query.device)  # (L, S)
    if scale is None:
        scale = 1.0 / math.sqrt(query.size(-1))
    compute_dtype = torch.promote_types(query.dtype, torch.float32)
    # (N..., H, L, D) @ (N..., H, D, S) -> (N..., H, L, S)
    scores = ((query * scale) @ key.transpose(-2, -1)).to(compute_dtype)
    if attn_mask is not None and attn_mask.dtype == torch.bool:
        scores = scores.masked_fill(~attn_mask, float("-inf"))
    elif attn_mask is not None:
        scores = scores + attn_mask
    # The sink joins each row as one more column: (H,) -> (H, 1, 1) -> (N..., H, L, 1)
    sink = sink_logits.to(compute_dtype)[:, None, None].expand(*scores.shape[:-1], 1)
    row_max = torch.maximum(scores.amax(dim=-1, keepdim=True), sink)  # (N..., H, L, 1)
    row_max = torch.where(torch.isfinite(row_max), row_max, torch.zeros_like(row_max))
    exp_scores = torch.exp(scores - row_max)  # (N..., H, L, S); masked keys give 0
    denominator = exp_scores.sum(dim=-1, keepdim=True) + torch.exp(sink - row_max)  # (..., L, 1)
    # A row with no key and a -inf sink has 0 / 0: it gives zeros, as SDPA's fully masked rows.
    weights = torch.where(denominator > 0, exp_scores / denominator, torch.zeros_like(exp_scores))
    weights = weights.to(query.dtype)
    output = weights @ value  # (N..., H, L, S) @ (N..., H, S, Dv) -> (N..., H, L, Dv)
    return AttentionOutput(output, weights)
