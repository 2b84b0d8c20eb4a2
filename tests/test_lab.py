"""prep.lab without Streamlit: URL round trips, run() against torch, statistics, figures."""

from __future__ import annotations

import inspect
import json
import math
from dataclasses import replace

import numpy as np
import plotly.io
import pytest
import torch
import torch.nn.functional as F

import attention
from prep import lab
from prep.lab import registry
from prep.lab.modules import BUILT_IN
from prep.lab.modules_modern import GATED, MLA

HOVER = ("query", "key", "weight")
# The modules whose step-by-step view is SDPA's eight steps (every module has one; the other
# 2024-26 modules' own steps are checked in test_lab_modern.py).
STEP_MODULES = (*(record.name for record in BUILT_IN), GATED)
# Modules that take no mask and do not encode positions themselves (MLA's RoPE is built in).
NO_POSITIONS = tuple(m for m in lab.MODULES if "none" in registry.get(m).masks and m != MLA)


def steps_of(result: lab.LabResult) -> dict[str, lab.Step]:
    return {step.key: step for step in result.steps}


def grid_spec(result: lab.LabResult) -> dict:
    titles = [f"h{h}" for h in range(result.weights.shape[0])]
    return json.loads(plotly.io.to_json(lab.heads_figure(result, titles, HOVER), validate=False))


# --- configuration and URL -----------------------------------------------------------------------


@pytest.mark.parametrize("config", [
    lab.LabConfig(),
    lab.LabConfig(module=lab.GQA, heads=8, kv_heads=1, mask="causal", seed=7, temperature=0.35,
                  scaled=False, rope=True, alibi=True, text="a b a", text2="x y", query=2),
    lab.LabConfig(module=lab.TILED, tokens="random", seq_len=200, block_size=5, mask="padding",
                  pad=3, embed_dim=96, head=3, window=9),
])
def test_config_round_trips_through_query_params(config):
    params = config.to_query_params()
    assert all(isinstance(value, str) for value in params.values())
    assert lab.LabConfig.from_query_params(params) == config


def test_compare_config_is_stored_as_differences_with_a_prefix():
    config_a = lab.LabConfig(heads=8, mask="causal")
    config_b = replace(config_a, heads=1, scaled=False)
    params = config_b.to_query_params(base=config_a, prefix="b_")
    assert params == {"b_heads": "1", "b_scaled": "0"}
    assert lab.LabConfig.from_query_params(params, base=config_a, prefix="b_") == config_b


def test_export_names_and_aliases_map_to_lab_modules():
    assert lab.LabConfig.from_query_params({"module": "SelfAttention"}).module == lab.MHA
    assert lab.LabConfig.from_query_params({"module": "apply_rope"}).module == lab.ROPE
    for name in ("MultiHeadAttention", "InteractiveAttention", "GroupedQueryAttention",
                 "AdditiveAttention", "scaled_dot_product_attention", "tiled_attention",
                 "linear_attention", "SelfAttention"):
        assert name in attention.__all__
        assert lab.resolve_module(name) in lab.MODULES


def test_a_link_with_only_a_module_gets_that_modules_defaults():
    assert lab.LabConfig.from_query_params({"module": "rope"}) == lab.defaults_for(lab.ROPE)
    assert lab.defaults_for(lab.ROPE).rope
    assert lab.defaults_for(lab.SLIDING).mask == "sliding"


def test_unreadable_url_values_fall_back_and_impossible_ones_are_kept():
    config = lab.LabConfig.from_query_params(
        {"module": "nonsense", "heads": "many", "temperature": "nan", "embed_dim": "30"})
    assert config.module == lab.MHA and config.heads == lab.LabConfig().heads
    assert config.temperature == 1.0
    assert config.embed_dim == 30  # kept, so that run() can say what is wrong


# --- tokens --------------------------------------------------------------------------------------


def test_repeated_tokens_keep_distinct_labels_and_share_an_embedding():
    result = lab.run(lab.LabConfig(text="the cat saw the dog"))
    assert result.query_labels == ["0:the", "1:cat", "2:saw", "3:the", "4:dog"]
    x = lab.embed(["the", "cat", "the"], 16, seed=3)
    assert torch.equal(x[0, 0], x[0, 2]) and not torch.equal(x[0, 0], x[0, 1])
    assert not torch.equal(x, lab.embed(["the", "cat", "the"], 16, seed=4))


