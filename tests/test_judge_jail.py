"""The judge's jail, per backend (ATTN_PREP_JAIL forces each): what hostile learner code gets.

One submission per backend tries every attack and prints what happened; each test asserts the
outcome that backend promises (the table in the package docstring of prep.judge). The planted
files live in folders every user may read and write, so what stops the learner is the jail, not
file permissions. A fork bomb runs on its own, per backend.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from prep import judge
from prep.exercises import get
from prep.judge import jail, parent
from prep.store import Store

EXERCISE = get("sdpa-masked")
LIMITS = judge.Limits(time_s=10.0, memory_mb=256, output_chars=20_000)
BACKENDS = (jail.BUBBLEWRAP, jail.LANDLOCK, jail.NONE)
SECRET = "planted-secret-7f3a"
MAX_FORKS = 64 + 16   # the process-count headroom, plus the jail user's tasks of other tests
ATTACK = """
import json, os, _socket
out = {{}}
def attempt(name, fn):
    try:
        out[name] = "ok:" + str(fn())[:300]
    except BaseException as exc:
        out[name] = "denied:" + type(exc).__name__
attempt("read_planted", lambda: open({planted!r}).read())
attempt("read_db", lambda: open({db!r}, "rb").read(16))
attempt("read_solution", lambda: open({solution!r}).read())
attempt("write_outside", lambda: open({target!r}, "w").write("pwned"))
attempt("write_own_folder", lambda: open("mine.txt", "w").write("x"))
attempt("see_server", lambda: str({server_pid}) in os.listdir("/proc"))
attempt("count_processes", lambda: sum(p.isdigit() for p in os.listdir("/proc")))
attempt("import_prep", lambda: __import__("prep.exercises").__file__)
attempt("import_attention", lambda: __import__("attention").__file__)
def connect():
    s = _socket.socket()
    s.settimeout(2)
    s.connect(("127.0.0.1", {port}))
    return "connected"
attempt("connect", connect)
def patched():
    import socket
    return socket.create_connection(("127.0.0.1", {port}), timeout=2)
attempt("socket_module", patched)
attempt("uid", os.getuid)
attempt("cwd", os.getcwd)
print("RESULT" + json.dumps(out))
"""
FORK_BOMB = """
import os, time
forks = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        forks += 1
except OSError as exc:
    print("FORKS", forks, type(exc).__name__, flush=True)
