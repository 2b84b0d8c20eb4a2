"""Shared argument checks: every public entry point rejects impossible input here.

One message style for the whole package::

    argument `embed_dim`: expected a multiple of num_heads=4, got 10

so a learner sees which argument is wrong, what would be right and what was passed, instead of a
raw shape error from deep inside a matmul.

Shape legend (as in :func:`torch.nn.functional.scaled_dot_product_attention`):
    N... batch dimensions, H query heads, Hkv key/value heads, L target (query) length,
    S source (key) length, D query/key feature size, Dv value feature size.
"""

from __future__ import annotations

import torch
from torch import Tensor


def argument_error(name: str, expected: str, got: object) -> ValueError:
    """Build the package's one kind of ValueError: argument, expected value, actual value."""
    return ValueError(f"argument `{name}`: expected {expected}, got {got}")


def shape_str(shape: torch.Size | tuple[int, ...]) -> str:
    """``(2, 3)`` rather than ``torch.Size([2, 3])``: shorter and the same in every message."""
    return "(" + ", ".join(str(size) for size in shape) + ("," if len(shape) == 1 else "") + ")"


def check_positive_int(name: str, value: object) -> int:
    """A size or count: an int (not a bool) of at least 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise argument_error(name, "a positive integer", repr(value))
    return value


def check_divisible(name: str, value: int, divisor_name: str, divisor: int) -> None:
    """``value`` must split evenly into ``divisor`` parts (e.g. embed_dim into heads)."""
    if value % divisor != 0:
        raise argument_error(name, f"a multiple of {divisor_name}={divisor}", value)


def check_probability(name: str, value: object) -> float:
    """A dropout probability in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise argument_error(name, "a probability in [0, 1]", repr(value))
    return float(value)


def check_tensor(name: str, value: object, *, min_ndim: int = 0, ndim: int | None = None) -> Tensor:
    """A floating-point tensor with a given (or minimum) number of dimensions."""
    if not isinstance(value, Tensor):
        raise argument_error(name, "a torch.Tensor", type(value).__name__)
    if not value.is_floating_point():
        raise argument_error(name, "a floating-point tensor", f"dtype {value.dtype}")
    if ndim is not None and value.ndim != ndim:
        raise argument_error(name, f"a {ndim}-D tensor", f"shape {shape_str(value.shape)}")
    if value.ndim < min_ndim:
        raise argument_error(
            name, f"a tensor with at least {min_ndim} dimensions", f"shape {shape_str(value.shape)}"
        )
    return value


def check_size(name: str, actual: int, expected: int, what: str) -> None:
    """One dimension must equal another argument's (``what`` says which, e.g. "D of query")."""
    if actual != expected:
        raise argument_error(name, f"{what} = {expected}", actual)


def broadcast_batch(name: str, shape: tuple[int, ...], other: tuple[int, ...]) -> tuple[int, ...]:
    """Broadcast batch dimensions, or name the argument whose batch does not fit."""
    try:
        return tuple(torch.broadcast_shapes(shape, other))
    except RuntimeError:
        raise argument_error(
            name,
            f"batch dimensions that broadcast with {shape_str(other)}",
            shape_str(shape),
        ) from None


def check_attn_mask(attn_mask: object, target: tuple[int, ...], is_causal: bool) -> Tensor | None:
    """``attn_mask`` must be None, or a bool / float tensor that broadcasts to ``target``.

    ``target`` is the scores' shape ``(N..., H, L, S)``. A mask never grows the scores: its
    broadcast with ``target`` must be ``target`` itself.
    """
    if attn_mask is None:
        return None
    if is_causal:
        raise argument_error(
            "attn_mask",
            "None when is_causal=True (pass one or the other)",
            _describe(attn_mask),
        )
    if not isinstance(attn_mask, Tensor):
        raise argument_error("attn_mask", "a torch.Tensor or None", type(attn_mask).__name__)
    if attn_mask.dtype != torch.bool and not attn_mask.is_floating_point():
        raise argument_error(
            "attn_mask",
            "a bool (True = attend) or float (added) tensor",
            f"dtype {attn_mask.dtype}",
        )
    try:
        fits = tuple(torch.broadcast_shapes(attn_mask.shape, target)) == tuple(target)
    except RuntimeError:
        fits = False
    if not fits:
        raise argument_error(
            "attn_mask",
            f"a shape that broadcasts to {shape_str(target)}",
            shape_str(attn_mask.shape),
        )
    return attn_mask