def test_identical_rows_for_repeated_tokens_are_explained_until_positions_are_on():
    plain = lab.run(lab.LabConfig(module=lab.SDPA, text="the cat the"))
    np.testing.assert_array_equal(plain.weights[:, 0], plain.weights[:, 2])
    assert any("permutation-equivariant" in en for _, en in plain.notes)
    rope = lab.run(lab.LabConfig(module=lab.SDPA, text="the cat the", rope=True))
    assert not np.allclose(rope.weights[:, 0], rope.weights[:, 2])
    assert not any("permutation-equivariant" in en for _, en in rope.notes)


def test_run_is_deterministic_for_a_seed():
    config = lab.LabConfig(tokens="random", seq_len=20, seed=11)
    first, second = lab.run(config), lab.run(config)
    np.testing.assert_array_equal(first.weights, second.weights)
    assert not np.array_equal(first.weights, lab.run(replace(config, seed=12)).weights)


# --- run() against torch -------------------------------------------------------------------------


def torch_weights(q: np.ndarray, k: np.ndarray, keep: torch.Tensor | None, scale: float):
    """Attention weights from torch's own SDPA: with V = I the output is the weight matrix."""
    query, key = torch.from_numpy(q).double(), torch.from_numpy(k).double()
    identity = torch.eye(key.shape[0], dtype=torch.float64)
    return F.scaled_dot_product_attention(query, key, identity, attn_mask=keep, scale=scale)


@pytest.mark.parametrize(("mask", "keep"), [
    ("none", lambda n: None),
    ("causal", lambda n: torch.ones(n, n, dtype=torch.bool).tril()),
    # Issue 16 bug 8: the padding mask removes the padded keys only (not the query rows).
    ("padding", lambda n: torch.ones(n, n, dtype=torch.bool).index_fill(1, torch.tensor([n - 1]),
                                                                          False)),
])
def test_run_weights_equal_torch_sdpa_for_every_head(mask, keep):
    config = lab.LabConfig(module=lab.SDPA, tokens="random", seq_len=9, embed_dim=24, heads=3,
                           mask=mask, pad=1, seed=5)
    result = lab.run(config)
    head_dim = config.embed_dim // config.heads
    for head in range(config.heads):
        steps = steps_of(lab.run(replace(config, head=head)))
        expected = torch_weights(steps["q"].values, steps["k"].values, keep(9),
                                 1 / math.sqrt(head_dim))
        np.testing.assert_allclose(result.weights[head], expected.numpy(), atol=1e-5)


def test_temperature_and_no_scaling_change_the_scale_as_torch_does():
    config = lab.LabConfig(module=lab.SDPA, tokens="random", seq_len=7, heads=2, temperature=2.5,
                           scaled=False, seed=2)
    result = lab.run(config)
    steps = steps_of(result)
    expected = torch_weights(steps["q"].values, steps["k"].values, None, 1 / 2.5)
    np.testing.assert_allclose(result.weights[0], expected.numpy(), atol=1e-5)


