r"""The projection path shared by multi-head and grouped-query attention.

.. math::

    \mathrm{head}_h = \mathrm{Attention}\big(Q W^Q_h,\; K W^K_{g(h)},\; V W^V_{g(h)}\big),
    \qquad g(h) = \lfloor h \cdot H_{kv} / H \rfloor,
    \qquad \mathrm{output} = \mathrm{Concat}(\mathrm{head}_1, \dots, \mathrm{head}_H)\, W^O

With ``Hkv = H`` this is multi-head attention (Vaswani et al., 2017, section 3.2.2); with fewer
key/value heads it is grouped-query attention (Ainslie et al., 2023), and multi-query attention
when ``Hkv = 1``. One class serves all three, as transformers' attention classes do with
``num_key_value_groups``; :class:`~attention.MultiHeadAttention` and
:class:`~attention.GroupedQueryAttention` only choose the constructor arguments.

Shape legend:
    B batch, H query heads, Hkv key/value heads, L query length, S key length,
    E embed_dim, D = E / H head dim, kdim / vdim feature sizes of key / value inputs.
"""

from __future__ import annotations

from torch import Tensor, nn

from attention._checks import (
    argument_error,
    check_divisible,
    check_module_inputs,
    check_positive_int,
    check_probability,
)
from attention.functional import AttentionOutput, fused_attention, scaled_dot_product_attention
from attention.kv_cache import KVCache, cache_keep_mask


