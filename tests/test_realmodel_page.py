"""AppTest of the Real model page, with the optional extra installed and with it missing.

With the extra: tokens, the chosen head's heatmap (its exact weights), per-head statistics, the
reproduction check, and what a 128-token sentence sends per rerun (within the 1 MB budget).
Without it (transformers hidden through sys.modules): the page says how to enable it, and the
other pages still work.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from conftest import chart_specs, charts
from streamlit.testing.v1 import AppTest

from prep import realmodel

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PAGE = "pages/5_Real_model.py"
TIMEOUT_S = 120
BUDGET_BYTES = 1_000_000
ENABLE_COMMAND = "pip install -e .[real-model]"


def open_page(lang: str = "en") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def rerun_bytes(at: AppTest) -> int:
    """What one run of the page sends: the serialized size of every element it draws."""

    def walk(node) -> int:
        children = getattr(node, "children", None)
        if children:
            return sum(walk(child) for child in children.values())
        proto = getattr(node, "proto", None)
        return proto.ByteSize() if hasattr(proto, "ByteSize") else 0

    return walk(at._tree)


def heatmap_spec(at: AppTest) -> dict:
    specs = chart_specs(at)
    heatmaps = [s for s in specs if [t["type"] for t in s["data"]] == ["heatmap"]]
    assert len(heatmaps) == 1
    return heatmaps[0]


def test_page_shows_tokens_heatmap_statistics_and_the_reproduction(monkeypatch):
    at = open_page()
    assert not at.error
    [code] = at.code
    assert code.value.startswith("0:[CLS]") and code.value.endswith(":[SEP]")
    assert "didn" in code.value
    assert [m.label for m in at.metric][:5] == [
        "entropy (nats)", "→[CLS]", "→[SEP]", "→previous token", "mean distance (tokens)",
    ]  # fmt: skip
    assert any("Identical up to" in s.value for s in at.success)
    assert len(at.dataframe) == 1
    assert at.dataframe[0].value.shape == (6 * 12, 7)
    specs = chart_specs(at)
    images = [s for s in specs if [t["type"] for t in s["data"]] == ["image"]]
    assert len(images) == 1  # the 6 x 12 grid is one PNG image
    assert images[0]["data"][0]["source"].startswith("data:image/png;base64,")


def test_picking_layer_3_head_5_shows_that_heads_weights():
    at = open_page()
    at.text_input(key="rm_a").input("The cat sat on the mat.").run()
    at.selectbox(key="rm_layer").set_value(3).run()
    at.selectbox(key="rm_head").set_value(5).run()
    assert not at.exception
    spec = heatmap_spec(at)
    assert spec["layout"]["title"]["text"] == "Layer 3, head 5"
    expected = realmodel.attend("The cat sat on the mat.").attentions[3, 5]
    [trace] = spec["data"]
    z = trace["z"]
    shown = np.asarray(z, dtype=np.float32) if isinstance(z, list) else _decode(z)
    np.testing.assert_allclose(shown.reshape(expected.shape), expected, atol=5e-4)
    stats = realmodel.attend("The cat sat on the mat.").statistics()
    entropy = next(m for m in at.metric if m.label == "entropy (nats)")
    assert entropy.value == f"{stats.entropy[3, 5]:.3f}"
    assert any("layer 3" in m.value for m in at.markdown)


def _decode(z: dict) -> np.ndarray:
    """Plotly's typed-array JSON ({"dtype", "bdata", "shape"}) back to numpy."""
    import base64

    data = np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"]))
    return data.astype(np.float32)


def test_a_128_token_sentence_stays_within_the_bytes_per_rerun_budget():
    at = open_page()
    at.text_input(key="rm_a").input("attention " * 300).run()
    assert not at.exception
    assert any(str(realmodel.MAX_TOKENS) in w.value for w in at.warning)  # truncated, said so
    assert at.code[0].value.count(":") == realmodel.MAX_TOKENS
    assert rerun_bytes(at) <= BUDGET_BYTES, rerun_bytes(at)


def test_sentence_pair_and_an_empty_sentence():
    at = open_page()
    at.text_input(key="rm_b").input("It was tired.").run()
    assert at.code[0].value.count("[SEP]") == 2
    at.text_input(key="rm_a").input("").run()
    assert not at.exception and not at.error
    assert any("Type some text" in i.value for i in at.info)
    assert not charts(at)


def test_chinese_page_is_in_chinese():
    at = open_page("zh")
    assert at.title[0].value == "真实预训练模型里的注意力"
    assert heatmap_spec(at)["layout"]["title"]["text"] == "第 0 层，第 0 个头"


@pytest.fixture
def without_the_extra(monkeypatch):
    """As if `transformers` and the packaged model were not installed."""
    monkeypatch.setitem(sys.modules, "transformers", None)
    monkeypatch.setitem(sys.modules, realmodel.MODEL_PACKAGE, None)
    assert not realmodel.available()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_without_the_extra_the_page_says_how_to_enable_it(without_the_extra, lang):
    at = open_page(lang)
    assert not at.error
    [info] = at.info
    assert ENABLE_COMMAND in info.value
    assert not charts(at) and not at.text_input


def test_without_the_extra_the_rest_of_the_app_still_works(without_the_extra):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()
    assert not at.exception
    at.switch_page("pages/3_Lab.py").run()
    assert not at.exception


def test_a_model_that_fails_to_load_gives_a_message_not_a_traceback(monkeypatch):
    def broken() -> realmodel.RealModel:
        raise OSError("model.safetensors is truncated")

    st.cache_resource.clear()  # the page's cached model, so the broken loader is called
    monkeypatch.setattr(realmodel, "load", broken)
    try:
        at = open_page()
        [error] = at.error
        assert "could not be loaded" in error.value and "truncated" in error.value
    finally:
        st.cache_resource.clear()


# --- regressions found by hands-on QA ------------------------------------------------------------


@pytest.mark.parametrize("lang, words", [("en", "tokens are [UNK]"), ("zh", "个 token 是 [UNK]")])
def test_chinese_input_explains_the_unk_tokens(lang, words):
    # A Chinese sentence came back as [CLS] 我 [UNK] [UNK] ... with no word on why.
    at = open_page(lang)
    at.text_input(key="rm_a").input("我爱自然语言处理").run()
    assert not at.exception
    unknown = at.code[0].value.count("[UNK]")
    assert unknown > 0
    assert any(words in i.value and str(unknown) in i.value for i in at.info)
    at.text_input(key="rm_a").input("The cat sat on the mat.").run()
    assert not any("[UNK]" in i.value for i in at.info)


def test_bug16_9_one_unknown_token_is_singular():
    at = open_page("en")
    at.text_input(key="rm_a").input("The cat 🙂 sat.").run()
    assert not at.exception
    notes = [i.value for i in at.info if "[UNK]" in i.value]
    assert len(notes) == 1 and notes[0].startswith("1 token is [UNK]:"), notes
    at.text_input(key="rm_a").input("The cat 🙂 sat ☃.").run()
    assert any(i.value.startswith("2 tokens are [UNK]:") for i in at.info)


def test_head_heatmap_hover_and_colour_bar_are_in_chinese():
    spec = heatmap_spec(open_page("zh"))
    assert spec["layout"]["coloraxis"]["colorbar"]["title"]["text"] == "权重"
    template = spec["data"][0]["hovertemplate"]
    assert template.startswith("查询 %{y}<br>键 %{x}<br>权重 ")