def test_mha_weights_equal_torch_sdpa_on_the_modules_own_projections():
    config = lab.LabConfig(module=lab.MHA, mask="causal", heads=4, head=2)
    result = lab.run(config)
    steps = steps_of(result)
    length = len(result.query_labels)
    expected = torch_weights(steps["q"].values, steps["k"].values,
                             torch.ones(length, length, dtype=torch.bool).tril(),
                             1 / math.sqrt(config.embed_dim // config.heads))
    np.testing.assert_allclose(result.weights[2], expected.numpy(), atol=1e-5)


@pytest.mark.parametrize("module", STEP_MODULES)
def test_step_by_step_softmax_equals_the_heatmap_weights(module):
    config = replace(lab.defaults_for(module), head=lab.head_count(lab.defaults_for(module)) - 1)
    result = lab.run(config)
    steps = steps_of(result)
    assert {"q", "k", "v", "raw", "masked", "softmax", "output"} <= steps.keys()
    np.testing.assert_allclose(steps["softmax"].values, result.weights[config.head], atol=1e-5)
    for step in result.steps:
        assert step.formula and step.shape and step.values.ndim == 2


def test_step_by_step_output_is_softmax_times_values():
    steps = steps_of(lab.run(lab.LabConfig(module=lab.SDPA, mask="causal", head=1)))
    np.testing.assert_allclose(steps["output"].values,
                               steps["softmax"].values @ steps["v"].values, atol=1e-5)
    np.testing.assert_allclose(steps["scaled"].values,
                               steps["raw"].values / math.sqrt(steps["q"].values.shape[1]),
                               rtol=1e-5)


def test_tiled_heatmap_is_exact_attention_and_its_output_matches():
    tiled = lab.run(lab.defaults_for(lab.TILED))
    exact = lab.run(replace(lab.defaults_for(lab.TILED), module=lab.SDPA))
    np.testing.assert_allclose(tiled.weights, exact.weights, atol=1e-6)
    assert any("never builds" in en for _, en in tiled.notes)


def test_gqa_heads_in_a_group_share_keys():
    result = lab.run(lab.LabConfig(module=lab.GQA, heads=4, kv_heads=1, head=3))
    assert result.weights.shape[0] == 4
    np.testing.assert_array_equal(steps_of(result)["k"].values,
                                  steps_of(lab.run(replace(result.config, head=0)))["k"].values)


def test_cross_attention_has_queries_from_one_sentence_and_keys_from_the_other():
    result = lab.run(lab.LabConfig(module=lab.CROSS, text="a b c", text2="x y"))
    assert result.weights.shape == (4, 3, 2)
    assert result.key_labels == ["0:x", "1:y"]


# --- statistics ----------------------------------------------------------------------------------


def test_entropy_of_known_rows():
    uniform = np.full((1, 2, 4), 0.25, dtype=np.float32)
    one_hot = np.zeros((1, 2, 4), dtype=np.float32)
    one_hot[0, :, 1] = 1
    masked_row = uniform.copy()
    masked_row[0, 1] = 0  # a fully masked row is skipped, not counted as 0
    np.testing.assert_allclose(lab.entropy(uniform), [math.log(4)], rtol=1e-6)
    np.testing.assert_allclose(lab.entropy(one_hot), [0.0], atol=1e-7)
    np.testing.assert_allclose(lab.entropy(masked_row), [math.log(4)], rtol=1e-6)


def test_entropy_and_row_sums_of_a_run():
    config = lab.LabConfig(module=lab.MHA, mask="padding", pad=2, heads=2)
    result = lab.run(config)
    p = result.weights.astype(np.float64)
    length = p.shape[1]
    sums = p.sum(axis=-1)
    np.testing.assert_allclose(result.row_sums, sums, atol=1e-6)
    # Issue 16 bug 8: padded query rows are computed as usual (only padded keys are masked).
    np.testing.assert_allclose(sums, 1.0, atol=1e-5)
    np.testing.assert_array_equal(p[:, :, length - 2:], 0.0)   # padded keys get no weight
    assert result.masked_rows.tolist() == [0, 0]
    rows = -(np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0)).sum(-1)
    np.testing.assert_allclose(result.entropy, rows.mean(axis=-1), rtol=1e-5)


def test_causal_entropy_is_lower_than_no_mask():
    plain = lab.run(lab.LabConfig(module=lab.SDPA))
    causal = lab.run(lab.LabConfig(module=lab.SDPA, mask="causal"))
    assert (causal.entropy < plain.entropy).all()


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("config", "argument"), [
    (lab.LabConfig(module=lab.MHA, embed_dim=32, heads=3), "embed_dim"),
    (lab.LabConfig(module=lab.SDPA, embed_dim=32, heads=3), "embed_dim"),
    (lab.LabConfig(module=lab.GQA, heads=8, kv_heads=3), "num_kv_heads"),
    (lab.LabConfig(module=lab.SLIDING, mask="sliding", window=0), "window"),
    (lab.LabConfig(module=lab.TILED, block_size=0), "block_size"),
    (lab.LabConfig(text="   "), "text"),
    (lab.LabConfig(module=lab.CROSS, text2=""), "text2"),
    (lab.LabConfig(temperature=0.0), "temperature"),
    (lab.LabConfig(module=lab.LINEAR, mask="padding"), "mask"),
])
def test_impossible_settings_raise_a_value_error_naming_the_argument(config, argument):
    with pytest.raises(ValueError, match=argument):
        lab.run(config)


