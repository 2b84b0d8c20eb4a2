"""The Practice judge: run a learner's code against an exercise's hidden tests, out of process.

The learner's code never runs in the server. :func:`judge` starts a fresh Python child
(``python -I`` with an almost empty environment, in a new session so the whole process group can
be killed) and the child, this same file run as a script:

1. leaves the network (a new network namespace when the kernel allows it; in any case
   ``socket`` is replaced by a function that raises),
2. imports torch and the exercise's test module, then says "ready",
3. caps its address space (``RLIMIT_AS``: what the runtime already uses plus ``Limits.memory_mb``),
   its CPU time and the size of files it may write,
4. compiles and runs the learner's code, then each test, streaming one JSON line per result over
   a private pipe (so whatever the learner prints cannot forge a result).

The parent enforces the wall-clock limit from "ready" on (importing torch takes about a second
and is not charged to the learner), kills the process group on timeout, and keeps only the first
``Limits.output_chars`` characters of what the learner printed.

Results are plain data (:class:`Report`, :class:`TestResult`) with bilingual messages, so a page
renders them and a test asserts on them without Streamlit.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MAX_CODE_CHARS = 100_000        # a submission longer than this is refused before starting a child
STARTUP_TIMEOUT_S = 60.0        # importing torch on a loaded machine; not charged to the learner
LEARNER_FILENAME = "<your code>"
_MB = 1024 * 1024
_EXIT_GRACE_S = 1.0             # after its last result, the child has this long to exit
_CPU_GRACE_S = 2                # RLIMIT_CPU backstop beyond the wall-clock limit
_FILE_SIZE_FACTOR = 4           # RLIMIT_FSIZE: this many times the output limit
_READ_CHUNK = 65536
_EXTRA_PROCESSES = 64           # RLIMIT_NPROC headroom for the learner (a fork-bomb backstop)
QUEUE_TIMEOUT_S = 60.0          # how long a submission waits for a free runner slot
# At most this many children at once, whatever the number of sessions: each holds torch
# (about 250 MB) plus its memory limit.
_RUN_SLOTS = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))
# The child's last word: stop reading here, even if a learner's grandchild keeps the pipe open.
_FINAL_EVENTS = frozenset({"done", "syntax_error", "load_error", "internal"})
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000


@dataclass(frozen=True)
class Limits:
    """What one submission may use."""

    time_s: float = 5.0          # wall clock for the learner's code and all tests together
    memory_mb: int = 512         # address space on top of what Python + torch already use
    output_chars: int = 10_000   # printed output kept and shown; the rest is cut


# Verdicts of a whole submission.
ACCEPTED = "accepted"
WRONG_ANSWER = "wrong_answer"
RUNTIME_ERROR = "runtime_error"
SYNTAX_ERROR = "syntax_error"
TIME_LIMIT = "time_limit"
MEMORY_LIMIT = "memory_limit"
DISABLED = "disabled"
REFUSED = "refused"
BUSY = "busy"
INTERNAL_ERROR = "internal_error"

# Statuses of one test.
PASSED = "passed"
FAILED = "failed"
ERROR = "error"


def _msg(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


@dataclass
class TestResult:
    """One hidden test: ``status`` is passed / failed / error."""

    __test__ = False  # not a pytest class

    name: dict[str, str]
    status: str
    message: dict[str, str] = field(default_factory=lambda: _msg("", ""))
    max_abs_diff: float | None = None
    learner_weights: list | None = None     # 2-D list (L x S) for a heatmap, when the test has one
    reference_weights: list | None = None
    figure: dict | None = None              # a Plotly figure (JSON dict) the learner's code built

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> TestResult:
        return cls(
            name=event["name"],
            status=event["status"],
            message=event.get("message") or _msg("", ""),
            max_abs_diff=event.get("max_abs_diff"),
            learner_weights=event.get("learner_weights"),
            reference_weights=event.get("reference_weights"),
            figure=event.get("figure"),
        )


@dataclass
class Report:
    """The outcome of one submission."""

    verdict: str
    message: dict[str, str]
    results: list[TestResult] = field(default_factory=list)
    output: str = ""                 # what the learner's code printed (stdout and stderr), cut
    output_truncated: bool = False
    seconds: float = 0.0             # wall time of the learner's part

    @property
    def passed(self) -> int:
        return sum(r.status == PASSED for r in self.results)

    @property
    def accepted(self) -> bool:
        return self.verdict == ACCEPTED

    def rows(self, lang: str) -> list[dict[str, Any]]:
        """One table row per test, in ``lang`` (for the page's results table)."""
        names = {PASSED: _msg("通过", "passed"), FAILED: _msg("未通过", "failed"),
                 ERROR: _msg("出错", "error")}
        return [
            {
                "test": r.name[lang],
                "status": names.get(r.status, _msg(r.status, r.status))[lang],
                "message": r.message.get(lang, ""),
                "max_abs_diff": r.max_abs_diff,
            }
            for r in self.results
        ]


# --------------------------------------------------------------------------------------------
# Parent side
# --------------------------------------------------------------------------------------------

def _child_env() -> dict[str, str]:
    """An almost empty environment: no secrets, no proxies, one BLAS thread."""
    return {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "HOME": tempfile.gettempdir(),
    }


def _user_tasks() -> int:
    """Threads this user runs now: RLIMIT_NPROC counts every task of the real user id."""
    uid = str(os.getuid())
    count = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError), open(f"/proc/{entry.name}/status") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
            if fields.get("Uid", "").split()[:1] == [uid]:
                count += int(fields.get("Threads", "1"))
    return count


