"""The Lab on a phone (390 x 844, a phone's User-Agent): one head at a time, settings folded."""

from __future__ import annotations

import pytest
from conftest import wait_idle
from playwright.sync_api import expect

PHONE_AGENT = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
               "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
GRID = ".st-key-lab_grid .js-plotly-plot"
HEATMAPS_JS = "el => el.data.filter(t => t.type === 'heatmap').length"


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, user_agent=PHONE_AGENT,
                                  is_mobile=True, has_touch=True, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.mark.browser
def test_a_phone_shows_one_wide_head_with_a_picker_and_folded_settings(app_server, phone,
                                                                       artifacts):
    phone.goto(f"{app_server.url}/Lab?lang=en&module=MultiHeadAttention")
    phone.wait_for_selector(GRID)
    wait_idle(phone)
    grid = phone.locator(GRID)
    assert grid.evaluate(HEATMAPS_JS) == 1                 # one head at a time
    assert grid.bounding_box()["width"] >= 340
    expect(phone.locator(".st-key-lab_module")).to_be_hidden()   # settings folded away
    phone.screenshot(path=str(artifacts / "lab_phone.png"))

    picker = phone.locator(".st-key-lab_head")
    picker.click()
    phone.get_by_role("option", name="3", exact=True).click()
    phone.wait_for_function(
        "() => document.querySelector('.st-key-lab_grid .js-plotly-plot')"
        "?.layout?.annotations?.[0]?.text === 'head 3'")
    wait_idle(phone)
    assert "head=2" in phone.url

    phone.get_by_text("Settings", exact=True).click()                 # the settings open on demand
    expect(phone.locator(".st-key-lab_module")).to_be_visible()
    assert phone.locator('[data-testid="stException"]').count() == 0
