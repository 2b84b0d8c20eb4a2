"""Runnable attention modules, written to be read like a textbook and trusted like torch.

Every eager path returns ``AttentionOutput(output, weights)``. Masks follow
``torch.nn.functional.scaled_dot_product_attention``: a bool mask is True where a query may
attend, a float mask is added to the scores. Conversions between mask conventions live in
:mod:`attention.masks` only.

Shape legend (one meaning per letter across the package):
    B batch, H heads, Hkv key/value heads, L query length, S key length, E embed_dim,
    D head dim; ``N...`` any batch dimensions in the functional forms.

Contents (one concept per file):
    functional   scaled_dot_product_attention, AttentionOutput (torch SDPA's signature + weights)
    masks        causal / sliding-window / streaming / padding masks, converters from torch MHA
    heads        ProjectedAttention (the one projection path), split_heads, merge_heads, repeat_kv
    multihead    MultiHeadAttention (+ from_torch), SelfAttention, InteractiveAttention
    gqa          GroupedQueryAttention (MQA when num_kv_heads=1)
    kv_cache     KVCache (decoding: keys/values appended, bottom-right causal alignment)
    mla          MultiHeadLatentAttention (DeepSeek-V2: cached latent, decoupled RoPE, absorb)
    sinks        sink_attention (a learned per-head logit joins each row's softmax, gpt-oss)
    differential differential_attention, DifferentialAttention (Ye et al. 2024)
    gated        GatedAttention (sigmoid output gate per head and feature, Qwen3-Next)
    delta_rule   delta_rule (DeltaNet / Gated DeltaNet, recurrent or chunkwise, implied W)
    block_sparse block_sparse_attention, block_selection (MoBA / NSA selection)
    additive     AdditiveAttention (Bahdanau)
    positional   sinusoidal_encoding, apply_rope, alibi_slopes, alibi_bias
    tiled        tiled_attention (FlashAttention's online softmax, never builds L x S)
    linear       linear_attention (elu + 1 feature map, causal by prefix sums)
    viz          Plotly heatmaps per head and a query-row bar chart

Example (a notebook)::

    import torch, attention
    x = torch.randn(1, 5, 16)                              # (B, L, E)
    output, weights = attention.SelfAttention(16, 4)(x)    # (1, 5, 16), (1, 4, 5, 5)
    attention.viz.heatmaps(weights[0], ["the", "cat", "sat", "on", "mat"]).show()
"""

from attention import masks, positional, viz
from attention.additive import AdditiveAttention
from attention.block_sparse import block_scores, block_selection, block_sparse_attention
from attention.delta_rule import delta_rule
from attention.differential import (
    DifferentialAttention,
    differential_attention,
    differential_maps,
    lambda_init_for,
)
from attention.functional import AttentionOutput, scaled_dot_product_attention
from attention.gated import GatedAttention
from attention.gqa import GroupedQueryAttention
from attention.heads import ProjectedAttention, merge_heads, repeat_kv, split_heads
from attention.kv_cache import KVCache
from attention.linear import linear_attention
from attention.mla import MultiHeadLatentAttention
from attention.multihead import InteractiveAttention, MultiHeadAttention, SelfAttention
from attention.sinks import sink_attention
from attention.tiled import tiled_attention

__all__ = [
    "AdditiveAttention",
    "AttentionOutput",
    "DifferentialAttention",
    "GatedAttention",
    "GroupedQueryAttention",
    "InteractiveAttention",
    "KVCache",
    "MultiHeadAttention",
    "MultiHeadLatentAttention",
    "ProjectedAttention",
    "SelfAttention",
    "block_scores",
    "block_selection",
    "block_sparse_attention",
    "delta_rule",
    "differential_attention",
    "differential_maps",
    "lambda_init_for",
    "linear_attention",
    "masks",
    "merge_heads",
    "positional",
    "repeat_kv",
    "scaled_dot_product_attention",
    "sink_attention",
    "split_heads",
    "tiled_attention",
    "viz",
]