def _read_capped(handle, limit: int) -> tuple[str, bool]:
    handle.flush()
    size = os.fstat(handle.fileno()).st_size
    handle.seek(0)
    data = handle.read(limit * 4)  # UTF-8: at most 4 bytes per character
    text = data.decode("utf-8", errors="replace")
    truncated = size > len(data) or len(text) > limit
    return text[:limit], truncated


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    proc.wait()


def judge(
    code: str,
    tests_path: str | os.PathLike,
    limits: Limits | None = None,
    *,
    enabled: bool | None = None,
) -> Report:
    """Run ``code`` against the test module at ``tests_path`` in a limited child process.

    ``enabled`` defaults to :func:`prep.settings.practice_enabled`; when False nothing runs.
    """
    limits = limits or Limits()
    if enabled is None:
        from prep import settings

        enabled = settings.practice_enabled()
    if not enabled:
        return Report(DISABLED, _msg(
            "练习功能已被管理员关闭，代码没有运行。",
            "Practice is switched off by the host; the code was not run.",
        ))
    if len(code) > MAX_CODE_CHARS:
        return Report(REFUSED, _msg(
            f"代码太长（{len(code)} 个字符，上限 {MAX_CODE_CHARS}），没有运行。",
            f"The code is too long ({len(code)} characters, limit {MAX_CODE_CHARS}); not run.",
        ))
    if not _RUN_SLOTS.acquire(timeout=QUEUE_TIMEOUT_S):
        return Report(BUSY, _msg("判题器正忙（其他人的代码在运行），请稍后再试。",
                                 "The judge is busy running other submissions; try again soon."))
    try:
        return _judge(code, tests_path, limits)
    finally:
        _RUN_SLOTS.release()


def _judge(code: str, tests_path: str | os.PathLike, limits: Limits) -> Report:
    job = {
        "code": code,
        "tests_path": str(Path(tests_path).resolve()),
        "root": str(PROJECT_ROOT),
        "memory_bytes": limits.memory_mb * _MB,
        "cpu_seconds": int(limits.time_s) + _CPU_GRACE_S,
        "file_bytes": limits.output_chars * _FILE_SIZE_FACTOR,
        # One character more than is kept: the parent sees the overflow and says "cut".
        "output_chars": limits.output_chars + 1,
        "user_tasks": _user_tasks(),
    }
    with tempfile.TemporaryDirectory(prefix="attn-judge-") as workdir, \
            tempfile.TemporaryFile(dir=workdir) as output:
        read_fd, write_fd = os.pipe()
        job["result_fd"] = write_fd
        try:
            proc = subprocess.Popen(
                [sys.executable, "-I", str(Path(__file__).resolve()), "--child"],
                stdin=subprocess.PIPE,
                stdout=output,
                stderr=subprocess.STDOUT,
                pass_fds=(write_fd,),
                cwd=workdir,
                env=_child_env(),
                start_new_session=True,
                close_fds=True,
            )
        finally:
            os.close(write_fd)
        try:
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.write(json.dumps(job).encode())
                proc.stdin.close()
            events, timed_out, seconds = _collect(proc, read_fd, limits.time_s)
        finally:
            os.close(read_fd)
            if proc.poll() is None:
                _kill_group(proc)
            # Grandchildren the learner started share the group; none may outlive the run.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        printed, truncated = _read_capped(output, limits.output_chars)
    return _report(events, timed_out, proc.returncode, printed, truncated, seconds, limits)


