"""The Practice judge (prep/judge/): learner code runs in a limited child process.

Each hostile or broken submission gives a clear verdict within its limit, and the judging process
(standing in for the app server) keeps working: an endless loop, a memory bomb, a syntax error, an
exception, megabytes of printing, network access, a grandchild process, a shell command while
Practice is switched off.
"""

from __future__ import annotations

import socket
import textwrap
import time
from pathlib import Path

import pytest

from prep import judge, practice_report
from prep.exercises import get
from prep.i18n import Text

LIMITS = judge.Limits(time_s=2.0, memory_mb=256, output_chars=2_000)
EXERCISE = get("sdpa-masked")
KILL_POLLS, KILL_POLL_S = 50, 0.1


def run(code: str, limits: judge.Limits = LIMITS, **kwargs) -> judge.Report:
    return judge.judge(textwrap.dedent(code), EXERCISE.tests_path, limits, enabled=True, **kwargs)


def test_reference_is_accepted_with_weights_for_the_heatmap():
    report = run(EXERCISE.solution)
    assert report.verdict == judge.ACCEPTED and report.accepted
    assert report.passed == len(report.results) == 4
    first = report.results[0]
    assert first.learner_weights and first.reference_weights
    assert first.max_abs_diff is not None and first.max_abs_diff < 1e-4


def test_endless_loop_is_stopped_at_the_time_limit_and_the_next_run_works():
    report = run("""
        def scaled_dot_product_attention(query, key, value, attn_mask=None):
            while True:
                pass
    """)
    assert report.verdict == judge.TIME_LIMIT
    assert "Time limit exceeded" in report.message["en"] and "2 s" in report.message["en"]
    assert all(r.status == judge.ERROR for r in report.results)
    assert len(report.results) == 4  # every test is reported, none silently dropped
    assert run(EXERCISE.solution).verdict == judge.ACCEPTED


def test_endless_loop_at_module_level():
    report = run("while True:\n    pass\n")
    assert report.verdict == judge.TIME_LIMIT


