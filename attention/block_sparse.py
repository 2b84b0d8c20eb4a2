r"""Block-sparse attention with query-dependent block selection (MoBA; NSA's selection branch).

Keys are split into consecutive blocks of ``block_size`` (the last may be shorter). Each query
scores every block by its mean key, keeps a few blocks, and attends only inside them:

.. math::

    g_{ib} = q_i \cdot \bar{k}_b \cdot \mathrm{scale}, \qquad
    \bar{k}_b = \mathrm{mean}_{j \in b}\, k_j

* ``is_causal=True``: query i (at position i, top-left aligned as torch's SDPA) always keeps its
  own block and the ``top_k`` highest-scoring *earlier* blocks (all of them when fewer), and
  only keys ``j <= i`` inside them. With ``top_k`` covering every block this is dense causal
  attention.
* ``is_causal=False``: query i keeps the ``top_k`` highest-scoring blocks, none forced.

Ties go to the earlier block. Softmax runs over the kept keys; all other weights are exact zeros.

Lu et al., "MoBA: Mixture of Block Attention for Long-Context LLMs", 2025,
https://arxiv.org/abs/2502.13189; Yuan et al., "Native Sparse Attention", 2025,
https://arxiv.org/abs/2502.11089 (its selection branch; NSA scores blocks from compressed keys
and shares the choice across a GQA group, which is not done here). This reference builds the
full ``L x S`` scores and masks them: it shows *which* keys are read, not the speed-up a kernel
that skips unselected blocks gets.

Shape legend:
    N... batch dimensions, L query length, S key length, D query/key features, Dv value features,
    nb number of key blocks = ceil(S / block_size).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from attention._checks import check_positive_int, check_qkv, check_tensor
from attention.functional import AttentionOutput, masked_softmax


def block_scores(query: Tensor, key: Tensor, *, block_size: int, scale: float | None = None
                 ) -> Tensor:  # fmt: skip
    """Each query's score for each key block: ``q . mean(k in block) * scale``.

    Shapes: query ``(N..., L, D)``, key ``(N..., S, D)`` -> ``(N..., L, nb)``.
    """
    query = check_tensor("query", query, min_ndim=2)
    key = check_tensor("key", key, min_ndim=2)
    block_size = check_positive_int("block_size", block_size)
    source = key.size(-2)
    if scale is None:
        scale = 1.0 / math.sqrt(query.size(-1))
    num_blocks = -(-source // block_size)
    block_of_key = torch.arange(source, device=key.device) // block_size  # (S,)
    # One-hot block membership averaged: (nb, S) rows sum to 1 -> mean keys (N..., nb, D)
    members = (block_of_key[None, :] == torch.arange(num_blocks, device=key.device)[:, None])
    averaging = members.to(key.dtype) / members.sum(dim=-1, keepdim=True).to(key.dtype)
    mean_keys = averaging @ key  # (nb, S) @ (N..., S, D) -> (N..., nb, D)
    return (query * scale) @ mean_keys.transpose(-2, -1)  # (N..., L, nb)


def block_selection(
    query: Tensor,
    key: Tensor,
    *,
    block_size: int,
    top_k: int,
    is_causal: bool = True,
    scale: float | None = None,
) -> Tensor:
    """Which blocks each query keeps (the Lab draws this): bool ``(N..., L, nb)``.

    Arguments as :func:`block_sparse_attention`.
    """
    top_k = check_positive_int("top_k", top_k)
    scores = block_scores(query, key, block_size=block_size, scale=scale)  # (N..., L, nb)
    length, num_blocks = scores.size(-2), scores.size(-1)
    block_index = torch.arange(num_blocks, device=scores.device)  # (nb,)
    if is_causal:
        own_block = torch.arange(length, device=scores.device)[:, None] // block_size  # (L, 1)
        eligible = block_index[None, :] < own_block  # (L, nb): earlier blocks only
        forced = block_index[None, :] == own_block  # (L, nb): the query's own block
        scores = scores.masked_fill(~eligible, float("-inf"))
    else:
        eligible = torch.ones(num_blocks, dtype=torch.bool, device=scores.device)
        forced = torch.zeros(num_blocks, dtype=torch.bool, device=scores.device)
    # Rank blocks by score; a stable sort puts the earlier of two equal blocks first.
    order = torch.sort(scores, dim=-1, descending=True, stable=True).indices  # (N..., L, nb)
    ranks = torch.empty_like(order).scatter_(
        -1, order, block_index.expand_as(order).contiguous()
    )  # (N..., L, nb): rank of each block, 0 = best
    return ((ranks < top_k) & eligible) | forced  # (N..., L, nb)


def block_sparse_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    *,
    block_size: int,
    top_k: int,
    is_causal: bool = True,
    scale: float | None = None,
) -> AttentionOutput:
    """Attention over the key blocks each query selects.

    Args:
        query: ``(N..., L, D)``; key ``(N..., S, D)``; value ``(N..., S, Dv)``.
        block_size: keys per block (the last block may be shorter).
        top_k: blocks selected per query (besides its own block when ``is_causal``).
        is_causal: query i keeps its own block, and keys j <= i only.
        scale: multiplies the scores and block scores; default ``1 / sqrt(D)``.
    Returns:
        ``AttentionOutput(output (N..., L, Dv), weights (N..., L, S))``, zeros outside the
        selected blocks.
    """
    _, length, source = check_qkv(query, key, value)
    selected = block_selection(query, key, block_size=block_size, top_k=top_k,
                               is_causal=is_causal, scale=scale)  # (N..., L, nb)  # fmt: skip
    block_of_key = torch.arange(source, device=key.device) // block_size  # (S,)
    keep = selected[..., block_of_key]  # (N..., L, nb) -> (N..., L, S)
    if is_causal:
        positions = torch.arange(max(length, source), device=key.device)
        keep = keep & (positions[:source][None, :] <= positions[:length][:, None])  # (L, S)
    if scale is None:
        scale = 1.0 / math.sqrt(query.size(-1))
    scores = (query * scale) @ key.transpose(-2, -1)  # (N..., L, D) @ (N..., D, S)
    weights = masked_softmax(scores, keep)  # (N..., L, S)
    return AttentionOutput(weights @ value, weights)  # (N..., L, Dv)
