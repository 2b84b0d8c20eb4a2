"""Shared fixtures: an isolated progress database for every test, and for real-browser tests a
running app server (started as the README's run command starts it) and a Chromium page."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
# The bank cache (prep.bank.cache) of this test run, not the user's; servers inherit it.
os.environ.setdefault("ATTN_PREP_CACHE", tempfile.mkdtemp(prefix="attn-prep-cache-"))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT_S = 60.0
# Connected and not running: before the websocket connects, "notRunning" also holds.
IDLE = ('[data-testid="stApp"][data-test-connection-state="CONNECTED"]'
        '[data-test-script-state="notRunning"]')


def charts(at) -> list:
    """The charts an AppTest run drew (prep.ui_chart: one components-v2 element each)."""
    return [element for element in at.get("bidi_component")
            if element.proto.component_name.endswith("attn_prep_chart")]


def chart_specs(at) -> list[dict]:
    """The Plotly figures (as JSON) of the charts an AppTest run drew, in page order."""
    return [json.loads(json.loads(element.proto.json)["figure"]) for element in charts(at)]


def chart_keys(at) -> list[str]:
    """The ``key`` each chart was drawn with (its container's key)."""
    return [element.proto.id.rsplit("-", 1)[-1].removesuffix("_plotly") for element in charts(at)]


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """No test reads or writes the user's real progress, or reaches a model hub."""
    monkeypatch.setenv("ATTN_PREP_DB", str(tmp_path / "progress.sqlite3"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StreamlitServer:
    """``streamlit run app.py`` in its own process group.

    ``via_make=True`` starts it with the README's own command, ``make run PORT=...`` (set-up
    included, about 3 s more when everything is installed). ``base_path`` serves it under a
    path, as a host behind a proxy that shares its domain would (``server.baseUrlPath``).
    """

    def __init__(
        self, env: dict[str, str], log_path: Path, *, via_make: bool = False,
        script: str = "app.py", base_path: str = "",
    ) -> None:
        self.env = {**env, "STREAMLIT_SERVER_BASE_URL_PATH": base_path} if base_path else env
        self.base_path = base_path
        self.script = script
        self.port = free_port()
        self.log_path = log_path
        self.via_make = via_make
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}" + (f"/{self.base_path}" if self.base_path else "")

    def start(self) -> None:
        command = [
            sys.executable, "-m", "streamlit", "run", self.script,
            "--server.port", str(self.port), "--server.address", "127.0.0.1",
            "--server.headless", "true",
        ]  # fmt: skip
        if self.via_make:
            venv = Path(sys.executable).parent.parent
            command = ["make", "run", f"PORT={self.port}", f"VENV={venv}"]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early; log:\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1) as response:
                    if response.read().decode().strip() == "ok":
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"server not healthy after {SERVER_START_TIMEOUT_S}s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def restart(self) -> None:
        """Stop and start again with the same port and the same progress database."""
        self.stop()
        self.start()


def _server(tmp_path: Path, via_make: bool) -> Iterator[StreamlitServer]:
    env = {**os.environ, "ATTN_PREP_DB": str(tmp_path / "progress.sqlite3")}
    server = StreamlitServer(env, tmp_path / "server.log", via_make=via_make)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_server(tmp_path) -> Iterator[StreamlitServer]:
    yield from _server(tmp_path, via_make=False)


@pytest.fixture
def readme_server(tmp_path) -> Iterator[StreamlitServer]:
    """The server started exactly as the README says: ``make run``."""
    yield from _server(tmp_path, via_make=True)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def wait_idle(page) -> None:
    """Wait until the Streamlit script has finished its run."""
    page.wait_for_selector(IDLE, state="attached")
