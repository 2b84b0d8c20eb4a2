r"""Differential attention (DIFF Transformer): the difference of two softmax maps.

.. math::

    W = \mathrm{softmax}(Q_1 K_1^\top s) - \lambda\, \mathrm{softmax}(Q_2 K_2^\top s),
    \qquad \mathrm{output} = W V, \qquad s = 1 / \sqrt{d}

Noise that both maps share (attention on irrelevant context) cancels, as in a differential
amplifier. Each row of ``W`` sums to ``1 - lambda`` (rows with no key left are zeros).

In the module, as in the paper, lambda is re-parameterised with four learnable vectors of the
query/key head size d and a constant that depends on the layer's depth l (counted from 1):

.. math::

    \lambda = e^{\lambda_{q_1} \cdot \lambda_{k_1}} - e^{\lambda_{q_2} \cdot \lambda_{k_2}}
              + \lambda_{init}, \qquad \lambda_{init} = 0.8 - 0.6\, e^{-0.3 (l - 1)}

and each head's output is normalised (RMSNorm over its 2d features) and multiplied by
``1 - lambda_init`` before the output projection.

Ye et al., "Differential Transformer", 2024, https://arxiv.org/abs/2410.05258.

Not done: the paper's FlashAttention kernel path, dropout, a KV cache.

Shape legend:
    N... batch dimensions, B batch, H heads, L query length, S key length, E embed_dim,
    d = E / (2H) query/key size of each of a head's two maps, Ev value features (2d = E / H).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from attention._checks import argument_error, check_attn_mask, check_positive_int, check_qkv
from attention.functional import AttentionOutput, masked_softmax
from attention.heads import merge_heads, split_heads
from attention.masks import causal_mask

LAMBDA_INIT_STD = 0.1  # the paper's init of the four lambda vectors: N(0, 0.1^2)
RMS_NORM_EPS = 1e-5  # the per-head normalisation's epsilon, as in the paper's code


def lambda_init_for(depth: int) -> float:
    """The paper's ``lambda_init = 0.8 - 0.6 * exp(-0.3 * (depth - 1))``, depth counted from 1."""
    depth = check_positive_int("depth", depth)
    return 0.8 - 0.6 * math.exp(-0.3 * (depth - 1))


def differential_maps(
    q1: Tensor,
    k1: Tensor,
    q2: Tensor,
    k2: Tensor,
    *,
    attn_mask: Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
) -> tuple[Tensor, Tensor]:
    """The two softmax maps before they are subtracted (for drawing them side by side).

    Shapes: q1, q2 ``(N..., L, d)``; k1, k2 ``(N..., S, d)``. Returns two ``(N..., L, S)``.
    """
    scores_shape, length, source = check_qkv(q1, k1, k1)
    check_qkv(q2, k2, k2)
    if q2.shape != q1.shape or k2.shape != k1.shape:
        raise argument_error("q2", f"q1's shape {tuple(q1.shape)} and k2 of k1's shape",
                             f"{tuple(q2.shape)} and {tuple(k2.shape)}")  # fmt: skip
    attn_mask = check_attn_mask(attn_mask, scores_shape, is_causal)
    if is_causal:
        attn_mask = causal_mask(length, source, device=q1.device)  # (L, S)
    if scale is None:
        scale = 1.0 / math.sqrt(q1.size(-1))
    first = masked_softmax((q1 * scale) @ k1.transpose(-2, -1), attn_mask)  # (N..., L, S)
    second = masked_softmax((q2 * scale) @ k2.transpose(-2, -1), attn_mask)  # (N..., L, S)
    return first, second


def differential_attention(
    q1: Tensor,
    k1: Tensor,
    q2: Tensor,
    k2: Tensor,
    value: Tensor,
    lam: float | Tensor,
    *,
    attn_mask: Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
) -> AttentionOutput:
    """``(softmax(q1 k1^T s) - lam * softmax(q2 k2^T s)) @ value``.

    Args:
        q1, q2: ``(N..., L, d)``; k1, k2: ``(N..., S, d)``; value: ``(N..., S, Ev)``.
        lam: a number, or a tensor broadcastable to ``(N..., L, S)`` (e.g. ``(H, 1, 1)``).
        attn_mask: broadcastable to ``(N..., L, S)``; bool True = attend, float = added.
        is_causal: query i attends to keys j <= i (top-left aligned).
        scale: default ``1 / sqrt(d)``.
    Returns:
        ``AttentionOutput(output (N..., L, Ev), weights (N..., L, S))``, rows summing to
        ``1 - lam``.
    """
    check_qkv(q1, k1, value)
    if not isinstance(lam, Tensor) and (isinstance(lam, bool) or not isinstance(lam, int | float)):
        raise argument_error("lam", "a number or a tensor", type(lam).__name__)
    first, second = differential_maps(
        q1, k1, q2, k2, attn_mask=attn_mask, is_causal=is_causal, scale=scale
    )  # 2 x (N..., L, S)
    weights = first - lam * second  # (N..., L, S)
    return AttentionOutput(weights @ value, weights)  # (N..., L, S) @ (N..., S, Ev)


