"""Real browser: behind an auth proxy, each learner's identity header selects their own progress."""

from __future__ import annotations

import json

import pytest
from conftest import wait_idle

from prep.store import Store

pytestmark = pytest.mark.browser
HEADER = "X-Forwarded-Email"


@pytest.fixture
def proxied_server(app_server):
    app_server.env.update(
        STREAMLIT_SERVER_TRUSTED_USER_HEADERS=json.dumps({HEADER: "email"}),
        ATTN_PREP_USER_KEY="email",
    )
    app_server.restart()
    return app_server


def test_the_proxy_header_names_the_learner_and_no_header_gets_a_message(proxied_server, browser):
    signed_in = browser.new_context(extra_http_headers={HEADER: "ada@example.org"})
    page = signed_in.new_page()
    page.goto(f"{proxied_server.url}/Quiz?lang=en")
    wait_idle(page)
    page.locator(".st-key-quiz_count input").fill("1")
    page.locator(".st-key-quiz_count input").press("Enter")
    wait_idle(page)
    page.locator(".st-key-quiz_start button").click()
    page.locator(".st-key-quiz_reveal button").click()
    page.locator(".st-key-quiz_grade_3 button").click()
    page.locator(".st-key-quiz_new").wait_for()  # the end-of-quiz summary
    signed_in.close()
    db = proxied_server.env["ATTN_PREP_DB"]
    assert Store(db, user="ada@example.org").review_count() == 1
    assert Store(db).review_count() == 0

    anonymous = browser.new_context()
    page = anonymous.new_page()
    page.goto(f"{proxied_server.url}/Quiz?lang=en")
    page.get_by_text("does not say who you are").wait_for()
    anonymous.close()
