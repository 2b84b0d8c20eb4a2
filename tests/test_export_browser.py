"""Real browser: the bank downloads from Browse as an Anki deck a learner can import."""

from __future__ import annotations

import zipfile

import pytest
from conftest import wait_idle

pytestmark = pytest.mark.browser


def test_download_the_bank_as_an_anki_deck_from_browse(app_server, page, tmp_path):
    page.goto(f"{app_server.url}/Browse?lang=en")
    wait_idle(page)
    page.get_by_text("Export the bank (Anki / Markdown)").click()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Anki (.apkg)").click()
    download = download_info.value
    assert download.suggested_filename == "attention-prep-en.apkg"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    with zipfile.ZipFile(path) as deck:
        assert "collection.anki2" in deck.namelist()
