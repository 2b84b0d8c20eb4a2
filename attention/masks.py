"""Attention masks, and every conversion between mask conventions.

The package speaks one convention, the one of
:func:`torch.nn.functional.scaled_dot_product_attention`:

* a **bool** mask is a *keep* mask: ``True`` = this query may attend to this key;
* a **float** mask is *added* to the scores before the softmax (``0`` keeps, ``-inf`` removes).

``torch.nn.MultiheadAttention`` speaks the opposite for bool masks (``key_padding_mask`` and a bool
``attn_mask`` are ``True`` = *ignore*). The converters at the bottom of this file are the only
place where that flip happens.

Shape legend:
    B batch, H heads, L target (query) length, S source (key) length.
    Masks broadcast against the scores ``(B, H, L, S)``: ``(L, S)`` is shared by every batch item
    and head, ``(B, 1, 1, S)`` is one key mask per batch item.
"""

from __future__ import annotations

import torch
from torch import Tensor

from attention._checks import argument_error, check_positive_int, shape_str


def causal_mask(
    L: int, S: int | None = None, *, device: torch.device | str | None = None
) -> Tensor:
    """Keep mask where query ``i`` sees key ``j`` if ``j <= i`` (GPT-style, no peeking ahead).

    Aligned as torch's ``is_causal=True``: the top-left corner, so with ``S > L`` the last
    ``S - L`` keys are seen by nobody, and with ``L > S`` the last queries see every key.

    Args:
        L: number of queries. S: number of keys (default ``L``).
    Returns:
        bool ``(L, S)``, lower-triangular including the diagonal.
    """
    L = check_positive_int("L", L)
    S = L if S is None else check_positive_int("S", S)
    return torch.ones(L, S, dtype=torch.bool, device=device).tril()  # (L, S)


def sliding_window_mask(L: int, window: int, *, device: torch.device | str | None = None) -> Tensor:
    """Causal local attention (Longformer / Mistral): query ``i`` sees key ``j`` if
    ``0 <= i - j < window``, that is itself and the ``window - 1`` tokens before it.

    ``window = 1`` lets each token see only itself; ``window >= L`` is the plain causal mask.

    Returns:
        bool ``(L, L)``.
    """
    L = check_positive_int("L", L)
    window = check_positive_int("window", window)
    positions = torch.arange(L, device=device)
    offset = positions[:, None] - positions[None, :]  # (L, 1) - (1, L) -> (L, L): i - j
    return (offset >= 0) & (offset < window)  # (L, L)


def streaming_mask(
    L: int, window: int, num_sinks: int, *, device: torch.device | str | None = None
) -> Tensor:
    """StreamingLLM's mask: causal, and query ``i`` keeps key ``j`` when ``j < num_sinks`` (the
    first tokens, "attention sinks") or ``i - j < window`` (the recent ones).

    Xiao et al., "Efficient Streaming Language Models with Attention Sinks", 2023,
    https://arxiv.org/abs/2309.17453. ``num_sinks = 0`` is :func:`sliding_window_mask`.

    Returns:
        bool ``(L, L)``.
    """
    L = check_positive_int("L", L)
    window = check_positive_int("window", window)
    if isinstance(num_sinks, bool) or not isinstance(num_sinks, int) or num_sinks < 0:
        raise argument_error("num_sinks", "a non-negative integer", repr(num_sinks))
    positions = torch.arange(L, device=device)
    offset = positions[:, None] - positions[None, :]  # (L, 1) - (1, L) -> (L, L): i - j
    is_sink = positions[None, :] < num_sinks  # (1, L): the first num_sinks keys
    return (offset >= 0) & ((offset < window) | is_sink)  # (L, L)


def padding_mask(lengths: Tensor | list[int], max_len: int) -> Tensor:
    """Keep mask for right-padded batches: key ``j`` of item ``b`` is real if ``j < lengths[b]``.

    Args:
        lengths: ``(B,)`` number of real tokens per item, each in ``[0, max_len]``.
        max_len: S, the padded length.
    Returns:
        bool ``(B, 1, 1, S)``, broadcasting over heads and queries.
    """
    max_len = check_positive_int("max_len", max_len)
    lengths = torch.as_tensor(lengths)
    if lengths.ndim != 1 or lengths.is_floating_point() or lengths.dtype == torch.bool:
        raise argument_error(
            "lengths",
            "a 1-D sequence of integer lengths",
            f"dtype {lengths.dtype}, shape {shape_str(lengths.shape)}",
        )
    if lengths.numel() and (int(lengths.min()) < 0 or int(lengths.max()) > max_len):
        raise argument_error("lengths", f"values in [0, max_len={max_len}]", lengths.tolist())
    positions = torch.arange(max_len, device=lengths.device)
    keep = positions[None, :] < lengths[:, None]  # (1, S) < (B, 1) -> (B, S)
    return keep[:, None, None, :]  # (B, S) -> (B, 1, 1, S)


