"""The Lab's figures (Plotly), built from a LabResult; the page only places them.

Shape legend: H heads, L queries, S keys.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import plotly.graph_objects as go

from attention import viz
from prep.lab.figure_cache import cached
from prep.lab.results import LabResult

MAX_STEP_TOKENS = 32     # the step-by-step view shows at most this many rows and columns
COLORSCALE = viz.DEFAULT_COLORSCALE
AVERAGE_MARKER = "#E69F00"  # Okabe-Ito orange: distinct from Viridis for colour-blind readers
PADDING_GREY = "rgba(255, 255, 255, 0.6)"  # veil over padded query rows (ignored downstream)
PANEL_PX = 260              # height of a small figure, in pixels
PHONE_PX = 480              # one head's heatmap on a phone, colour bar below
NARROW_KEY_LABELS = 6  # key labels per head in compare mode (half a page, two heads a row)
MAX_TICK_CHARS = 12  # a longer token is shortened in tick labels (hover keeps it whole)


PLOTLY_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "filename": "attention", "scale": 2},
}


def plotly_config(filename: str) -> dict[str, Any]:
    """The chart toolbar: download as PNG (no server-side renderer needed)."""
    return {**PLOTLY_CONFIG, "toImageButtonOptions": {
        **PLOTLY_CONFIG["toImageButtonOptions"], "filename": filename}}


def _safe(tokens: list[str]) -> list[str]:
    """Typed (or linked) text as Plotly text: Plotly renders a few HTML tags (<a href>, <b>) in
    labels, so escape them; Plotly shows the entities as the characters typed."""
    return [html.escape(token, quote=False) for token in tokens]


@cached  # the same arguments, the same figure: built once per process
def heads_figure(
    result: LabResult, titles: list[str], hover: tuple[str, str, str],
    max_columns: int = viz.MAX_COLUMNS, zmax: float | None = None, narrow: bool = False,
    phone: bool = False,
) -> go.Figure:
    """One heatmap per head (attention.viz), sent as whole percents: one byte a cell, hover
    exact to 0.01; ``hover`` names (query, key, weight) in the page's language; ``zmax`` the
    top of the colour scale (a weight; default this result's largest), so that two figures
    side by side can share one scale; ``narrow`` (half a page, compare mode) turns the key
    labels upright and smaller so that they do not overlap; ``phone`` (one head on a 390 px
    screen) moves the colour bar under the map so that the map takes the whole width. Padded
    query rows are veiled."""
    columns = min(len(titles), max_columns)
    figure = viz.heatmaps(result.weights, _safe(result.query_tokens), _safe(result.key_tokens),
                          titles,
                          columns=columns, z_format="percent", zmax=zmax, hover=hover)
    _short_ticks(figure, result)
    rows = math.ceil(len(titles) / columns)
    # No grid lines or zero lines (white dashes over the cells), and token labels only left of
    # the first column and under the last row: elsewhere they run into the next head. Tick marks
    # go with their labels, or the next head's y ticks show as white dashes on a head's edge.
    # One update_layout for every axis (update_*axes with row= / col= walks the whole grid on
    # each call: a quarter of a second at 16 heads).
    hidden = {"showticklabels": False, "ticks": ""}
    axes: dict[str, dict[str, Any]] = {}
    for head in range(len(titles)):
        row, column = divmod(head, columns)
        suffix = "" if head == 0 else str(head + 1)
        axes[f"xaxis{suffix}"] = {"showgrid": False, "zeroline": False,
                                  **(hidden if row < rows - 1 else {})}
        axes[f"yaxis{suffix}"] = {"showgrid": False, "zeroline": False,
                                  **(hidden if column > 0 else {})}
    figure.update_layout(axes)
    if narrow:
        _thin_key_labels(figure)
        figure.update_xaxes(tickangle=-90, tickfont={"size": 9})
        figure.update_yaxes(tickfont={"size": 9})
    if phone:
        figure.update_layout(
            coloraxis_colorbar={"orientation": "h", "y": -0.22, "yanchor": "top",
                                "thickness": 12, "title": {"side": "top"}},
            margin={"l": 0, "r": 0, "t": 30, "b": 10}, height=PHONE_PX)
    _veil_padding(figure, result, len(titles))
    return figure


def _thin_key_labels(figure: go.Figure) -> None:
    """Half a page holds about NARROW_KEY_LABELS upright key labels per head: label every k-th
    key (the hover still names every key)."""
    axis = figure.layout.xaxis
    if axis.tickvals is None or len(axis.tickvals) <= NARROW_KEY_LABELS:
        return
    stride = math.ceil(len(axis.tickvals) / NARROW_KEY_LABELS)
    figure.update_xaxes(tickvals=list(axis.tickvals)[::stride],
                        ticktext=list(axis.ticktext)[::stride])


def _veil_padding(figure: go.Figure, result: LabResult, heads: int) -> None:
    """Grey the padded query rows: computed as usual, their outputs are ignored downstream."""
    padded = result.padded_queries
    if not padded:
        return
    length = len(result.query_labels)
    for head in range(heads):
        suffix = "" if head == 0 else str(head + 1)
        figure.add_shape(
            type="rect", xref=f"x{suffix} domain", yref=f"y{suffix}",
            x0=0, x1=1, y0=length - padded - 0.5, y1=length - 0.5,
            fillcolor=PADDING_GREY, line={"width": 0}, layer="above",
        )


def strongest_weights(result: LabResult, head: int, top: int = 3) -> list[dict[str, Any]]:
    """A text alternative to one head's heatmap: for each query, its ``top`` strongest keys
    with their weights in percent (rows of a small table)."""
    weights = result.weights[head]                                           # (L, S)
    rows = []
    for query, row in enumerate(weights):
        order = np.argsort(-row, kind="stable")[:top]
        strongest = [f"{result.key_labels[k]} {row[k] * 100:.0f}%" for k in order if row[k] > 0]
        rows.append({"query": result.query_labels[query], "keys": ", ".join(strongest) or "-"})
    return rows


@cached  # the same arguments, the same figure: built once per process
def average_figure(result: LabResult, title: str, hover: tuple[str, str, str]) -> go.Figure:
    figure = viz.heatmaps(result.head_average, _safe(result.query_tokens),
                          _safe(result.key_tokens), [title],
                          z_format="percent", hover=hover)
    _short_ticks(figure, result)
    return figure


def _shorten(token: str) -> str:
    return token if len(token) <= MAX_TICK_CHARS else token[: MAX_TICK_CHARS - 1] + "…"


def _short_ticks(figure: go.Figure, result: LabResult) -> None:
    """Long tokens shortened in the tick labels (a whole sentence typed without spaces ran
    into the next head); the axis values, and so the hover, keep the whole token."""
    for tokens, update in ((result.key_tokens, figure.update_xaxes),
                           (result.query_tokens, figure.update_yaxes)):
        if len(tokens) <= viz.MAX_LABELLED_TICKS and any(len(t) > MAX_TICK_CHARS for t in tokens):
            update(ticktext=_safe([_shorten(t) for t in tokens]))


@cached  # the same arguments, the same figure: built once per process
def matrix_figure(
    values: np.ndarray, row_labels: list[str], col_labels: list[str], title: str
) -> go.Figure:
    """A small heatmap of exact float values (for the step-by-step view)."""
    rows, cols = min(len(row_labels), MAX_STEP_TOKENS), min(len(col_labels), MAX_STEP_TOKENS)
    shown = values[:rows, :cols].astype(np.float32)
    shown = np.where(np.isfinite(shown), shown, np.nan)     # -inf (masked) drawn as blank
    # Layout given to the constructor: several times faster than update_layout afterwards.
    return go.Figure(
        data=[go.Heatmap(
            z=shown, x=_safe(col_labels[:cols]), y=_safe(row_labels[:rows]), colorscale=COLORSCALE,
            hovertemplate="%{y}, %{x}: %{z:.4f}<extra></extra>",
        )],
        layout={
            "title": {"text": title}, "height": PANEL_PX + 40,
            "margin": {"l": 60, "r": 20, "t": 40 if title else 10, "b": 40},
            "xaxis": {"type": "category", "tickangle": -60, "tickfont": {"size": 9}},
            "yaxis": {"type": "category", "autorange": "reversed", "tickfont": {"size": 9}},
        },
    )


@cached  # the same arguments, the same figure: built once per process
def row_figure(
    result: LabResult, names: tuple[str, str],
    hover: tuple[str, str, str] = viz.HOVER_NAMES,
) -> go.Figure:
    """The chosen query token's row: bars for the chosen head (attention.viz), and a line of
    markers for the head average. ``names``: (chosen head, average); ``hover`` names (query,
    key, weight) in the page's language."""
    query, head = result.clamped_query, result.clamped_head
    query_word, key_word, weight_word = hover
    figure = viz.query_bars(
        result.weights[head], query, _safe(result.key_tokens), _safe(result.query_tokens),
        title=f"{query_word} {_safe(result.query_labels)[query]}",
    )
    figure.update_traces(name=names[0], showlegend=True,
                         hovertemplate=f"{key_word} %{{x}}<br>{weight_word} %{{y:.3f}}"
                                       "<extra>%{fullData.name}</extra>")
    figure.add_trace(go.Scatter(
        x=figure.data[0].x, y=result.head_average[query], mode="markers", name=names[1],
        marker={"color": AVERAGE_MARKER, "size": 9, "symbol": "diamond"},
        hovertemplate=f"{key_word} %{{x}}<br>{weight_word} %{{y:.3f}}"
                      "<extra>%{fullData.name}</extra>",
    ))
    # The legend above the bars: below them it covered the rotated key labels.
    return figure.update_layout(
        height=PANEL_PX + 60, yaxis_title_text=weight_word,
        margin={"t": 70},
        legend={"orientation": "h", "x": 1.0, "xanchor": "right", "y": 1.02,
                "yanchor": "bottom"},
    )


def count_heatmaps(spec: Mapping[str, Any]) -> int:
    """Heatmap traces in a figure's JSON (used by tests and the benchmark)."""
    return sum(1 for trace in spec.get("data", []) if trace.get("type") == "heatmap")


def decode_z(trace: Mapping[str, Any]) -> np.ndarray:
    """A heatmap trace's z from plotly JSON (a base64 typed array or nested lists)."""
    z = trace["z"]
    if isinstance(z, Mapping) and "bdata" in z:
        raw = np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"]))
        shape = tuple(int(n) for n in str(z.get("shape", len(raw))).split(","))
        return raw.reshape(shape)
    return np.asarray(z, dtype=np.float64)

