"""Real browser (Chromium through Playwright): the Real model page as the very first request.

Type a sentence, pick layer 3 and head 5, see that head's heatmap; a screenshot is saved in
test-artifacts/.
"""

from __future__ import annotations

import pytest
from conftest import wait_idle
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SENTENCE = "The keys to the cabinet are on the table."
MODEL_LOAD_TIMEOUT_MS = 90_000  # the first run imports transformers and loads the model


def choose(page, key: str, option: str) -> None:
    """Open the selectbox with widget key ``key`` and click ``option``."""
    page.locator(f".st-key-{key} [role='combobox']").click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(page.locator(f".st-key-{key} input")).to_have_value(option)
    wait_idle(page)


def test_type_a_sentence_pick_layer_3_head_5_and_see_its_heatmap(app_server, page, artifacts):
    page.goto(f"{app_server.url}/Real_model?lang=en")
    page.locator(".st-key-rm_a input").wait_for(timeout=MODEL_LOAD_TIMEOUT_MS)
    wait_idle(page)

    sentence = page.locator(".st-key-rm_a input")
    sentence.fill(SENTENCE)
    sentence.press("Enter")
    page.get_by_text("0:[CLS]  1:the  2:keys").wait_for()
    wait_idle(page)

    choose(page, "rm_layer", "3")
    choose(page, "rm_head", "5")
    # The chart is updated in place (prep.ui_chart): its title changes when the new figure is in.
    heatmap = page.locator('.st-key-rm_heatmap')
    heatmap.get_by_text("Layer 3, head 5").wait_for()
    wait_idle(page)
    heatmap.locator(".heatmaplayer").first.wait_for()  # plotly drew the heatmap trace
    assert heatmap.get_by_text("cabinet").count() >= 1  # token labels on the axes
    page.get_by_text("Identical up to").wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0

    heatmap.scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "realmodel-layer3-head5.png", full_page=True)
