r"""Tiled attention with an online softmax: the FlashAttention algorithm, written in PyTorch.

Exact attention, computed one ``(query block, key block)`` tile at a time, so the ``L x S`` score
matrix never exists: memory is ``O(L * Dv)`` for the output plus one tile, instead of ``O(L * S)``.

The trick is a softmax that can be updated as new keys arrive (Milakov and Gimelshein, "Online
normalizer calculation for softmax", 2018). For each query row keep a running maximum ``m``,
a running denominator ``l`` and an unnormalised output ``acc``. For a new tile of scores ``s``:

.. math::

    m' = \max(m, \max_j s_j), \quad
    l' = e^{m - m'} l + \sum_j e^{s_j - m'}, \quad
    acc' = e^{m - m'} acc + \sum_j e^{s_j - m'} v_j

and at the end ``output = acc / l``. The factor ``e^{m - m'}`` rescales what was summed under the
old maximum. A row whose keys are all masked keeps ``l = 0`` and gives a zero output, as torch's
SDPA does.

Dao et al., "FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness",
NeurIPS 2022, https://arxiv.org/abs/2205.14135 (Algorithm 1). On a GPU the tiles live in fast
on-chip memory; here the point is the algorithm and the memory it saves, not speed: the Python
loop over tiles is slower than one big matmul.

Shape legend:
    N... batch dimensions, L query length, S key length, D query/key features, Dv value features,
    Bq / Bk rows / columns of one tile (``block_size``, the last tile may be smaller).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from attention._checks import check_attn_mask, check_positive_int, check_qkv
from attention.functional import AttentionOutput


def tiled_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
    block_size: int = 64,
) -> AttentionOutput:
    """Exact scaled dot-product attention, block by block over queries and keys.

    Args:
        query: ``(N..., L, D)``; key: ``(N..., S, D)``; value: ``(N..., S, Dv)`` (heads, if any,
            are one of the batch dimensions).
        attn_mask: broadcastable to ``(N..., L, S)``; bool True = attend, float = added.
            Sliced per tile, never expanded.
        is_causal: query i attends to keys j <= i (top-left aligned); tiles entirely above the
            diagonal are skipped. Not with ``attn_mask``.
        scale: multiplies the scores; default ``1 / sqrt(D)``.
        block_size: rows and columns per tile, any value >= 1 (it need not divide L or S).
    Returns:
        ``AttentionOutput(output (N..., L, Dv), None)``: the weights are never built.
    """
    scores_shape, length, source = check_qkv(query, key, value)
    attn_mask = check_attn_mask(attn_mask, scores_shape, is_causal)
    block_size = check_positive_int("block_size", block_size)
    if scale is None:
        scale = 1.0 / math.sqrt(query.size(-1))
    if attn_mask is not None and attn_mask.ndim < 2:
        attn_mask = attn_mask.reshape((1,) * (2 - attn_mask.ndim) + tuple(attn_mask.shape))
    batch = scores_shape[:-2]
    # Accumulate in at least float32 (half precision would lose the running sums).
    work = torch.promote_types(query.dtype, torch.float32)
    output = torch.zeros(*batch, length, value.size(-1), dtype=work, device=query.device)
    positions = torch.arange(max(length, source), device=query.device)
    for row in range(0, length, block_size):
        row_end = min(row + block_size, length)
        q = query[..., row:row_end, :].to(work) * scale  # (N..., Bq, D)
        row_max = torch.full((*batch, row_end - row, 1), float("-inf"), dtype=work, device=q.device)
        denominator = torch.zeros_like(row_max)  # (N..., Bq, 1)
        acc = torch.zeros(*batch, row_end - row, value.size(-1), dtype=work, device=q.device)
        # With is_causal the last key any query of this tile may see is row_end - 1.
        last_key = min(source, row_end) if is_causal else source
        for col in range(0, last_key, block_size):
            col_end = min(col + block_size, last_key)
            k = key[..., col:col_end, :].to(work)  # (N..., Bk, D)
            v = value[..., col:col_end, :].to(work)  # (N..., Bk, Dv)
            scores = q @ k.transpose(-2, -1)  # (N..., Bq, D) @ (N..., D, Bk) -> (N..., Bq, Bk)
            if is_causal:
                keep = positions[row:row_end, None] >= positions[None, col:col_end]  # (Bq, Bk)
                scores = scores.masked_fill(~keep, float("-inf"))
            elif attn_mask is not None:
                block_mask = _tile(attn_mask, row, row_end, col, col_end)
                if block_mask.dtype == torch.bool:
                    scores = scores.masked_fill(~block_mask, float("-inf"))
                else:
                    scores = scores + block_mask
            new_max = torch.maximum(row_max, scores.amax(dim=-1, keepdim=True))  # (N..., Bq, 1)
            # Rows with no key seen yet have max -inf; shift them by 0 so exp() gives 0, not NaN.
            shift = new_max.masked_fill(new_max == float("-inf"), 0.0)  # (N..., Bq, 1)
            probabilities = torch.exp(scores - shift)  # (N..., Bq, Bk), unnormalised
            rescale = torch.exp(row_max - shift)  # (N..., Bq, 1): e^(m - m')
            denominator = denominator * rescale + probabilities.sum(dim=-1, keepdim=True)
            # (N..., Bq, Bk) @ (N..., Bk, Dv) -> (N..., Bq, Dv)
            acc = acc * rescale + probabilities @ v
            row_max = new_max
        # A fully masked row has denominator 0 and acc 0: divide by 1 to keep its zeros.
        output[..., row:row_end, :] = acc / denominator.masked_fill(denominator == 0, 1.0)
    return AttentionOutput(output.to(query.dtype), None)


def _tile(mask: Tensor, row: int, row_end: int, col: int, col_end: int) -> Tensor:
    """The part of a broadcastable ``(..., L or 1, S or 1)`` mask that covers one tile."""
    rows = slice(row, row_end) if mask.size(-2) != 1 else slice(None)
    cols = slice(col, col_end) if mask.size(-1) != 1 else slice(None)
    return mask[..., rows, cols]  # (..., Bq or 1, Bk or 1)
