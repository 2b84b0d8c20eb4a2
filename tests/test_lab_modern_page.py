"""The Lab page's 2024-26 views through AppTest, in both languages: each opens by its bank name,
draws its grid, its own charts and numbers, and the KV-cache stepper's click grows the cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import chart_keys, chart_specs
from streamlit.testing.v1 import AppTest

from prep import lab
from prep.bank import load_bank

APP = str(Path(__file__).resolve().parent.parent / "app.py")
CONTENT = Path(__file__).resolve().parent.parent / "content"
TIMEOUT = 60

# module -> (its panels' keys, its bar charts' keys, metric labels in English and Chinese)
VIEWS = {
    "kv_cache": ((), ("kv_growth", "kv_bytes"),
                 ("tokens held len(cache)", "缓存的词元 len(cache)")),
    "mla": (("naive", "absorbed", "difference"), (), ("max |Δ weights|", "权重最大差")),
    "sink": (("with_sink", "keep"), (), ("largest row sum", "最大行和")),
    "differential": (("first", "second", "difference"), (), ("λ", "λ")),
    "gated": (("gate_positions", "gate_channels"), (), ("mean gate", "平均门值")),
    "delta_rule": (("delta", "softmax", "linear"), (), ("max |W V − output|", "max |W V − 输出|")),
    "block_sparse": (("selection", "block_scores", "dense"), (), ("blocks nb", "块数 nb")),
}


def open_lab(lang: str, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page("pages/3_Lab.py")
    at.query_params.clear()
    at.query_params.update({"lang": lang, **params})
    return at.run()


def charts(at: AppTest) -> dict[str, dict]:
    """Plotly charts by their widget key (the element id ends with the user key)."""
    return dict(zip(chart_keys(at), chart_specs(at), strict=True))


def metric_values(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def assert_clean(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("module", list(VIEWS))
def test_each_modern_view_renders_its_grid_charts_and_numbers(module, lang):
    at = open_lab(lang, module=module)
    assert_clean(at)
    assert at.selectbox(key="lab_module").value == module
    specs = chart_specs(at)
    assert lab.count_heatmaps(specs[0]) == lab.defaults_for(module).heads
    panels, bars, (label_en, label_zh) = VIEWS[module]
    spec_ids = " ".join(chart_keys(at))
    for key in panels:
        assert f"lab_panel_{key}" in spec_ids, key
    for key in bars:
        assert f"lab_bars_{key}" in spec_ids, key
    values = metric_values(at)
    assert (label_en if lang == "en" else label_zh) in values
    record = lab.registry.get(module)
    title = record.label.en if lang == "en" else record.label.zh
    assert title in [o for o in at.selectbox(key="lab_module").options]
    at.session_state["lab_source"] = True    # the source is computed when its expander opens
    at.run()
    assert any("attention" in c.value or "def " in c.value for c in at.code)


def test_the_kv_stepper_click_decodes_one_token_and_the_cache_grows():
    at = open_lab("en", module="kv_cache")
    assert_clean(at)
    assert metric_values(at)["tokens held len(cache)"] == "4"
    assert metric_values(at)["elements held cache.numel"] == "256"
    at.button(key="lab_decode_next").click().run()
    assert_clean(at)
    values = metric_values(at)
    assert values["tokens held len(cache)"] == "5" and values["elements held cache.numel"] == "320"
    assert at.query_params["decoded"] == ["1"] or at.query_params["decoded"] == "1"
    grid = chart_specs(at)[0]
    assert lab.decode_z(grid["data"][0]).shape == (5, 5)
    at.button(key="lab_decode_next").click().run()
    assert metric_values(at)["tokens held len(cache)"] == "6"
    at.button(key="lab_decode_reset").click().run()
    assert metric_values(at)["tokens held len(cache)"] == "4"


def test_the_kv_stepper_stops_at_the_end_of_the_sentence():
    at = open_lab("zh", module="kv_cache", decoded="99")
    assert_clean(at)
    assert metric_values(at)["缓存的词元 len(cache)"] == "11"
    assert at.button(key="lab_decode_next").disabled


def test_the_sink_view_offers_the_sink_count_and_logit_and_follows_them():
    at = open_lab("en", module="sink")
    assert_clean(at)
    before = metric_values(at)["mean sink share"]
    at.slider(key="lab_sink_logit").set_value(4.0).run()
    assert_clean(at)
    assert float(metric_values(at)["mean sink share"]) > float(before)
    at.number_input(key="lab_sinks").set_value(3).run()
    assert_clean(at)
    assert at.query_params["sinks"] in ("3", ["3"])


def test_a_bank_preset_link_opens_the_right_view():
    for module in VIEWS:
        url = lab.preset_url({"module": module})
        assert url == f"Lab?module={module}"


def test_the_banks_frontier_questions_link_to_the_seven_views_without_any_note():
    bank = load_bank(CONTENT)
    linked = {q.id: q.lab_params() for q in bank.questions
              if q.lab_params().get("module") in VIEWS}
    assert {params["module"] for params in linked.values()} == set(VIEWS)
    assert len(linked) >= 21
    for params in linked.values():
        assert lab.preset_problems(params) == []
        assert lab.resolve_module(params["module"]) == params["module"]


def test_browse_open_in_lab_for_an_mla_question_opens_the_mla_view():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page("pages/1_Browse.py")
    at.query_params.update({"lang": "zh", "q": "fr-mla-absorbed-mqa"})
    at.run()
    assert_clean(at)
    links = [link.proto for link in at.main.get("page_link") if link.proto.page == "Lab"]
    assert [p.query_string for p in links] == ["lang=zh&module=mla"]
    lab_page = open_lab("zh", module="mla")
    assert_clean(lab_page)
    assert "权重最大差" in metric_values(lab_page)


@pytest.mark.parametrize("module", ["differential", "sink"])
def test_the_statistics_table_leaves_out_entropy_where_it_is_not_defined(module):
    """QA: a signed map (differential attention) showed a column of NaN entropies; its view
    already says entropy is not defined there. A map of probabilities keeps the column."""
    at = open_lab("en", module=module)
    assert_clean(at)
    (table,) = [d.value for d in at.dataframe if "min row sum" in d.value.columns]
    assert ("mean entropy (nats)" in table.columns) == (module != "differential")
    assert not table.isna().any().any(), table
