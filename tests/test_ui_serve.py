"""``python -m prep serve``: the preload leaves the first page nothing of its own to do (the bank
already in the pages' cache, the database already at the newest revision), and a database it
cannot open does not stop the server (each page explains it)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60

FIRST_PAGE_AFTER_PRELOAD = """
import os, sys
from pathlib import Path
os.environ["ATTN_PREP_DB"] = {db!r}
from prep import ui_serve
ui_serve.preload()
assert Path({db!r}).exists()

import prep.bank
def no_second_load(*args, **kwargs):
    raise AssertionError("the page loaded the bank again")
prep.bank.load_bank = no_second_load

from streamlit.testing.v1 import AppTest
at = AppTest.from_file(str(ui_serve.APP), default_timeout=60).run()
assert not at.exception, at.exception
assert not at.error, [e.value for e in at.error]
print("alembic" in sys.modules, len(at.metric))
"""


def test_after_the_preload_the_first_page_reuses_the_bank_and_the_database(tmp_path):
    db = str(tmp_path / "progress.sqlite3")
    done = subprocess.run([sys.executable, "-c", FIRST_PAGE_AFTER_PRELOAD.format(db=db)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-2:] == ["False", "5"]  # no Alembic; Home's five study counts


def test_serve_starts_on_a_read_only_database_and_logs_why(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    port = free_port()
    log = tmp_path / "server.log"
    env = {**os.environ, "ATTN_PREP_DB": str(folder / "progress.sqlite3")}
    server = subprocess.Popen(
        [sys.executable, "-m", "prep", "serve", "--server.port", str(port),
         "--server.address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                            timeout=1) as response:
                    if response.read() == b"ok":
                        break
            except OSError:
                time.sleep(0.2)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
        folder.chmod(stat.S_IRWXU)
    text = log.read_text()
    assert "was not opened at start" in text and "read-only" in text
    assert "Traceback" not in text