def _collect(proc: subprocess.Popen, read_fd: int, time_s: float):
    """Read result lines until the last one, EOF or the deadline.

    Returns (events, timed_out, learner seconds); a timeout before "ready" is the machine's
    fault (the runtime did not start in time), not the learner's.
    """
    events: list[dict] = []
    buffer = b""
    started = time.monotonic()
    deadline = started + STARTUP_TIMEOUT_S
    ready_at: float | None = None
    timed_out = finished = False
    while not finished:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            _kill_group(proc)
            break
        readable, _, _ = select.select([read_fd], [], [], remaining)
        if not readable:
            continue
        chunk = os.read(read_fd, _READ_CHUNK)
        if not chunk:
            break
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            events.append(event)
            if event.get("event") in _FINAL_EVENTS:
                finished = True
            if event.get("event") == "ready" and ready_at is None:
                ready_at = time.monotonic()
                deadline = ready_at + time_s
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=_EXIT_GRACE_S)  # e.g. a learner's thread or atexit hook that never ends
    if proc.poll() is None:
        _kill_group(proc)
    seconds = time.monotonic() - (ready_at or started)
    return events, timed_out, seconds


def _report(events, timed_out, returncode, printed, truncated, seconds, limits) -> Report:
    results = [TestResult.from_event(e) for e in events if e.get("event") == "test"]
    by_kind = {e.get("event"): e for e in events}
    report = Report(INTERNAL_ERROR, _msg("", ""), results, printed, truncated, seconds)
    if "syntax_error" in by_kind:
        report.verdict, report.message = SYNTAX_ERROR, by_kind["syntax_error"]["message"]
    elif timed_out and not any(e.get("event") == "ready" for e in events):
        report.message = _msg(
            f"判题进程在 {STARTUP_TIMEOUT_S:g} 秒内没有启动（服务器太忙？），请重试。",
            f"The judge did not start within {STARTUP_TIMEOUT_S:g} s (the server is busy?); "
            "try again.",
        )
    elif timed_out:
        report.verdict = TIME_LIMIT
        report.message = _msg(
            f"超时：代码在 {limits.time_s:g} 秒内没有跑完，进程已被终止（死循环？）。",
            f"Time limit exceeded: the code did not finish within {limits.time_s:g} s and was "
            "stopped (an endless loop?).",
        )
    elif "load_error" in by_kind:
        event = by_kind["load_error"]
        report.verdict = MEMORY_LIMIT if event.get("memory") else RUNTIME_ERROR
        report.message = event["message"]
    elif "done" in by_kind:
        memory = any(e.get("memory") for e in events if e.get("event") == "test")
        if all(r.status == PASSED for r in results):
            report.verdict = ACCEPTED
            report.message = _msg(
                f"全部 {len(results)} 个测试通过。", f"All {len(results)} tests passed."
            )
        else:
            report.verdict = (
                MEMORY_LIMIT if memory
                else RUNTIME_ERROR if any(r.status == ERROR for r in results)
                else WRONG_ANSWER
            )
            failed = len(results) - report.passed
            report.message = _msg(
                f"{len(results)} 个测试中有 {failed} 个没通过。",
                f"{failed} of {len(results)} tests did not pass.",
            )
            if memory:
                report.message = _memory_message(limits.memory_mb)
    elif "internal" in by_kind:
        report.message = by_kind["internal"]["message"]
    elif returncode is not None and returncode < 0:
        sig = -returncode
        kind = MEMORY_LIMIT if sig == signal.SIGKILL else RUNTIME_ERROR
        if sig == signal.SIGXCPU:
            kind = TIME_LIMIT
        report.verdict = kind
        report.message = _msg(
            f"进程被信号 {signal.Signals(sig).name} 终止（超出资源限制？）。",
            f"The process was killed by {signal.Signals(sig).name} (a resource limit?).",
        )
    else:
        report.verdict = RUNTIME_ERROR
        report.message = _msg(
            f"测试跑完之前进程就退出了（退出码 {returncode}）：代码里有 os._exit 或类似调用？",
            f"The process ended before the tests finished (exit code {returncode}): an os._exit "
            "or similar in the code?",
        )
    if report.verdict == TIME_LIMIT:
        done = {json.dumps(r.name, sort_keys=True) for r in results}
        for name in next((e["tests"] for e in events if e.get("event") == "ready"), []):
            if json.dumps(name, sort_keys=True) not in done:
                report.results.append(TestResult(name, ERROR, report.message))
    return report


def _memory_message(memory_mb: int) -> dict[str, str]:
    return _msg(
        f"超出内存限制：代码申请的内存超过 {memory_mb} MB。",
        f"Memory limit exceeded: the code asked for more than {memory_mb} MB.",
    )


