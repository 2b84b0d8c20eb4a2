"""Per-head summaries of a transformer's attention maps (pure numpy; the real-model page).

Shapes:
    layers  number of layers        H  heads per layer
    T       tokens, incl. [CLS] / [SEP]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class HeadStatistics:
    """Per-head summaries of an attention map, each an array shaped (layers, H).

    entropy        mean over queries of $-\\sum_j a_{ij} \\log a_{ij}$ (nats; uniform = log T)
    to_cls         mean over queries of the weight on [CLS]
    to_sep         mean over queries of the weight on all [SEP] tokens
    to_previous    mean over queries i >= 1 of $a_{i,i-1}$
    mean_distance  mean over queries of $\\sum_j a_{ij} |i - j|$ (tokens)
    """

    entropy: np.ndarray
    to_cls: np.ndarray
    to_sep: np.ndarray
    to_previous: np.ndarray
    mean_distance: np.ndarray
    num_tokens: int

    FIELDS = ("entropy", "to_cls", "to_sep", "to_previous", "mean_distance")

    @property
    def max_entropy(self) -> float:
        """Entropy of a uniform row over T keys, log T: the upper bound of ``entropy``."""
        return math.log(self.num_tokens)

    def rows(self) -> list[dict[str, float | int]]:
        """One row per (layer, head): for a table."""
        layers, heads = self.entropy.shape
        return [
            {"layer": layer, "head": head}
            | {name: round(float(getattr(self, name)[layer, head]), 4) for name in self.FIELDS}
            for layer in range(layers)
            for head in range(heads)
        ]


def head_statistics(
    attentions: np.ndarray, cls_positions: list[int], sep_positions: list[int]
) -> HeadStatistics:
    """Summaries of each head's attention map (see ``HeadStatistics``).

    Args:
        attentions: (layers, H, T, T) weights; each row sums to 1.
        cls_positions / sep_positions: key positions of [CLS] and [SEP].
    """
    if attentions.ndim != 4 or attentions.shape[-1] != attentions.shape[-2]:
        raise ValueError(
            f"attentions: expected shape (layers, H, T, T), got {tuple(attentions.shape)}"
        )
    weights = attentions.astype(np.float64)
    tokens = weights.shape[-1]
    # 0 log 0 = 0: where a weight is 0, log is never evaluated
    safe = np.where(weights > 0, weights, 1.0)
    entropy = -(weights * np.log(safe)).sum(-1).mean(-1)  # (layers, H)
    to_cls = weights[..., cls_positions].sum(-1).mean(-1)
    to_sep = weights[..., sep_positions].sum(-1).mean(-1)
    if tokens > 1:
        # (layers, H, T-1): a[i, i-1]
        previous = np.diagonal(weights, offset=-1, axis1=-2, axis2=-1)
        to_previous = previous.mean(-1)
    else:
        to_previous = np.zeros(weights.shape[:2])
    position = np.arange(tokens)
    distance = np.abs(position[:, None] - position[None, :])  # (T, T): |i - j|
    mean_distance = (weights * distance).sum(-1).mean(-1)
    return HeadStatistics(
        entropy=entropy,
        to_cls=to_cls,
        to_sep=to_sep,
        to_previous=to_previous,
        mean_distance=mean_distance,
        num_tokens=tokens,
    )
