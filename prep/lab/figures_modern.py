"""Figures of the 2024-26 modules' own views: one exact-valued map (signed ones on a diverging
scale centred on 0) and a bar chart. The per-head grid stays in ``figures.py``.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go

from prep.lab.figures import COLORSCALE, MAX_STEP_TOKENS, PANEL_PX
from prep.lab.module_view import Bars, Panel

SIGNED_COLORSCALE = "RdBu"   # diverging; red and blue stay apart for colour-blind readers
BAR_COLOUR = "#0072B2"       # Okabe-Ito blue


def _safe(labels: list[str]) -> list[str]:
    return [html.escape(label, quote=False) for label in labels]


def panel_figure(panel: Panel, title: str) -> go.Figure:
    """One panel as a heatmap of exact values (at most MAX_STEP_TOKENS rows and columns)."""
    rows = min(len(panel.row_labels), MAX_STEP_TOKENS)
    cols = min(len(panel.col_labels), MAX_STEP_TOKENS)
    shown = np.asarray(panel.values[:rows, :cols], dtype=np.float32)
    shown = np.where(np.isfinite(shown), shown, np.nan)
    colour: dict = {"colorscale": COLORSCALE}
    if panel.signed:
        reach = float(np.nanmax(np.abs(shown))) if np.isfinite(shown).any() else 0.0
        reach = reach or 1.0
        colour = {"colorscale": SIGNED_COLORSCALE, "zmid": 0.0, "zmin": -reach, "zmax": reach,
                  "reversescale": True}
    return go.Figure(
        data=[go.Heatmap(z=shown, x=_safe(panel.col_labels[:cols]),
                         y=_safe(panel.row_labels[:rows]),
                         hovertemplate="%{y}, %{x}: %{z:.4g}<extra></extra>", **colour)],
        layout={
            "title": {"text": html.escape(title, quote=False), "font": {"size": 12}},
            "height": PANEL_PX + 60,
            "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
            "xaxis": {"type": "category", "tickangle": -60, "tickfont": {"size": 9}},
            "yaxis": {"type": "category", "autorange": "reversed", "tickfont": {"size": 9}},
        },
    )


def bars_figure(bars: Bars, title: str, axis: str) -> go.Figure:
    return go.Figure(
        data=[go.Bar(x=_safe(bars.labels), y=bars.values, marker_color=BAR_COLOUR,
                     text=[f"{v:,.0f}" for v in bars.values], textposition="auto",
                     hovertemplate="%{x}: %{y:,.0f}<extra></extra>")],
        layout={
            "title": {"text": html.escape(title, quote=False), "font": {"size": 12}},
            "height": PANEL_PX + 60,
            "margin": {"l": 60, "r": 20, "t": 50, "b": 40},
            "yaxis": {"title": {"text": html.escape(axis, quote=False)}},
        },
    )
