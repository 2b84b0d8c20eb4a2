"""Figures for the real-model page: one head's heatmap, and every head as a small thumbnail.

The head's heatmap is ``attention.viz.heatmaps`` (exact values on hover). The grid of
layers x H thumbnails is ONE image: each head's (T, T) map is coloured with a colour-blind-safe
scale, tiled into a canvas and sent as a PNG (Plotly's ``binary_string``). 72 heatmap traces of
128 x 128 would send megabytes (float32: 72 x 128 x 128 x 4 bytes, base64 on top); the PNG of real
attention is a few hundred kB, so a 128-token sentence stays within the 1 MB per rerun budget
(``benchmarks/bench_realmodel.py``).

Shape legend: layers (spelled out: L is a query length elsewhere), H heads, T tokens.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.express as px
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from attention import viz

COLORSCALE = viz.DEFAULT_COLORSCALE  # the same scale as the head's heatmap
LEVELS = 256  # colours in the thumbnail palette (one byte per channel)
GAP_FRACTION = 8  # gap between thumbnails: T / 8 pixels (at least 1)
BACKGROUND = (255, 255, 255)  # the gaps
MAX_TILE_PX = 64  # a thumbnail above this many tokens is max-pooled down to at most this size
GRID_WIDTH_PX = 900  # the width the grid usually gets on a wide page: sets its height
GRID_MARGIN_PX = 80  # room for the axis titles and tick labels
HEAD_FIGURE_HEIGHT_PX = 560


def _palette(colorscale: str) -> np.ndarray:
    """(LEVELS, 3) uint8 RGB colours sampled evenly from a Plotly colour scale."""
    colours = sample_colorscale(colorscale, np.linspace(0.0, 1.0, LEVELS), colortype="tuple")
    return np.rint(np.asarray(colours) * 255).astype(np.uint8)


def _max_pool(tile: np.ndarray, size: int) -> np.ndarray:
    """Shrink a (T, T) map to at most (size, size), keeping each block's largest weight.

    Max rather than mean: a thin pattern (a diagonal, one bright column) stays visible.
    """
    tokens = tile.shape[-1]
    factor = -(-tokens // size)  # ceil(T / size)
    if factor <= 1:
        return tile
    blocks = -(-tokens // factor)  # ceil(T / factor) <= size
    padded = np.zeros((*tile.shape[:-2], blocks * factor, blocks * factor), dtype=tile.dtype)
    padded[..., :tokens, :tokens] = tile
    # (..., T', T') -> (..., blocks, factor, blocks, factor) -> max over each factor x factor block
    shaped = padded.reshape(*tile.shape[:-2], blocks, factor, blocks, factor)
    return shaped.max(axis=(-3, -1))


def thumbnail_canvas(
    attentions: np.ndarray, colorscale: str = COLORSCALE, *, per_head_scale: bool = True
) -> tuple[np.ndarray, int, int]:
    """Tile (layers, H, T, T) weights into one RGB image.

    The colour runs from 0 (bottom of the scale) to each head's largest weight, or to 1 when
    ``per_head_scale`` is False.

    Returns:
        (canvas (rows, cols, 3) uint8, tile size in pixels, gap in pixels).
    """
    if attentions.ndim != 4 or attentions.shape[-1] != attentions.shape[-2]:
        raise ValueError(
            f"attentions: expected shape (layers, H, T, T), got {tuple(attentions.shape)}"
        )
    layers, heads = attentions.shape[:2]
    tiles = _max_pool(np.asarray(attentions, dtype=np.float32), MAX_TILE_PX)  # (layers, H, t, t)
    if per_head_scale:
        # Each thumbnail from 0 to its own largest weight: a diffuse head stays readable.
        peak = tiles.max(axis=(-2, -1), keepdims=True)  # (layers, H, 1, 1)
        tiles = tiles / np.where(peak > 0, peak, 1.0)
    tile = tiles.shape[-1]
    gap = max(1, tile // GAP_FRACTION)
    levels = np.clip(np.rint(tiles * (LEVELS - 1)), 0, LEVELS - 1).astype(np.intp)
    coloured = _palette(colorscale)[levels]  # (layers, H, t, t, 3)
    height = layers * tile + (layers - 1) * gap
    width = heads * tile + (heads - 1) * gap
    canvas = np.empty((height, width, 3), dtype=np.uint8)
    canvas[:] = BACKGROUND
    for layer in range(layers):
        for head in range(heads):
            top, left = layer * (tile + gap), head * (tile + gap)
            canvas[top : top + tile, left : left + tile] = coloured[layer, head]
    return canvas, tile, gap


def _centres(count: int, tile: int, gap: int) -> list[float]:
    """Pixel centre of each thumbnail along one axis (for the tick labels)."""
    return [i * (tile + gap) + (tile - 1) / 2 for i in range(count)]


def head_grid(
    attentions: np.ndarray,
    *,
    selected: tuple[int, int] | None = None,
    layer_label: str = "layer",
    head_label: str = "head",
    colorscale: str = COLORSCALE,
    per_head_scale: bool = True,
) -> go.Figure:
    """Every head of every layer as a thumbnail, in one PNG image; rows = layers, columns = heads.

    Args:
        attentions: (layers, H, T, T).
        selected: (layer, head) to outline.
    """
    canvas, tile, gap = thumbnail_canvas(attentions, colorscale, per_head_scale=per_head_scale)
    layers, heads = attentions.shape[:2]
    fig = px.imshow(canvas, binary_string=True)
    fig.update_traces(hoverinfo="skip", hovertemplate=None)
    fig.update_xaxes(
        tickvals=_centres(heads, tile, gap),
        ticktext=[str(head) for head in range(heads)],
        showgrid=False,
        title_text=head_label,
        side="top",
    )
    fig.update_yaxes(
        tickvals=_centres(layers, tile, gap), ticktext=[str(layer) for layer in range(layers)],
        showgrid=False, title_text=layer_label,
    )
    if selected is not None:
        layer, head = selected
        top, left = layer * (tile + gap), head * (tile + gap)
        fig.add_shape(
            type="rect", x0=left - 1, x1=left + tile, y0=top - 1, y1=top + tile,
            line={"color": "#d62728", "width": 3},
        )
    fig.update_layout(
        height=round(GRID_WIDTH_PX * canvas.shape[0] / canvas.shape[1]) + GRID_MARGIN_PX,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        dragmode=False,
    )
    return fig


def head_heatmap(
    attentions: np.ndarray, tokens: Sequence[str], layer: int, head: int, title: str,
    hover: tuple[str, str, str] = ("query", "key", "weight"),
) -> go.Figure:
    """One head's (T, T) map with token labels and exact weights on hover (attention.viz);
    ``hover`` names (query, key, weight) in the page's language (hover and colour bar)."""
    fig = viz.heatmaps(
        np.asarray(attentions[layer, head], dtype=np.float32),
        query_tokens=list(tokens),
        z_format="rounded",
    )
    query, key, weight = hover
    fig.update_traces(hovertemplate=f"{query} %{{y}}<br>{key} %{{x}}<br>{weight} "
                                    f"%{{z:.{viz.HOVER_DECIMALS}f}}<extra></extra>")
    fig.update_layout(title_text=title, height=HEAD_FIGURE_HEIGHT_PX,
                      coloraxis_colorbar_title_text=weight)
    return fig
