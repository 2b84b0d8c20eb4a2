"""The Lab's logic: a registry of modules, a configuration and its URL form, one run of an
`attention` module, its figures, and the page's state machine. No Streamlit here.

Where things live (each module of this package is one concept):

* ``registry``: one record per Lab module (:class:`LabModule`) and :func:`register`;
* ``modules``: the built-in records; ``runners`` / ``steps``: what a run computes;
  ``modules_modern``, ``runners_modern``, ``runners_delta_sparse``, ``steps_modern``,
  ``kv_bytes``, ``module_view``: the 2024-26 modules and their own views;
* ``config``: :class:`LabConfig`, the URL codec and the allowed values (:func:`parse_url`,
  :func:`fit`, :func:`preset_problems`, :func:`preset_url`);
* ``inputs``: tokens, embeddings, masks; ``results``: :class:`LabResult`;
* ``figures``: Plotly figures; ``state``: the page's URL <-> widget-state machine.
"""

from __future__ import annotations

from typing import Any

from attention import viz
from prep.i18n import Text
from prep.lab import registry
from prep.lab.config import (
    B_PREFIX,
    EMBED_DIMS,
    MAX_HEADS,
    MAX_SEED,
    MAX_TEMPERATURE,
    MAX_TOKENS,
    MIN_TEMPERATURE,
    TEMPERATURE_STEP,
    TOKEN_SOURCES,
    LabConfig,
    defaults_for,
    head_choices,
    head_count,
    kv_head_choices,
    uses,
)
from prep.lab.figures import (
    AVERAGE_MARKER,
    COLORSCALE,
    MAX_STEP_TOKENS,
    MAX_TICK_CHARS,
    PANEL_PX,
    PLOTLY_CONFIG,
    average_figure,
    count_heatmaps,
    decode_z,
    heads_figure,
    matrix_figure,
    plotly_config,
    row_figure,
    strongest_weights,
)
from prep.lab.inputs import RANDOM_VOCAB, embed, random_tokens, token_counts, token_labels, tokenize
from prep.lab.links import fit, parse_url, preset_problems, preset_url, size_hint
from prep.lab.modules import ADDITIVE, ALIBI, CROSS, GQA, LINEAR, MHA, ROPE, SDPA, SLIDING, TILED
from prep.lab.modules_modern import MODERN
from prep.lab.registry import MASKS, LabModule, register, resolve_module, unregister
from prep.lab.results import LabResult, Step, entropy, only_heads
from prep.lab.runners import run

MASK_LABELS = {
    "none": Text("无", "none"),
    "causal": Text("因果", "causal"),
    "padding": Text("填充", "padding"),
    "sliding": Text("滑动窗口", "sliding window"),
    "streaming": Text("汇点 + 滑动窗口 (StreamingLLM)", "sinks + window (StreamingLLM)"),
}

TOKEN_LABELS = {
    "text": Text("输入句子", "typed sentence"),
    "random": Text("随机词元", "random tokens"),
}


def __getattr__(name: str) -> Any:
    """Views of the registry, read when asked (a module registered later is in them)."""
    if name == "MODULES":
        return registry.module_names()
    if name == "_FUNCTIONAL":
        return frozenset(n for n, record in registry.REGISTRY.items() if record.functional)
    raise AttributeError(f"module 'prep.lab' has no attribute {name!r}")


__all__ = [
    "ADDITIVE",
    "ALIBI",
    "AVERAGE_MARKER",
    "B_PREFIX",
    "COLORSCALE",
    "CROSS",
    "EMBED_DIMS",
    "GQA",
    "LINEAR",
    "MASKS",
    "MASK_LABELS",
    "MAX_HEADS",
    "MAX_SEED",
    "MAX_STEP_TOKENS",
    "MAX_TEMPERATURE",
    "MAX_TICK_CHARS",
    "MAX_TOKENS",
    "MHA",
    "MIN_TEMPERATURE",
    "MODERN",
    "PANEL_PX",
    "PLOTLY_CONFIG",
    "RANDOM_VOCAB",
    "ROPE",
    "SDPA",
    "SLIDING",
    "TEMPERATURE_STEP",
    "TILED",
    "TOKEN_LABELS",
    "TOKEN_SOURCES",
    "LabConfig",
    "LabModule",
    "LabResult",
    "Step",
    "average_figure",
    "count_heatmaps",
    "decode_z",
    "defaults_for",
    "embed",
    "entropy",
    "fit",
    "head_choices",
    "head_count",
    "heads_figure",
    "kv_head_choices",
    "matrix_figure",
    "only_heads",
    "parse_url",
    "plotly_config",
    "preset_problems",
    "preset_url",
    "random_tokens",
    "register",
    "resolve_module",
    "row_figure",
    "run",
    "size_hint",
    "strongest_weights",
    "token_counts",
    "token_labels",
    "tokenize",
    "unregister",
    "uses",
    "viz",
]