class DifferentialAttention(nn.Module):
    """Multi-head differential self-attention (Ye et al. 2024).

    Args:
        embed_dim: E; a multiple of ``2 * num_heads``.
        num_heads: H; each head has two query/key maps of size ``E / (2H)`` and a value of
            size ``E / H``.
        depth: this layer's depth l, counted from 1; sets ``lambda_init``.

    Attributes:
        lambda_init; lambda_q1, lambda_k1, lambda_q2, lambda_k2 ``(d,)``; query_linear,
        key_linear ``E -> 2 H d``; value_linear ``E -> E``; head_norm RMSNorm ``(2d,)``;
        out_linear ``E -> E``.
    """

    def __init__(self, embed_dim: int, num_heads: int, *, depth: int) -> None:
        super().__init__()
        self.embed_dim = check_positive_int("embed_dim", embed_dim)
        self.num_heads = check_positive_int("num_heads", num_heads)
        if embed_dim % (2 * num_heads) != 0:
            raise argument_error("embed_dim", f"a multiple of 2 * num_heads={2 * num_heads}",
                                 embed_dim)  # fmt: skip
        self.head_dim = embed_dim // (2 * num_heads)  # d
        self.lambda_init = lambda_init_for(depth)
        self.depth = depth
        self.query_linear = nn.Linear(embed_dim, embed_dim, bias=False)
        self.key_linear = nn.Linear(embed_dim, embed_dim, bias=False)
        self.value_linear = nn.Linear(embed_dim, embed_dim, bias=False)
        self.out_linear = nn.Linear(embed_dim, embed_dim, bias=False)
        self.lambda_q1, self.lambda_k1, self.lambda_q2, self.lambda_k2 = (
            nn.Parameter(torch.randn(self.head_dim) * LAMBDA_INIT_STD) for _ in range(4)
        )
        self.head_norm = nn.RMSNorm(2 * self.head_dim, eps=RMS_NORM_EPS)

    def lambda_value(self) -> Tensor:
        """The current lambda, a 0-D tensor: ``exp(lq1.lk1) - exp(lq2.lk2) + lambda_init``."""
        return (
            torch.exp(self.lambda_q1 @ self.lambda_k1)
            - torch.exp(self.lambda_q2 @ self.lambda_k2)
            + self.lambda_init
        )

    def _project(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        if not isinstance(x, Tensor) or x.ndim != 3 or x.size(-1) != self.embed_dim:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise argument_error("x", f"a tensor (B, L, {self.embed_dim})", shape)
        # (B, L, E) -> (B, 2H, L, d) -> two maps per head: (B, H, 2, L, d)
        q = split_heads(self.query_linear(x), 2 * self.num_heads).unflatten(1, (-1, 2))
        k = split_heads(self.key_linear(x), 2 * self.num_heads).unflatten(1, (-1, 2))
        v = split_heads(self.value_linear(x), self.num_heads)  # (B, H, L, 2d)
        return q[:, :, 0], k[:, :, 0], q[:, :, 1], k[:, :, 1], v

    def maps(
        self, x: Tensor, *, attn_mask: Tensor | None = None, is_causal: bool = False
    ) -> tuple[Tensor, Tensor, Tensor]:
        """For drawing: the two softmax maps ``(B, H, L, L)`` each and lambda (0-D)."""
        q1, k1, q2, k2, _ = self._project(x)
        first, second = differential_maps(q1, k1, q2, k2, attn_mask=attn_mask,
                                          is_causal=is_causal)  # fmt: skip
        return first, second, self.lambda_value()

    def forward(
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
            need_weights: return each head's differential map (else None).
        Returns:
            ``AttentionOutput(output (B, L, E), weights (B, H, L, L))``; weight rows sum to
            ``1 - lambda``.
        """
        q1, k1, q2, k2, v = self._project(x)  # 4 x (B, H, L, d), (B, H, L, 2d)
        context, weights = differential_attention(
            q1, k1, q2, k2, v, self.lambda_value(), attn_mask=attn_mask, is_causal=is_causal
        )  # (B, H, L, 2d), (B, H, L, L)
        context = self.head_norm(context) * (1.0 - self.lambda_init)  # per head, over 2d
        output = self.out_linear(merge_heads(context))  # (B, L, E)
        return AttentionOutput(output, weights if need_weights else None)