# --- source --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("module", "obj"), [
    (lab.MHA, attention.MultiHeadAttention),
    (lab.CROSS, attention.InteractiveAttention),
    (lab.GQA, attention.GroupedQueryAttention),
    (lab.ADDITIVE, attention.AdditiveAttention),
    (lab.SDPA, attention.scaled_dot_product_attention),
    (lab.TILED, attention.tiled_attention),
    (lab.LINEAR, attention.linear_attention),
    (lab.ROPE, attention.positional.apply_rope),
    (lab.ALIBI, attention.positional.alibi_bias),
    (lab.SLIDING, attention.masks.sliding_window_mask),
])
def test_source_is_the_code_that_ran(module, obj):
    result = lab.run(lab.defaults_for(module))
    assert inspect.getsource(obj) in result.source
    assert f"{obj.__module__}.{obj.__qualname__}" in result.source_names


# --- figures -------------------------------------------------------------------------------------


@pytest.mark.parametrize("heads", [1, 4, 16])
def test_one_heatmap_per_head_with_one_colour_bar(heads):
    spec = grid_spec(lab.run(lab.LabConfig(heads=heads, embed_dim=64)))
    assert lab.count_heatmaps(spec) == heads
    assert {trace["coloraxis"] for trace in spec["data"]} == {"coloraxis"}
    assert spec["layout"]["coloraxis"]["colorscale"]


def test_heatmap_hover_values_are_exact_to_a_hundredth_and_rows_are_queries():
    result = lab.run(lab.LabConfig(module=lab.SDPA, mask="causal", tokens="random", seq_len=40))
    spec = grid_spec(result)
    shown = np.stack([lab.decode_z(trace) for trace in spec["data"]]).astype(np.float64) / 100
    assert np.abs(shown - result.weights).max() <= 0.005 + 1e-6
    assert spec["data"][0]["y"] == result.query_labels
    assert "%{z}%" in spec["data"][0]["hovertemplate"]
    upper = np.triu(np.ones((40, 40), dtype=bool), k=1)
    assert (shown[:, upper] == 0).all()


def test_step_figure_shows_masked_cells_as_blank_and_caps_its_size():
    steps = steps_of(lab.run(lab.LabConfig(module=lab.SDPA, mask="causal", tokens="random",
                                           seq_len=60)))
    figure = lab.matrix_figure(steps["masked"].values, steps["masked"].row_labels,
                               steps["masked"].col_labels, "")
    z = np.asarray(figure.data[0].z, dtype=np.float64)
    assert z.shape == (lab.MAX_STEP_TOKENS, lab.MAX_STEP_TOKENS)
    assert np.isnan(z[0, 1]) and np.isfinite(z[1, 0])


def test_row_figure_shows_the_chosen_query_row():
    config = lab.LabConfig(query=3, head=1)
    result = lab.run(config)
    figure = lab.row_figure(result, ("head 2", "average"))
    np.testing.assert_allclose(np.asarray(figure.data[0].y), result.weights[1, 3], atol=1e-7)
    np.testing.assert_allclose(np.asarray(figure.data[1].y), result.head_average[3], atol=1e-7)


def test_chart_toolbar_downloads_png():
    config = lab.plotly_config("lab-grid")
    assert config["toImageButtonOptions"] == {"format": "png", "filename": "lab-grid", "scale": 2}


def test_typed_html_is_escaped_in_figure_labels():
    result = lab.run(lab.LabConfig(text='<b>y <a href="javascript:alert(1)">x</a>'))
    spec = grid_spec(result)
    text = json.dumps(spec)
    assert "<b>" not in text and "</a>" not in text and "<a" not in text
    assert spec["data"][0]["y"][0] == "0:&lt;b&gt;y"
    assert result.query_labels[0] == "0:<b>y"  # the picker shows what was typed


# --- regressions found by hands-on QA ------------------------------------------------------------


def test_chinese_sentence_without_spaces_is_one_token_per_character():
    # Was one token for the whole sentence: one 1 x 1 heatmap, its label running over the others.
    assert lab.tokenize("我爱自然语言处理，它很有趣。") == list("我爱自然语言处理，它很有趣。")
    assert lab.tokenize("我爱NLP and 注意力  hello, world!") == [
        "我", "爱", "NLP", "and", "注", "意", "力", "hello,", "world!"]
    result = lab.run(lab.LabConfig(text="注意力很有用"))
    assert result.weights.shape == (4, 6, 6)


