"""The judge's parent side: prepare a run's folder, spawn the child (jailed), collect, kill."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import prep.judge.jail as jail
from prep.judge.notice import isolation_notice
from prep.judge.report import (
    BUSY,
    BUSY_TEXT,
    DISABLED,
    DISABLED_TEXT,
    INTERNAL_ERROR,
    JAIL_TEXT,
    REFUSED,
    REFUSED_TEXT,
    STARTUP_TIMEOUT_S,
    Limits,
    Report,
    build_report,
)

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent.parent
HARNESS_FILES = ("harness.py", "checks.py")   # what the hidden tests may import of prep
MAX_CODE_CHARS = 100_000        # a submission longer than this is refused before starting a child
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
_WARNED: set[str] = set()


def judge(code: str, tests_path: str | os.PathLike, limits: Limits | None = None, *,
          enabled: bool | None = None) -> Report:
    """Run ``code`` against the test module at ``tests_path`` in a jailed, limited child process.

    ``enabled`` defaults to :func:`prep.settings.practice_enabled`; when False nothing runs.
    """
    limits = limits or Limits()
    if enabled is None:
        from prep import settings

        enabled = settings.practice_enabled()
    if not enabled:
        return Report(DISABLED, DISABLED_TEXT)
    if len(code) > MAX_CODE_CHARS:
        return Report(REFUSED, REFUSED_TEXT.format(len(code), MAX_CODE_CHARS))
    try:
        backend = jail.choose()
    except jail.JailError as exc:
        log.error("Practice: %s", exc)
        return Report(INTERNAL_ERROR, JAIL_TEXT.format(exc))
    if backend != jail.BUBBLEWRAP and backend not in _WARNED:
        _WARNED.add(backend)
        why = jail.bubblewrap_problem() if backend != jail.NONE or jail.requested() != jail.NONE \
            else None
        log.warning("Practice runs learners' code with the %r jail: %s%s", backend,
                    _isolation_gap(backend), f" (bubblewrap is not used: {why})" if why else "")
    if not _RUN_SLOTS.acquire(timeout=QUEUE_TIMEOUT_S):
        return Report(BUSY, BUSY_TEXT)
    try:
        report = _judge(code, Path(tests_path).resolve(), limits, backend)
    finally:
        _RUN_SLOTS.release()
    report.jail = backend
    return report


def _isolation_gap(backend: str) -> str:
    notice = isolation_notice(backend)
    return notice.en if notice else "fully isolated"


def _child_env(home: str) -> dict[str, str]:
    """An almost empty environment: no secrets, no proxies, one BLAS thread."""
    return {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1", "HOME": home, "TMPDIR": home}


def _user_tasks(uid: int) -> int:
    """Threads ``uid`` runs now: RLIMIT_NPROC counts every task of the real user id."""
    wanted = str(uid)
    count = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError), open(f"/proc/{entry.name}/status") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
            if fields.get("Uid", "").split()[:1] == [wanted]:
                count += int(fields.get("Threads", "1"))
    return count


def _stage(run: Path, tests_path: Path, uid: int | None) -> tuple[Path, Path, Path]:
    """The run's folder: ``boot`` (the child script and jail), ``lib`` (copies of the harness,
    the hidden tests and ``attention``: all the child may import of ours), ``work`` (the only
    writable folder). Copies, so the jail exposes nothing else of the project."""
    boot, lib, work = run / "boot", run / "lib", run / "work"
    exercises = lib / "prep" / "exercises"
    for folder in (boot, exercises, work):
        folder.mkdir(parents=True)
    for name in ("child.py", "jail.py"):
        shutil.copy(PACKAGE_DIR / name, boot / name)
    (lib / "prep" / "__init__.py").write_text("")
    (exercises / "__init__.py").write_text("")
    for name in HARNESS_FILES:
        shutil.copy(PROJECT_ROOT / "prep" / "exercises" / name, exercises / name)
    shutil.copytree(PROJECT_ROOT / "attention", lib / "attention",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(tests_path, lib / "exercise_tests.py")
    for path in (run, *run.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    if uid is not None:
        os.chown(work, uid, uid)
    return boot, lib, work


def _judge(code: str, tests_path: Path, limits: Limits, backend: str) -> Report:
    uid = jail.jail_uid() if os.geteuid() == 0 else None
    with tempfile.TemporaryDirectory(prefix="attn-judge-") as folder, \
            tempfile.TemporaryFile(dir=folder) as output:
        try:
            boot, lib, work = _stage(Path(folder), tests_path, uid)
        except OSError as exc:
            return Report(INTERNAL_ERROR, JAIL_TEXT.format(exc))
        inside = backend == jail.BUBBLEWRAP
        lib_dir = f"{jail.JAIL_ROOT}/lib" if inside else str(lib)
        work_dir = f"{jail.JAIL_ROOT}/work" if inside else str(work)
        landlock = backend == jail.LANDLOCK or (inside and jail.landlock_abi() >= 1)
        read, list_only = jail.readable_paths(_installed())
        job = {
            "code": code,
            "tests_path": f"{lib_dir}/exercise_tests.py",
            "lib_dir": lib_dir,
            "sys_path": _interpreter_sys_path(),
            "leave_network": not inside,
            "landlock": landlock,
            "read_paths": read + (["/proc"] if inside else []),
            "list_paths": list_only,
            "write_paths": [work_dir, "/dev/null"],
            "uid": uid if uid is not None else os.getuid(),
            "reach_by_fd": uid is not None and not inside and not _interpreter_readable(),
            "memory_bytes": limits.memory_mb * _MB,
            "cpu_seconds": int(limits.time_s) + _CPU_GRACE_S,
            "file_bytes": limits.output_chars * _FILE_SIZE_FACTOR,
            # One character more than is kept: the parent sees the overflow and says "cut".
            "output_chars": limits.output_chars + 1,
            "nproc": _user_tasks(uid if uid is not None else os.getuid()) + _EXTRA_PROCESSES,
        }
        if inside:
            argv = jail.bwrap_command(str(boot), str(lib), str(work), [
                sys.executable, "-I", "-S", f"{jail.JAIL_ROOT}/boot/child.py"], _installed())
        else:
            argv = [sys.executable, "-I", "-S", str(boot / "child.py")]
        read_fd, write_fd = os.pipe()
        job["result_fd"] = write_fd
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=output,
                                    stderr=subprocess.STDOUT, pass_fds=(write_fd,),
                                    cwd=work, env=_child_env(work_dir),
                                    start_new_session=True, close_fds=True)
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
    return build_report(events, timed_out, proc.returncode, printed, truncated, seconds, limits)


def _interpreter_readable() -> bool:
    readable = jail.readable_by_anyone(jail.interpreter_paths())
    if not readable and "unreadable" not in _WARNED:
        _WARNED.add("unreadable")
        log.info("Practice: the jail user cannot walk to the interpreter's folders %s; the "
                 "child reaches them through descriptors opened before it drops root.",
                 jail.interpreter_paths())
    return readable


def _installed() -> list[str]:
    """Our packages where the interpreter's folders would expose them (a non-editable install
    puts prep/ and attention/ in site-packages): the jail hides them."""
    roots = jail.interpreter_paths()
    ours = [str(PROJECT_ROOT / "prep"), str(PROJECT_ROOT / "attention")]
    return [p for p in ours if any(p.startswith(root + os.sep) for root in roots)]


def _interpreter_sys_path() -> list[str]:
    """This interpreter's own sys.path entries (stdlib, site-packages): never the project, the
    current folder or a test runner's additions. The child adds its lib folder in front."""
    roots = jail.interpreter_paths()
    return [p for p in sys.path if p and any(
        os.path.realpath(p) == root or os.path.realpath(p).startswith(root + os.sep)
        for root in roots)]


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
