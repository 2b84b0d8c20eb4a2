r"""Grouped-query attention (GQA), with multi-query attention (MQA) as its extreme.

H query heads share Hkv key/value heads: query head h reads key/value head ``h // (H / Hkv)``.

.. math::

    \mathrm{head}_h = \mathrm{Attention}\big(Q W^Q_h,\; K W^K_{g(h)},\; V W^V_{g(h)}\big),
    \qquad g(h) = \lfloor h \cdot H_{kv} / H \rfloor

* ``num_kv_heads == num_heads``: ordinary multi-head attention (MHA).
* ``num_kv_heads == 1``: multi-query attention (Shazeer, 2019, https://arxiv.org/abs/1911.02150).
* in between: GQA (Ainslie et al., 2023, https://arxiv.org/abs/2305.13245), as in Llama 2/3.

Why: at inference the KV cache holds ``2 * Hkv * D`` numbers per token and layer, so fewer
key/value heads make it ``H / Hkv`` times smaller, with little loss in quality.

The projections, head split and forward are :class:`attention.heads.ProjectedAttention`'s, the
same code :class:`~attention.MultiHeadAttention` runs.

Shape legend:
    B batch, H query heads, Hkv key/value heads, L query length, S key length, E embed_dim,
    D = E / H head dim, n_rep = H / Hkv query heads per key/value head.
"""

from __future__ import annotations

from attention.heads import ProjectedAttention, repeat_kv

__all__ = ["GroupedQueryAttention", "repeat_kv"]


class GroupedQueryAttention(ProjectedAttention):
    """Multi-head attention where groups of query heads share key/value heads.

    Args:
        embed_dim: E; must be a multiple of ``num_heads``.
        num_heads: H query heads.
        num_kv_heads: Hkv key/value heads; must divide H. 1 = MQA, H = MHA.
        bias: add a bias to the projections.
        dropout: dropout on the attention weights, in training mode only.

    Attributes:
        query_linear ``E -> E``, key_linear and value_linear ``E -> Hkv * D``,
        out_linear ``E -> E``. ``project(query, key=None, value=None)`` returns
        ``q (B, H, L, D)`` and the shared, not repeated, ``k, v (B, Hkv, S, D)``.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        num_kv_heads: int,
        *,
        bias: bool = True,
        dropout: float = 0.0,
    ) -> None:
        super().__init__(embed_dim, num_heads, num_kv_heads, bias=bias, dropout=dropout)
