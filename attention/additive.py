r"""Additive (Bahdanau) attention: a small MLP scores each query/key pair.

.. math::

    e_{ij} = v^\top \tanh(W_q q_i + W_k k_j), \qquad
    \alpha_{ij} = \mathrm{softmax}_j(e_{ij}), \qquad
    c_i = \sum_j \alpha_{ij} v_j

Bahdanau, Cho and Bengio, "Neural Machine Translation by Jointly Learning to Align and
Translate", ICLR 2015, https://arxiv.org/abs/1409.0473.

Compared with dot-product attention it works when queries and keys have different sizes without
a shared projection, but it builds a ``(B, L, S, hidden_dim)`` tensor, so it is slower and uses
more memory; that is why Transformers use dot products.

Shape legend:
    B batch, L target (query) length, S source (key) length,
    Dq query_dim, Dk key_dim, Dv value feature size, A hidden_dim (the MLP width).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from attention._checks import check_attn_mask, check_positive_int, check_size, check_tensor
from attention.functional import AttentionOutput, masked_softmax


class AdditiveAttention(nn.Module):
    """Bahdanau attention that returns its weights.

    Args:
        query_dim: Dq. key_dim: Dk. hidden_dim: A, the width of the scoring MLP.

    Attributes:
        query_linear ``Dq -> A`` (no bias), key_linear ``Dk -> A`` (with bias), score ``A -> 1``
        (the vector v, no bias).
    """

    def __init__(self, query_dim: int, key_dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.query_dim = check_positive_int("query_dim", query_dim)
        self.key_dim = check_positive_int("key_dim", key_dim)
        self.hidden_dim = check_positive_int("hidden_dim", hidden_dim)
        self.query_linear = nn.Linear(query_dim, hidden_dim, bias=False)
        self.key_linear = nn.Linear(key_dim, hidden_dim, bias=True)
        self.score = nn.Linear(hidden_dim, 1, bias=False)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor | None = None,
        *,
        attn_mask: Tensor | None = None,
    ) -> AttentionOutput:
        """Args:
            query: ``(B, L, Dq)`` (a decoder state per target step).
            key: ``(B, S, Dk)`` (encoder states).
            value: ``(B, S, Dv)``; default ``key``, as in the paper.
            attn_mask: broadcastable to ``(B, L, S)``; bool True = attend, float = added.
        Returns:
            ``AttentionOutput(output (B, L, Dv), weights (B, L, S))``.
        """
        value = key if value is None else value
        query = check_tensor("query", query, ndim=3)
        key = check_tensor("key", key, ndim=3)
        value = check_tensor("value", value, ndim=3)
        check_size("query", query.size(-1), self.query_dim, "the last dimension query_dim")
        check_size("key", key.size(-1), self.key_dim, "the last dimension key_dim")
        check_size("key", key.size(0), query.size(0), "the batch size B of query")
        check_size("value", value.size(0), query.size(0), "the batch size B of query")
        check_size("value", value.size(1), key.size(1), "the length S of key")
        batch, length, source = query.size(0), query.size(1), key.size(1)
        attn_mask = check_attn_mask(attn_mask, (batch, length, source), is_causal=False)
        projected_q = self.query_linear(query)  # (B, L, Dq) -> (B, L, A)
        projected_k = self.key_linear(key)  # (B, S, Dk) -> (B, S, A)
        # (B, L, 1, A) + (B, 1, S, A) -> (B, L, S, A): every query/key pair
        hidden = torch.tanh(projected_q[:, :, None, :] + projected_k[:, None, :, :])
        scores = self.score(hidden).squeeze(-1)  # (B, L, S, A) -> (B, L, S, 1) -> (B, L, S)
        weights = masked_softmax(scores, attn_mask)  # (B, L, S)
        output = weights @ value  # (B, L, S) @ (B, S, Dv) -> (B, L, Dv)
        return AttentionOutput(output, weights)
