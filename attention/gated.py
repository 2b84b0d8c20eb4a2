r"""Gated attention: a head-specific elementwise sigmoid gate on the attention output.

.. math::

    \mathrm{head}_h = \mathrm{Attention}(Q_h, K_h, V_h) \odot \sigma(X W^G_h), \qquad
    \mathrm{output} = \mathrm{Concat}(\mathrm{head}_1, \dots, \mathrm{head}_H)\, W^O

The gate is computed from the layer input (the same hidden states the queries come from), one
value per head and feature, and applied after the scaled dot-product attention and before the
output projection (position "G1" in the paper, the variant Qwen3-Next uses). It adds a
non-linearity between ``W^V`` and ``W^O`` and lets a head output (near) zero, which removes the
need for an attention sink on the first token. The attention weights are the plain softmax.

Qiu et al., "Gated Attention for Large Language Models: Non-linearity, Sparsity, and
Attention-Sink-Free", 2025, https://arxiv.org/abs/2505.06708.

Not done: Qwen3-Next's packing of the gate into the query projection (same numbers, one matmul),
its QK-norm and partial RoPE.

Shape legend:
    B batch, H heads, Hkv key/value heads, L query length, S key length, E embed_dim,
    D = E / H head dim.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from attention.functional import AttentionOutput, scaled_dot_product_attention
from attention.heads import ProjectedAttention, merge_heads, repeat_kv, split_heads


class GatedAttention(ProjectedAttention):
    """Self-attention with a sigmoid output gate per head and feature.

    Args:
        embed_dim: E; a multiple of ``num_heads``.
        num_heads: H.
        num_kv_heads: Hkv key/value heads (default H); must divide H.
        bias: biases on the projections (the gate's included).

    Attributes:
        as :class:`~attention.heads.ProjectedAttention`, plus gate_linear ``E -> E``
        (``W^G``, Xavier-uniform, zero bias).
    """

    def __init__(
        self, embed_dim: int, num_heads: int, *, num_kv_heads: int | None = None,
        bias: bool = True,
    ) -> None:  # fmt: skip
        super().__init__(embed_dim, num_heads, num_heads if num_kv_heads is None else num_kv_heads,
                         bias=bias)  # fmt: skip
        self.gate_linear = nn.Linear(self.embed_dim, self.embed_dim, bias=bias)
        nn.init.xavier_uniform_(self.gate_linear.weight)
        if self.gate_linear.bias is not None:
            nn.init.zeros_(self.gate_linear.bias)

    def gates(self, x: Tensor) -> Tensor:
        """The gate for drawing: ``sigmoid(x W^G)`` per head, ``(B, L, E) -> (B, H, L, D)``."""
        return torch.sigmoid(split_heads(self.gate_linear(x), self.num_heads))

    def forward(  # type: ignore[override]
        self,
        x: Tensor,
        *,
        attn_mask: Tensor | None = None,
        is_causal: bool = False,
        need_weights: bool = True,
    ) -> AttentionOutput:
        """Args:
            x: ``(B, L, E)``.
            attn_mask: broadcastable to ``(B, H, L, L)``; bool True = attend, float = added.
            is_causal: query i attends to keys j <= i.
            need_weights: return the softmax weights (else None).
        Returns:
            ``AttentionOutput(output (B, L, E), weights (B, H, L, L) or None)``.
        """
        q, k, v = self.project(x)  # (B, H, L, D), (B, Hkv, L, D) x 2
        k = repeat_kv(k, self.num_kv_groups)  # (B, H, L, D)
        v = repeat_kv(v, self.num_kv_groups)  # (B, H, L, D)
        context, weights = scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask, is_causal=is_causal
        )  # (B, H, L, D), (B, H, L, L)
        gated = context * self.gates(x)  # (B, H, L, D) * (B, H, L, D)
        output = self.out_linear(merge_heads(gated))  # (B, L, E)
        return AttentionOutput(output, weights if need_weights else None)
