"""prep.lab.figure_cache: the Lab's figures built once per arguments, never another's figure."""

from __future__ import annotations

from dataclasses import replace

import plotly.io
import pytest

from prep import lab
from prep.lab import figure_cache

HOVER_EN = ("query", "key", "weight")
HOVER_ZH = ("查询", "键", "权重")
TITLES = ["h1", "h2", "h3", "h4"]


@pytest.fixture(autouse=True)
def empty_cache():
    figure_cache.clear()
    yield
    figure_cache.clear()


def spec(figure) -> str:
    return plotly.io.to_json(figure, validate=False)


def test_the_same_arguments_give_the_kept_figure_equal_to_a_fresh_build():
    result = lab.run(lab.LabConfig(module=lab.SDPA))
    first = lab.heads_figure(result, TITLES, HOVER_EN)
    again = lab.heads_figure(lab.run(lab.LabConfig(module=lab.SDPA)), TITLES, HOVER_EN)
    assert again is first
    figure_cache.clear()
    assert spec(lab.heads_figure(result, TITLES, HOVER_EN)) == spec(first)


def test_another_language_another_setting_or_another_query_gets_its_own_figure():
    result = lab.run(lab.LabConfig(module=lab.SDPA))
    english = lab.row_figure(result, ("head 1", "average"), HOVER_EN)
    chinese = lab.row_figure(result, ("头 1", "各头平均"), HOVER_ZH)
    assert chinese.layout.yaxis.title.text == "权重"
    assert english.layout.yaxis.title.text == "weight"
    hotter = lab.run(lab.LabConfig(module=lab.SDPA, temperature=lab.MAX_TEMPERATURE))
    assert spec(lab.average_figure(hotter, "average", HOVER_EN)) != spec(
        lab.average_figure(result, "average", HOVER_EN))
    other_query = replace(result, config=replace(result.config, query=1))
    assert spec(lab.row_figure(other_query, ("head 1", "average"), HOVER_EN)) != spec(english)


def test_a_result_with_the_same_configuration_but_other_weights_is_not_given_the_kept_figure():
    result = lab.run(lab.LabConfig(module=lab.SDPA))
    kept = lab.heads_figure(result, TITLES, HOVER_EN)
    halved = replace(result, weights=result.weights / 2)
    assert halved.config == result.config
    redrawn = lab.heads_figure(halved, TITLES, HOVER_EN)
    assert redrawn is not kept
    assert redrawn.layout.coloraxis.cmax < kept.layout.coloraxis.cmax


def test_step_matrices_are_keyed_by_their_values():
    step = lab.run(lab.LabConfig(module=lab.SDPA)).steps[0]
    first = lab.matrix_figure(step.values, step.row_labels, step.col_labels, "")
    assert lab.matrix_figure(step.values.copy(), step.row_labels, step.col_labels, "") is first
    assert lab.matrix_figure(step.values + 1, step.row_labels, step.col_labels, "") is not first


def test_at_most_max_figures_are_kept_least_recently_used_first_out(monkeypatch):
    monkeypatch.setattr(figure_cache, "MAX_FIGURES", 2)
    step = lab.run(lab.LabConfig(module=lab.SDPA)).steps[0]
    figures = [lab.matrix_figure(step.values, step.row_labels, step.col_labels, title)
               for title in ("a", "b")]
    assert lab.matrix_figure(step.values, step.row_labels, step.col_labels, "a") is figures[0]
    lab.matrix_figure(step.values, step.row_labels, step.col_labels, "c")  # "b" goes
    assert lab.matrix_figure(step.values, step.row_labels, step.col_labels, "a") is figures[0]
    assert lab.matrix_figure(step.values, step.row_labels, step.col_labels, "b") is not figures[1]


def test_unhashable_arguments_bypass_the_cache():
    calls = []

    @figure_cache.cached
    def build(options):
        calls.append(options)
        return object()

    assert build({"a": [1]}) is build({"a": [1]})  # a mapping of lists is keyed
    assert build(bytearray(b"x")) is not build(bytearray(b"x"))
    assert len(calls) == 3
