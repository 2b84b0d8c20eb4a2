r"""Positional information for attention, which by itself ignores order.

Without positions, self-attention is permutation-equivariant: shuffle the tokens and the outputs
shuffle the same way. Three ways to tell it where tokens are:

**Sinusoidal encoding** (Vaswani et al., 2017, section 3.5, https://arxiv.org/abs/1706.03762),
added to the token embeddings:

.. math::

    PE_{p, 2i} = \sin\!\big(p / 10000^{2i/D}\big), \qquad
    PE_{p, 2i+1} = \cos\!\big(p / 10000^{2i/D}\big)

**RoPE**, rotary position embedding (Su et al., "RoFormer", 2021, https://arxiv.org/abs/2104.09864),
rotates each pair of q/k features by an angle proportional to the position, so that
:math:`\langle R_m q, R_n k \rangle` depends on m and n only through ``m - n``:

.. math::

    \theta_i = \mathrm{base}^{-2i/D}, \qquad
    \begin{pmatrix} x'_a \\ x'_b \end{pmatrix} =
    \begin{pmatrix} \cos p\theta_i & -\sin p\theta_i \\
                    \sin p\theta_i & \cos p\theta_i \end{pmatrix}
    \begin{pmatrix} x_a \\ x_b \end{pmatrix}

**ALiBi** (Press et al., "Train Short, Test Long", ICLR 2022, https://arxiv.org/abs/2108.12409)
adds no embedding at all but a bias ``-m_h * (i - j)`` to the scores, a per-head slope ``m_h``
times the distance.

Shape legend:
    L sequence (query) length, S key length, D feature size (even for RoPE), H heads,
    ``...`` any leading dimensions (batch, heads).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from attention._checks import argument_error, check_positive_int, check_tensor, shape_str

SINUSOID_BASE = 10000.0  # the paper's wavelength base: wavelengths from 2*pi to 10000*2*pi
ROPE_BASE = 10000.0  # RoFormer's and Llama 1/2's base (Llama 3 uses 500000)


def sinusoidal_encoding(L: int, D: int, *, base: float = SINUSOID_BASE) -> Tensor:
    """Fixed sinusoidal position encodings: sin on even features, cos on odd features.

    Feature pair (2i, 2i+1) shares the frequency ``base ** (-2i / D)``. An odd ``D`` ends with a
    sin feature.

    Returns:
        float32 ``(L, D)``, row p is the encoding of position p.
    """
    L = check_positive_int("L", L)
    D = check_positive_int("D", D)
    positions = torch.arange(L, dtype=torch.float64)[:, None]  # (L, 1)
    pair_index = torch.arange(0, D, 2, dtype=torch.float64)  # (ceil(D/2),): the even features 2i
    frequencies = base ** (-pair_index / D)  # (ceil(D/2),)
    angles = positions * frequencies[None, :]  # (L, 1) * (1, ceil(D/2)) -> (L, ceil(D/2))
    encoding = torch.empty(L, D, dtype=torch.float64)
    encoding[:, 0::2] = torch.sin(angles)  # even features
    encoding[:, 1::2] = torch.cos(angles[:, : D // 2])  # odd features
    return encoding.to(torch.float32)  # (L, D)


def rope_angles(
    positions: Tensor, D: int, base: float = ROPE_BASE, dtype: torch.dtype = torch.float32
) -> Tensor:
    """Rotation angle ``p * theta_i`` for every position p and feature pair i.

    Shapes: positions ``(..., L)`` -> angles ``(..., L, D / 2)`` in ``dtype`` (float32 default).
    """
    pair_index = torch.arange(0, D, 2, dtype=dtype, device=positions.device)  # (D/2,)
    inverse_frequency = base ** (-pair_index / D)  # (D/2,): theta_i
    return positions.to(dtype)[..., None] * inverse_frequency  # (..., L, 1) * (D/2,)


def apply_rope(x: Tensor, positions: Tensor | None = None, base: float = ROPE_BASE) -> Tensor:
    """Rotate queries or keys by their positions (RoPE), **half-split pairing**.

    Pairing: feature ``i`` is rotated together with feature ``i + D/2`` (the "rotate_half" layout of
    GPT-NeoX and Hugging Face Llama). The RoFormer paper and Meta's original Llama code pair
    *adjacent* features ``(2i, 2i+1)`` instead ("interleaved"); the two differ only by a fixed
    permutation of the features, which the learned projections absorb, so both give scores that
    depend only on the offset ``m - n``.

    Args:
        x: ``(..., L, D)`` with D even (apply to q and to k, never to v).
        positions: ``(L,)`` or broadcastable to ``(..., L)``, integer or float positions;
            default ``0 .. L-1``. Pass offsets for a KV cache (e.g. ``arange(past, past + L)``).
        base: theta base.
    Returns:
        ``x``'s shape and dtype, rotated (computed in float32, or float64 for float64 input).
    """
    x = check_tensor("x", x, min_ndim=2)
    length, features = x.size(-2), x.size(-1)
    if features % 2 != 0:
        raise argument_error("x", "an even last dimension D (features rotate in pairs)", features)
    if positions is None:
        positions = torch.arange(length, device=x.device)  # (L,)
    elif not isinstance(positions, Tensor) or positions.ndim < 1 or positions.size(-1) != length:
        shape = shape_str(positions.shape) if isinstance(positions, Tensor) else positions
        raise argument_error("positions", f"a tensor whose last dimension is L={length}", shape)
    compute_dtype = torch.promote_types(x.dtype, torch.float32)  # float64 stays float64
    angles = rope_angles(positions, features, base, compute_dtype)  # (..., L, D/2)
    cos = torch.cat((angles.cos(), angles.cos()), dim=-1)  # (..., L, D/2) -> (..., L, D)
    sin = torch.cat((angles.sin(), angles.sin()), dim=-1)  # (..., L, D)
    x32 = x.to(compute_dtype)
    first, second = x32[..., : features // 2], x32[..., features // 2 :]  # 2 x (..., L, D/2)
    rotated_half = torch.cat((-second, first), dim=-1)  # (..., L, D): (x_a, x_b) -> (-x_b, x_a)
    return (x32 * cos + rotated_half * sin).to(x.dtype)


def alibi_slopes(num_heads: int) -> Tensor:
    """Per-head ALiBi slopes, by the paper's reference recipe.

    For H a power of two: the geometric sequence starting at and with ratio ``2 ** (-8 / H)``
    (H = 8 gives 1/2, 1/4, ..., 1/256). Otherwise: the slopes of the largest power of two
    ``P < H``, followed by every other slope of ``2P`` heads (the odd-numbered ones), until there
    are H.

    Returns:
        float32 ``(H,)``.
    """
    num_heads = check_positive_int("num_heads", num_heads)
    return torch.tensor(_slopes(num_heads), dtype=torch.float32)


def _slopes(num_heads: int) -> list[float]:
    if math.log2(num_heads).is_integer():
        start = 2.0 ** (-8.0 / num_heads)
        return [start ** (h + 1) for h in range(num_heads)]
    power = 2 ** math.floor(math.log2(num_heads))
    extra = _slopes(2 * power)[0::2][: num_heads - power]
    return _slopes(power) + extra


def alibi_bias(num_heads: int, L: int, S: int | None = None) -> Tensor:
    """ALiBi bias to add to the scores: ``-slope_h * |i - j|``.

    For key ``j <= query i`` this is the paper's ``-slope_h * (i - j)``: the further back, the
    lower the score. ALiBi was defined for causal models; combine it with
    :func:`attention.masks.causal_mask` for that. Keys after the query get the symmetric penalty
    (the bidirectional variant used by encoders), so the bias never hides a mask in it.
    Positions are top-left aligned, as ``causal_mask`` and torch's ``is_causal``.

    Returns:
        float32 ``(H, L, S)``: pass it (or ``bias[None]`` for a batch) as ``attn_mask``.
    """
    L = check_positive_int("L", L)
    S = L if S is None else check_positive_int("S", S)
    slopes = alibi_slopes(num_heads)  # (H,)
    distance = torch.arange(L)[:, None] - torch.arange(S)[None, :]  # (L, 1) - (1, S) -> (L, S)
    return -slopes[:, None, None] * distance.abs().to(torch.float32)  # (H, 1, 1) * (L, S)
