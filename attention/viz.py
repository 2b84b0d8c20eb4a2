"""Plotly figures of attention weights: one heatmap per head, and one query's row as bars.

Works anywhere Plotly does (a notebook, ``fig.show()``, Streamlit's ``st.plotly_chart``); it
imports plotly and numpy only. Conventions (``docs/history.md`` says which defects of the source
document's ``visualize_attention`` they fix):

* queries are rows (top to bottom), keys are columns, as in ``weights[h, i, j]``;
* all heads share one colour scale and one colour bar (a colour-blind-safe scale, Viridis by
  default), so colours compare across heads;
* tokens label the axes; a repeated token stays a separate row / column because each axis value is
  the unique label ``"position:token"`` and the tick shows the token alone;
* hovering shows the query, the key and the weight to 3 decimals.

Payload at 16 heads x 256 x 256 tokens with token labels, ``len(plotly.io.to_json(fig))`` and,
in brackets, after deflate (what Streamlit's websocket compression sends):

* ``z_format="float32"`` (exact): 5.9 MB (2.2-4.3 MB);
* ``"rounded"`` (float32 rounded to 3 decimals; the hover is exact to 0.001): 5.7 MB (0.7 MB);
* ``"percent"`` (uint8 whole percents, 1 byte a cell; hover "37%", exact to 0.01): 1.5 MB
  (0.2 MB).

No format fits 1 MB of raw JSON at that size with hover values (1M cells of base64 need
1.33 MB): the app relies on compression, or shows fewer heads. float64 is never sent (Plotly
does not downcast it).

Shape legend: H heads, L queries, S keys.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.colors
import plotly.graph_objects as go

from attention._checks import argument_error, check_positive_int

DEFAULT_COLORSCALE = "Viridis"  # perceptually uniform and readable with colour-vision deficiency
MAX_COLUMNS = 4  # heads per row of the grid
HEAD_HEIGHT_PX = 280  # height of one row of heatmaps
MAX_LABELLED_TICKS = 48  # above this many tokens, Plotly picks which tick labels to show
HOVER_DECIMALS = 3
HORIZONTAL_SPACING = 0.04  # between heads of the grid, as a fraction of the figure's width
VERTICAL_SPACING = 0.08    # between rows of the grid, as a fraction of its height
PERCENT = 100.0
MAX_PERCENT_WEIGHT = 2.55  # whole percents of weights up to this fit in one byte (uint8)
Z_FORMATS = ("float32", "rounded", "percent")
HOVER_NAMES = ("query", "key", "weight")  # what the hover calls a row, a column and a value


def heatmaps(
    weights: Any,
    query_tokens: Sequence[str] | None = None,
    key_tokens: Sequence[str] | None = None,
    titles: Sequence[str] | None = None,
    *,
    columns: int | None = None,
    colorscale: str = DEFAULT_COLORSCALE,
    zmax: float | None = None,
    z_format: str = "float32",
    hover: tuple[str, str, str] = HOVER_NAMES,
) -> go.Figure:
    """A grid of attention heatmaps, one per head, with one shared colour scale.

    Args:
        weights: ``(L, S)`` or ``(H, L, S)`` (a torch tensor or anything numpy can read).
        query_tokens: L labels for the rows (default positions 0..L-1).
        key_tokens: S labels for the columns (default ``query_tokens`` when L == S, else
            positions).
        titles: H subplot titles (default "head 0", "head 1", ...; none for a single 2-D map).
        columns: heads per grid row (default ``min(H, 4)``).
        colorscale: any Plotly colour scale name; Viridis or Cividis are colour-blind safe.
        zmax: top of the colour scale (default the largest weight; pass 1.0 to compare figures).
        z_format: "float32" (exact), "rounded" (3 decimals, compresses well) or "percent"
            (uint8 whole percents, the smallest payload; hover shows e.g. "37%").
        hover: the words for (query, key, weight) in the hover, and the colour bar's title
            unless it is "%"; pass them in the reader's language.
    Returns:
        A ``go.Figure``; its colour axis is ``layout.coloraxis``.
    """
    stack = _as_stack(weights)  # (H, L, S) float32
    heads, length, source = stack.shape
    if z_format not in Z_FORMATS:
        raise argument_error("z_format", f"one of {Z_FORMATS}", repr(z_format))
    if key_tokens is None and query_tokens is not None and length == source:
        key_tokens = query_tokens
    y_labels = _labels("query_tokens", query_tokens, length)
    x_labels = _labels("key_tokens", key_tokens, source)
    titles = _titles(titles, heads, np.ndim(_array(weights)) == 2)
    columns = min(heads, MAX_COLUMNS) if columns is None else check_positive_int("columns", columns)
    columns = min(columns, heads)
    rows = math.ceil(heads / columns)
    top = float(stack.max()) if zmax is None else float(zmax)
    top = top if top > 0 else 1.0  # an all-zero input (fully masked) still gets a scale
    # A signed map (differential attention, the delta rule's W) does not fit whole percents in
    # a byte: it is sent rounded, and the colour scale starts at its minimum.
    bottom = min(0.0, float(stack.min()))
    if z_format == "percent" and (bottom < 0 or top > MAX_PERCENT_WEIGHT):
        z_format = "rounded"

    if z_format == "percent":
        z_stack = np.rint(stack * PERCENT).astype(np.uint8)  # (H, L, S) whole percents
        scale_top = top * PERCENT
        value = "%{z}%"
    else:
        z_stack = np.round(stack, HOVER_DECIMALS) if z_format == "rounded" else stack
        scale_top = top
        value = f"%{{z:.{HOVER_DECIMALS}f}}"
    query_word, key_word, weight_word = hover
    template = (f"{query_word} %{{y}}<br>{key_word} %{{x}}<br>{weight_word} {value}"
                "<extra>%{fullData.name}</extra>")

    # The figure is built as one dict, given to the constructor: make_subplots followed by
    # add_trace / update_layout / update_*axes validated every property again on each call
    # (about 1 s of a Lab rerun at 16 heads on this machine; this is about 20x faster).
    axes = {}
    annotations = []
    for head in range(heads):
        row, column = divmod(head, columns)
        suffix = "" if head == 0 else str(head + 1)
        x_domain, y_domain = _cell_domain(row, column, rows, columns)
        axes[f"xaxis{suffix}"] = {"domain": x_domain, "anchor": f"y{suffix}",
                                  "type": "category", **_ticks(x_labels, key_tokens)}
        # Query 0 on top, as in a matrix.
        axes[f"yaxis{suffix}"] = {"domain": y_domain, "anchor": f"x{suffix}",
                                  "type": "category", "autorange": "reversed",
                                  **_ticks(y_labels, query_tokens)}
        if titles:
            annotations.append({
                "text": titles[head], "x": (x_domain[0] + x_domain[1]) / 2, "y": y_domain[1],
                "xref": "paper", "yref": "paper", "xanchor": "center", "yanchor": "bottom",
                "showarrow": False, "font": {"size": 16},
            })
    # Labels as numpy string arrays: Plotly validates a list element by element, an array at once.
    x_values, y_values = np.asarray(x_labels), np.asarray(y_labels)
    traces = [
        go.Heatmap(
            z=z_stack[head],  # (L, S): row i = query i
            x=x_values,
            y=y_values,
            coloraxis="coloraxis",
            name=titles[head] if titles else "weights",
            hovertemplate=template,
            xaxis="x" if head == 0 else f"x{head + 1}",
            yaxis="y" if head == 0 else f"y{head + 1}",
        )
        for head in range(heads)
    ]
    fig = go.Figure(data=traces, layout={
        **axes,
        "annotations": annotations,
        "coloraxis": {
            "colorscale": colorscale,
            "cmin": bottom * (PERCENT if z_format == "percent" else 1.0),
            "cmax": scale_top,
            "colorbar": {"title": {"text": "%" if z_format == "percent" else weight_word}},
        },
        "height": rows * HEAD_HEIGHT_PX + HEAD_HEIGHT_PX // 2,
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
    })
    return fig


def query_bars(
    weights: Any,
    query_index: int,
    key_tokens: Sequence[str] | None = None,
    query_tokens: Sequence[str] | None = None,
    *,
    title: str | None = None,
) -> go.Figure:
    """One query's attention over the keys as a bar chart (BertViz's "neuron view" row).

    Args:
        weights: ``(L, S)`` for one head (e.g. ``weights[0, h]``, or the head average).
        query_index: which row, ``0 <= query_index < L``.
        key_tokens: S labels for the bars; query_tokens: L labels (for the title).
    Returns:
        A ``go.Figure`` with S bars; hover shows the weight to 3 decimals.
    """
    matrix = _array(weights)
    if matrix.ndim != 2:
        raise argument_error("weights", "a 2-D (L, S) array", f"shape {matrix.shape}")
    length, source = matrix.shape
    if (
        isinstance(query_index, bool)
        or not isinstance(query_index, int | np.integer)
        or not (0 <= query_index < length)
    ):
        raise argument_error("query_index", f"an integer in [0, {length - 1}]", repr(query_index))
    x_labels = _labels("key_tokens", key_tokens, source)
    query_label = _labels("query_tokens", query_tokens, length)[query_index]
    fig = go.Figure(
        go.Bar(
            x=x_labels,
            y=matrix[query_index],  # (S,)
            marker={"color": _bar_colours(matrix[query_index])},
            hovertemplate=f"key %{{x}}<br>weight %{{y:.{HOVER_DECIMALS}f}}<extra></extra>",
        )
    )
    fig.update_layout(
        title={"text": title if title is not None else f"query {query_label}"},
        yaxis={"title": {"text": "weight"}, "rangemode": "tozero"},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )
    fig.update_xaxes(type="category", **_ticks(x_labels, key_tokens))
    return fig


def _bar_colours(row: np.ndarray) -> list[str]:
    """Each bar's colour on the colour scale from 0 to the row's largest weight, as CSS colours:
    Plotly.js maps numbers through a colour scale too, but also reads each number as a colour
    once per bar and redraw (one console warning each: hundreds a key press at 256 keys)."""
    top = float(row.max()) if row.size and row.max() > 0 else 1.0
    points = np.clip(np.nan_to_num(row / top), 0.0, 1.0).tolist()  # NaN (none today): 0
    return plotly.colors.sample_colorscale(plotly.colors.get_colorscale(DEFAULT_COLORSCALE), points)


def _cell_domain(row: int, column: int, rows: int, columns: int
                 ) -> tuple[list[float], list[float]]:
    """The paper-coordinate x and y domains of grid cell (row, column), row 0 on top (the grid
    plotly's make_subplots draws with these spacings)."""
    width = (1.0 - HORIZONTAL_SPACING * (columns - 1)) / columns
    vertical = VERTICAL_SPACING if rows > 1 else 0.0
    height = (1.0 - vertical * (rows - 1)) / rows
    left = column * (width + HORIZONTAL_SPACING)
    top = 1.0 - row * (height + vertical)
    # Clamped to [0, 1]: the last cell's edge can land a rounding error outside.
    return ([max(left, 0.0), min(left + width, 1.0)],
            [max(top - height, 0.0), min(top, 1.0)])


def _array(weights: Any) -> np.ndarray:
    """A float32 numpy copy of a tensor / array (float64 would double the payload)."""
    if hasattr(weights, "detach"):  # a torch tensor, without importing torch here
        weights = weights.detach().cpu().float().numpy()
    array = np.asarray(weights, dtype=np.float32)
    return array


def _as_stack(weights: Any) -> np.ndarray:
    array = _array(weights)
    if array.ndim == 2:
        array = array[None]  # (L, S) -> (1, L, S)
    if array.ndim != 3 or 0 in array.shape:
        raise argument_error(
            "weights", "a non-empty (L, S) or (H, L, S) array", f"shape {array.shape}"
        )
    if not np.isfinite(array).all():
        raise argument_error("weights", "finite values", "NaN or inf")
    return array  # (H, L, S)


def _labels(name: str, tokens: Sequence[str] | None, size: int) -> list[str]:
    """Unique axis values: ``"3:the"``; positions alone when there are no tokens."""
    if tokens is None:
        return [str(position) for position in range(size)]
    tokens = list(tokens)
    if len(tokens) != size:
        raise argument_error(name, f"{size} tokens", len(tokens))
    return [f"{position}:{token}" for position, token in enumerate(tokens)]


def _titles(titles: Sequence[str] | None, heads: int, single: bool) -> list[str]:
    if titles is None:
        return [] if single else [f"head {head}" for head in range(heads)]
    titles = list(titles)
    if len(titles) != heads:
        raise argument_error("titles", f"{heads} titles, one per head", len(titles))
    return [str(title) for title in titles]


def _ticks(labels: list[str], tokens: Sequence[str] | None) -> dict[str, object]:
    """Show the token alone under each column (the axis value keeps the position)."""
    if tokens is None or len(labels) > MAX_LABELLED_TICKS:
        return {}
    return {"tickmode": "array", "tickvals": labels, "ticktext": [str(t) for t in tokens]}