# --------------------------------------------------------------------------------------------
# Child side (this file run as a script). Only the standard library until torch is imported.
# --------------------------------------------------------------------------------------------

class _CappedStream:
    """A text stream that writes to a file descriptor until a character budget is spent."""

    def __init__(self, fd: int, budget: list[int]):
        self._fd = fd
        self._budget = budget  # shared between stdout and stderr
        self.encoding = "utf-8"
        self.errors = "replace"

    def write(self, text: str) -> int:
        text = str(text)
        left = self._budget[0]
        if left > 0:
            part = text[:left]
            self._budget[0] -= len(part)
            with contextlib.suppress(OSError):
                os.write(self._fd, part.encode("utf-8", "replace"))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._fd


def _leave_network() -> None:
    """A private network namespace (no interfaces up) if the kernel lets us; best effort."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return
    for flags in (_CLONE_NEWUSER | _CLONE_NEWNET, _CLONE_NEWNET):
        if libc.unshare(flags) == 0:
            return


def _block_sockets() -> None:
    import socket

    def blocked(*_args, **_kwargs):
        raise OSError("network access is disabled in Practice / 练习中禁止联网")

    for name in ("socket", "create_connection", "create_server", "socketpair", "fromfd",
                 "getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        if hasattr(socket, name):
            setattr(socket, name, blocked)


def _is_memory_error(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and (
        "can't allocate memory" in text or "DefaultCPUAllocator" in text
    )


def _exception_message(exc: BaseException, memory_mb: int) -> dict[str, str]:
    """The exception text plus the line of the learner's code it came from."""
    if _is_memory_error(exc):
        return _memory_message(memory_mb)
    import traceback

    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == LEARNER_FILENAME:
            line = frame.lineno
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    if line is None:
        return _msg(text, text)
    return _msg(f"{text}（你的代码第 {line} 行）", f"{text} (line {line} of your code)")


def _child_main() -> None:
    job = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    out_fd = job["result_fd"]

    def send(event: dict) -> None:
        os.write(out_fd, (json.dumps(event, ensure_ascii=False) + "\n").encode("utf-8"))

    _leave_network()
    sys.path.insert(0, job["root"])
    import importlib.util
    import resource

    try:
        import torch  # noqa: F401  (imported before the limits: the runtime's own memory)

        spec = importlib.util.spec_from_file_location("_exercise_tests", job["tests_path"])
        tests = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(tests)
        from prep.exercises import harness
    except Exception as exc:  # a broken exercise, not the learner's fault
        send({"event": "internal", "message": _msg(f"练习的测试无法加载：{exc!r}",
                                                    f"The exercise's tests failed to load: "
                                                    f"{exc!r}")})
        return
    cases = harness.collect_cases(tests)
    send({"event": "ready", "tests": [case.title for case in cases]})

    budget = [job["output_chars"]]
    sys.stdout = _CappedStream(1, budget)
    sys.stderr = _CappedStream(2, budget)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    used = _address_space_bytes()
    memory_mb = job["memory_bytes"] // _MB
    for limit, value in (
        (resource.RLIMIT_AS, used + job["memory_bytes"]),
        (resource.RLIMIT_CPU, _cpu_seconds() + job["cpu_seconds"]),
        (resource.RLIMIT_FSIZE, job["file_bytes"]),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_NPROC, job["user_tasks"] + _EXTRA_PROCESSES),
    ):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(limit, (value, value))
    _block_sockets()

    try:
        compiled = compile(job["code"], LEARNER_FILENAME, "exec")
    except SyntaxError as exc:
        detail = f"{type(exc).__name__}: {exc.msg}"
        where = exc.lineno or 0
        send({"event": "syntax_error", "message": _msg(
            f"语法错误，第 {where} 行：{detail}", f"Syntax error on line {where}: {detail}")})
        return
    namespace: dict[str, Any] = {"__name__": "__learner__", "__builtins__": __builtins__}
    try:
        exec(compiled, namespace)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt from learner code included
        send({"event": "load_error", "memory": _is_memory_error(exc),
              "message": _exception_message(exc, memory_mb)})
        return
    def describe(exc: BaseException) -> tuple[dict[str, str], bool]:
        return _exception_message(exc, memory_mb), _is_memory_error(exc)

    for case in cases:
        send({"event": "test", **harness.run_case(case, namespace, describe)})
    send({"event": "done"})


def _address_space_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _cpu_seconds() -> int:
    usage = os.times()
    return int(usage.user + usage.system) + 1


if __name__ == "__main__" and sys.argv[1:] == ["--child"]:
    _child_main()
