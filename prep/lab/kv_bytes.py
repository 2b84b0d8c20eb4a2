"""KV-cache sizes per token: MHA, GQA, MQA and MLA at a real model's dimensions.

Every count is the package's own ``cache_elements_per_token()``, read from modules built on
PyTorch's ``meta`` device (shapes only, no memory, no weights drawn), times the bytes of one
element (bf16). DeepSeek-V2 Table 1: MHA holds ``2 n_h d_h`` elements per token and layer, GQA
``2 n_g d_h``, MQA ``2 d_h``, MLA ``d_c + d_h^R = 4.5 d_h``.

Multi-head and grouped-query attention here are built with width ``n_h d_h`` (DeepSeek-V2's
heads are wider than its hidden size 5120: 128 heads x 128). The Llama-3-70B row's MLA is
hypothetical: DeepSeek-V2's ratios (``d_c = 4 d_h``, ``d_h^R = d_h / 2``) at that model's
sizes. Not done: quantised caches, paging overheads, the batch and sequence factors.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

import attention
from prep.i18n import Text
from prep.lab.config import LabConfig
from prep.lab.module_view import Bars

KV_BYTES = 2  # bf16
LAB_SIZE = Text("实验室当前设置（1 层）", "the Lab's settings (1 layer)")


@dataclass(frozen=True)
class ModelSize:
    label: Text
    heads: int                    # n_h
    head_dim: int                 # d_h
    kv_heads: int                 # n_g, GQA's key/value heads
    layers: int
    hidden: int                   # the model's hidden size (MLA's input)
    latent: int                   # d_c
    rope_dim: int                 # d_h^R


MODELS: dict[str, ModelSize] = {
    "deepseek-v2": ModelSize(Text("DeepSeek-V2（128 头 × 128，60 层）",
                                  "DeepSeek-V2 (128 heads x 128, 60 layers)"),
                             128, 128, 8, 60, 5120, 512, 64),
    "llama-3-70b": ModelSize(Text("Llama-3-70B 尺寸（64 头 × 128，80 层）",
                                  "Llama-3-70B sizes (64 heads x 128, 80 layers)"),
                             64, 128, 8, 80, 8192, 512, 64),
}


def model_size(config: LabConfig) -> ModelSize:
    """The chosen model, or ``"lab"``: the Lab's own E, H, KV heads and latent, one layer."""
    if config.model_size in MODELS:
        return MODELS[config.model_size]
    head_dim = config.embed_dim // config.heads
    return ModelSize(LAB_SIZE, config.heads,
                     head_dim, config.kv_heads, 1, config.embed_dim, config.latent,
                     max(2, head_dim // 2 // 2 * 2))


def elements_per_token(size: ModelSize) -> dict[str, int]:
    """Per layer: the package modules' ``cache_elements_per_token()`` at these sizes."""
    width = size.heads * size.head_dim
    with torch.device("meta"):
        modules = {
            "MHA": attention.MultiHeadAttention(width, size.heads),
            "GQA": attention.GroupedQueryAttention(width, size.heads, size.kv_heads),
            "MQA": attention.GroupedQueryAttention(width, size.heads, 1),
            "MLA": attention.MultiHeadLatentAttention(
                size.hidden, size.heads, kv_lora_rank=size.latent,
                qk_nope_head_dim=size.head_dim, qk_rope_head_dim=size.rope_dim,
                v_head_dim=size.head_dim),
        }
    return {name: module.cache_elements_per_token() for name, module in modules.items()}


def bytes_bars(config: LabConfig) -> Bars:
    size = model_size(config)
    counts = elements_per_token(size)
    labels = [f"MHA ({size.heads})", f"GQA ({size.kv_heads})", "MQA (1)", "MLA"]
    values = [float(counts[name] * KV_BYTES * size.layers) for name in ("MHA", "GQA", "MQA", "MLA")]
    ratio = counts["MLA"] / size.head_dim
    return Bars("kv_bytes", Text(f"每个词元的 KV cache 字节（bf16，{size.layers} 层）："
                                 f"{size.label.zh}",
                                 f"KV-cache bytes per token (bf16, {size.layers} layers): "
                                 f"{size.label.en}"),
                labels, values, Text("字节 / 词元", "bytes / token"),
                caption=Text(f"每层元素：MHA {counts['MHA']}，GQA {counts['GQA']}，MQA "
                             f"{counts['MQA']}，MLA {counts['MLA']} = {ratio:g} d_h。",
                             f"Elements per layer: MHA {counts['MHA']}, GQA {counts['GQA']}, MQA "
                             f"{counts['MQA']}, MLA {counts['MLA']} = {ratio:g} d_h."))


def growth_bars(numels: list[int], lengths: list[int]) -> Bars:
    """cache.numel after each step (prefill, then one bar per decoded token)."""
    labels = [f"len {n}" for n in lengths]
    return Bars("kv_growth", Text("每一步之后的 cache.numel", "cache.numel after each step"),
                labels, [float(n) for n in numels], Text("元素", "elements"))
