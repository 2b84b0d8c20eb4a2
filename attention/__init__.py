"""Runnable attention modules, written to be read like a textbook and trusted like torch.

Every eager path returns ``AttentionOutput(output, weights)``. Masks follow
``torch.nn.functional.scaled_dot_product_attention``: a bool mask is True where a query may
attend, a float mask is added to the scores. Conversions between mask conventions live in
:mod:`attention.masks` only.
"""

from attention.additive import AdditiveAttention
from attention.functional import AttentionOutput, scaled_dot_product_attention
from attention.gqa import GroupedQueryAttention, repeat_kv
from attention.linear import linear_attention
from attention.multihead import InteractiveAttention, MultiHeadAttention, SelfAttention
from attention.tiled import tiled_attention

__all__ = [
    "AdditiveAttention",
    "AttentionOutput",
    "GroupedQueryAttention",
    "InteractiveAttention",
    "MultiHeadAttention",
    "SelfAttention",
    "linear_attention",
    "repeat_kv",
    "scaled_dot_product_attention",
    "tiled_attention",
]
