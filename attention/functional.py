r"""Scaled dot-product attention, the functional core every module here stands on.

.. math::

    \mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d_k}} + M\right) V

Vaswani et al., "Attention Is All You Need", NeurIPS 2017, https://arxiv.org/abs/1706.03762.

Same arguments and meaning as :func:`torch.nn.functional.scaled_dot_product_attention`, but it
also returns the attention weights, so you can look at them.

Shape legend:
    N... batch dimensions (any number, broadcast)
    H    query heads;  Hkv key/value heads (equal to H unless ``enable_gqa``)
    L    target (query) length;  S source (key/value) length
    D    query/key feature size (d_k);  Dv value feature size (d_v)

Why divide by :math:`\sqrt{d_k}`: for q, k with independent unit-variance entries, q·k has
variance d_k; scaling brings it back to 1 so the softmax does not saturate as d_k grows.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from attention._checks import check_attn_mask, check_probability, check_qkv
from attention.masks import causal_mask


class AttentionOutput(NamedTuple):
    """What every attention path returns.

    output:  ``(..., L, Ev)`` (modules: ``(B, L, E)``).
    weights: ``(..., H, L, S)``, each row a probability distribution over keys (all zeros for a
             query that may attend to no key); ``None`` only on paths that never build the
             ``L x S`` matrix (tiled attention, fused kernels).
    """

    output: Tensor
    weights: Tensor | None


def masked_softmax(
    scores: Tensor, attn_mask: Tensor | None = None, *, inplace: bool = False
) -> Tensor:
    """Softmax over the last dimension (keys) after a mask, in float32 (float64 stays float64).

    A bool mask removes keys where it is False (their score becomes ``-inf``); a float mask is
    added. A row with no key left gives all-zero weights, as torch's SDPA does, never NaN.

    Args:
        scores: ``(..., L, S)``.
        attn_mask: broadcastable to ``(..., L, S)``; bool True = attend, float = added.
        inplace: overwrite ``scores`` (for a tensor the caller just computed): saves allocating
            and filling a second ``L x S`` buffer (3-5% of multi-head attention's time on CPU;
            torch's own fused path does the same). Ignored when autograd records the graph or
            for half precision.
    Returns:
        The weights, ``(..., L, S)`` in scores' dtype.
    """
    dtype = scores.dtype
    records_graph = torch.is_grad_enabled() and (
        scores.requires_grad or (attn_mask is not None and attn_mask.requires_grad)
    )
    # At least float32: exp() of half-precision scores loses too much (STYLE.md habit 3).
    softmax_dtype = torch.promote_types(dtype, torch.float32)  # float16 -> float32; float64 stays
    inplace = inplace and dtype == softmax_dtype and not records_graph
    if attn_mask is not None and attn_mask.dtype == torch.bool:
        attends = attn_mask.any(dim=-1, keepdim=True)  # (..., L, 1): has a key to look at
        if inplace:
            scores = scores.masked_fill_(~attn_mask, float("-inf"))  # (..., L, S)
        else:
            scores = scores.masked_fill(~attn_mask, float("-inf"))  # (..., L, S)
    elif attn_mask is not None:
        scores = scores.add_(attn_mask) if inplace else scores + attn_mask  # (..., L, S)
        attends = scores.amax(dim=-1, keepdim=True) > float("-inf")  # (..., L, 1)
    if inplace:
        weights = torch.softmax(scores, dim=-1, out=scores)
    else:
        weights = torch.softmax(scores, dim=-1, dtype=softmax_dtype)
    if attn_mask is not None:
        # softmax gives NaN on rows with no key left (all -inf); they become exact zeros.
        no_key = ~attends  # (..., L, 1)
        weights = weights.masked_fill_(no_key, 0.0) if inplace else weights.masked_fill(no_key, 0.0)
    return weights.to(dtype)


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> AttentionOutput:
    """Attention weights and output, with the signature of torch's SDPA.

    Args:
        query: ``(N..., H, L, D)``.
        key: ``(N..., Hkv, S, D)``.
        value: ``(N..., Hkv, S, Dv)``.
        attn_mask: broadcastable to ``(N..., H, L, S)``; bool True = attend, float = added.
        dropout_p: dropout on the weights, applied whenever > 0 (as in torch's functional form;
            modules pass 0 in eval mode). The returned weights are the ones multiplied with V.
        is_causal: query i attends to keys j <= i (top-left aligned). Not with ``attn_mask``.
        scale: multiplies the scores; default ``1 / sqrt(D)``.
        enable_gqa: let ``Hkv`` divide ``H``; query head h uses key/value head
            ``h // (H / Hkv)``, as torch does.
    Returns:
        ``AttentionOutput(output (N..., H, L, Dv), weights (N..., H, L, S))``.
    Raises:
        ValueError: shapes that do not fit, a mask that does not broadcast, both ``attn_mask``
            and ``is_causal``, a dropout probability outside [0, 1].
    """
    scores_shape, length, source = check_qkv(query, key, value, enable_gqa=enable_gqa)
    attn_mask = check_attn_mask(attn_mask, scores_shape, is_causal)
    dropout_p = check_probability("dropout_p", dropout_p)
    if enable_gqa and key.size(-3) != query.size(-3):
        groups = query.size(-3) // key.size(-3)
        key = key.repeat_interleave(groups, dim=-3)  # (N..., Hkv, S, D) -> (N..., H, S, D)
        value = value.repeat_interleave(groups, dim=-3)  # (N..., Hkv, S, Dv) -> (N..., H, S, Dv)
    if is_causal:
        attn_mask = causal_mask(length, source, device=query.device)  # (L, S)
    if scale is None:
        scale = 1.0 / math.sqrt(query.size(-1))
    # Scale q before the matmul: L*D products instead of L*S (as nn.MultiheadAttention does).
    # (N..., H, L, D) @ (N..., H, D, S) -> (N..., H, L, S)
    scores = (query * scale) @ key.transpose(-2, -1)
    weights = masked_softmax(scores, attn_mask, inplace=True)  # (N..., H, L, S)
    if dropout_p > 0.0:
        weights = F.dropout(weights, p=dropout_p)
    output = weights @ value  # (N..., H, L, S) @ (N..., H, S, Dv) -> (N..., H, L, Dv)
    return AttentionOutput(output, weights)


def fused_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    enable_gqa: bool = False,
) -> Tensor:
    """The output only, from torch's fused kernel: the modules' ``need_weights=False`` path.

    Same arguments, checks and mask meaning as :func:`scaled_dot_product_attention`; the
    ``L x S`` weights are never returned (the kernel may never build them).

    Returns:
        ``(N..., H, L, Dv)``.
    """
    scores_shape, _, _ = check_qkv(query, key, value, enable_gqa=enable_gqa)
    attn_mask = check_attn_mask(attn_mask, scores_shape, is_causal)
    if attn_mask is not None and attn_mask.dtype != torch.bool:
        attn_mask = attn_mask.to(query.dtype)  # the fused kernel wants the query's dtype
    return F.scaled_dot_product_attention(
        query, key, value, attn_mask=attn_mask, dropout_p=dropout_p, is_causal=is_causal,
        enable_gqa=enable_gqa,
    )  # fmt: skip
