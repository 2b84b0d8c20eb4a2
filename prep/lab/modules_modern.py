"""The Lab's records of the 2024-26 modules (one each; see ``registry.py``). The bank's Lab
presets use these names: ``kv_cache``, ``mla``, ``sink``, ``differential``, ``gated``,
``delta_rule``, ``block_sparse``.
"""

from __future__ import annotations

import prep.lab.runners_delta_sparse as sparse
import prep.lab.runners_modern as modern
from prep.i18n import Text
from prep.lab.registry import LabModule, register

KV_CACHE = "kv_cache"
MLA = "mla"
SINK = "sink"
DIFFERENTIAL = "differential"
GATED = "gated"
DELTA_RULE = "delta_rule"
BLOCK_SPARSE = "block_sparse"

MODERN: tuple[LabModule, ...] = (
    LabModule(KV_CACHE, Text("KV cache 解码（逐个词元）", "KV-cache decoding (token by token)"),
              modern.run_kv_cache, aliases=("KVCache", "kv", "decode", "cache_keep_mask"),
              controls=frozenset({"heads", "kv_heads", "decode", "model_size"}),
              defaults={"mask": "causal", "prefill": 4, "kv_heads": 4},  # MHA first
              masks=("causal",)),
    LabModule(MLA, Text("多头潜在注意力 (MLA)", "Multi-head latent attention (MLA)"),
              modern.run_mla, aliases=("MultiHeadLatentAttention", "latent_attention"),
              controls=frozenset({"heads", "mask", "latent"}), defaults={"mask": "causal"},
              masks=("none", "causal")),
    LabModule(SINK, Text("注意力汇点与流式窗口", "Attention sinks and streaming window"),
              modern.run_sink, aliases=("sink_attention", "sinks", "streaming_mask", "streaming"),
              controls=frozenset({"heads", "mask", "sink"}),
              defaults={"mask": "streaming", "window": 3, "sinks": 1},
              masks=("streaming", "causal", "none")),
    LabModule(DIFFERENTIAL, Text("差分注意力", "Differential attention"), modern.run_differential,
              aliases=("differential_attention", "DifferentialAttention", "differential_maps",
                       "diff"),
              controls=frozenset({"heads", "mask", "depth"}), defaults={"mask": "causal"},
              masks=("none", "causal")),
    LabModule(GATED, Text("门控注意力（输出门）", "Gated attention (output gate)"),
              modern.run_gated,
              aliases=("GatedAttention", "gate"), controls=frozenset({"heads", "mask"}),
              defaults={"mask": "causal"}, masks=("none", "causal", "padding", "sliding")),
    LabModule(DELTA_RULE, Text("Delta 规则 (DeltaNet)", "Delta rule (DeltaNet)"),
              sparse.run_delta_rule, aliases=("DeltaNet", "gated_deltanet", "deltanet"),
              controls=frozenset({"heads", "decay", "chunk_size"}),
              defaults={"mask": "causal", "chunk_size": 4},
              masks=("causal",)),
    LabModule(BLOCK_SPARSE, Text("块稀疏注意力 (MoBA / NSA)",
                                 "Block-sparse attention (MoBA / NSA)"),
              sparse.run_block_sparse, aliases=("block_sparse_attention", "block_selection",
                                                "block_scores", "moba", "nsa"),
              controls=frozenset({"heads", "mask", "block_size", "top_k"}),
              defaults={"mask": "causal", "block_size": 3, "top_k": 1}, masks=("causal", "none")),
)

for _record in MODERN:
    register(_record)