def _running(marker: str) -> list[int]:
    """Host pids of live (not zombie) processes whose command line holds ``marker``: a jail's
    PID namespace numbers its processes differently, so the learner cannot tell us its pids."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def _all_die(marker: str) -> bool:
    """SIGKILL is delivered asynchronously: give the kernel a moment to finish the processes."""
    for _ in range(KILL_POLLS):
        if not _running(marker):
            return True
        time.sleep(KILL_POLL_S)
    return False


def test_grandchild_processes_are_killed_with_the_submission():
    report = run("""
        import subprocess
        child = subprocess.Popen(["sleep", "61.25"])
        print("started", flush=True)
        while True:
            pass
    """)
    assert report.verdict == judge.TIME_LIMIT
    assert report.output.startswith("started")
    assert _all_die("sleep 61.25")


def test_grandchild_holding_the_result_pipe_does_not_stall_the_judge():
    report = run("""
        import os
        pid = os.fork()
        if pid == 0:
            os.execv("/bin/sleep", ["sleep", "62.5"])
        print("started", flush=True)
    """)
    assert report.verdict == judge.WRONG_ANSWER  # judged at once, not left to time out
    assert len(report.results) == 4
    assert _all_die("sleep 62.5")


def test_memory_bomb_gives_memory_limit():
    report = run("""
        blocks = []
        while True:
            blocks.append(bytearray(64 * 1024 * 1024))
    """)
    assert report.verdict == judge.MEMORY_LIMIT
    assert "Memory limit exceeded" in report.message["en"] and "256 MB" in report.message["en"]


def test_huge_tensor_inside_the_function_gives_memory_limit_per_test():
    report = run("""
        import torch
        def scaled_dot_product_attention(query, key, value, attn_mask=None):
            return torch.empty(10**11), None
    """)
    assert report.verdict == judge.MEMORY_LIMIT
    assert all("Memory limit exceeded" in r.message["en"] for r in report.results)


def test_syntax_error_names_the_line():
    report = run("import torch\n\ndef scaled_dot_product_attention(q, k, v, attn_mask=None)\n    "
                 "return q\n")
    assert report.verdict == judge.SYNTAX_ERROR
    assert "line 3" in report.message["en"] and "第 3 行" in report.message["zh"]
    assert not report.results


def test_exception_names_the_error_and_the_line_of_the_learners_code():
    report = run("""
        def scaled_dot_product_attention(query, key, value, attn_mask=None):
            scores = query @ key
            return scores, scores
    """)
    assert report.verdict == judge.RUNTIME_ERROR
    message = report.results[0].message["en"]
    assert message.startswith("RuntimeError") and "line 3 of your code" in message
    assert "Traceback" not in message


def test_system_exit_is_an_error_not_a_crash():
    report = run("raise SystemExit(3)\n")
    assert report.verdict == judge.RUNTIME_ERROR
    assert "SystemExit" in report.message["en"]


def test_megabytes_of_printing_are_cut_and_judging_goes_on():
    report = run("""
        import os
        for i in range(200_000):
            print("spam", i)
        os.write(1, b"x" * 5_000_000)
        def scaled_dot_product_attention(query, key, value, attn_mask=None):
            print("inside" * 100_000)
            return query, None
    """)
    assert report.verdict == judge.WRONG_ANSWER  # the tests still ran and judged the answer
    assert len(report.results) == 4
    assert report.output_truncated
    assert len(report.output) <= LIMITS.output_chars
    assert report.output.startswith("spam 0\nspam 1\n")


def test_network_is_unreachable(tmp_path):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.1)
        port = server.getsockname()[1]
        report = run(f"""
            import socket
            socket.create_connection(("127.0.0.1", {port}), timeout=1)
        """)
        assert report.verdict == judge.RUNTIME_ERROR
        assert "network access is disabled" in report.message["en"]
        raw = run(f"""
            import _socket
            s = _socket.socket()
            s.settimeout(1)
            s.connect(("127.0.0.1", {port}))
        """)
        assert raw.verdict == judge.RUNTIME_ERROR
        # The jail's own loopback refuses, or Landlock denies: an OSError subclass either way.
        assert any(kind in raw.message["en"] for kind in
                   ("OSError", "PermissionError", "ConnectionRefusedError", "unreachable"))
        with pytest.raises(TimeoutError):
            server.accept()


def test_child_sees_no_secrets_from_the_server_environment(monkeypatch):
    monkeypatch.setenv("ATTN_PREP_SECRET_FOR_TEST", "hunter2")
    report = run("import os\nprint(sorted(os.environ))\n")
    assert "ATTN_PREP_SECRET_FOR_TEST" not in report.output
    assert "hunter2" not in report.output


def test_shell_command_when_practice_is_off_runs_nothing(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    code = f"import os\nos.system('touch {marker}')\n"
    report = judge.judge(code, EXERCISE.tests_path, LIMITS, enabled=False)
    assert report.verdict == judge.DISABLED
    assert "switched off by the host" in report.message["en"]
    monkeypatch.setenv("ATTN_PREP_PRACTICE", "off")
    assert judge.judge(code, EXERCISE.tests_path, LIMITS).verdict == judge.DISABLED
    assert not marker.exists()


def test_shell_command_runs_only_inside_the_sandbox_when_practice_is_on():
    """With Practice on, a shell command runs in the child's empty environment, in its own
    temporary working directory (deleted afterwards: tests/test_judge_jail.py)."""
    report = run("import os\nprint(os.getcwd())\nprint(os.system('true'))\n")
    workdir, status = report.output.split()[:2]
    assert workdir.endswith("/work") and status == "0"
    assert not workdir.startswith(str(Path.cwd()))


def test_code_too_long_is_refused_without_starting_a_child():
    report = run("x = 1\n" * (judge.MAX_CODE_CHARS // 6 + 1))
    assert report.verdict == judge.REFUSED


def test_broken_exercise_module_is_an_internal_error(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("raise ImportError('no such thing')\n")
    report = judge.judge("x = 1\n", broken, LIMITS, enabled=True)
    assert report.verdict == judge.INTERNAL_ERROR
    assert "failed to load" in report.message["en"]


def test_result_rows_are_bilingual():
    report = run(EXERCISE.solution.replace("* scale", ""))
    rows_en, rows_zh = practice_report.table(report, "en"), practice_report.table(report, "zh")
    assert any("Missing scale" in row["message"] for row in rows_en)
    assert any("缺少缩放" in row["message"] for row in rows_zh)
    assert {row["test"] for row in rows_en} != {row["test"] for row in rows_zh}
    # The child's JSON arrives as the one bilingual type, never as {"zh", "en"} dicts.
    assert isinstance(report.message, Text)
    assert all(isinstance(r.name, Text) for r in report.results)
    assert all(isinstance(r.message, Text) for r in report.results if r.status != judge.PASSED)
    assert all(r.message is None for r in report.results if r.status == judge.PASSED)


def test_os_exit_in_learner_code_is_reported_not_mistaken_for_a_judge_fault():
    report = run("import os\nos._exit(0)\n")
    assert report.verdict == judge.RUNTIME_ERROR
    assert "ended before the tests finished" in report.message["en"]


# --- regressions found by hands-on QA ------------------------------------------------------------


def test_print_overflow_alone_is_reported_as_cut():
    # print() alone (no os.write) used to stop exactly at the limit, so the page never said
    # the output had been cut.
    report = run("print('x' * 5_000_000)\n")
    assert report.output_truncated
    assert report.output == "x" * LIMITS.output_chars
    exact = run("print('y' * 1999, end='')\n")  # 1999 + nothing: within the limit
    assert not exact.output_truncated and exact.output == "y" * 1999


@pytest.mark.parametrize("returned, zh, en", [
    ("weights @ value, weights, 1", "含 3 个元素的 tuple", "a tuple of 3 items"),
    ("(weights @ value,)", "含 1 个元素的 tuple", "a tuple of 1 items"),
    ("[weights]", "含 1 个元素的 list", "a list of 1 items"),
    ("None", "NoneType", "NoneType"),
])
def test_a_tuple_of_the_wrong_length_says_how_many_items_came_back(returned, zh, en):
    report = run(f"""
        import torch
        def scaled_dot_product_attention(query, key, value, attn_mask=None):
            weights = torch.softmax(query @ key.transpose(-2, -1), dim=-1)
            return {returned}
    """)
    assert report.verdict == judge.WRONG_ANSWER
    assert all(en in r.message["en"] and zh in r.message["zh"] for r in report.results)
