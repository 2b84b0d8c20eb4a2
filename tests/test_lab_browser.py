"""The Lab in a real browser: Browse, "Open in Lab", move the heads slider, hover a cell."""

from __future__ import annotations

import os
import re

import pytest
from conftest import StreamlitServer, wait_idle
from playwright.sync_api import expect

GRID = ".st-key-lab_grid .js-plotly-plot"
LINES_JS = ("e => Array.from(e.querySelectorAll('tspan.line')).map(t => t.textContent)"
            ".join('\\n') || e.textContent")
HEATMAPS_JS = "el => el.data.filter(t => t.type === 'heatmap').length"



def heatmap_count(page) -> int:
    return page.locator(GRID).evaluate(HEATMAPS_JS)


def wait_for_heatmaps(page, count: int) -> None:
    page.wait_for_function(
        f"() => {{ const el = document.querySelector({GRID!r});"
        f" return el && el.data && el.data.filter(t => t.type === 'heatmap').length === {count}; }}"
    )


@pytest.mark.browser
def test_browse_open_in_lab_move_heads_and_hover(app_server, page, artifacts):
    page.goto(f"{app_server.url}/Browse?lang=en")
    wait_idle(page)
    link = page.locator('a[href*="module=MultiHeadAttention"]').first
    link.scroll_into_view_if_needed()
    assert "Open in Lab" in link.inner_text()
    link.click()
    page.wait_for_url(re.compile(r".*/Lab\?.*module=MultiHeadAttention"))
    wait_idle(page)
    wait_for_heatmaps(page, 4)
    # The source expander's icon is drawn from Streamlit's bundled icon font: an emoji icon was a
    # box wherever no colour-emoji font is installed (this machine's Chromium).
    icon = page.locator('.st-key-lab_source [data-testid="stExpanderIcon"]')
    assert icon.inner_text() == "description"
    assert "Material Symbols" in icon.evaluate("e => getComputedStyle(e).fontFamily")

    slider = page.locator('.st-key-lab_heads input[type="range"]')
    slider.focus()
    page.keyboard.press("End")          # 16 heads (32 / 16 = 2 dims each)
    wait_for_heatmaps(page, 16)
    wait_idle(page)
    assert re.search(r"[?&]heads=16(&|$)", page.url)
    slider.focus()
    page.keyboard.press("Home")         # 1 head
    wait_for_heatmaps(page, 1)
    wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0

    # Hover the middle of the heatmap: the label shows that cell's exact value.
    plot = page.locator(f"{GRID} .nsewdrag").first
    box = plot.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.45)
    label = page.locator(".hoverlayer .hovertext").first
    label.wait_for()
    text = label.evaluate(LINES_JS)
    match = re.search(r"query (\d+):\S+\s+key (\d+):\S+\s+weight (\d+)%", text)
    assert match, text
    row, col, shown = (int(g) for g in match.groups())
    z = page.locator(GRID).evaluate(f"el => el.calcdata[0][0].z[{row}][{col}]")
    assert shown == z
    page.screenshot(path=str(artifacts / "lab_browser.png"), full_page=True)


@pytest.mark.browser
def test_switching_language_then_clicking_keeps_the_module_and_does_not_crash(app_server, page):
    # The browser keeps a selectbox's value as its label: after a language switch it still held
    # "Scaled dot-product", and the next click crashed the page with KeyError.
    page.goto(f"{app_server.url}/Lab?lang=en&module=scaled_dot_product_attention&mask=causal"
              "&tokens=random")
    page.wait_for_selector(GRID)
    wait_idle(page)
    for language, module_label, mask_label, seed in (
        ("中文", "缩放点积注意力", "因果", "2"), ("English", "Scaled dot-product", "causal", "3"),
    ):
        page.get_by_text(language, exact=True).click()
        page.wait_for_function(
            "label => document.querySelector('.st-key-lab_module input')?.value === label",
            arg=module_label,
        )
        wait_idle(page)
        seed_input = page.locator(".st-key-lab_seed input")
        seed_input.fill(seed)
        seed_input.press("Enter")
        page.wait_for_url(re.compile(rf".*[?&]seed={seed}(&|$)"))
        wait_idle(page)
        page.wait_for_selector(GRID)
        assert page.locator('[data-testid="stException"]').count() == 0
        expect(page.locator(".st-key-lab_module input")).to_have_value(module_label)
        expect(page.locator(".st-key-lab_mask input")).to_have_value(mask_label)
        assert page.locator(".st-key-lab_tokens input").nth(1).is_checked()  # random tokens
        assert "module=scaled_dot_product_attention" in page.url and "mask=causal" in page.url