def test_long_token_tick_labels_are_shortened_but_hover_keeps_the_whole_token():
    long = "supercalifragilisticexpialidocious"
    result = lab.run(lab.LabConfig(text=f"a {long} b"))
    spec = grid_spec(result)
    ticks = spec["layout"]["xaxis"]["ticktext"]
    assert all(len(t) <= lab.MAX_TICK_CHARS for t in ticks) and ticks[1].endswith("…")
    assert spec["layout"]["yaxis"]["ticktext"] == ticks
    assert spec["data"][0]["x"][1] == f"1:{long}"  # the axis value (hover) is whole


def test_row_figure_legend_does_not_cover_the_key_labels_and_is_translated():
    result = lab.run(lab.LabConfig(query=3))
    figure = lab.row_figure(result, ("头 1", "各头平均"), ("查询", "键", "权重"))
    legend = figure.layout.legend
    assert legend.y >= 1 and legend.yanchor == "bottom"  # above the plot, not on the ticks
    assert figure.layout.title.text == "查询 3:on"
    assert figure.layout.yaxis.title.text == "权重"
    for trace in figure.data:
        assert "键 %{x}" in trace.hovertemplate and "权重" in trace.hovertemplate
        assert "key" not in trace.hovertemplate and "weight" not in trace.hovertemplate


@pytest.mark.parametrize("module", lab.MODULES)
def test_step_formulas_hold_no_english_words_and_the_softmax_one_fits(module):
    # The softmax formula carried "(0 if row fully masked)" in LaTeX: cut off in the card and
    # English on the Chinese page. Words now go to a (zh, en) note.
    for config in (lab.defaults_for(module), replace(lab.defaults_for(module), mask="causal")):
        for step in lab.run(config).steps:
            assert r"\text" not in step.formula, (module, step.key, step.formula)
            assert step.note is None or (len(step.note) == 2 and all(step.note))
    if module in lab._FUNCTIONAL:
        softmax = steps_of(lab.run(lab.defaults_for(module)))["softmax"]
        assert "NaN" in softmax.note[1] and "NaN" in softmax.note[0]


@pytest.mark.parametrize("module", NO_POSITIONS)
def test_repeated_token_note_suggests_rope_only_where_the_module_offers_it(module):
    config = replace(lab.defaults_for(module), mask="none", rope=False, alibi=False)
    notes = [en for _, en in lab.run(config).notes if "permutation-equivariant" in en]
    assert len(notes) == 1
    assert ("RoPE or a causal mask" in notes[0]) == lab.uses(config, "rope")


def test_heads_figure_zmax_shares_one_colour_scale_between_two_results():
    sharp = lab.run(lab.LabConfig(module=lab.SDPA, temperature=lab.MIN_TEMPERATURE))
    flat = lab.run(lab.LabConfig(module=lab.SDPA, temperature=lab.MAX_TEMPERATURE))
    top = float(max(sharp.weights.max(), flat.weights.max()))
    titles = ["h1", "h2", "h3", "h4"]
    scales = [lab.heads_figure(r, titles, HOVER, zmax=top).layout.coloraxis.cmax
              for r in (sharp, flat)]
    assert scales[0] == scales[1] == pytest.approx(top * 100)
    assert lab.heads_figure(flat, titles, HOVER).layout.coloraxis.cmax < scales[1]


def test_size_hint_lists_the_head_counts_and_dims_that_fit_regression_slider_mostly_errors():
    """With E = 32 most head counts fail; the message says which ones work, both ways round."""
    zh, en = lab.size_hint(lab.LabConfig(module="MultiHeadAttention", embed_dim=32, heads=3))
    assert "heads can be 1, 2, 4, 8, 16" in en and "E can be 12, 24, 48, 96" in en
    assert "1, 2, 4, 8, 16" in zh
    _, en = lab.size_hint(lab.LabConfig(module="GroupedQueryAttention", heads=8, kv_heads=3))
    assert en == "With H = 8, KV heads can be 1, 2, 4, 8."
    assert lab.size_hint(lab.LabConfig(module="MultiHeadAttention", embed_dim=32, heads=4)) is None
    with pytest.raises(ValueError, match="embed_dim"):
        lab.run(lab.LabConfig(module="MultiHeadAttention", embed_dim=32, heads=3))
