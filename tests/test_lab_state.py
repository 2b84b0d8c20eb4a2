"""prep.lab without Streamlit: the registry, the URL codec's fitting, presets, and the page's
state machine over a plain dict; plus the regressions of issue 16 that live in the logic."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import plotly.io
import pytest
import torch
import torch.nn.functional as F

from prep import lab
from prep.i18n import Text
from prep.lab import state
from prep.lab.inputs import embed
from prep.lab.results import finish

HOVER = ("query", "key", "weight")
TOY = "toy_mean"


def run_toy(config, queries, keys):
    """A throwaway module: every query attends to every key equally."""
    length, source = len(queries), len(keys)
    weights = torch.full((1, config.heads, length, source), 1.0 / source)
    output = weights @ embed(keys, config.embed_dim, config.seed)[:, None]
    return finish(config, queries, keys, weights, output, [], [run_toy])


@pytest.fixture
def toy_module():
    record = lab.register(lab.LabModule(
        TOY, Text("均匀注意力", "Uniform attention"), run_toy, aliases=("toy", "uniform"),
        controls=frozenset({"heads"}), defaults={"heads": 2}, masks=("none",)))
    yield record
    lab.unregister(TOY)


# --- the registry --------------------------------------------------------------------------------


def test_a_registered_module_is_chosen_linked_and_run_without_any_other_edit(toy_module):
    assert TOY in lab.MODULES and lab.resolve_module("uniform") == TOY
    assert lab.defaults_for(TOY).heads == 2
    config, notes = lab.parse_url({"module": "toy", "heads": "8", "mask": "causal"})
    assert config.module == TOY and config.heads == 8 and config.mask == "none"
    assert [n.en for n in notes] == [
        "mask = causal is not allowed (this module takes none); using none."]
    assert lab.LabConfig.from_query_params(config.to_query_params()) == config
    result = lab.run(config)
    np.testing.assert_allclose(result.weights, 1 / len(result.key_labels))
    assert not lab.uses(config, "scale")
    assert state.unused_reason(config, "scale").en == "Uniform attention does not use this setting."


def test_unregistering_removes_the_module_and_its_aliases(toy_module):
    lab.unregister(TOY)
    assert TOY not in lab.MODULES and lab.resolve_module("toy") is None
    with pytest.raises(ValueError, match="module"):
        lab.run(lab.LabConfig(module=TOY))


def test_a_record_with_an_unknown_control_is_refused():
    with pytest.raises(ValueError, match="controls"):
        lab.LabModule("x", Text("x", "x"), run_toy, controls=frozenset({"colour"}))


def test_every_built_in_alias_still_opens_its_module():
    # The URLs of prep/lab.py before the registry.
    old = {"sdpa": lab.SDPA, "mha": lab.MHA, "SelfAttention": lab.MHA, "self": lab.MHA,
           "cross": lab.CROSS, "gqa": lab.GQA, "mqa": lab.GQA, "additive": lab.ADDITIVE,
           "bahdanau": lab.ADDITIVE, "sliding_window_mask": lab.SLIDING, "sliding": lab.SLIDING,
           "apply_rope": lab.ROPE, "alibi_bias": lab.ALIBI, "alibi_slopes": lab.ALIBI,
           "tiled": lab.TILED, "flash": lab.TILED, "linear": lab.LINEAR,
           "causal_mask": lab.SDPA, "padding_mask": lab.SDPA, "masks": lab.SDPA,
           "positional": lab.ROPE, "sinusoidal_encoding": lab.SDPA, "repeat_kv": lab.GQA,
           "MHA": lab.MHA, "GQA": lab.GQA}
    for alias, module in old.items():
        assert lab.resolve_module(alias) == module, alias
        assert lab.parse_url({"module": alias}) == (lab.defaults_for(module), [])


# --- issue 16 bug 1: only head counts that fit ---------------------------------------------------


def test_heads_offer_only_divisors_of_e_and_a_link_moves_to_the_nearest_bug_16_1():
    assert lab.head_choices(32) == (1, 2, 4, 8, 16)
    assert lab.head_choices(24) == (1, 2, 3, 4, 6, 8, 12)
    assert lab.kv_head_choices(8) == (1, 2, 4, 8)
    config, notes = lab.parse_url({"heads": "5"})
    assert config.heads == 4 and "heads = 5" in notes[0].en and "divide E" in notes[0].en
    config, notes = lab.parse_url({"module": "gqa", "heads": "8", "kv_heads": "3"})
    assert config.kv_heads == 2 and "kv_heads = 3" in notes[0].en


# --- issue 16 bug 2: bad links -------------------------------------------------------------------


@pytest.mark.parametrize(("params", "field", "value"), [
    ({"heads": "1000"}, "heads", 16),
    ({"seq_len": "100000", "tokens": "random"}, "seq_len", lab.MAX_TOKENS),
    ({"temperature": "-3"}, "temperature", lab.MIN_TEMPERATURE),
    ({"kv_heads": "99", "module": "gqa"}, "kv_heads", 8),
    ({"window": "999999", "module": "sliding"}, "window", 11),
    ({"pad": "500", "mask": "padding"}, "pad", 10),
    ({"embed_dim": "30"}, "embed_dim", 32),
    ({"temperature": "0.33"}, "temperature", 0.35),
])
def test_a_bad_link_is_fitted_with_a_note_and_runs_bug_16_2(params, field, value):
    config, notes = lab.parse_url(params)
    assert getattr(config, field) == pytest.approx(value)
    assert any(f"{field} = " in note.en for note in notes) and all(note.zh for note in notes)
    lab.run(config)  # runs: nothing left out of range


def test_unreadable_link_values_say_so():
    config, notes = lab.parse_url({"module": "nonsense", "heads": "many"})
    assert config == lab.LabConfig()
    assert [n.en for n in notes] == [
        "The link's module = 'nonsense' could not be read; using MultiHeadAttention.",
        "The link's heads = 'many' could not be read; using 4."]


# --- presets for the bank ------------------------------------------------------------------------


def test_preset_problems_is_empty_for_a_valid_preset_and_names_each_bad_key():
    assert lab.preset_problems({"module": "sdpa", "mask": "padding", "pad": 2}) == []
    assert lab.preset_problems({"module": "gqa", "heads": 8, "kv_heads": 1, "rope": True}) == []
    problems = lab.preset_problems({"module": "sdpa", "heads": 5, "colour": "red",
                                    "mask": "diagonal"})
    assert len(problems) == 3
    assert problems[0].startswith("colour: not a Lab setting")
    assert any("heads = 5" in p for p in problems) and any("mask" in p for p in problems)
    assert lab.preset_problems({"module": "cross", "text2": ""})[0].startswith("text2")


def test_preset_url_opens_the_preset():
    url = lab.preset_url({"module": "sdpa", "mask": "padding", "pad": 2, "rope": True})
    assert url == "Lab?module=scaled_dot_product_attention&mask=padding&pad=2&rope=1"
    params = dict(part.split("=") for part in url.removeprefix("Lab?").split("&"))
    config, notes = lab.parse_url(params)
    assert notes == [] and config.mask == "padding" and config.pad == 2 and config.rope


# --- issue 16 bug 8: the padding mask removes padded keys only -----------------------------------


def test_padding_masks_padded_keys_only_and_greys_padded_queries_bug_16_8():
    config = lab.LabConfig(module=lab.SDPA, tokens="random", seq_len=7, heads=2, mask="padding",
                           pad=2, seed=3)
    result = lab.run(config)
    steps = {step.key: step for step in result.steps}
    q = torch.from_numpy(steps["q"].values).double()
    k = torch.from_numpy(steps["k"].values).double()
    keep = torch.ones(7, 7, dtype=torch.bool)
    keep[:, 5:] = False                                   # padded keys only
    expected = F.scaled_dot_product_attention(q, k, torch.eye(7, dtype=torch.float64),
                                              attn_mask=keep, scale=1 / math.sqrt(16))
    np.testing.assert_allclose(result.weights[0], expected.numpy(), atol=1e-5)
    np.testing.assert_allclose(result.row_sums, 1.0, atol=1e-5)  # padded rows still attend
    assert result.padded_queries == 2
    assert any("ignored downstream" in en for _, en in result.notes)
    spec = json.loads(plotly.io.to_json(lab.heads_figure(result, ["h1", "h2"], HOVER)))
    veils = spec["layout"]["shapes"]
    assert len(veils) == 2 and veils[0]["y0"] == 4.5 and veils[0]["y1"] == 6.5


def test_cross_attention_padding_greys_no_query_rows():
    result = lab.run(lab.LabConfig(module=lab.CROSS, mask="padding", pad=1))
    assert result.padded_queries == 0
    assert (result.weights[:, :, -1] == 0).all()


# --- issue 16 bug 7: heatmap axes ----------------------------------------------------------------


def test_only_the_first_column_has_y_ticks_and_compare_labels_stand_upright_bug_16_7():
    result = lab.run(lab.LabConfig(heads=8, embed_dim=64))
    spec = json.loads(plotly.io.to_json(lab.heads_figure(
        result, [f"h{h}" for h in range(8)], HOVER, max_columns=4)))
    layout = spec["layout"]
    for n in (2, 3, 4, 6, 7, 8):       # y axes of columns 2..4: no tick marks, no labels
        assert layout[f"yaxis{n}"]["ticks"] == "" and not layout[f"yaxis{n}"]["showticklabels"]
    for n in range(1, 5):              # x axes above the last row
        assert layout[f"xaxis{n if n > 1 else ''}"]["ticks"] == ""
    assert all(not layout[f"yaxis{n if n > 1 else ''}"]["showgrid"] for n in range(1, 9))
    narrow = json.loads(plotly.io.to_json(lab.heads_figure(
        result, [f"h{h}" for h in range(8)], HOVER, max_columns=2, narrow=True)))
    assert narrow["layout"]["xaxis7"]["tickangle"] == -90


# --- issue 16 bug 9: notes that fit the module ---------------------------------------------------


def test_the_repeated_tokens_note_suggests_no_causal_mask_in_cross_attention_bug_16_9():
    notes = [en for _, en in lab.run(lab.LabConfig(module=lab.CROSS, text="a b a")).notes]
    [note] = [n for n in notes if "permutation-equivariant" in n]
    assert "takes no causal mask" in note and "Switch to a causal mask" not in note


def test_disabled_controls_have_a_reason():
    additive = lab.defaults_for(lab.ADDITIVE)
    assert state.unused_reason(additive, "heads").en == (
        "Additive (Bahdanau) does not use this setting.")
    assert state.unused_reason(lab.defaults_for(lab.SDPA), "rope") is None


# --- text alternative ----------------------------------------------------------------------------


def test_strongest_weights_list_each_querys_top_keys():
    result = lab.run(lab.LabConfig(module=lab.SDPA, mask="causal", text="a b c"))
    rows = lab.strongest_weights(result, 0)
    assert rows[0] == {"query": "0:a", "keys": "0:a 100%"}
    top = np.argsort(-result.weights[0, 2])[0]
    assert rows[2]["keys"].startswith(result.key_labels[top])


# --- the state machine over a dict ---------------------------------------------------------------


def test_a_new_link_fills_the_widget_state_and_notes():
    s: dict = {}
    state.load_from_url(s, {"module": "gqa", "heads": "1000", "b_heads": "2", "compare": "1"},
                        "en")
    assert s["lab_module"] == lab.GQA and s["lab_heads"] == 16 and s["lab_b_heads"] == 2
    assert s[state.COMPARE] is True
    assert ["heads = 1000" in n.en for n in state.take_notes(s)] == [True]
    assert state.take_notes(s) == []   # shown once


def test_coming_back_without_a_link_restores_the_last_settings():
    s: dict = {}
    state.load_from_url(s, {"module": "rope", "seed": "4"}, "en")
    a = state.read(s)
    params = state.write_url(s, a, state.read(s, lab.B_PREFIX), False)
    for key in [k for k in s if k.startswith("lab_") and k != state.LAST]:
        del s[key]                          # Streamlit dropped the widgets on another page
    state.load_from_url(s, {}, "en")
    assert state.read(s) == a and params["seed"] == "4"


def test_a_language_switch_sets_the_labelled_widgets_again():
    s: dict = {}
    state.load_from_url(s, {"module": "sdpa", "mask": "causal"}, "en")
    state.write_url(s, state.read(s), state.read(s, lab.B_PREFIX), False)
    s["lab_module"] = "Scaled dot-product"  # what the browser holds after the switch
    state.load_from_url(s, {}, "zh")
    assert s["lab_module"] == lab.SDPA and s["lab_mask"] == "causal"


def test_prepare_moves_the_heads_when_e_changes():
    s: dict = {}
    state.load_from_url(s, {"heads": "16"}, "en")
    state.take_notes(s)
    s["lab_embed_dim"] = 24                 # the learner picks E = 24: 16 heads do not fit
    config = state.prepare(s)
    assert config.heads == 12 and s["lab_heads"] == 12
    assert "heads = 16" in state.take_notes(s)[0].en


def test_a_module_change_starts_from_its_defaults_and_keeps_the_input():
    s: dict = {}
    state.load_from_url(s, {"text": "a b c", "seed": "5"}, "en")
    s["lab_module"] = lab.ALIBI
    state.on_module_change(s)
    assert state.read(s) == replace(lab.defaults_for(lab.ALIBI), text="a b c", seed=5)


def test_compare_starts_b_as_a_copy_and_the_url_keeps_only_differences():
    s: dict = {}
    state.load_from_url(s, {"mask": "causal"}, "en")
    s[state.COMPARE] = True
    state.start_compare(s)
    assert state.read(s, lab.B_PREFIX) == state.read(s)
    s["lab_b_heads"] = 1
    params = state.params_for(state.read(s), state.read(s, lab.B_PREFIX), True)
    assert params["b_heads"] == "1" and params["compare"] == "1" and "b_mask" not in params
    a, _ = lab.parse_url(params)
    assert lab.parse_url(params, base=a, prefix="b_")[0].heads == 1


def test_b_uses_as_input_and_a_stale_label_falls_back():
    s: dict = {}
    state.load_from_url(s, {"text": "x y"}, "en")
    a = state.read(s)
    s["lab_b_mask"] = "因果"                  # a stale label instead of a value
    b = state.prepare(s, lab.B_PREFIX, shared=a)
    assert b.text == "x y" and b.mask == "none"


def test_compare_mode_labels_every_kth_key_so_labels_do_not_overlap_bug_16_7():
    result = lab.run(lab.LabConfig())                     # 11 keys
    spec = json.loads(plotly.io.to_json(lab.heads_figure(
        result, ["h1", "h2", "h3", "h4"], HOVER, max_columns=2, narrow=True)))
    ticks = spec["layout"]["xaxis3"]
    assert ticks["tickvals"] == result.key_labels[::2]
    assert ticks["ticktext"] == result.key_tokens[::2]
    assert spec["data"][0]["x"] == result.key_labels   # the hover names every key
