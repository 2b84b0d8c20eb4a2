"""attention.viz: figure structure, token labels, float32 payload and its size budget."""

from __future__ import annotations

import base64
import json
import zlib

import numpy as np
import plotly.io as pio
import pytest
import torch

from attention import viz

MB = 1_000_000


def figure_json(fig):
    return json.loads(pio.to_json(fig))


def decode(z):
    """Plotly's typed-array encoding {"dtype", "bdata", "shape"} back to numpy."""
    flat = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"])
    if "shape" not in z:  # 1-D arrays carry no shape
        return flat
    return flat.reshape(tuple(int(size) for size in str(z["shape"]).split(",")))


def softmax_weights(heads, length, seed=0, sharpness=3.0):
    scores = torch.randn(heads, length, length, generator=torch.Generator().manual_seed(seed))
    return torch.softmax(scores * sharpness, dim=-1)


def test_one_heatmap_per_head_sharing_one_colour_scale():
    weights = softmax_weights(6, 4)
    spec = figure_json(viz.heatmaps(weights))
    assert [trace["type"] for trace in spec["data"]] == ["heatmap"] * 6
    assert {trace["coloraxis"] for trace in spec["data"]} == {"coloraxis"}
    coloraxis = spec["layout"]["coloraxis"]
    assert coloraxis["cmin"] == 0.0
    assert coloraxis["cmax"] == pytest.approx(float(weights.max()))
    assert "colorbar" in coloraxis
    titles = [annotation["text"] for annotation in spec["layout"]["annotations"]]
    assert titles == [f"head {h}" for h in range(6)]


def test_rows_are_queries_columns_are_keys_and_z_is_float32():
    weights = torch.softmax(torch.randn(3, 5), dim=-1)
    spec = figure_json(viz.heatmaps(weights))
    z = spec["data"][0]["z"]
    assert z["dtype"] == "f4"  # float32, never float64 (twice the payload)
    np.testing.assert_array_equal(decode(z), weights.numpy().astype(np.float32))
    assert spec["layout"]["yaxis"]["autorange"] == "reversed"  # query 0 at the top
    assert "%{z:.3f}" in spec["data"][0]["hovertemplate"]


def test_repeated_tokens_stay_distinct_rows_and_columns():
    tokens = ["the", "cat", "saw", "the", "cat"]
    spec = figure_json(viz.heatmaps(softmax_weights(1, 5)[0], tokens))
    trace, layout = spec["data"][0], spec["layout"]
    assert len(set(trace["x"])) == 5 and len(set(trace["y"])) == 5
    assert layout["xaxis"]["ticktext"] == tokens
    assert layout["yaxis"]["ticktext"] == tokens
    assert layout["xaxis"]["tickvals"] == trace["x"]


def test_cross_attention_labels_and_zmax():
    weights = torch.softmax(torch.randn(2, 2, 3), dim=-1)
    fig = viz.heatmaps(weights, ["a", "b"], ["x", "y", "z"], ["left", "right"], zmax=1.0)
    spec = figure_json(fig)
    assert spec["layout"]["coloraxis"]["cmax"] == 1.0
    assert spec["data"][1]["x"] == ["0:x", "1:y", "2:z"]
    assert spec["data"][1]["name"] == "right"


def test_percent_format_is_uint8_with_exact_hover_to_a_hundredth():
    weights = softmax_weights(2, 6)
    spec = figure_json(viz.heatmaps(weights, z_format="percent"))
    z = spec["data"][1]["z"]
    assert z["dtype"] == "u1"
    np.testing.assert_allclose(decode(z) / 100.0, weights[1].numpy(), atol=0.005)
    assert "%{z}%" in spec["data"][1]["hovertemplate"]


def test_payload_at_16_heads_by_256_tokens():
    weights = softmax_weights(16, 256)
    exact = pio.to_json(viz.heatmaps(weights))
    rounded = pio.to_json(viz.heatmaps(weights, z_format="rounded"))
    percent = pio.to_json(viz.heatmaps(weights, z_format="percent"))
    assert len(percent) < 1.5 * MB < len(exact)
    # Streamlit's websocket compression is deflate: what actually travels.
    assert len(zlib.compress(rounded.encode())) < 1 * MB
    assert len(zlib.compress(percent.encode())) < 0.3 * MB


def test_query_bars_show_one_row():
    weights = softmax_weights(1, 4)[0]
    tokens = ["a", "b", "a", "c"]
    spec = figure_json(viz.query_bars(weights, 2, tokens, tokens))
    bar = spec["data"][0]
    assert bar["type"] == "bar"
    np.testing.assert_allclose(decode(bar["y"]), weights[2].numpy())
    assert spec["layout"]["title"]["text"] == "query 2:a"
    assert spec["layout"]["xaxis"]["ticktext"] == tokens


def test_query_bars_are_coloured_by_weight_as_css_colours():
    """Regression: numbers in marker.color (with a colour scale) made Plotly.js warn once per
    bar on every redraw, reading each number as a colour. The bars carry their colours."""
    weights = softmax_weights(1, 5)[0]
    row = weights[1].numpy()
    colours = figure_json(viz.query_bars(weights, 1))["data"][0]["marker"]["color"]
    assert all(isinstance(c, str) and c.startswith("rgb(") for c in colours)
    strongest, weakest = int(row.argmax()), int(row.argmin())
    assert colours[strongest] == "rgb(253, 231, 37)"   # the top of Viridis
    assert colours[weakest] != colours[strongest]


def test_rejects_wrong_token_counts_shapes_and_formats():
    weights = softmax_weights(2, 3)
    with pytest.raises(ValueError, match=r"argument `query_tokens`: expected 3 tokens, got 2"):
        viz.heatmaps(weights, ["a", "b"])
    with pytest.raises(ValueError, match=r"argument `weights`: expected a non-empty \(L, S\) or"):
        viz.heatmaps(torch.zeros(1, 1, 2, 2))
    with pytest.raises(ValueError, match=r"argument `z_format`: expected one of"):
        viz.heatmaps(weights, z_format="png")
    with pytest.raises(
        ValueError, match=r"argument `query_index`: expected an integer in \[0, 2\]"
    ):
        viz.query_bars(weights[0], 3)
