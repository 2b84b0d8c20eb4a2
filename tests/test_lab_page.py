"""The Lab page through AppTest: every module renders, the heads slider, masks, errors, the URL."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import chart_specs, charts
from streamlit.testing.v1 import AppTest

from prep import lab

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGE = "pages/3_Lab.py"
TIMEOUT = 60


def open_lab(**params: str) -> AppTest:
    """The Lab as a link opens it: app.py is the entry point (the sidebar links need it)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page(PAGE)
    at.query_params.clear()
    at.query_params.update({"lang": "en", **params})
    return at.run()


def specs(at: AppTest) -> list[dict]:
    return chart_specs(at)


def grid(at: AppTest) -> dict:
    """The per-head grid is the first chart of the page."""
    return specs(at)[0]


def grid_z(at: AppTest) -> np.ndarray:
    return np.stack([lab.decode_z(t) for t in grid(at)["data"] if t["type"] == "heatmap"])


def assert_clean(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("module", lab.MODULES)
def test_every_module_renders_with_its_defaults(module):
    at = open_lab(module=module)
    assert_clean(at)
    defaults = lab.defaults_for(module)
    assert at.selectbox(key="lab_module").value == module
    assert lab.count_heatmaps(grid(at)) == lab.head_count(defaults)
    assert len(charts(at)) >= 3  # grid, head average, query row (+ steps)
    at.session_state["lab_source"] = True    # the source is computed when its expander opens
    at.run()
    assert any("def " in code.value or "class " in code.value for code in at.code)


def test_changing_the_heads_changes_the_number_of_heatmaps():
    at = open_lab(module="MultiHeadAttention")
    assert lab.count_heatmaps(grid(at)) == 4
    at.select_slider(key="lab_heads").set_value(8).run()
    assert_clean(at)
    assert lab.count_heatmaps(grid(at)) == 8
    assert at.query_params["heads"] == "8"
    at.select_slider(key="lab_heads").set_value(1).run()
    assert lab.count_heatmaps(grid(at)) == 1


def test_a_causal_mask_gives_zero_weights_above_the_diagonal_in_the_figure():
    at = open_lab(module="MultiHeadAttention")
    z = grid_z(at)
    upper = np.triu(np.ones(z.shape[1:], dtype=bool), k=1)
    assert (z[:, upper] > 0).any()  # without a mask, queries do look ahead
    at.selectbox(key="lab_mask").set_value("causal").run()
    assert_clean(at)
    z = grid_z(at)
    assert (z[:, upper] == 0).all()
    assert (z[:, ~upper] > 0).any()


@pytest.mark.parametrize(("setting", "message"), [
    (lambda at: at.text_input(key="lab_text").set_value("  "), "text"),
])
def test_an_invalid_setting_shows_an_error_and_no_exception(setting, message):
    at = open_lab(module="MultiHeadAttention")
    setting(at).run()
    assert not at.exception
    assert len(at.error) == 1 and message in at.error[0].value
    assert not charts(at)


def test_a_window_below_one_is_moved_to_one_with_a_note():
    # Was the package's error ("`window`: expected a positive integer"); issue 16 bug 2: a link's
    # value is moved to the nearest allowed one, with a visible note.
    at = open_lab(module="sliding_window", window="0")
    assert_clean(at)
    assert at.number_input(key="lab_window").value == 1
    assert any("window = 0" in w.value for w in at.warning)


def test_the_url_holds_the_configuration_and_a_link_restores_it():
    at = open_lab(module="GroupedQueryAttention", heads="8", kv_heads="1", mask="causal",
                  seed="9")
    assert_clean(at)
    assert lab.count_heatmaps(grid(at)) == 8
    assert at.select_slider(key="lab_kv_heads").value == 1
    assert at.selectbox(key="lab_mask").value == "causal"
    assert lab.LabConfig.from_query_params(dict(at.query_params)) == lab.LabConfig(
        module=lab.GQA, heads=8, kv_heads=1, mask="causal", seed=9)


def test_an_export_name_from_browse_opens_the_matching_module():
    at = open_lab(module="SelfAttention")
    assert_clean(at)
    assert at.selectbox(key="lab_module").value == lab.MHA


def test_picking_a_module_starts_from_its_defaults():
    at = open_lab(module="MultiHeadAttention")
    at.selectbox(key="lab_module").set_value(lab.ALIBI).run()
    assert_clean(at)
    assert at.toggle(key="lab_alibi").value
    assert at.selectbox(key="lab_mask").value == "causal"


def test_compare_shows_two_configurations_side_by_side():
    at = open_lab(module="MultiHeadAttention")
    at.toggle(key="lab_compare").set_value(True).run()
    at.select_slider(key="lab_b_heads").set_value(1).run()
    assert_clean(at)
    counts = [lab.count_heatmaps(spec) for spec in specs(at)]
    assert counts[:2] == [4, 1]
    assert at.query_params["b_heads"] == "1" and at.query_params["compare"] == "1"


def test_the_english_page_has_no_chinese_labels():
    at = open_lab(module="MultiHeadAttention")
    assert at.title[0].value == "Attention Lab"
    assert at.select_slider(key="lab_heads").label == "Heads H"


def test_settings_of_hidden_widgets_survive_a_module_round_trip():
    at = open_lab(module="GroupedQueryAttention", kv_heads="4")
    at.selectbox(key="lab_module").set_value(lab.MHA).run()   # the kv-heads slider disappears
    at.select_slider(key="lab_heads").set_value(2).run()
    assert_clean(at)
    assert lab.count_heatmaps(grid(at)) == 2
    at.selectbox(key="lab_module").set_value(lab.GQA).run()
    assert_clean(at)
    assert at.select_slider(key="lab_kv_heads").value == lab.defaults_for(lab.GQA).kv_heads


def test_compare_starts_from_a_copy_of_a():
    at = open_lab(module="scaled_dot_product_attention")
    at.selectbox(key="lab_mask").set_value("causal").run()
    at.toggle(key="lab_compare").set_value(True).run()
    assert_clean(at)
    assert at.selectbox(key="lab_b_mask").value == "causal"
    at.toggle(key="lab_b_scaled").set_value(False).run()
    assert_clean(at)
    assert at.query_params["b_scaled"] == "0"
    assert "b_mask" not in at.query_params


def test_entropy_row_sums_steps_and_source_are_shown():
    at = open_lab(module="MultiHeadAttention", mask="padding", pad="2")
    assert_clean(at)
    table = at.dataframe[0].value
    assert list(table["fully masked rows"]) == [0, 0, 0, 0]  # bug 8: padded keys only
    assert list(table["max row sum"]) == [1.0] * 4
    expected = lab.run(lab.LabConfig(mask="padding", pad=2))
    np.testing.assert_allclose(table["mean entropy (nats)"], expected.entropy, atol=1e-4)
    assert len(at.latex) == 0 and len(at.code) == 0  # lazy: computed only when opened
    at.session_state["lab_steps"] = at.session_state["lab_source"] = True  # a reader opens them
    at.run()
    assert len(at.latex) == len(expected.steps) == 8
    assert at.code[0].value.strip() == expected.source.strip()
    z = grid_z(at).astype(np.float64) / 100
    assert np.abs(z - expected.weights).max() <= 0.005 + 1e-6


def test_the_query_picker_draws_that_tokens_row():
    at = open_lab(module="MultiHeadAttention", head="1")
    at.selectbox(key="lab_query").set_value(3).run()
    assert_clean(at)
    expected = lab.run(lab.LabConfig(head=1))
    bars = next(spec for spec in specs(at) if spec["data"][0]["type"] == "bar")
    np.testing.assert_allclose(lab.decode_z({"z": bars["data"][0]["y"]}),
                               expected.weights[1, 3], atol=1e-6)
    assert at.query_params["query"] == "3"


# --- regressions found by hands-on QA ------------------------------------------------------------


def test_compare_sides_share_one_colour_scale():
    # Each side was coloured up to its own largest weight: a flat B (T = 10) looked as peaked
    # as a sharp A (T = 0.05).
    at = open_lab(module="scaled_dot_product_attention", temperature="0.05",
                  b_temperature="10.0", compare="1")
    assert_clean(at)
    a, b = specs(at)[:2]
    assert lab.count_heatmaps(a) == lab.count_heatmaps(b) == 4
    top = max(grid_z(at).max(), max(lab.decode_z(t).max() for t in b["data"]))
    assert a["layout"]["coloraxis"]["cmax"] == b["layout"]["coloraxis"]["cmax"]
    assert a["layout"]["coloraxis"]["cmax"] == pytest.approx(top, abs=1)


def test_query_row_chart_and_step_notes_are_in_chinese_on_the_chinese_page():
    at = open_lab(module="scaled_dot_product_attention", lang="zh", alibi="1")
    assert_clean(at)
    row = next(s for s in specs(at) if any(t["type"] == "bar" for t in s["data"]))
    text = json.dumps(row, ensure_ascii=False)
    assert "查询 0:the" in text and "权重" in text
    assert "query" not in text and "weight" not in text
    at.session_state["lab_steps"] = True                 # the step notes, once opened
    at.run()
    captions = " ".join(c.value for c in at.caption)
    assert "不是 NaN" in captions and "ALiBi" in captions
    assert "fully masked" not in captions


def test_the_heads_slider_offers_only_head_counts_that_fit():
    # Was a 1..16 slider where 3 emptied the results pane (issue 16 bug 1).
    at = open_lab(module="MultiHeadAttention", lang="en")
    assert list(at.select_slider(key="lab_heads").options) == ["1", "2", "4", "8", "16"]
    assert "divide E" in at.select_slider(key="lab_heads").help
