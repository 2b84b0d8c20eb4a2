r"""Linear attention: replace the softmax kernel by a feature map and reorder the products.

Katharopoulos et al., "Transformers are RNNs: Fast Autoregressive Transformers with Linear
Attention", ICML 2020, https://arxiv.org/abs/2006.16236.

With :math:`\phi(x) = \mathrm{elu}(x) + 1` (positive, so every weight is positive):

.. math::

    \mathrm{out}_i = \frac{\sum_j \phi(q_i)^\top \phi(k_j)\, v_j}{\sum_j \phi(q_i)^\top \phi(k_j)}
                   = \frac{\phi(q_i)^\top \big(\sum_j \phi(k_j) v_j^\top\big)}
                          {\phi(q_i)^\top \sum_j \phi(k_j)}

The right-hand side computes ``sum_j phi(k_j) v_j^T`` (an ``D x Dv`` matrix) once, so time and
memory grow linearly in the length instead of quadratically. Causal attention sums only over
``j <= i``: prefix sums (``cumsum``) over the keys, which is why the paper calls it an RNN.

It is *not* softmax attention: the weights are ``phi(q_i)·phi(k_j)`` normalised, flatter than a
softmax, and the results differ from :func:`attention.scaled_dot_product_attention`.

Weights: the linear path never builds the ``L x S`` matrix and returns ``weights=None``. Pass
``need_weights=True`` to get the normalised matrix; the output is then computed from that matrix
(the quadratic form above, same result), which costs ``O(L * S)`` like ordinary attention.

Shape legend:
    N... batch dimensions (e.g. batch and heads), L query length, S key length,
    D query/key features, Dv value features.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from attention._checks import argument_error, check_qkv
from attention.functional import AttentionOutput
from attention.masks import causal_mask


def elu_feature_map(x: Tensor) -> Tensor:
    """``phi(x) = elu(x) + 1``: positive everywhere, like ``exp`` near 0 (the paper's choice)."""
    return F.elu(x) + 1.0


def linear_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    is_causal: bool = False,
    *,
    need_weights: bool = False,
) -> AttentionOutput:
    """Kernelized attention with ``phi(x) = elu(x) + 1``.

    Args:
        query: ``(N..., L, D)``; key: ``(N..., S, D)``; value: ``(N..., S, Dv)``.
        is_causal: query i attends to keys j <= i (top-left aligned, as ``is_causal`` in torch),
            computed with prefix sums.
        need_weights: also return the normalised ``(N..., L, S)`` weights (quadratic cost).
    Returns:
        ``AttentionOutput(output (N..., L, Dv), weights (N..., L, S) or None)``.
    """
    _, length, source = check_qkv(query, key, value)
    if not isinstance(is_causal, bool):
        raise argument_error("is_causal", "a bool", repr(is_causal))
    phi_q = elu_feature_map(query)  # (N..., L, D)
    phi_k = elu_feature_map(key)  # (N..., S, D)
    if need_weights:
        return _quadratic(phi_q, phi_k, value, is_causal)
    if not is_causal:
        kv = phi_k.transpose(-2, -1) @ value  # (N..., D, S) @ (N..., S, Dv) -> (N..., D, Dv)
        normaliser = phi_k.sum(dim=-2)  # (N..., S, D) -> (N..., D)
        numerator = phi_q @ kv  # (N..., L, D) @ (N..., D, Dv) -> (N..., L, Dv)
        # (N..., L, D) @ (N..., D, 1) -> (N..., L, 1)
        denominator = phi_q @ normaliser.unsqueeze(-1)
        return AttentionOutput(numerator / denominator, None)
    # Prefix sums: state_i = sum_{j <= i} phi(k_j) v_j^T, z_i = sum_{j <= i} phi(k_j).
    # (N..., S, D, 1) * (N..., S, 1, Dv) -> (N..., S, D, Dv), then cumulative over S
    state = torch.cumsum(phi_k.unsqueeze(-1) * value.unsqueeze(-2), dim=-3)
    z = torch.cumsum(phi_k, dim=-2)  # (N..., S, D)
    # Query i reads the prefix up to key min(i, S - 1) (with L > S the last queries see all keys).
    last_key = torch.arange(length, device=query.device).clamp(max=source - 1)  # (L,)
    state = state[..., last_key, :, :]  # (N..., S, D, Dv) -> (N..., L, D, Dv)
    z = z[..., last_key, :]  # (N..., S, D) -> (N..., L, D)
    # (N..., L, 1, D) @ (N..., L, D, Dv) -> (N..., L, 1, Dv) -> (N..., L, Dv)
    numerator = (phi_q.unsqueeze(-2) @ state).squeeze(-2)
    denominator = (phi_q * z).sum(dim=-1, keepdim=True)  # (N..., L, D) -> (N..., L, 1)
    return AttentionOutput(numerator / denominator, None)


def _quadratic(phi_q: Tensor, phi_k: Tensor, value: Tensor, is_causal: bool) -> AttentionOutput:
    """The same attention through the explicit ``L x S`` matrix, for looking at the weights."""
    similarity = phi_q @ phi_k.transpose(-2, -1)  # (N..., L, D) @ (N..., D, S) -> (N..., L, S)
    if is_causal:
        keep = causal_mask(phi_q.size(-2), phi_k.size(-2), device=phi_q.device)  # (L, S)
        similarity = similarity.masked_fill(~keep, 0.0)  # phi > 0, so 0 means "not seen"
    weights = similarity / similarity.sum(dim=-1, keepdim=True)  # (N..., L, S), rows sum to 1
    output = weights @ value  # (N..., L, S) @ (N..., S, Dv) -> (N..., L, Dv)
    return AttentionOutput(output, weights)
