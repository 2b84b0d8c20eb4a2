"""A module's own view, beside the heatmap grid every module gets: numbers, side-by-side maps and
bar charts (the 2024-26 modules: KV cache, MLA, sinks, differential, gated, delta rule,
block-sparse). Plain data, built by ``runners_modern.py``, drawn by ``prep.ui_lab_modern``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from prep.i18n import Text


@dataclass(frozen=True)
class Metric:
    """One number the view shows (``key`` names it for tests and the page's widget keys)."""

    key: str
    label: Text
    value: float
    text: str                     # how it is shown, e.g. "3.1e-08" or "576"
    help: Text | None = None


@dataclass(frozen=True)
class Panel:
    """One heatmap of exact values, e.g. one head's naive weights, or a block-selection mask.

    ``signed``: the values may be negative (a difference, a differential map): drawn on a
    diverging colour scale centred on 0.
    """

    key: str
    title: Text
    values: np.ndarray            # (rows, cols) float32
    row_labels: list[str]
    col_labels: list[str]
    signed: bool = False
    caption: Text | None = None


@dataclass(frozen=True)
class Bars:
    """A bar chart: one bar per label (e.g. KV-cache bytes per token for MHA, GQA, MQA, MLA)."""

    key: str
    title: Text
    labels: list[str]
    values: list[float]
    axis: Text                    # the value axis's title
    caption: Text | None = None


@dataclass(frozen=True)
class ModuleView:
    kind: str                     # the module's registry name
    title: Text
    metrics: list[Metric] = field(default_factory=list)
    panels: list[Panel] = field(default_factory=list)
    bars: list[Bars] = field(default_factory=list)
    table: dict[Text, list] | None = None   # per-head numbers: column title -> values
    intro: Text | None = None

    def metric(self, key: str) -> Metric:
        """The metric named ``key``; KeyError if the view has none."""
        for metric in self.metrics:
            if metric.key == key:
                return metric
        raise KeyError(key)

    def panel(self, key: str) -> Panel:
        for panel in self.panels:
            if panel.key == key:
                return panel
        raise KeyError(key)


def short(value: float) -> str:
    """A difference or a count as the view prints it."""
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.3g}" if abs(value) >= 1e-3 else f"{value:.1e}"
