"""The server fetches nothing from the internet: not when it starts, not for the first page.

Every outbound HTTP(S) request of the server process is routed, through the standard proxy
variables, to a local listener that records it. Regression: served on all interfaces (the
Dockerfile's ``--server.address=0.0.0.0``, or ``make run``'s default), Streamlit asked
checkip.amazonaws.com for the machine's public address, to print an "External URL" at start.
``.streamlit/config.toml`` now names the address to print (``browser.serverAddress``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import free_port, wait_idle

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60

pytestmark = pytest.mark.browser


class Recorder:
    """A TCP listener standing in for a proxy: it records who connected and closes."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.requests: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.requests.append(conn.recv(200))
                except OSError:
                    self.requests.append(b"?")

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def test_the_server_makes_no_request_to_the_internet(tmp_path, page):
    recorder = Recorder()
    port = free_port()
    proxy = {name: recorder.url for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy",
                                             "https_proxy", "ALL_PROXY", "all_proxy")}
    env = {**os.environ, **proxy, "NO_PROXY": "", "no_proxy": "",
           "ATTN_PREP_DB": str(tmp_path / "progress.sqlite3")}
    log = tmp_path / "server.log"
    # The Dockerfile's command: every interface.
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", f"--server.port={port}",
             "--server.address=0.0.0.0"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy here
        while "You can now view" not in log.read_text(errors="replace"):
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        assert opener.open(f"http://127.0.0.1:{port}/_stcore/health").read() == b"ok"
        page.goto(f"http://127.0.0.1:{port}/")
        wait_idle(page)
        page.get_by_text("Sections").or_(page.get_by_text("章节")).first.wait_for()
        time.sleep(1)  # anything started in the background at start-up has had its chance
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
        recorder.close()
    text = log.read_text(errors="replace")
    assert recorder.requests == [], (recorder.requests, text[-2000:])
    assert "external IP" not in text
    assert f"http://localhost:{port}" in text  # the address printed for the learner to open