def to_additive(mask: Tensor, dtype: torch.dtype = torch.float32) -> Tensor:
    """Bool keep mask -> float mask with ``0`` where kept and ``-inf`` where removed.

    A float mask is returned unchanged (cast to ``dtype``). ``-inf`` (not ``-1e9``) stays exact in
    float16, where ``-1e9`` overflows, and a softmax over it gives exactly zero.
    """
    if mask.dtype != torch.bool:
        return mask.to(dtype)
    additive = torch.zeros(mask.shape, dtype=dtype, device=mask.device)
    return additive.masked_fill(~mask, float("-inf"))


def combine_masks(*masks: Tensor | None) -> Tensor | None:
    """Combine masks so that a key is kept only where every mask keeps it.

    All bool: logical AND (still a bool keep mask). Any float: each bool mask goes through
    :func:`to_additive` and all are summed. ``None`` entries are skipped; all ``None`` gives
    ``None``.
    Shapes broadcast, e.g. ``causal_mask(L)`` ``(L, L)`` with ``padding_mask(...)`` ``(B, 1, 1, L)``
    gives ``(B, 1, L, L)``.
    """
    present = [mask for mask in masks if mask is not None]
    if not present:
        return None
    if all(mask.dtype == torch.bool for mask in present):
        combined = present[0]
        for mask in present[1:]:
            combined = combined & mask  # broadcasts to the union of the shapes
        return combined
    dtype = next(mask.dtype for mask in present if mask.dtype != torch.bool)
    combined = to_additive(present[0], dtype)
    for mask in present[1:]:
        combined = combined + to_additive(mask, dtype)
    return combined


def from_key_padding_mask(key_padding_mask: Tensor) -> Tensor:
    """``nn.MultiheadAttention``'s ``key_padding_mask`` -> this package's mask.

    torch's MHA marks padding with ``True`` (= ignore); we keep with ``True``. A float
    ``key_padding_mask`` is already additive and only gets reshaped.

    Args:
        key_padding_mask: ``(B, S)``, bool (True = ignore) or float (added).
    Returns:
        ``(B, 1, 1, S)``: bool keep mask or float additive mask.
    """
    if not isinstance(key_padding_mask, Tensor) or key_padding_mask.ndim != 2:
        raise argument_error(
            "key_padding_mask", "a 2-D (B, S) tensor", _describe_shape(key_padding_mask)
        )
    if key_padding_mask.dtype == torch.bool:
        return (~key_padding_mask)[:, None, None, :]  # (B, S) -> (B, 1, 1, S)
    return key_padding_mask[:, None, None, :]  # (B, S) -> (B, 1, 1, S)


def from_torch_attn_mask(attn_mask: Tensor, num_heads: int | None = None) -> Tensor:
    """``nn.MultiheadAttention``'s ``attn_mask`` -> this package's mask.

    torch's MHA takes ``(L, S)`` or ``(B * H, L, S)``; a bool one is ``True`` = ignore.

    Args:
        attn_mask: ``(L, S)`` or ``(B * H, L, S)``, bool (True = ignore) or float (added).
        num_heads: H, needed to split a 3-D mask.
    Returns:
        ``(L, S)`` or ``(B, H, L, S)``: bool keep mask or float additive mask.
    """
    if not isinstance(attn_mask, Tensor) or attn_mask.ndim not in (2, 3):
        raise argument_error(
            "attn_mask", "a 2-D (L, S) or 3-D (B * H, L, S) tensor", _describe_shape(attn_mask)
        )
    mask = ~attn_mask if attn_mask.dtype == torch.bool else attn_mask
    if mask.ndim == 2:
        return mask  # (L, S)
    if num_heads is None:
        raise argument_error("num_heads", "the number of heads for a 3-D attn_mask", None)
    num_heads = check_positive_int("num_heads", num_heads)
    if mask.size(0) % num_heads != 0:
        raise argument_error(
            "attn_mask",
            f"a first dimension that is a multiple of num_heads={num_heads}",
            mask.size(0),
        )
    return mask.reshape(-1, num_heads, *mask.shape[1:])  # (B * H, L, S) -> (B, H, L, S)


def _describe_shape(value: object) -> str:
    if isinstance(value, Tensor):
        return f"shape {shape_str(value.shape)}"
    return type(value).__name__