def check_qkv(
    query: object, key: object, value: object, *, enable_gqa: bool = False
) -> tuple[tuple[int, ...], int, int]:
    """Check query / key / value for attention and return ``(scores_shape, L, S)``.

    Shapes: query ``(N..., H, L, D)``, key ``(N..., Hkv, S, D)``, value ``(N..., Hkv, S, Dv)``.
    Without ``enable_gqa`` the head dimension is an ordinary batch dimension (Hkv broadcasts with
    H); with it, H must be a multiple of Hkv.
    """
    min_ndim = 3 if enable_gqa else 2
    query = check_tensor("query", query, min_ndim=min_ndim)
    key = check_tensor("key", key, min_ndim=min_ndim)
    value = check_tensor("value", value, min_ndim=min_ndim)
    # The message keeps torch SDPA's letter E (learners and tests match it); D in our legend.
    check_size("key", key.size(-1), query.size(-1), "the last dimension (E) of query")
    check_size("value", value.size(-2), key.size(-2), "the length (S) of key")
    length, source = query.size(-2), key.size(-2)
    if enable_gqa:
        q_heads, kv_heads = query.size(-3), key.size(-3)
        check_size("value", value.size(-3), kv_heads, "the number of heads (Hkv) of key")
        if q_heads % kv_heads != 0:
            raise argument_error(
                "key", f"a number of heads that divides the query's {q_heads}", kv_heads
            )
        batch = broadcast_batch("key", tuple(key.shape[:-3]), tuple(query.shape[:-3]))
        batch = broadcast_batch("value", tuple(value.shape[:-3]), batch)
        return (*batch, q_heads, length, source), length, source
    batch = broadcast_batch("key", tuple(key.shape[:-2]), tuple(query.shape[:-2]))
    batch = broadcast_batch("value", tuple(value.shape[:-2]), batch)
    return (*batch, length, source), length, source


def _describe(value: object) -> str:
    if isinstance(value, Tensor):
        return f"a tensor of shape {shape_str(value.shape)}"
    return repr(value)


def check_module_inputs(
    query: object,
    key: object,
    value: object,
    embed_dim: int,
    kdim: int | None = None,
    vdim: int | None = None,
) -> tuple[int, int, int]:
    """Batch-first module inputs: query ``(B, L, E)``, key ``(B, S, kdim)``, value ``(B, S, vdim)``.

    ``kdim`` / ``vdim`` default to ``embed_dim`` (and the message then names embed_dim).
    Returns ``(B, L, S)``.
    """
    expected = {
        "query": ("embed_dim", embed_dim),
        "key": ("kdim", kdim) if kdim is not None else ("embed_dim", embed_dim),
        "value": ("vdim", vdim) if vdim is not None else ("embed_dim", embed_dim),
    }
    tensors = {name: check_tensor(name, value_, ndim=3) for name, value_ in
               (("query", query), ("key", key), ("value", value))}  # fmt: skip
    for name, tensor in tensors.items():
        dim_name, dim = expected[name]
        check_size(name, tensor.size(-1), dim, f"the last dimension {dim_name}")
        check_size(name, tensor.size(0), tensors["query"].size(0), "the batch size B of query")
    check_size("value", tensors["value"].size(1), tensors["key"].size(1), "the length S of key")
    return tensors["query"].size(0), tensors["query"].size(1), tensors["key"].size(1)
