"""The Lab's 2024-26 modules without Streamlit: each runner's weights, row sums and view numbers
against the package's own (KV cache, MLA, sinks, differential, gated, delta rule, block-sparse),
their URL settings, and their step-by-step views."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

import attention
from prep import lab
from prep.lab import kv_bytes, runners_delta_sparse, runners_modern
from prep.lab.inputs import embed

MODERN = [record.name for record in lab.MODERN]
SENTENCE = "the cat sat on the mat because the mat was warm"   # 11 tokens


@pytest.fixture(autouse=True)
def no_grad():
    with torch.no_grad():
        yield


def run(module: str, **changes) -> lab.LabResult:
    return lab.run(replace(lab.defaults_for(module), **changes))


def steps_of(result: lab.LabResult) -> dict[str, lab.Step]:
    return {step.key: step for step in result.steps}


def test_the_bank_names_and_the_aliases_resolve_to_the_seven_records():
    assert MODERN == ["kv_cache", "mla", "sink", "differential", "gated", "delta_rule",
                      "block_sparse"]
    for alias, name in [("KVCache", "kv_cache"), ("MultiHeadLatentAttention", "mla"),
                        ("sink_attention", "sink"), ("streaming_mask", "sink"),
                        ("differential_attention", "differential"),
                        ("DifferentialAttention", "differential"), ("GatedAttention", "gated"),
                        ("block_sparse_attention", "block_sparse"), ("deltanet", "delta_rule")]:
        assert lab.resolve_module(alias) == name
    for name in MODERN:
        record = lab.registry.get(name)
        assert record.label.zh and record.label.en and record.label.zh != record.label.en
        assert lab.preset_problems({"module": name}) == []


@pytest.mark.parametrize("module", MODERN)
def test_each_view_has_its_weights_one_map_per_head_and_its_own_view(module):
    result = run(module)
    config = result.config
    length = len(result.query_labels)
    assert result.weights.shape == (config.heads, length, length)
    assert result.view is not None and result.view.kind == module
    assert result.view.metrics and result.steps
    assert any(name.startswith("attention.") for name in result.source_names)
    assert "def " in result.source


# --- KV cache ------------------------------------------------------------------------------------


def test_kv_cache_decoding_equals_one_causal_pass_and_the_cache_grows_per_step():
    for decoded in (0, 1, 5):
        result = run("kv_cache", decoded=decoded)
        view = result.view
        held = 4 + decoded
        per_token = attention.MultiHeadAttention(32, 4).cache_elements_per_token()
        assert view.metric("len").value == held == len(result.query_labels)
        assert view.metric("per_token").value == per_token == 2 * 32
        assert view.metric("numel").value == held * per_token
        assert view.metric("full_difference").value < 1e-5
        growth = next(b for b in view.bars if b.key == "kv_growth")
        assert growth.values == [float(n * per_token) for n in [4, *range(5, held + 1)]]
        causal = np.tril(np.ones((held, held), dtype=bool))
        assert (result.weights[:, ~causal] == 0).all()
        np.testing.assert_allclose(result.row_sums, 1.0, atol=1e-5)


def test_kv_cache_with_fewer_kv_heads_holds_gqa_sized_tokens():
    result = run("kv_cache", heads=8, kv_heads=2, decoded=2)
    module = attention.GroupedQueryAttention(32, 8, 2)
    assert result.view.metric("per_token").value == module.cache_elements_per_token() == 2 * 2 * 4
    assert result.view.metric("numel").value == 6 * 16


def test_kv_bytes_per_token_are_the_modules_counts_times_bf16_at_deepseek_v2_sizes():
    bars = kv_bytes.bytes_bars(lab.LabConfig(module="kv_cache", model_size="deepseek-v2"))
    mha = attention.MultiHeadAttention(64, 4)  # a small stand-in to check the formula's source
    assert mha.cache_elements_per_token() == 2 * 64
    size = kv_bytes.MODELS["deepseek-v2"]
    counts = kv_bytes.elements_per_token(size)
    # DeepSeek-V2 Table 1: MHA 2 n_h d_h, GQA 2 n_g d_h, MQA 2 d_h, MLA d_c + d_h^R = 4.5 d_h.
    assert counts == {"MHA": 2 * 128 * 128, "GQA": 2 * 8 * 128, "MQA": 2 * 128, "MLA": 576}
    assert counts["MLA"] == 4.5 * size.head_dim
    assert bars.values == [float(counts[n] * kv_bytes.KV_BYTES * 60)
                           for n in ("MHA", "GQA", "MQA", "MLA")]
    lab_size = kv_bytes.bytes_bars(lab.LabConfig(module="kv_cache", model_size="lab", heads=4,
                                                 kv_heads=2, latent=16))
    assert lab_size.values[0] == 2 * 32 * kv_bytes.KV_BYTES


# --- MLA -----------------------------------------------------------------------------------------


def test_mla_absorbed_equals_naive_and_the_view_shows_the_modules_numbers():
    config = replace(lab.defaults_for("mla"), head=2)
    view = lab.run(config).view
    assert view.metric("weights_difference").value < 1e-5
    assert view.metric("output_difference").value < 1e-5
    module = runners_modern.mla_module(config)
    x = embed(lab.tokenize(config.text), config.embed_dim, config.seed)
    naive, absorbed = module(x, is_causal=True), module(x, is_causal=True, absorb=True)
    assert view.metric("weights_difference").value == float(
        (absorbed.weights - naive.weights).abs().max())
    np.testing.assert_allclose(view.panel("naive").values, naive.weights[0, 2].numpy())
    np.testing.assert_allclose(view.panel("difference").values,
                               (absorbed.weights - naive.weights)[0, 2].numpy())
    assert view.panel("difference").signed
    assert view.metric("per_token").value == module.cache_elements_per_token() == 16 + 4
    assert view.metric("scale").value == module.scale == 1 / math.sqrt(8 + 4)


def test_mla_rows_sum_to_one_and_the_latent_size_is_a_setting():
    for latent in (4, 64):
        result = run("mla", latent=latent)
        np.testing.assert_allclose(result.row_sums, 1.0, atol=1e-5)
        assert steps_of(result)["latent"].values.shape[1] == latent
    assert not [n for n in run("mla", mask="none").notes if "permutation" in n[1]]


# --- sinks ---------------------------------------------------------------------------------------


def test_sink_rows_sum_below_one_and_the_sink_column_is_what_is_missing():
    result = run("sink", head=1)
    assert (result.row_sums < 1).all()
    panel = result.view.panel("with_sink")
    np.testing.assert_allclose(panel.values[:, 0], 1 - result.weights[1].sum(-1), atol=1e-6)
    np.testing.assert_allclose(panel.values.sum(-1), 1.0, atol=1e-5)
    assert panel.col_labels[0].startswith("∅")
    assert result.view.metric("max_row_sum").value == pytest.approx(float(result.row_sums.max()))


def test_sink_streaming_window_keeps_the_sinks_and_the_recent_keys_only():
    result = run("sink", window=2, sinks=2)
    length = len(result.query_labels)
    keep = attention.masks.streaming_mask(length, 2, 2).numpy()
    np.testing.assert_array_equal(result.view.panel("keep").values, keep.astype(np.float32))
    assert (result.weights[:, ~keep] == 0).all() and (result.weights[:, keep] > 0).all()


def test_a_larger_sink_logit_takes_a_larger_share_and_a_very_low_one_gives_softmax():
    low, high = (run("sink", sink_logit=v, mask="causal") for v in (-10.0, 4.0))
    assert high.view.metric("mean_sink_share").value > low.view.metric("mean_sink_share").value
    # At -10 the sink takes e^-10-sized shares: the rows are softmax rows to 1e-3.
    np.testing.assert_allclose(low.row_sums[0], 1.0, atol=1e-3)
    assert runners_modern.sink_logits(low.config).tolist() == pytest.approx(
        [-12.0, -10 - 2 / 3, -10 + 2 / 3, -8.0])


def test_sink_steps_end_in_the_weights_drawn():
    result = run("sink", head=3)
    steps = steps_of(result)
    np.testing.assert_allclose(steps["weights"].values, result.weights[3], atol=1e-6)
    assert steps["joined"].values.shape[1] == steps["weights"].values.shape[1] + 1


# --- differential --------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [1, 2, 12])
def test_differential_rows_sum_to_one_minus_lambda_and_the_maps_are_the_modules(depth):
    result = run("differential", depth=depth, head=1)
    view = result.view
    lam = view.metric("lambda").value
    assert view.metric("lambda_init").value == attention.lambda_init_for(depth)
    assert lam == pytest.approx(attention.lambda_init_for(depth))  # learnable part at 0
    np.testing.assert_allclose(result.row_sums, 1 - lam, atol=1e-5)
    np.testing.assert_allclose(view.panel("difference").values,
                               view.panel("first").values - lam * view.panel("second").values,
                               atol=1e-6)
    np.testing.assert_allclose(view.panel("difference").values, result.weights[1])
    assert view.metric("map_difference").value < 1e-6
    np.testing.assert_allclose(steps_of(result)["difference"].values, result.weights[1],
                               atol=1e-6)


# --- gated ---------------------------------------------------------------------------------------


def test_gated_weights_are_plain_softmax_and_the_gate_maps_are_the_modules():
    config = lab.defaults_for("gated")
    result = lab.run(config)
    np.testing.assert_allclose(result.row_sums, 1.0, atol=1e-5)
    module = runners_modern._init(attention.GatedAttention(32, 4), config.seed)
    gates = module.gates(embed(lab.tokenize(config.text), 32, config.seed))[0]   # (H, L, D)
    np.testing.assert_allclose(result.view.panel("gate_positions").values,
                               gates.mean(-1).detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(result.view.panel("gate_channels").values,
                               gates.mean(1).detach().numpy(), atol=1e-6)
    steps = steps_of(result)
    np.testing.assert_allclose(steps["gated"].values,
                               steps["output"].values * steps["gate"].values, atol=1e-6)


# --- delta rule ----------------------------------------------------------------------------------


def test_delta_rule_w_is_lower_triangular_and_output_is_w_times_values():
    result = run("delta_rule", head=2)
    assert result.view.metric("w_identity").value < 1e-5
    upper = np.triu(np.ones(result.weights.shape[1:], dtype=bool), k=1)
    assert (result.weights[:, upper] == 0).all()
    config = result.config
    x = embed(lab.tokenize(config.text), 32, config.seed)
    q, k, v, _beta, _decay = runners_delta_sparse.delta_inputs(config, x)
    expected = torch.softmax((q @ k.transpose(-2, -1)) / math.sqrt(8)
                             + attention.masks.to_additive(attention.masks.causal_mask(11, 11)),
                             dim=-1)
    np.testing.assert_allclose(result.view.panel("softmax").values, expected[0, 2], atol=1e-5)
    linear = attention.linear_attention(q, k, v, is_causal=True, need_weights=True).weights
    np.testing.assert_allclose(result.view.panel("linear").values, linear[0, 2], atol=1e-6)


@pytest.mark.parametrize("chunk", [1, 3, 4, 64])
def test_delta_rule_chunkwise_gives_the_recurrences_w(chunk):
    recurrent = run("delta_rule", decay=0.9, chunk_size=0)
    chunked = run("delta_rule", decay=0.9, chunk_size=chunk)
    np.testing.assert_allclose(chunked.weights, recurrent.weights, atol=1e-5)
    assert chunked.view.metric("chunk_difference").value < 1e-5


# --- block-sparse --------------------------------------------------------------------------------


def test_block_selection_panel_is_the_packages_and_weights_stay_inside_it():
    result = run("block_sparse", head=1, block_size=3, top_k=1)
    config = result.config
    x = embed(lab.tokenize(config.text), 32, config.seed)
    q, k, _ = runners_modern.projector(config).project(x)
    chosen = attention.block_selection(q, k, block_size=3, top_k=1, is_causal=True)[0, 1]
    panel = result.view.panel("selection")
    np.testing.assert_array_equal(panel.values, chosen.float().numpy())
    assert panel.col_labels == ["b0:0–2", "b1:3–5", "b2:6–8", "b3:9–10"]
    keep = chosen[:, torch.arange(11) // 3].numpy()                  # (L, S)
    assert (result.weights[1][~keep] == 0).all()
    np.testing.assert_allclose(result.row_sums, 1.0, atol=1e-5)


def test_block_sparse_with_every_block_equals_the_dense_panel():
    result = run("block_sparse", top_k=8)
    np.testing.assert_allclose(result.weights[0], result.view.panel("dense").values, atol=1e-6)
    assert result.view.metric("keys_read").value == pytest.approx(1.0)


# --- settings and URLs ---------------------------------------------------------------------------


def test_new_settings_round_trip_through_the_url_and_are_fitted():
    config = replace(lab.defaults_for("kv_cache"), prefill=3, decoded=2,
                     model_size="llama-3-70b", latent=32, depth=4, decay=0.8, chunk_size=4,
                     sinks=2, sink_logit=1.5, top_k=3)
    again, notes = lab.parse_url(config.to_query_params())
    assert again == config and notes == []
    fitted, notes = lab.parse_url({"module": "KVCache", "prefill": "9", "decoded": "50",
                                   "model_size": "gpt-9", "latent": "20", "decay": "0.33",
                                   "sink_logit": "99", "depth": "0"})
    assert fitted.module == "kv_cache" and fitted.prefill == 9 and fitted.decoded == 2
    assert fitted.model_size == "deepseek-v2" and fitted.latent == 16
    assert fitted.decay == 0.5 and fitted.sink_logit == 10.0 and fitted.depth == 1
    assert len(notes) == 6 and all(n.zh and n.en for n in notes)


def test_signed_maps_keep_their_sign_in_the_heatmap_grid():
    result = run("differential")
    assert result.weights.min() < 0
    figure = lab.heads_figure(result, ["1", "2", "3", "4"], ("q", "k", "w"))
    trace = figure.to_plotly_json()["data"][0]
    np.testing.assert_allclose(lab.decode_z(trace), result.weights[0], atol=6e-4)
    assert figure.layout.coloraxis.cmin == pytest.approx(float(result.weights.min()))


def test_decode_steps_are_capped_and_the_recurrence_check_runs_on_the_first_tokens():
    config, notes = lab.parse_url({"module": "kv_cache", "tokens": "random", "seq_len": "200",
                                   "decoded": "150"})
    assert config.decoded == lab.config.MAX_DECODED and len(notes) == 1
    view = run("delta_rule", tokens="random", seq_len=80, chunk_size=16).view
    metric = view.metric("chunk_difference")
    assert "first 64" in metric.label.en and metric.value < 1e-4
