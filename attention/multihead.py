r"""Multi-head attention (self- and cross-attention), batch first.

.. math::

    \mathrm{MultiHead}(Q, K, V) = \mathrm{Concat}(\mathrm{head}_1, \dots, \mathrm{head}_H) W^O,
    \qquad \mathrm{head}_h = \mathrm{Attention}(Q W^Q_h, K W^K_h, V W^V_h)

Vaswani et al., "Attention Is All You Need", 2017, section 3.2.2, https://arxiv.org/abs/1706.03762.

Shape legend:
    B batch, H heads, L query length, S key length, E embed_dim, D = E / H head dim,
    kdim / vdim the feature sizes of key / value inputs (E unless cross-attention says otherwise).

``SelfAttention`` and ``InteractiveAttention`` keep the constructor signatures and attribute names
(``query_linear`` ... ``out_linear``) of the classes in the source document; their history is in
``docs/history.md``. Every projection maps to ``H * D = E`` features before the split into heads.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from attention._checks import argument_error, check_divisible, check_positive_int
from attention.functional import AttentionOutput
from attention.heads import ProjectedAttention
from attention.kv_cache import KVCache


class MultiHeadAttention(ProjectedAttention):
    """Multi-head attention that returns per-head weights: H query heads, H key/value heads.

    Args:
        embed_dim: E, the width of queries and of the output.
        num_heads: H; must divide E.
        kdim, vdim: feature sizes of key and value inputs (default E). Different sizes make it
            cross-attention between two sequences with different widths.
        bias: add a bias to the four projections.
        dropout: dropout on the attention weights, in training mode only.

    Attributes:
        query_linear ``E -> E``, key_linear ``kdim -> E``, value_linear ``vdim -> E``,
        out_linear ``E -> E`` (``W^O``). ``project(query, key=None, value=None)`` returns the
        per-head ``q (B, H, L, D)``, ``k (B, H, S, D)``, ``v (B, H, S, D)``; ``forward`` is
        :meth:`ProjectedAttention.forward` (masks, ``is_causal``, ``need_weights``, ``kv_cache``).
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
        num_heads = check_positive_int("num_heads", num_heads)
        super().__init__(
            embed_dim, num_heads, num_heads, kdim=kdim, vdim=vdim, bias=bias, dropout=dropout
        )

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
    """``SelfAttention(embed_dim, num_heads)``: a sequence attends to itself.

    ``forward(x)`` with ``x`` of shape ``(B, L, E)``
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
        kv_cache: KVCache | None = None,
    ) -> AttentionOutput:
        return super().forward(
            x, attn_mask=attn_mask, is_causal=is_causal, need_weights=need_weights,
            kv_cache=kv_cache,
        )  # fmt: skip


class InteractiveAttention(MultiHeadAttention):
    """``InteractiveAttention(query_dim, key_dim, value_dim, num_heads)``: cross-attention,
    where queries come from one sequence and keys/values from another.

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
