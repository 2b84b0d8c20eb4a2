"""The Lab page through AppTest: bad links, a throwaway registered module, disabled controls."""

from __future__ import annotations

import pytest
from test_lab_page import PAGE, assert_clean, grid, open_lab
from test_lab_state import TOY, toy_module  # noqa: F401  (a fixture)

from prep import lab

BAD_LINKS = [
    {"heads": "1000"},
    {"seq_len": "100000", "tokens": "random"},
    {"temperature": "-3"},
    {"kv_heads": "99", "module": "gqa"},
    {"window": "999999", "module": "sliding_window"},
    {"pad": "500", "mask": "padding"},
    {"embed_dim": "-1", "heads": "0", "seed": "-5", "query": "999", "head": "99"},
    {"b_heads": "77", "compare": "1", "b_temperature": "1e9"},
]


@pytest.mark.parametrize("params", BAD_LINKS, ids=lambda p: "&".join(p))
def test_a_bad_link_never_crashes_and_says_what_it_moved_bug_16_2(params):
    at = open_lab(**params)
    assert_clean(at)
    assert at.warning, "a visible note says which value was moved"
    assert lab.count_heatmaps(grid(at)) >= 1
    heads = at.select_slider(key="lab_heads")
    assert heads.value in [int(o) for o in heads.options]
    assert lab.MIN_TEMPERATURE <= at.slider(key="lab_temperature").value <= lab.MAX_TEMPERATURE
    # The crash stuck for the session (Home -> Lab crashed again): go Home and come back.
    at.switch_page("app.py").run()
    assert not at.exception
    at.switch_page(PAGE)
    at.query_params.clear()
    at.run()
    assert_clean(at)
    assert lab.count_heatmaps(grid(at)) >= 1


def test_notes_go_away_after_the_next_change():
    at = open_lab(heads="5")
    assert any("heads = 5" in w.value for w in at.warning)
    assert at.select_slider(key="lab_heads").value == 4
    at.number_input(key="lab_seed").set_value(3).run()
    assert_clean(at)
    assert not at.warning


def test_a_throwaway_module_is_in_the_chooser_the_url_and_runs(toy_module):  # noqa: F811
    at = open_lab(module="toy", heads="8")
    assert_clean(at)
    assert TOY in at.selectbox(key="lab_module").options or \
        "Uniform attention" in at.selectbox(key="lab_module").options
    assert at.selectbox(key="lab_module").value == TOY
    assert lab.count_heatmaps(grid(at)) == 8
    assert at.query_params["module"] == TOY
    assert at.toggle(key="lab_rope").disabled
    at.select_slider(key="lab_heads").set_value(2).run()
    assert_clean(at)
    assert lab.count_heatmaps(grid(at)) == 2 and at.query_params["heads"] == "2"
    at.selectbox(key="lab_module").set_value(lab.MHA).run()
    assert_clean(at)
    at.selectbox(key="lab_module").set_value(TOY).run()
    assert_clean(at)
    assert at.select_slider(key="lab_heads").value == 2  # the record's defaults


def test_disabled_controls_say_why_bug_16_9():
    at = open_lab(module="AdditiveAttention")
    assert_clean(at)
    heads = at.select_slider(key="lab_heads")
    assert heads.disabled and "does not use this setting" in heads.help
    for key in ("lab_scaled", "lab_rope", "lab_alibi"):
        assert at.toggle(key=key).disabled and "does not use" in at.toggle(key=key).help
    assert any("Greyed-out settings" in c.value for c in at.caption)
    at = open_lab(module="scaled_dot_product_attention")
    assert not at.toggle(key="lab_rope").disabled and not at.toggle(key="lab_rope").help
