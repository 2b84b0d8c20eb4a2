"""The Lab's built-in modules: one registry record each (see ``registry.py``).

To add a module: write ``runner(config, query_tokens, key_tokens) -> LabResult`` (``runners.py``
has the shared pieces) and ``register(LabModule(...))`` it, here or anywhere imported at start-up.
"""

from __future__ import annotations

import prep.lab.runners as runners
from prep.i18n import Text
from prep.lab.registry import LabModule, register

SDPA = "scaled_dot_product_attention"
MHA = "MultiHeadAttention"
CROSS = "InteractiveAttention"
GQA = "GroupedQueryAttention"
ADDITIVE = "AdditiveAttention"
SLIDING = "sliding_window"
ROPE = "rope"
ALIBI = "alibi"
TILED = "tiled_attention"
LINEAR = "linear_attention"

# The functional modules take every score setting (scale, temperature, RoPE, ALiBi).
_SCORES = frozenset({"heads", "mask", "scale", "rope", "alibi"})

BUILT_IN: tuple[LabModule, ...] = (
    LabModule(SDPA, Text("缩放点积注意力", "Scaled dot-product"), runners.run_functional,
              aliases=("sdpa", "causal_mask", "padding_mask", "masks", "sinusoidal_encoding"),
              controls=_SCORES, functional=True),
    LabModule(MHA, Text("多头自注意力", "Multi-head self-attention"), runners.run_mha,
              aliases=("mha", "SelfAttention", "self")),
    LabModule(CROSS, Text("交叉注意力", "Cross-attention"), runners.run_cross,
              aliases=("cross",), controls=frozenset({"heads", "mask", "text2"}),
              masks=("none", "causal", "padding")),
    LabModule(GQA, Text("分组查询 / 多查询 (GQA / MQA)", "Grouped-query / multi-query (GQA / MQA)"),
              runners.run_gqa, aliases=("gqa", "mqa", "repeat_kv"),
              controls=frozenset({"heads", "kv_heads", "mask"}),
              defaults={"heads": 8, "kv_heads": 2}),
    LabModule(ADDITIVE, Text("加性注意力 (Bahdanau)", "Additive (Bahdanau)"),
              runners.run_additive, aliases=("additive", "bahdanau"),
              controls=frozenset({"mask"}), defaults={"heads": 1}),
    LabModule(SLIDING, Text("滑动窗口", "Sliding window"), runners.run_functional,
              aliases=("sliding_window_mask", "sliding"), controls=_SCORES,
              defaults={"mask": "sliding", "window": 3}, functional=True),
    LabModule(ROPE, Text("旋转位置编码 (RoPE)", "Rotary positions (RoPE)"), runners.run_functional,
              aliases=("apply_rope", "positional"), controls=_SCORES, defaults={"rope": True},
              functional=True),
    LabModule(ALIBI, Text("ALiBi 线性偏置", "ALiBi linear biases"), runners.run_functional,
              aliases=("alibi_bias", "alibi_slopes"), controls=_SCORES,
              defaults={"alibi": True, "mask": "causal"}, functional=True),
    LabModule(TILED, Text("分块注意力 (FlashAttention 算法)",
                          "Tiled attention (FlashAttention algorithm)"), runners.run_functional,
              aliases=("tiled", "flash"), controls=_SCORES | {"block_size"},
              defaults={"mask": "causal"}, functional=True),
    LabModule(LINEAR, Text("线性注意力", "Linear attention"), runners.run_linear,
              aliases=("linear",), masks=("none", "causal")),
)

for _record in BUILT_IN:
    register(_record)