"""


def _open_folder(mode: int) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="attn-jail-test-"))
    folder.chmod(mode)
    return folder


@pytest.fixture(scope="module", params=BACKENDS)
def attack(request):
    """(backend, outcomes, planted paths, port): one attacking submission under each backend."""
    backend = request.param
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(jail.JAIL_ENV, backend)
        readable, writable = _open_folder(0o755), _open_folder(0o777)
        planted = readable / "secret.txt"
        planted.write_text(SECRET)
        planted.chmod(0o644)
        db = readable / "progress.sqlite3"
        Store(db)
        db.chmod(0o644)
        target = writable / "pwned.txt"
        solution = EXERCISE.tests_path.with_suffix(".yaml")
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen()
            server.settimeout(0.2)
            port = server.getsockname()[1]
            code = ATTACK.format(planted=str(planted), db=str(db), solution=str(solution),
                                 target=str(target), port=port, server_pid=os.getpid())
            report = judge.judge(textwrap.dedent(code), EXERCISE.tests_path, LIMITS, enabled=True)
            with pytest.raises(TimeoutError):
                server.accept()
                pytest.fail("the learner's code reached the server's port")
        line = next(x for x in report.output.splitlines() if x.startswith("RESULT"))
        yield backend, json.loads(line[len("RESULT"):]), {"target": target}, report
        shutil.rmtree(readable)
        shutil.rmtree(writable)


def _ok(outcome: str) -> bool:
    return outcome.startswith("ok:")


def test_the_forced_backend_is_the_one_used(attack):
    backend, _, _, report = attack
    assert report.jail == backend
    assert report.verdict == judge.WRONG_ANSWER  # the tests still ran after the attacks


def test_reading_a_file_planted_outside_the_folder(attack):
    backend, out, _, _ = attack
    if backend == jail.NONE:
        assert out["read_planted"] == "ok:" + SECRET       # not isolated: said on the page
    else:
        assert out["read_planted"] in {"denied:FileNotFoundError", "denied:PermissionError"}


def test_reading_the_progress_database_and_the_reference_solutions(attack):
    backend, out, _, _ = attack
    if backend == jail.NONE:
        assert out["read_db"].startswith("ok:b'SQLite format 3")
    else:
        assert not _ok(out["read_db"]) and not _ok(out["read_solution"])


def test_writing_outside_the_folder(attack):
    backend, out, paths, _ = attack
    assert _ok(out["write_own_folder"])
    if backend == jail.NONE:
        assert _ok(out["write_outside"]) and paths["target"].exists()
    else:
        assert not _ok(out["write_outside"]) and not paths["target"].exists()


def test_listing_other_processes(attack):
    backend, out, _, _ = attack
    if backend == jail.BUBBLEWRAP:   # its own PID namespace: only the jail's few processes
        assert out["see_server"] == "ok:False" and int(out["count_processes"][3:]) <= 4
    elif backend == jail.LANDLOCK:   # /proc is outside what it may read
        assert out["see_server"] == out["count_processes"] == "denied:PermissionError"
    else:
        assert out["see_server"] == "ok:True"


def test_opening_a_socket(attack):
    """The fixture already asserted that no backend let a connection reach the server."""
    backend, out, _, _ = attack
    assert out["socket_module"] == "denied:OSError"   # the Python-level refusal, everywhere
    # bubblewrap: its own loopback, where nothing listens (or Landlock's refusal, layered on top)
    expected = {jail.BUBBLEWRAP: {"denied:ConnectionRefusedError", "denied:PermissionError"},
                jail.LANDLOCK: {"denied:PermissionError"}}
    if backend in expected:
        assert out["connect"] in expected[backend]


def test_learner_cannot_import_our_packages(attack):
    _, out, _, _ = attack
    assert out["import_prep"] == "denied:ModuleNotFoundError"
    assert out["import_attention"] == "denied:ModuleNotFoundError"


def test_a_root_server_drops_the_child_to_the_jail_user(attack):
    _, out, _, _ = attack
    expected = jail.jail_uid() if os.geteuid() == 0 else os.getuid()
    assert out["uid"] == f"ok:{expected}"


def _wait_until_the_jail_user_has_no_tasks(timeout_s: float = 15.0) -> None:
    """A previous fork bomb's children may still be exiting: the headroom is computed from the
    jail user's tasks at the start of a run, so tasks that exit during it would free more slots
    and make the count below flaky (it was 125 once in a fresh clone)."""
    if os.geteuid() != 0:
        return  # not root: learner code runs as our own uid, which always has tasks
    uid, deadline = jail.jail_uid(), time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        owners = []
        for entry in Path("/proc").iterdir():
            try:
                owners.append(entry.stat().st_uid if entry.name.isdigit() else None)
            except OSError:
                continue  # exited while we looked
        if uid not in owners:
            return
        time.sleep(0.1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_fork_bomb_is_stopped_and_the_judge_keeps_working(backend, monkeypatch):
    monkeypatch.setenv(jail.JAIL_ENV, backend)
    _wait_until_the_jail_user_has_no_tasks()
    report = judge.judge(FORK_BOMB, EXERCISE.tests_path, LIMITS, enabled=True)
    words = next(x for x in report.output.splitlines() if x.startswith("FORKS")).split()
    assert int(words[1]) <= MAX_FORKS and words[2] == "BlockingIOError"
    assert judge.judge(EXERCISE.solution, EXERCISE.tests_path, LIMITS,
                       enabled=True).verdict == judge.ACCEPTED


def test_work_folder_is_deleted_after_the_run(monkeypatch):
    marker = "attn-jail-marker-51c2"
    report = judge.judge(f"open('left.txt', 'w').write({marker!r})\nprint('ran')\n",
                         EXERCISE.tests_path, LIMITS, enabled=True)
    assert report.output.startswith("ran")
    for folder in Path(tempfile.gettempdir()).glob("attn-judge-*"):
        assert not any(marker in p.read_text(errors="replace")
                       for p in folder.rglob("left.txt") if p.is_file())


def test_a_forced_backend_that_cannot_run_refuses_to_run(monkeypatch):
    monkeypatch.setenv(jail.JAIL_ENV, jail.BUBBLEWRAP)
    monkeypatch.setattr(jail, "bubblewrap_problem", lambda: "bwrap is not installed")
    report = judge.judge("print('ran')\n", EXERCISE.tests_path, LIMITS, enabled=True)
    assert report.verdict == judge.INTERNAL_ERROR and "bwrap is not installed" in report.message.en
    assert report.output == ""
    assert "bwrap is not installed" in judge.isolation_notice().en


def test_the_page_notice_names_what_is_not_isolated():
    assert judge.isolation_notice(jail.BUBBLEWRAP) is None
    assert "UDP" in judge.isolation_notice(jail.LANDLOCK).en
    assert "without isolation" in judge.isolation_notice(jail.NONE).en
    assert "没有隔离" in judge.isolation_notice(jail.NONE).zh


@pytest.mark.parametrize("backend", [jail.BUBBLEWRAP, jail.LANDLOCK])
def test_an_installed_copy_of_our_packages_in_site_packages_stays_hidden(backend, monkeypatch,
                                                                        request):
    """A non-editable install (the Docker image) puts prep/ and attention/ in site-packages,
    which the learner's Python must read: the jail covers (bubblewrap) or carves out (Landlock)
    our folders, and the import system refuses them."""
    site = _open_folder(0o755)
    request.addfinalizer(lambda: shutil.rmtree(site, ignore_errors=True))
    shutil.copytree(parent.PROJECT_ROOT / "prep", site / "prep",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(parent.PROJECT_ROOT / "attention", site / "attention",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (site / "site_neighbour.py").write_text("VALUE = 7\n")
    for path in (site, *site.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    real = jail.interpreter_paths()
    monkeypatch.setattr(jail, "interpreter_paths", lambda: [*real, str(site)])
    monkeypatch.setattr(parent, "PROJECT_ROOT", site)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv(jail.JAIL_ENV, backend)
    solution = site / "prep" / "exercises" / "sdpa_masked.yaml"
    code = textwrap.dedent(f"""
        try:
            open({str(solution)!r}).read()
            print("READ")
        except OSError as exc:
            print("DENIED", type(exc).__name__)
        try:
            import prep.exercises
            print("IMPORTED")
        except ImportError as exc:
            print("REFUSED", type(exc).__name__)
        import site_neighbour
        print("NEIGHBOUR", site_neighbour.VALUE)
    """)
    report = judge.judge(code, EXERCISE.tests_path, LIMITS, enabled=True)
    lines = [*report.output.splitlines(), report.message.en]
    assert lines[0].startswith("DENIED") and lines[1] == "REFUSED ModuleNotFoundError", lines
    assert lines[2] == "NEIGHBOUR 7"   # the folder is importable in general, our packages not


HIDDEN_TESTS_USING_ATTENTION = '''
import torch
from attention.functional import scaled_dot_product_attention as ours
from prep.exercises.harness import case, compare, entry, gen, randn


@case("与 attention 包一致", "matches the attention package")
def matches_the_package(ns):
    g = gen(5)
    q, k, v = (randn(1, 3, 4, generator=g) for _ in range(3))
    compare("输出", "output", entry(ns, "attend")(q, k, v), ours(q, k, v).output)
'''


@pytest.mark.parametrize("backend", BACKENDS)
def test_hidden_tests_may_import_attention_the_learner_may_not(backend, monkeypatch, tmp_path):
    monkeypatch.setenv(jail.JAIL_ENV, backend)
    tests_path = tmp_path / "uses_attention.py"
    tests_path.write_text(HIDDEN_TESTS_USING_ATTENTION)
    learner = textwrap.dedent("""
        import torch
        try:
            import attention
            print("IMPORTED")
        except ImportError:
            print("REFUSED")
        def attend(q, k, v):
            w = torch.softmax(q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5, dim=-1)
            return w @ v
    """)
    report = judge.judge(learner, tests_path, LIMITS, enabled=True)
    assert report.verdict == judge.ACCEPTED, report.message.en
    assert report.output.strip() == "REFUSED"


@pytest.mark.parametrize("backend", BACKENDS)
def test_learner_may_import_any_module_of_the_interpreter_after_the_drop(backend, monkeypatch):
    monkeypatch.setenv(jail.JAIL_ENV, backend)
    code = ("import secrets, uuid, csv, zipfile, plotly.graph_objects as go\n"
            "print('IMPORTED', len(secrets.token_hex(4)), go.Figure().to_dict()['data'])\n")
    report = judge.judge(code, EXERCISE.tests_path, LIMITS, enabled=True)
    assert report.output.startswith("IMPORTED 8 []"), report.output


@pytest.mark.parametrize("backend", [jail.LANDLOCK, jail.NONE])
def test_time_and_memory_limits_hold_under_every_backend(backend, monkeypatch):
    """bubblewrap (the default here) runs every test of tests/test_judge.py."""
    monkeypatch.setenv(jail.JAIL_ENV, backend)
    limits = judge.Limits(time_s=2.0, memory_mb=256)
    loop = judge.judge("while True:\n    pass\n", EXERCISE.tests_path, limits, enabled=True)
    assert loop.verdict == judge.TIME_LIMIT
    bomb = judge.judge("blocks = []\nwhile True:\n    blocks.append(bytearray(64 << 20))\n",
                       EXERCISE.tests_path, limits, enabled=True)
    assert bomb.verdict == judge.MEMORY_LIMIT and "256 MB" in bomb.message.en


def test_an_interpreter_the_jail_user_cannot_read_is_detected():
    # A pyenv under /root (0700) is readable by root only: once the child dropped root, outside
    # bubblewrap, modules it had not imported yet could not load (hidden tests calling
    # torch.broadcast_shapes failed with "SymPy now depends on mpmath", plotly figures with
    # "No module named 'secrets'"). Detected, the child keeps descriptors to the folders.
    closed = Path(tempfile.mkdtemp(prefix="attn-jail-test-"))
    inner = closed / "python"
    inner.mkdir(mode=0o755)
    try:
        closed.chmod(0o700)
        assert not jail.readable_by_anyone([str(inner)])
        closed.chmod(0o755)
        assert jail.readable_by_anyone([str(inner)])
    finally:
        shutil.rmtree(closed)