def split_heads(x: Tensor, heads: int) -> Tensor:
    """``(B, L, heads * D) -> (B, heads, L, D)``: one sequence of D features per head."""
    batch, length, features = x.shape
    # (B, L, heads * D) -> (B, L, heads, D) -> (B, heads, L, D)
    return x.view(batch, length, heads, features // heads).transpose(1, 2)


def merge_heads(x: Tensor) -> Tensor:
    """``(B, heads, L, D) -> (B, L, heads * D)``: concatenate the heads' features."""
    batch, heads, length, head_dim = x.shape
    # (B, heads, L, D) -> (B, L, heads, D) -> (B, L, heads * D)
    return x.transpose(1, 2).reshape(batch, length, heads * head_dim)


def repeat_kv(hidden_states: Tensor, n_rep: int) -> Tensor:
    """Repeat each key/value head ``n_rep`` times, so Hkv heads line up with H query heads.

    Equal to ``torch.repeat_interleave(hidden_states, n_rep, dim=1)`` (heads 0,0,1,1,... for
    ``n_rep = 2``), written as expand + reshape.

    Shapes: ``(B, Hkv, S, D)`` -> ``(B, Hkv * n_rep, S, D)``.
    """
    from attention._checks import check_tensor  # local: keeps this module's imports short

    hidden_states = check_tensor("hidden_states", hidden_states, ndim=4)
    n_rep = check_positive_int("n_rep", n_rep)
    if n_rep == 1:
        return hidden_states
    batch, kv_heads, source, head_dim = hidden_states.shape
    # (B, Hkv, S, D) -> (B, Hkv, 1, S, D) -> (B, Hkv, n_rep, S, D): a view, no copy yet
    expanded = hidden_states[:, :, None, :, :].expand(batch, kv_heads, n_rep, source, head_dim)
    # (B, Hkv, n_rep, S, D) -> (B, Hkv * n_rep, S, D): the copy happens here
    return expanded.reshape(batch, kv_heads * n_rep, source, head_dim)


class ProjectedAttention(nn.Module):
    """H query heads over Hkv key/value heads, with learned projections in and out.

    Args:
        embed_dim: E, the width of queries and of the output; a multiple of ``num_heads``.
        num_heads: H query heads.
        num_kv_heads: Hkv key/value heads; must divide H (H = MHA, 1 = MQA).
        kdim, vdim: feature sizes of key and value inputs (default E).
        bias: add a bias to the four projections.
        dropout: dropout on the attention weights, in training mode only.

    Attributes:
        query_linear ``E -> H * D``, key_linear ``kdim -> Hkv * D``,
        value_linear ``vdim -> Hkv * D``, out_linear ``H * D -> E`` (``W^O``).
        Initialised as ``nn.MultiheadAttention``: Xavier-uniform projections, zero biases.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        num_kv_heads: int,
        *,
        kdim: int | None = None,
        vdim: int | None = None,
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
        self.num_kv_groups = num_heads // num_kv_heads  # n_rep: query heads per key/value head
        # Error messages name kdim / vdim only when the caller chose them.
        self._named_dims = (
            None if kdim is None else check_positive_int("kdim", kdim),
            None if vdim is None else check_positive_int("vdim", vdim),
        )
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self.dropout = check_probability("dropout", dropout)
        kv_dim = num_kv_heads * self.head_dim
        self.query_linear = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.key_linear = nn.Linear(self.kdim, kv_dim, bias=bias)
        self.value_linear = nn.Linear(self.vdim, kv_dim, bias=bias)
        self.out_linear = nn.Linear(embed_dim, embed_dim, bias=bias)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        # As nn.MultiheadAttention: Xavier-uniform in-projections, zero biases; the output
        # projection keeps nn.Linear's default weight (as torch's out_proj does).
        for linear in (self.query_linear, self.key_linear, self.value_linear):
            nn.init.xavier_uniform_(linear.weight)
        for linear in (self.query_linear, self.key_linear, self.value_linear, self.out_linear):
            if linear.bias is not None:
                nn.init.zeros_(linear.bias)

    def cache_elements_per_token(self) -> int:
        """Elements one token adds to a :class:`~attention.KVCache`: ``2 * Hkv * D``."""
        return 2 * self.num_kv_heads * self.head_dim

    def project(
        self, query: Tensor, key: Tensor | None = None, value: Tensor | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Per-head queries and the key/value heads (not repeated): what the heads attend with.

        Args: as :meth:`forward` (key defaults to query, value to key).
        Returns:
            ``q (B, H, L, D)``, ``k (B, Hkv, S, D)``, ``v (B, Hkv, S, D)``.
        """
        key = query if key is None else key
        value = key if value is None else value
        check_module_inputs(query, key, value, self.embed_dim, *self._named_dims)
        q = split_heads(self.query_linear(query), self.num_heads)  # (B, H, L, D)
        k = split_heads(self.key_linear(key), self.num_kv_heads)  # (B, Hkv, S, D)
        v = split_heads(self.value_linear(value), self.num_kv_heads)  # (B, Hkv, S, D)
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
        kv_cache: KVCache | None = None,
    ) -> AttentionOutput:
        """Args:
            query: ``(B, L, E)``.
            key: ``(B, S, kdim)``; default ``query`` (self-attention).
            value: ``(B, S, vdim)``; default ``key``.
            attn_mask: broadcastable to ``(B, H, L, S)``; bool True = attend, float = added.
                With a cache, S counts every key held: ``len(cache before) + L``.
            is_causal: query i attends to keys j <= i; with a cache, query i sits at position
                ``len(cache before) + i`` (bottom-right aligned). Not together with ``attn_mask``.
            need_weights: False calls torch's fused SDPA and returns ``weights=None``.
            kv_cache: a :class:`~attention.KVCache` for self-attention decoding: this call's
                keys/values are appended to it and the queries attend to everything it holds.
        Returns:
            ``AttentionOutput(output (B, L, E), weights (B, H, L, S) or None)``.
        """
        if kv_cache is not None and (key is not None or value is not None):
            raise argument_error("kv_cache", "None for cross-attention (key/value given)",
                                 "a KVCache")  # fmt: skip
        q, k, v = self.project(query, key, value)  # (B, H, L, D), (B, Hkv, S, D) x 2
        if kv_cache is not None:
            offset = len(kv_cache)
            k, v = kv_cache.append(k, v)  # (B, Hkv, S, D) with S = offset + L
            if is_causal:
                attn_mask = cache_keep_mask(q.size(-2), offset, device=q.device)  # (L, S)
                is_causal = False
        dropout_p = self.dropout if self.training else 0.0
        grouped = self.num_kv_groups > 1
        if need_weights:
            k = repeat_kv(k, self.num_kv_groups)  # (B, Hkv, S, D) -> (B, H, S, D)
            v = repeat_kv(v, self.num_kv_groups)  # (B, Hkv, S, D) -> (B, H, S, D)
            context, weights = scaled_dot_product_attention(
                q, k, v, attn_mask=attn_mask, dropout_p=dropout_p, is_causal=is_causal
            )  # (B, H, L, D), (B, H, L, S)
        else:
            # Query head h reads key/value head h // num_kv_groups inside the kernel.
            context = fused_attention(
                q, k, v, attn_mask=attn_mask, dropout_p=dropout_p, is_causal=is_causal,
                enable_gqa=grouped,
            )  # fmt: skip  # (B, H, L, D)
            weights = None
        return AttentionOutput(self.out_linear(merge_heads(context)), weights)  # (B, L, E)
