"""The Lab's 2024-26 views in a real browser: each of the seven opens by its bank name, in both
languages, with its heatmaps painted and no exception; the KV-cache stepper's click grows the
grid. Run this file alone (one browser test file at a time on this machine)."""

from __future__ import annotations

import pytest
from conftest import wait_idle

from prep import lab

GRID = ".st-key-lab_grid .js-plotly-plot"
# A full Lab page (grid, own view, steps) took 13-34 s to paint with 8 test runs sharing the
# machine's 2 cores: generous waits, no wall-time assertion.
WAIT_MS = 120_000
# One panel or bar chart of each module's own view.
OWN_CHART = {
    "kv_cache": "lab_bars_kv_bytes", "mla": "lab_panel_difference", "sink": "lab_panel_with_sink",
    "differential": "lab_panel_difference", "gated": "lab_panel_gate_positions",
    "delta_rule": "lab_panel_delta", "block_sparse": "lab_panel_selection",
}


def painted(page, selector: str, trace_type: str, count: int) -> None:
    """Wait until the chart's Plotly node holds ``count`` traces of this type, drawn."""
    page.wait_for_function(
        f"() => {{ const el = document.querySelector({selector!r});"
        f" return el && el.data && el.querySelector('.main-svg') &&"
        f" el.data.filter(t => t.type === {trace_type!r}).length === {count}; }}",
        timeout=WAIT_MS,
    )


@pytest.mark.browser
def test_each_modern_view_opens_by_url_in_both_languages(app_server, page, artifacts):
    for lang in ("en", "zh"):
        for module, chart in OWN_CHART.items():
            page.goto(f"{app_server.url}/Lab?lang={lang}&module={module}")
            heads = lab.defaults_for(module).heads
            painted(page, GRID, "heatmap", heads)
            trace = "bar" if chart.startswith("lab_bars") else "heatmap"
            painted(page, f".st-key-{chart} .js-plotly-plot", trace, 1)
            wait_idle(page)
            assert page.locator('[data-testid="stException"]').count() == 0, (module, lang)
            page.locator('[data-testid="stMetric"]').nth(1).wait_for(timeout=WAIT_MS)
            title = lab.run(lab.defaults_for(module)).view.title.pick(lang)
            page.get_by_text(title, exact=True).wait_for(timeout=WAIT_MS)
            assert page.locator('[data-testid="stException"]').count() == 0, (module, lang)
        page.screenshot(path=str(artifacts / f"lab_modern_{lang}.png"), full_page=True)


@pytest.mark.browser
def test_the_kv_stepper_click_grows_the_grid_in_the_browser(app_server, page):
    page.goto(f"{app_server.url}/Lab?lang=en&module=kv_cache")
    painted(page, GRID, "heatmap", 4)
    wait_idle(page)
    assert page.locator(GRID).evaluate("el => el.data[0].y.length") == 4
    page.locator(".st-key-lab_decode_next button").click()
    page.wait_for_function(
        f"() => {{ const el = document.querySelector({GRID!r});"
        " return el && el.data && el.data[0].y.length === 5; }", timeout=WAIT_MS)
    wait_idle(page)
    assert "decoded=1" in page.url
    assert page.locator('[data-testid="stException"]').count() == 0
