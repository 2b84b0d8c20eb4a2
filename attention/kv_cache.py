r"""A key/value cache for autoregressive decoding.

At step t a decoder needs the keys and values of tokens ``0 .. t``. Recomputing them from the
whole prefix costs a projection of every earlier token at every step; a cache keeps them, so each
step projects only its new tokens and appends them. Only self-attention is cached here.

The new block's query i sits at absolute position ``len(cache before) + i``, so causal attention
over the cache is *bottom-right* aligned: query i sees keys ``j <= len(cache before) + i``.
(torch's ``is_causal=True`` on an ``L x S`` score matrix is top-left aligned; using it with a
cache would hide almost every cached key from the first new query.)

What one token costs in the cache, per layer (elements, batch 1):

================================  ==========================================
MultiHeadAttention                ``2 * E``
GroupedQueryAttention             ``2 * Hkv * D``
MultiHeadLatentAttention          ``kv_lora_rank + qk_rope_head_dim``
================================  ==========================================

Not done: no fixed-size preallocation, paging or eviction (the cache grows with ``torch.cat``);
one cache serves one layer; nothing checks that the same module fills a cache each time.

Shape legend:
    B batch, Hkv key/value heads, L new tokens, S tokens held, D feature size of one part.
"""

from __future__ import annotations

import torch
from torch import Tensor

from attention._checks import argument_error, check_tensor, shape_str


class KVCache:
    """Tensors held along the sequence dimension (dim -2), one per part.

    Multi-head and grouped-query attention store two parts, keys and values ``(B, Hkv, S, D)``;
    latent attention stores the latent ``(B, S, kv_lora_rank)`` and the shared RoPE key
    ``(B, S, qk_rope_head_dim)``.

    ``len(cache)`` is the number of tokens held; ``cache.numel`` the number of elements held.
    """

    def __init__(self) -> None:
        self._parts: tuple[Tensor, ...] = ()

    def __len__(self) -> int:
        return 0 if not self._parts else self._parts[0].size(-2)

    @property
    def numel(self) -> int:
        """Elements held, all parts and batch items together."""
        return sum(part.numel() for part in self._parts)

    @property
    def parts(self) -> tuple[Tensor, ...]:
        """The tensors held, e.g. ``(keys, values)``; empty before the first append."""
        return self._parts

    def append(self, *parts: Tensor) -> tuple[Tensor, ...]:
        """Append new tokens (dim -2) to each part and return everything held.

        Shapes: each part ``(..., L, D)``; returns ``(..., S + L, D)`` per part.
        Raises:
            ValueError: a different number of parts, or shapes that do not match what is held.
        """
        if not parts:
            raise argument_error("parts", "at least one tensor", "none")
        for index, part in enumerate(parts):
            check_tensor(f"parts[{index}]", part, min_ndim=2)
            if part.size(-2) != parts[0].size(-2):
                raise argument_error(f"parts[{index}]", f"{parts[0].size(-2)} new tokens (dim -2)",
                                     part.size(-2))  # fmt: skip
        if self._parts:
            if len(parts) != len(self._parts):
                raise argument_error("parts", f"{len(self._parts)} tensors, as held", len(parts))
            for index, (held, part) in enumerate(zip(self._parts, parts, strict=True)):
                expected = held.shape[:-2] + held.shape[-1:]
                if part.shape[:-2] + part.shape[-1:] != expected:
                    raise argument_error(
                        f"parts[{index}]",
                        f"shape (..., L, D) matching the cache's {shape_str(held.shape)}",
                        shape_str(part.shape),
                    )
            pairs = zip(self._parts, parts, strict=True)
            parts = tuple(torch.cat((held, part), dim=-2) for held, part in pairs)
        self._parts = tuple(parts)
        return self._parts


def cache_keep_mask(L: int, offset: int, *, device: torch.device | str | None = None) -> Tensor:
    """Bottom-right causal keep mask for L new queries after ``offset`` cached tokens.

    Query i (absolute position ``offset + i``) keeps key j when ``j <= offset + i``.

    Returns:
        bool ``(L, offset + L)``.
    """
    query_position = torch.arange(L, device=device)[:, None] + offset  # (L, 1)
    key_position = torch.arange(offset + L, device=device)[None, :]  # (1, S)
    return key_position <= query_position  # (L, S)
