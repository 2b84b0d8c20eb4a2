"""Real browser, the many-learner shape: two app replicas on one PostgreSQL, and Debian's nginx
with deploy/nginx.conf in front of them (websockets through it, cookie affinity holding)."""

from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import ROOT, StreamlitServer, free_port, wait_idle
from pg_server import PostgresServer

from prep.store import Store

pytestmark = pytest.mark.browser
NGINX = "/usr/sbin/nginx"
START_TIMEOUT_S = 30


@pytest.fixture(scope="module")
def replicas(tmp_path_factory) -> Iterator[tuple[str, list[StreamlitServer]]]:
    """A throwaway PostgreSQL and two app servers using it (as two hosts' replicas would)."""
    root = tmp_path_factory.mktemp("replicas")
    database = PostgresServer()
    database.start()
    url = database.new_database()
    env = {**os.environ, "ATTN_PREP_DB_URL": url, "ATTN_PREP_DB": str(root / "unused.sqlite3"),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    servers = [StreamlitServer(env, root / f"replica{i}.log") for i in (1, 2)]
    try:
        for server in servers:
            server.start()
        yield url, servers
    finally:
        for server in servers:
            server.stop()
        database.stop()


def metric(page, label: str) -> int:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label)
    return int(box.locator('[data-testid="stMetricValue"]').inner_text())


def grade_one_card(page, base: str) -> None:
    page.goto(f"{base}/Quiz?lang=en")
    wait_idle(page)
    page.locator(".st-key-quiz_count input").fill("1")
    page.locator(".st-key-quiz_count input").press("Enter")
    wait_idle(page)
    page.locator(".st-key-quiz_start button").click()
    page.locator(".st-key-quiz_reveal button").click()
    page.locator(".st-key-quiz_grade_3 button").click()  # Good
    page.locator(".st-key-quiz_new").wait_for()  # the end-of-quiz summary


def test_a_card_graded_on_one_postgres_replica_is_due_later_on_the_other(replicas, browser):
    url, (one, two) = replicas
    page = browser.new_page()
    page.goto(f"{two.url}/?lang=en")
    wait_idle(page)
    new_before, due_before = metric(page, "New"), metric(page, "Due now")

    grade_one_card(page, one.url)

    page.goto(f"{two.url}/?lang=en")
    wait_idle(page)
    assert metric(page, "New") == new_before - 1
    assert metric(page, "Due now") == due_before  # graded Good: due later, not now
    [review] = Store(url).reviews()
    assert Store(url).card(review.question_id).due > datetime.now(UTC)
    page.close()


def nginx_config(root: Path, port: int, upstreams: list[int]) -> Path:
    """deploy/nginx.conf with loopback replicas and port, inside a minimal main config."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=2 fail_timeout=10s;"
                        for p in upstreams)
    text, count = re.subn(r"(?m)^    server app\d:8501.*\n", "", text)
    assert count == 2, "deploy/nginx.conf lists app1 and app2"
    text = text.replace("    hash $attn_affinity consistent;\n",
                        f"    hash $attn_affinity consistent;\n{servers}\n")
    text = text.replace("listen 80;", f"listen 127.0.0.1:{port};")
    (root / "site.conf").write_text(text)
    main = root / "nginx.conf"
    main.write_text(
        f"daemon off;\nmaster_process off;\npid {root}/nginx.pid;\nerror_log {root}/error.log;\n"
        "events {}\n"
        f"http {{\n  access_log {root}/access.log;\n  client_body_temp_path {root}/body;\n"
        f"  proxy_temp_path {root}/proxy;\n  include {root}/site.conf;\n}}\n")
    return main


@pytest.fixture
def nginx(replicas, tmp_path) -> Iterator[str]:
    _, servers = replicas
    port = free_port()
    config = nginx_config(tmp_path, port, [s.port for s in servers])
    process = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).read()
            break
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode()) from None
            time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=10)


def served_by(base: str, opener: urllib.request.OpenerDirector) -> str:
    with opener.open(f"{base}/_stcore/health", timeout=5) as response:
        return response.headers["X-Served-By"]


def test_nginx_with_the_deploy_config_proxies_websockets_and_keeps_affinity(
        replicas, nginx, browser):
    url, servers = replicas
    sticky = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    first = served_by(nginx, sticky)
    assert {served_by(nginx, sticky) for _ in range(15)} == {first}  # the cookie holds
    fresh = {served_by(nginx, urllib.request.build_opener()) for _ in range(30)}
    assert fresh == {f"127.0.0.1:{s.port}" for s in servers}  # new browsers spread over both

    reviews_before = len(Store(url).reviews())
    page = browser.new_page()
    grade_one_card(page, nginx)  # the whole quiz runs over the proxied websocket
    page.close()
    assert len(Store(url).reviews()) == reviews_before + 1
