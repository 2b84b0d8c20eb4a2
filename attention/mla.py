r"""Multi-head latent attention (MLA), DeepSeek-V2 section 2.1.

Keys and values come from one small latent per token, and RoPE rides on a separate, decoupled
part of each query and on one key part shared by all heads:

.. math::

    c^{KV}_t = \mathrm{RMSNorm}(W^{DKV} x_t), \quad
    k^R_t = \mathrm{RoPE}(W^{KR} x_t), \quad
    k^C_{t,h} = W^{UK}_h c^{KV}_t, \quad v_{t,h} = W^{UV}_h c^{KV}_t

    q_{t,h} = [q^C_{t,h}; \mathrm{RoPE}(q^R_{t,h})], \quad
    \mathrm{score}_{h}(t, j) = \frac{q^C_{t,h} \cdot k^C_{j,h} + q^R_{t,h} \cdot k^R_j}
                                     {\sqrt{d_{nope} + d_{rope}}}

A decoder caches only ``c^{KV}`` and ``k^R``: ``kv_lora_rank + qk_rope_head_dim`` elements per
token and layer, instead of ``2 * H * D`` for multi-head attention. Because ``k^C`` is linear in
the latent, ``W^{UK}`` can be folded into the query (``q^C W^{UK}`` scores the latent directly)
and ``W^{UV}`` into the output projection: ``absorb=True`` computes that inference form, and it
equals the naive form. The rotation is kept out of the latent because RoPE between ``W^{UK}`` and
the query would stop the fold (the rotation depends on the key's position).

DeepSeek-AI, "DeepSeek-V2: A Strong, Economical, and Efficient Mixture-of-Experts Language
Model", 2024, https://arxiv.org/abs/2405.04434.

Not done: YaRN scaling of RoPE, the softmax-scale correction DeepSeek applies with it, dropout.

Shape legend:
    B batch, H heads, L query length, S key length (cached + new), E embed_dim,
    C kv_lora_rank (d_c), Q q_lora_rank (d_c'), Dn qk_nope_head_dim, Dr qk_rope_head_dim,
    Dv v_head_dim.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from attention._checks import argument_error, check_attn_mask, check_positive_int, check_tensor
from attention.functional import AttentionOutput, masked_softmax
from attention.heads import merge_heads, split_heads
from attention.kv_cache import KVCache, cache_keep_mask
from attention.masks import causal_mask
from attention.positional import ROPE_BASE, apply_rope

RMS_NORM_EPS = 1e-6  # DeepSeek-V2 config: rms_norm_eps


class MultiHeadLatentAttention(nn.Module):
    """Self-attention whose keys and values are decompressed from a cached latent.

    Args:
        embed_dim: E.
        num_heads: H.
        kv_lora_rank: C, the latent's size (DeepSeek-V2: 512 = 4 D).
        qk_nope_head_dim: Dn, the per-head query/key part without position (V2: 128).
        qk_rope_head_dim: Dr, the decoupled RoPE part, one key part shared by all heads (V2: 64).
        v_head_dim: Dv, the per-head value size (V2: 128).
        q_lora_rank: Q, compress queries through a latent of this size too (V2: 1536); None
            projects queries directly.
        rope_base: RoPE's theta base.

    Attributes:
        scale ``1 / sqrt(Dn + Dr)``; kv_down ``E -> C + Dr``, kv_norm (RMSNorm over C),
        kv_up ``C -> H * (Dn + Dv)``; q_down/q_norm/q_up or query_linear ``-> H * (Dn + Dr)``;
        out_linear ``H * Dv -> E``. No biases, as in DeepSeek-V2.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        *,
        kv_lora_rank: int,
        qk_nope_head_dim: int,
        qk_rope_head_dim: int,
        v_head_dim: int,
        q_lora_rank: int | None = None,
        rope_base: float = ROPE_BASE,
    ) -> None:
        super().__init__()
        self.embed_dim = check_positive_int("embed_dim", embed_dim)
        self.num_heads = check_positive_int("num_heads", num_heads)
        self.kv_lora_rank = check_positive_int("kv_lora_rank", kv_lora_rank)
        self.qk_nope_head_dim = check_positive_int("qk_nope_head_dim", qk_nope_head_dim)
        self.qk_rope_head_dim = check_positive_int("qk_rope_head_dim", qk_rope_head_dim)
        if qk_rope_head_dim % 2 != 0:
            raise argument_error("qk_rope_head_dim", "an even size (RoPE rotates pairs)",
                                 qk_rope_head_dim)  # fmt: skip
        self.v_head_dim = check_positive_int("v_head_dim", v_head_dim)
        self.q_lora_rank = None if q_lora_rank is None else check_positive_int(
            "q_lora_rank", q_lora_rank)  # fmt: skip
        if isinstance(rope_base, bool) or not isinstance(rope_base, int | float) or rope_base <= 1:
            raise argument_error("rope_base", "a number greater than 1", repr(rope_base))
        self.rope_base = float(rope_base)
        self.scale = 1.0 / math.sqrt(qk_nope_head_dim + qk_rope_head_dim)
        heads, qk_dim = num_heads, qk_nope_head_dim + qk_rope_head_dim
        if q_lora_rank is None:
            self.query_linear = nn.Linear(embed_dim, heads * qk_dim, bias=False)
        else:
            self.q_down = nn.Linear(embed_dim, q_lora_rank, bias=False)
            self.q_norm = nn.RMSNorm(q_lora_rank, eps=RMS_NORM_EPS)
            self.q_up = nn.Linear(q_lora_rank, heads * qk_dim, bias=False)
        self.kv_down = nn.Linear(embed_dim, kv_lora_rank + qk_rope_head_dim, bias=False)
        self.kv_norm = nn.RMSNorm(kv_lora_rank, eps=RMS_NORM_EPS)
        self.kv_up = nn.Linear(kv_lora_rank, heads * (qk_nope_head_dim + v_head_dim), bias=False)
        self.out_linear = nn.Linear(heads * v_head_dim, embed_dim, bias=False)

    def _queries(self, x: Tensor, positions: Tensor) -> tuple[Tensor, Tensor]:
        """``q_nope (B, H, L, Dn)`` and the rotated ``q_rope (B, H, L, Dr)``."""
        if self.q_lora_rank is None:
            q = self.query_linear(x)  # (B, L, H * (Dn + Dr))
        else:
            q = self.q_up(self.q_norm(self.q_down(x)))  # (B, L, Q) -> (B, L, H * (Dn + Dr))
        q = split_heads(q, self.num_heads)  # (B, H, L, Dn + Dr)
        q_nope, q_rope = q.split((self.qk_nope_head_dim, self.qk_rope_head_dim), dim=-1)
        head_positions = positions if positions.ndim == 1 else positions[:, None, :]  # (B, 1, L)
        return q_nope, apply_rope(q_rope, head_positions, self.rope_base)

    def latent(self, x: Tensor, positions: Tensor) -> tuple[Tensor, Tensor]:
        """What a cache holds per token: the normalised latent ``(B, L, C)`` and the rotated
        shared RoPE key ``(B, L, Dr)``."""
        compressed = self.kv_down(x)  # (B, L, C + Dr)
        c_kv, k_rope = compressed.split((self.kv_lora_rank, self.qk_rope_head_dim), dim=-1)
        return self.kv_norm(c_kv), apply_rope(k_rope, positions, self.rope_base)

    def up_weights(self) -> tuple[Tensor, Tensor]:
        """Per-head ``W^UK (H, Dn, C)`` and ``W^UV (H, Dv, C)`` (views of ``kv_up.weight``)."""
        weight = self.kv_up.weight.view(
            self.num_heads, self.qk_nope_head_dim + self.v_head_dim, self.kv_lora_rank
        )  # (H * (Dn + Dv), C) -> (H, Dn + Dv, C)
        return weight.split((self.qk_nope_head_dim, self.v_head_dim), dim=1)

    def forward(
        self,
        x: Tensor,
        *,
        positions: Tensor | None = None,
        attn_mask: Tensor | None = None,
        is_causal: bool = False,
        need_weights: bool = True,
        absorb: bool = False,
        kv_cache: KVCache | None = None,
    ) -> AttentionOutput:
        """Args:
            x: ``(B, L, E)``.
            positions: ``(L,)`` or ``(B, L)`` integer positions; default
                ``len(kv_cache) + arange(L)`` (``arange(L)`` without a cache).
            attn_mask: broadcastable to ``(B, H, L, S)``; bool True = attend, float = added.
            is_causal: query i attends to keys j <= i, bottom-right aligned with a cache.
            need_weights: return the ``(B, H, L, S)`` weights (else None).
            absorb: the inference form (W^UK folded into queries, W^UV into the output side).
            kv_cache: a :class:`~attention.KVCache` holding latents and RoPE keys.
        Returns:
            ``AttentionOutput(output (B, L, E), weights (B, H, L, S) or None)``.
        """
        x = check_tensor("x", x, ndim=3)
        if x.size(-1) != self.embed_dim:
            raise argument_error("x", f"the last dimension embed_dim = {self.embed_dim}",
                                 x.size(-1))  # fmt: skip
        batch, length = x.shape[0], x.shape[1]
        offset = 0 if kv_cache is None else len(kv_cache)
        if positions is None:
            positions = offset + torch.arange(length, device=x.device)  # (L,)
        elif (not isinstance(positions, Tensor) or positions.ndim not in (1, 2)
              or positions.size(-1) != length or positions.is_floating_point()):  # fmt: skip
            raise argument_error("positions", f"an integer tensor (L,) or (B, L) with L={length}",
                                 _describe(positions))  # fmt: skip
        q_nope, q_rope = self._queries(x, positions)  # (B, H, L, Dn), (B, H, L, Dr)
        c_kv, k_rope = self.latent(x, positions)  # (B, L, C), (B, L, Dr)
        if kv_cache is not None:
            c_kv, k_rope = kv_cache.append(c_kv, k_rope)  # (B, S, C), (B, S, Dr)
        source = c_kv.size(1)
        scores_shape = (batch, self.num_heads, length, source)
        attn_mask = check_attn_mask(attn_mask, scores_shape, is_causal)
        if is_causal:
            attn_mask = cache_keep_mask(length, offset, device=x.device) if kv_cache is not None \
                else causal_mask(length, source, device=x.device)  # (L, S)  # fmt: skip
        # The shared RoPE key: (B, S, Dr) -> (B, 1, Dr, S), one for every head
        rope_scores = q_rope @ k_rope[:, None].transpose(-2, -1)  # (B, H, L, S)
        w_uk, w_uv = self.up_weights()  # (H, Dn, C), (H, Dv, C)
        if absorb:
            q_latent = q_nope @ w_uk  # (B, H, L, Dn) @ (H, Dn, C) -> (B, H, L, C)
            nope_scores = q_latent @ c_kv[:, None].transpose(-2, -1)  # (B, H, L, S)
        else:
            k_nope = c_kv[:, None] @ w_uk.transpose(-2, -1)  # (B, 1, S, C) @ (H, C, Dn)
            nope_scores = q_nope @ k_nope.transpose(-2, -1)  # (B, H, L, Dn) @ (B, H, Dn, S)
        weights = masked_softmax((nope_scores + rope_scores) * self.scale, attn_mask)
        if absorb:
            context_latent = weights @ c_kv[:, None]  # (B, H, L, S) @ (B, 1, S, C) -> (B, H, L, C)
            context = context_latent @ w_uv.transpose(-2, -1)  # (B, H, L, C) @ (H, C, Dv)
        else:
            value = c_kv[:, None] @ w_uv.transpose(-2, -1)  # (B, 1, S, C) @ (H, C, Dv)
            context = weights @ value  # (B, H, L, S) @ (B, H, S, Dv) -> (B, H, L, Dv)
        output = self.out_linear(merge_heads(context))  # (B, L, H * Dv) -> (B, L, E)
        return AttentionOutput(output, weights if need_weights else None)

    def cache_elements_per_token(self) -> int:
        """Elements one token adds to a cache: ``kv_lora_rank + qk_rope_head_dim``."""
        return self.kv_lora_rank + self.qk_rope_head_dim


def _describe(value: object) -> str:
    return f"shape {tuple(value.shape)}, dtype {value.dtype}" if isinstance(value, Tensor) \
        else repr(value)  # fmt: skip
