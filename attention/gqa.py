r"""Grouped-query attention (GQA), with multi-query attention (MQA) as its extreme.

H query heads share Hkv key/value heads: query head h reads key/value head ``h // (H / Hkv)``.

.. math::

    \mathrm{head}_h = \mathrm{Attention}\big(Q W^Q_h,\; K W^K_{g(h)},\; V W^V_{g(h)}\big),
    \qquad g(h) = \lfloor h \cdot H_{kv} / H \rfloor

* ``num_kv_heads == num_heads``: ordinary multi-head attention (MHA).
* ``num_kv_heads == 1``: multi-query attention (Shazeer, 2019, https://arxiv.org/abs/1911.02150).
* in between: GQA (Ainslie et al., 2023, https://arxiv.org/abs/2305.13245), as in Llama 2/3.

Why: at inference the KV cache holds ``2 * layers * Hkv * D`` numbers per token, so fewer key/value
heads make it ``H / Hkv`` times smaller, with little loss in quality.

Shape legend:
    B batch, L target length, S source length, E embed_dim, H num_heads,
    Hkv num_kv_heads, D = E / H head size, n_rep = H / Hkv query heads per key/value head.
"""

from __future__ import annotations

from torch import Tensor, nn

from attention._checks import (
    argument_error,
    check_divisible,
    check_module_inputs,
    check_positive_int,
    check_probability,
    check_tensor,
)
from attention.functional import (
    AttentionOutput,
    fused_attention,
    scaled_dot_product_attention,
)


def repeat_kv(hidden_states: Tensor, n_rep: int) -> Tensor:
    """Repeat each key/value head ``n_rep`` times, so Hkv heads line up with H query heads.

    Equal to ``torch.repeat_interleave(hidden_states, n_rep, dim=1)`` (heads 0,0,1,1,... for
    ``n_rep = 2``), written as expand + reshape like Hugging Face's Llama.

    Shapes: ``(B, Hkv, S, D)`` -> ``(B, Hkv * n_rep, S, D)``.
    """
    hidden_states = check_tensor("hidden_states", hidden_states, ndim=4)
    n_rep = check_positive_int("n_rep", n_rep)
    if n_rep == 1:
        return hidden_states
    batch, kv_heads, source, head_dim = hidden_states.shape
    # (B, Hkv, S, D) -> (B, Hkv, 1, S, D) -> (B, Hkv, n_rep, S, D): a view, no copy yet
    expanded = hidden_states[:, :, None, :, :].expand(batch, kv_heads, n_rep, source, head_dim)
    # (B, Hkv, n_rep, S, D) -> (B, Hkv * n_rep, S, D): the copy happens here
    return expanded.reshape(batch, kv_heads * n_rep, source, head_dim)


class GroupedQueryAttention(nn.Module):
    """Multi-head attention where groups of query heads share key/value heads.

    Args:
        embed_dim: E; must be a multiple of ``num_heads``.
        num_heads: H query heads.
        num_kv_heads: Hkv key/value heads; must divide H. 1 = MQA, H = MHA.
        bias: add a bias to the projections.
        dropout: dropout on the attention weights, in training mode only.

    Attributes:
        query_linear ``E -> E``, key_linear and value_linear ``E -> Hkv * D``,
        out_linear ``E -> E``.
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
        super().__init__()
        embed_dim = check_positive_int("embed_dim", embed_dim)
        num_heads = check_positive_int("num_heads", num_heads)
        num_kv_heads = check_positive_int("num_kv_heads", num_kv_heads)
        check_divisible("embed_dim", embed_dim, "num_heads", num_heads)
        if num_heads % num_kv_heads != 0:
            raise argument_error(
                "num_kv_heads", f"a divisor of num_heads={num_heads}", num_kv_heads
            )
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.num_kv_heads = num_kv_heads
        self.head_dim = embed_dim // num_heads
        self.num_kv_groups = num_heads // num_kv_heads  # n_rep
        self.dropout = check_probability("dropout", dropout)
        kv_dim = num_kv_heads * self.head_dim
        self.query_linear = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.key_linear = nn.Linear(embed_dim, kv_dim, bias=bias)
        self.value_linear = nn.Linear(embed_dim, kv_dim, bias=bias)
        self.out_linear = nn.Linear(embed_dim, embed_dim, bias=bias)

    def project(
        self, query: Tensor, key: Tensor | None = None, value: Tensor | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Per-head queries and the shared key/value heads (not yet repeated).

        Args: as :meth:`forward`.
        Returns:
            ``q (B, H, L, D)``, ``k (B, Hkv, S, D)``, ``v (B, Hkv, S, D)``.
        """
        key = query if key is None else key
        value = key if value is None else value
        batch, length, source = check_module_inputs(query, key, value, self.embed_dim)
        heads, kv_heads, head_dim = self.num_heads, self.num_kv_heads, self.head_dim
        # (B, L, E) -> (B, L, H, D) -> (B, H, L, D)
        q = self.query_linear(query).view(batch, length, heads, head_dim).transpose(1, 2)
        # (B, S, E) -> (B, S, Hkv * D) -> (B, S, Hkv, D) -> (B, Hkv, S, D)
        k = self.key_linear(key).view(batch, source, kv_heads, head_dim).transpose(1, 2)
        v = self.value_linear(value).view(batch, source, kv_heads, head_dim).transpose(1, 2)
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
            query: ``(B, L, E)``; key ``(B, S, E)`` (default query); value ``(B, S, E)``
                (default key).
            attn_mask: broadcastable to ``(B, H, L, S)``; bool True = attend, float = added.
            is_causal: query i attends to keys j <= i. Not together with ``attn_mask``.
            need_weights: False uses torch's fused SDPA with ``enable_gqa`` and returns None.
        Returns:
            ``AttentionOutput(output (B, L, E), weights (B, H, L, S) or None)``.
        """
        q, k, v = self.project(query, key, value)  # (B, H, L, D), (B, Hkv, S, D) x 2
        batch, length = query.shape[0], query.shape[1]
        dropout_p = self.dropout if self.training else 0.0
        if need_weights:
            k = repeat_kv(k, self.num_kv_groups)  # (B, Hkv, S, D) -> (B, H, S, D)
            v = repeat_kv(v, self.num_kv_groups)  # (B, Hkv, S, D) -> (B, H, S, D)
            context, weights = scaled_dot_product_attention(
                q, k, v, attn_mask=attn_mask, dropout_p=dropout_p, is_causal=is_causal
            )  # (B, H, L, D), (B, H, L, S)
        else:
            context = fused_attention(
                q,
                k,
                v,
                attn_mask=attn_mask,
                dropout_p=dropout_p,
                is_causal=is_causal,
                enable_gqa=True,
            )  # (B, H, L, D); query head h reads key/value head h // num_kv_groups
            weights = None
        # (B, H, L, D) -> (B, L, H, D) -> (B, L, E)
        context = context.transpose(1, 2).reshape(batch, length, self.embed_dim)
        return AttentionOutput(self.out_linear(context), weights)
