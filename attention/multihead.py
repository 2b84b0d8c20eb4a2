r"""Multi-head attention (self- and cross-attention), batch first.

.. math::

    \mathrm{MultiHead}(Q, K, V) = \mathrm{Concat}(\mathrm{head}_1, \dots, \mathrm{head}_H) W^O,
    \qquad \mathrm{head}_h = \mathrm{Attention}(Q W^Q_h, K W^K_h, V W^V_h)

Vaswani et al., "Attention Is All You Need", 2017, section 3.2.2, https://arxiv.org/abs/1706.03762.

Shape legend:
    B batch, L target (query) length, S source (key/value) length,
    E embed_dim (model width), H num_heads, D = E / H head size,
    kdim / vdim the feature sizes of key / value inputs (E unless cross-attention says otherwise).

``SelfAttention`` and ``InteractiveAttention`` keep the names and constructor signatures of the
seed's classes (and its attribute names ``query_linear`` ... ``out_linear``), corrected: the seed's
``InteractiveAttention`` projected q, k and v to one head's size, then reshaped them into all the
heads (``RuntimeError: shape '[2, -1, 4, 4]' is invalid for input of size 24`` with dims 16 and
4 heads). Here every projection maps to ``H * D = E`` features before the split into heads.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from attention._checks import (
    argument_error,
    check_divisible,
    check_module_inputs,
    check_positive_int,
    check_probability,
)
from attention.functional import (
    AttentionOutput,
    fused_attention,
    scaled_dot_product_attention,
)


class MultiHeadAttention(nn.Module):
    """Multi-head attention that returns per-head weights.

    Args:
        embed_dim: E, the width of queries and of the output.
        num_heads: H; must divide E.
        kdim, vdim: feature sizes of key and value inputs (default E). Different sizes make it
            cross-attention between two sequences with different widths.
        bias: add a bias to the four projections.
        dropout: dropout on the attention weights, in training mode only.

    Attributes:
        query_linear ``E -> E``, key_linear ``kdim -> E``, value_linear ``vdim -> E``,
        out_linear ``E -> E`` (``W^O``).
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        *,
        kdim: int | None = None,
        vdim: int | None = None,
        bias: bool = True,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        embed_dim = check_positive_int("embed_dim", embed_dim)
        num_heads = check_positive_int("num_heads", num_heads)
        check_divisible("embed_dim", embed_dim, "num_heads", num_heads)
        kdim = embed_dim if kdim is None else check_positive_int("kdim", kdim)
        vdim = embed_dim if vdim is None else check_positive_int("vdim", vdim)
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.kdim = kdim
        self.vdim = vdim
        self.dropout = check_probability("dropout", dropout)
        self.query_linear = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.key_linear = nn.Linear(kdim, embed_dim, bias=bias)
        self.value_linear = nn.Linear(vdim, embed_dim, bias=bias)
        self.out_linear = nn.Linear(embed_dim, embed_dim, bias=bias)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        # As nn.MultiheadAttention: Xavier-uniform projections, zero biases.
        for linear in (self.query_linear, self.key_linear, self.value_linear):
            nn.init.xavier_uniform_(linear.weight)
            if linear.bias is not None:
                nn.init.zeros_(linear.bias)
        if self.out_linear.bias is not None:
            nn.init.zeros_(self.out_linear.bias)

    def project(
        self, query: Tensor, key: Tensor | None = None, value: Tensor | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Per-head queries, keys and values: what the heads attend with.

        Args: as :meth:`forward` (key defaults to query, value to key).
        Returns:
            ``q (B, H, L, D)``, ``k (B, H, S, D)``, ``v (B, H, S, D)``.
        """
        key = query if key is None else key
        value = key if value is None else value
        batch, length, source = check_module_inputs(
            query, key, value, self.embed_dim, self.kdim, self.vdim
        )
        heads, head_dim = self.num_heads, self.head_dim
        # Split into heads: (B, L, E) -> (B, L, H, D) -> (B, H, L, D)
        q = self.query_linear(query).view(batch, length, heads, head_dim).transpose(1, 2)
        # (B, S, kdim) -> (B, S, E) -> (B, S, H, D) -> (B, H, S, D)
        k = self.key_linear(key).view(batch, source, heads, head_dim).transpose(1, 2)
        # (B, S, vdim) -> (B, S, E) -> (B, S, H, D) -> (B, H, S, D)
        v = self.value_linear(value).view(batch, source, heads, head_dim).transpose(1, 2)
        return q, k, v

    def forward(
        self,
        query: Tensor,
        key: Tensor | None = None,
        value: Tensor | None = None,
        *,
        attn_mask: Tensor | None = None,
        is_causal: bool = False,
        need_weights: bool = True,
    ) -> AttentionOutput:
        """Args:
            query: ``(B, L, E)``.
            key: ``(B, S, kdim)``; default ``query`` (self-attention).
            value: ``(B, S, vdim)``; default ``key``.
            attn_mask: broadcastable to ``(B, H, L, S)``; bool True = attend, float = added.
                Convert torch MHA masks with :mod:`attention.masks`.
            is_causal: query i attends to keys j <= i. Not together with ``attn_mask``.
            need_weights: False calls the fused ``F.scaled_dot_product_attention`` and returns
                ``weights=None``.
        Returns:
            ``AttentionOutput(output (B, L, E), weights (B, H, L, S) or None)``.
        """
        q, k, v = self.project(query, key, value)  # (B, H, L, D), (B, H, S, D), (B, H, S, D)
        batch, length = query.shape[0], query.shape[1]
        dropout_p = self.dropout if self.training else 0.0
        if need_weights:
            context, weights = scaled_dot_product_attention(
                q, k, v, attn_mask=attn_mask, dropout_p=dropout_p, is_causal=is_causal
            )  # (B, H, L, D), (B, H, L, S)
        else:
            context = fused_attention(
                q, k, v, attn_mask=attn_mask, dropout_p=dropout_p, is_causal=is_causal
            )  # (B, H, L, D)
            weights = None
        # (B, H, L, D) -> (B, L, H, D) -> (B, L, E): concatenate the heads
        context = context.transpose(1, 2).reshape(batch, length, self.embed_dim)
        return AttentionOutput(self.out_linear(context), weights)

    @classmethod
    def from_torch(cls, module: nn.MultiheadAttention) -> MultiHeadAttention:
        """A copy of ``nn.MultiheadAttention``'s weights that computes the same output and weights.

        Works with packed (``in_proj_weight``, when kdim = vdim = E) and separate
        (``q_proj_weight`` / ``k_proj_weight`` / ``v_proj_weight``) projections, with or without
        bias. Our module is batch first: if ``module.batch_first`` is False, transpose its
        ``(L, B, E)`` inputs to ``(B, L, E)``. Its per-head weights equal
        ``module(..., need_weights=True, average_attn_weights=False)[1]``.
        """
        if not isinstance(module, nn.MultiheadAttention):
            raise argument_error("module", "an nn.MultiheadAttention", type(module).__name__)
        if module.bias_k is not None or module.add_zero_attn:
            raise argument_error(
                "module",
                "an nn.MultiheadAttention without add_bias_kv / add_zero_attn",
                "a module that uses them",
            )
        has_bias = module.in_proj_bias is not None
        ours = cls(
            module.embed_dim,
            module.num_heads,
            kdim=module.kdim,
            vdim=module.vdim,
            bias=has_bias,
            dropout=module.dropout,
        )
        reference = module.out_proj.weight
        ours.to(device=reference.device, dtype=reference.dtype)
        with torch.no_grad():
            if module.in_proj_weight is not None:
                w_q, w_k, w_v = module.in_proj_weight.chunk(3)  # (3E, E) -> 3 x (E, E)
            else:
                w_q, w_k, w_v = module.q_proj_weight, module.k_proj_weight, module.v_proj_weight
            ours.query_linear.weight.copy_(w_q)
            ours.key_linear.weight.copy_(w_k)
            ours.value_linear.weight.copy_(w_v)
            ours.out_linear.weight.copy_(module.out_proj.weight)
            if has_bias:
                b_q, b_k, b_v = module.in_proj_bias.chunk(3)  # (3E,) -> 3 x (E,)
                ours.query_linear.bias.copy_(b_q)
                ours.key_linear.bias.copy_(b_k)
                ours.value_linear.bias.copy_(b_v)
                out_bias = module.out_proj.bias
                ours.out_linear.bias.copy_(out_bias if out_bias is not None else 0.0)
        ours.train(module.training)
        return ours


class SelfAttention(MultiHeadAttention):
    """The seed's ``SelfAttention(embed_dim, num_heads)``: a sequence attends to itself.

    The seed's version was right (equal to ``nn.MultiheadAttention``) but had no mask, no dropout
    and hid its weights; this one has all three. ``forward(x)`` with ``x`` of shape ``(B, L, E)``
    returns ``AttentionOutput(output (B, L, E), weights (B, H, L, L))``.
    """

    def __init__(
        self, embed_dim: int, num_heads: int, *, bias: bool = True, dropout: float = 0.0
    ) -> None:
        super().__init__(embed_dim, num_heads, bias=bias, dropout=dropout)

    def forward(  # type: ignore[override]
        self,
        x: Tensor,
        *,
        attn_mask: Tensor | None = None,
        is_causal: bool = False,
        need_weights: bool = True,
    ) -> AttentionOutput:
        return super().forward(
            x, attn_mask=attn_mask, is_causal=is_causal, need_weights=need_weights
        )


class InteractiveAttention(MultiHeadAttention):
    """The seed's ``InteractiveAttention(query_dim, key_dim, value_dim, num_heads)``, corrected:
    cross-attention, where queries come from one sequence and keys/values from another.

    All three projections map to ``query_dim = H * D`` features, so the split into H heads always
    fits, and the output has ``query_dim`` features: it can be added back to the query stream (the
    residual connection of a Transformer decoder). ``query_dim`` must be a multiple of
    ``num_heads``; ``key_dim`` and ``value_dim`` can be anything.

    ``forward(query (B, L, query_dim), key (B, S, key_dim), value (B, S, value_dim))`` returns
    ``AttentionOutput(output (B, L, query_dim), weights (B, H, L, S))``.
    """

    def __init__(
        self,
        query_dim: int,
        key_dim: int,
        value_dim: int,
        num_heads: int,
        *,
        bias: bool = True,
        dropout: float = 0.0,
    ) -> None:
        query_dim = check_positive_int("query_dim", query_dim)
        num_heads = check_positive_int("num_heads", num_heads)
        check_divisible("query_dim", query_dim, "num_heads", num_heads)
        super().__init__(
            query_dim,
            num_heads,
            kdim=check_positive_int("key_dim", key_dim),
            vdim=check_positive_int("value_dim", value_dim),
            bias=bias,
            dropout=dropout,
        )
        self.query_dim, self.key_dim, self.value_dim = query_dim, key_dim, value_dim

    def forward(  # type: ignore[override]
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        *,
        attn_mask: Tensor | None = None,
        need_weights: bool = True,
    ) -> AttentionOutput:
        return super().forward(query, key, value, attn_mask=attn_mask, need_weights=need_weights)