@pytest.mark.browser
def test_a_key_press_updates_the_heatmaps_in_place_from_plotly_js_served_here(app_server, page):
    """Regression: ``st.plotly_chart`` gave every new figure a new element, so each key press
    threw the charts away and built them anew (Plotly.newPlot): most of the Lab's wait. The
    chart element now stays, and Plotly.react updates it. Plotly.js comes from this server; every
    other request is refused; the query row's bars carry their colours without a console warning
    per bar."""
    requests, warnings = [], []
    page.context.route("**/*", lambda route: (
        route.continue_() if route.request.url.startswith(app_server.url) else route.abort()))
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: warnings.append(message.text)
            if "color specifier" in message.text else None)
    page.goto(f"{app_server.url}/Lab?lang=en&module=scaled_dot_product_attention")
    page.wait_for_selector(GRID)
    wait_idle(page)
    page.evaluate(f"() => {{ window.__grid = document.querySelector({GRID!r});"
                  " window.__data = window.__grid.data; }")
    page.locator(".st-key-lab_temperature input[type='range']").press("ArrowRight")
    page.wait_for_function(f"() => document.querySelector({GRID!r}).data !== window.__data")
    wait_idle(page)
    assert page.evaluate(f"() => document.querySelector({GRID!r}) === window.__grid"), \
        "the chart element was replaced, not updated"
    assert any(url.endswith("/app/static/plotly.min.js") for url in requests)
    assert all(url.startswith(app_server.url) for url in requests), requests
    assert not warnings, warnings[:3]
    colours = page.locator(".st-key-lab_row .js-plotly-plot").evaluate(
        "el => Array.from(el.querySelectorAll('.bars .point path')).map(p => p.style.fill)")
    assert colours and len(set(colours)) > 1 and "rgb(0, 0, 0)" not in colours, colours


@pytest.mark.browser
def test_a_chart_whose_library_cannot_load_says_so_in_the_page(app_server, page):
    """Plotly.js refused (a proxy, a broken install): each chart's place says why, in the page's
    language, instead of staying blank; the rest of the page works."""
    page.route("**/app/static/plotly.min.js", lambda route: route.fulfill(status=404, body=""))
    page.goto(f"{app_server.url}/Lab?lang=en&module=scaled_dot_product_attention")
    wait_idle(page)
    message = page.locator(".st-key-lab_grid").get_by_text("The chart cannot load")
    message.wait_for()
    assert "could not get Plotly.js from this server" in message.inner_text()
    assert page.locator('[data-testid="stException"]').count() == 0
    expect(page.locator(".st-key-lab_temperature input[type='range']")).to_be_enabled()


@pytest.mark.browser
def test_charts_draw_when_the_app_is_served_under_a_path(tmp_path, page):
    """A host may serve the app under a path (``server.baseUrlPath``, behind a proxy that shares
    its domain): Plotly.js is asked for relative to the page, so it comes from under that path
    and the Lab draws its heatmaps."""
    env = {**os.environ, "ATTN_PREP_DB": str(tmp_path / "progress.sqlite3")}
    server = StreamlitServer(env, tmp_path / "server.log", base_path="attention")
    server.start()
    try:
        requests = []
        page.on("response", lambda response: requests.append((response.status, response.url)))
        page.goto(f"{server.url}/Lab?lang=en&module=scaled_dot_product_attention")
        page.wait_for_function(f"() => {{ const el = document.querySelector({GRID!r});"
                               " return el && el.data"
                               " && el.data.some(t => t.type === 'heatmap'); }")
        wait_idle(page)
        assert (200, f"{server.url}/app/static/plotly.min.js") in requests, requests
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        server.stop()
