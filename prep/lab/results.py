"""What one Lab run returns: per-head weights, statistics, steps, the source that ran, notes.

Shape legend: H query heads, L queries, S keys.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch

from prep.lab.config import LabConfig, uses
from prep.lab.inputs import token_labels


@dataclass(frozen=True)
class Step:
    """One step of the step-by-step view, for one head."""

    key: str                      # "q", "k", "v", "raw", "scaled", "masked", "softmax", "output"
    title: tuple[str, str]        # (zh, en)
    formula: str                  # LaTeX
    shape: tuple[int, ...]        # shape of the full tensor (all heads)
    values: np.ndarray            # (rows, cols) float32, this head only
    row_labels: list[str]
    col_labels: list[str]
    note: tuple[str, str] | None = None  # (zh, en) words that explain the formula


@dataclass(frozen=True)
class LabResult:
    config: LabConfig
    query_tokens: list[str]
    key_tokens: list[str]
    query_labels: list[str]                # unique: "3:the"
    key_labels: list[str]
    weights: np.ndarray                    # (H, L, S) float32, one heatmap per head
    output_shape: tuple[int, ...]
    entropy: np.ndarray                    # (H,) mean entropy (nats) of the rows that attend
    row_sums: np.ndarray                   # (H, L)
    steps: list[Step]
    source: str                            # the code that ran, read from the package
    source_names: list[str]
    notes: list[tuple[str, str]] = field(default_factory=list)  # (zh, en)
    padded_queries: int = 0                # the last rows are padding: computed, drawn greyed
    view: Any = None                       # a module's own view (prep.lab.module_view.ModuleView)

    @property
    def head_average(self) -> np.ndarray:
        return self.weights.mean(axis=0)

    @property
    def masked_rows(self) -> np.ndarray:
        """(H,) number of fully masked query rows (all weights zero)."""
        return (self.row_sums == 0).sum(axis=-1)

    @property
    def clamped_query(self) -> int:
        return min(max(self.config.query, 0), len(self.query_labels) - 1)

    @property
    def clamped_head(self) -> int:
        return min(max(self.config.head, 0), self.weights.shape[0] - 1)


def entropy(weights: np.ndarray) -> np.ndarray:
    """(H,) mean over rows of -sum p ln p (nats), skipping fully masked rows (all zeros)."""
    p = torch.from_numpy(np.ascontiguousarray(weights, dtype=np.float32))   # (H, L, S)
    row_entropy = -torch.special.xlogy(p, p).sum(dim=-1)                     # (H, L); 0 ln 0 = 0
    attends = p.sum(dim=-1) > 0                                              # (H, L)
    counts = attends.sum(dim=-1).clamp(min=1)                                # (H,)
    return (torch.where(attends, row_entropy, 0.0).sum(dim=-1) / counts).numpy()


def to_numpy(x: torch.Tensor) -> np.ndarray:
    return x.detach().to(torch.float32).numpy()


def source_of(objects: list[Any]) -> tuple[str, list[str]]:
    names = [f"{obj.__module__}.{obj.__qualname__}" for obj in objects]
    return "\n\n".join(_source(obj) for obj in objects), names


@functools.cache
def _source(obj: Any) -> str:
    """inspect.getsource parses the file (tens of ms for a class); the package does not change
    while the server runs."""
    return inspect.getsource(obj)


def _repeated_tokens_note(config: LabConfig) -> tuple[str, str]:
    if uses(config, "text2"):
        # Cross-attention: a causal mask means nothing between two sentences.
        return ("重复的查询词元在这里得到完全相同的行：查询里没有位置信息时，注意力分不清位置，"
                "它对排列是等变的。交叉注意力不用因果掩码；位置要在输入里加入（例如位置编码）。",
                "Repeated query tokens get identical rows here: without positional information "
                "attention cannot tell positions apart; it is permutation-equivariant. "
                "Cross-attention takes no causal mask; positions have to be added to the inputs "
                "(a positional encoding).")
    try_zh, try_en = (("打开 RoPE 或因果掩码", "Turn on RoPE or a causal mask")
                      if uses(config, "rope") else ("换成因果掩码", "Switch to a causal mask"))
    return ("重复的词元在这里得到完全相同的行：没有位置信息（没有 RoPE / ALiBi，也没有掩码）时，"
            f"注意力分不清位置，它对排列是等变的。{try_zh}看看差别。",
            "Repeated tokens get identical rows here: without positional information (no RoPE "
            "or ALiBi, no mask) attention cannot tell positions apart; it is permutation-"
            f"equivariant. {try_en} to see the difference.")


def finish(
    config: LabConfig,
    queries: list[str],
    keys: list[str],
    weights: torch.Tensor,
    output: torch.Tensor,
    steps: list[Step],
    sources: list[Any],
    notes: list[tuple[str, str]] | None = None,
    padded_queries: int = 0,
    encodes_positions: bool = False,
) -> LabResult:
    """A LabResult from weights ``(1, H, L, S)``; adds the notes every module shares.
    ``encodes_positions``: the module rotates by position itself (MLA's built-in RoPE), so
    repeated tokens do not get identical rows."""
    per_head = weights.detach()[0].to(torch.float32).numpy()  # (H, L, S)
    source, names = source_of(sources)
    notes = list(notes or [])
    if len(set(queries)) < len(queries) and config.mask == "none" and not encodes_positions \
            and not (uses(config, "rope") and (config.rope or config.alibi)):
        notes.append(_repeated_tokens_note(config))
    if padded_queries:
        notes.append((
            f"填充掩码只遮住被填充的键（最后 {config.pad} 列）。被填充的查询行（灰色）照常计算，"
            "它们的输出在后续会被忽略，所以不需要遮住。",
            f"The padding mask removes the padded keys only (the last {config.pad} columns). "
            "The padded query rows (greyed) are computed as usual; their outputs are ignored "
            "downstream, so they need no mask.",
        ))
    return LabResult(
        config=config,
        query_tokens=list(queries),
        key_tokens=list(keys),
        query_labels=token_labels(queries),
        key_labels=token_labels(keys),
        weights=per_head,
        output_shape=tuple(output.shape),
        entropy=entropy(per_head),
        row_sums=per_head.sum(axis=-1, dtype=np.float64).astype(np.float32),
        steps=steps,
        source=source,
        source_names=names,
        notes=notes,
        padded_queries=padded_queries,
    )


def only_heads(result: LabResult, heads: list[int]) -> LabResult:
    """The same result with only these heads (a phone shows one head at a time)."""
    index = np.asarray(heads, dtype=np.int64)
    return replace(result, weights=result.weights[index], entropy=result.entropy[index],
                   row_sums=result.row_sums[index])
