"""The judge's child process: imports, jail, limits, then the learner's code and the hidden tests.

Run as a script (``python -I -S child.py``) from the run's ``boot`` folder, next to a copy of
``jail.py``; the job arrives as JSON on stdin. Results go out one JSON line per event over a
private pipe (the fd in the job), so nothing the learner prints can forge a result. Only the
standard library until the job's ``sys_path`` is set.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import resource
import signal
import sys
import traceback
from typing import Any

if __name__ == "__main__":  # run from the boot folder, next to a copy of jail.py (-I adds no path)
    sys.path[:0] = [os.path.dirname(os.path.abspath(__file__))]
    import jail
else:  # imported as prep.judge.child, for its constants
    import prep.judge.jail as jail

LEARNER_FILENAME = "<your code>"
TESTS_MODULE = "_exercise_tests"
_MB = 1024 * 1024
# Imported before the jail, for learners' `import` lines: once the child has dropped to an
# unprivileged uid, an interpreter in a folder that uid cannot read (e.g. under /root) can no
# longer load new modules from it.
PRELOAD = ("math", "cmath", "random", "itertools", "functools", "collections", "dataclasses",
           "typing", "time", "json", "re", "copy", "heapq", "bisect", "operator", "statistics",
           "string", "textwrap", "enum", "abc", "io", "warnings", "fractions", "decimal",
           "subprocess", "socket", "threading", "numpy", "torch", "torch.nn",
           "torch.nn.functional")
_OUR_PACKAGES = ("prep", "attention", TESTS_MODULE)


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


def _wire(zh: str, en: str) -> dict[str, str]:
    """A bilingual text in its JSON form (the parent turns it into prep.i18n.Text)."""
    return {"zh": zh, "en": en}


def _memory_message(memory_mb: int) -> dict[str, str]:
    return _wire(f"超出内存限制：代码申请的内存超过 {memory_mb} MB。",
                 f"Memory limit exceeded: the code asked for more than {memory_mb} MB.")


def _block_sockets() -> None:
    """Python-level refusal with a clear message; the real barrier is the jail's network."""
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
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == LEARNER_FILENAME:
            line = frame.lineno
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    if line is None:
        return _wire(text, text)
    return _wire(f"{text}（你的代码第 {line} 行）", f"{text} (line {line} of your code)")


def _load_tests(job: dict):
    """Import torch, the preloads, the harness and the hidden tests (before any jail rule)."""
    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    _warm_up()
    spec = importlib.util.spec_from_file_location(TESTS_MODULE, job["tests_path"])
    tests = importlib.util.module_from_spec(spec)
    sys.modules[TESTS_MODULE] = tests
    spec.loader.exec_module(tests)
    from prep.exercises import harness

    return harness, harness.collect_cases(tests)


def _warm_up() -> None:
    """One small torch computation: torch reads /proc/cpuinfo and /sys lazily, at its first
    kernel, and the jail may no longer let it."""
    torch = sys.modules.get("torch")
    if torch is not None:
        scores = torch.ones(4, 4) @ torch.ones(4, 4).T
        torch.softmax(scores, dim=-1).sum().item()


def _forget_our_packages(lib_dir: str) -> None:
    """``import prep`` / ``import attention`` fail for the learner: the folder leaves sys.path and
    the modules leave sys.modules (the tests keep their own references). Under bubblewrap and
    Landlock the folder is also unreadable from here on; under ``none`` it is only a speed
    bump."""
    sys.path[:] = [p for p in sys.path if p != lib_dir]
    for name in list(sys.modules):
        if name.split(".")[0] in _OUR_PACKAGES:
            del sys.modules[name]
    importlib.invalidate_caches()
    sys.meta_path.insert(0, _RefuseOurPackages())


class _RefuseOurPackages:
    """A finder that says our packages do not exist, even if an installed copy sits in
    site-packages (the jail also hides that copy's files)."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.split(".")[0] in _OUR_PACKAGES:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def _keep_interpreter_reachable() -> None:
    """The uid the child drops to cannot walk to the interpreter (e.g. a pyenv under /root):
    reach each sys.path folder through a descriptor opened now, as /proc/self/fd/N, which the
    kernel resolves without walking the folders above it. Permissions of the folder itself and
    of its files still apply, and so does Landlock."""
    for index, path in enumerate(sys.path):
        with contextlib.suppress(OSError):
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
            sys.path[index] = f"/proc/self/fd/{fd}"
    sys.path_importer_cache.clear()
    importlib.invalidate_caches()


def _enter_jail(job: dict) -> None:
    if job["reach_by_fd"]:
        _keep_interpreter_reachable()
    if job["landlock"]:
        jail.restrict_paths(job["read_paths"], job["write_paths"], job["list_paths"])
    jail.drop_privileges(job["uid"])
    jail.no_new_privileges()


def _set_limits(job: dict) -> None:
    used = _address_space_bytes()
    for limit, value in (
        (resource.RLIMIT_AS, used + job["memory_bytes"]),
        (resource.RLIMIT_CPU, _cpu_seconds() + job["cpu_seconds"]),
        (resource.RLIMIT_FSIZE, job["file_bytes"]),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_NPROC, job["nproc"]),
    ):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(limit, (value, value))


def main() -> None:
    job = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    out_fd = job["result_fd"]

    def send(event: dict) -> None:
        os.write(out_fd, (json.dumps(event, ensure_ascii=False) + "\n").encode("utf-8"))

    if job["leave_network"]:
        jail.leave_network()
    sys.path[:] = [job["lib_dir"], *job["sys_path"]]
    try:
        harness, cases = _load_tests(job)
    except Exception as exc:  # a broken exercise, not the learner's fault
        send({"event": "internal", "message": _wire(f"练习的测试无法加载：{exc!r}",
                                                     f"The exercise's tests failed to load: "
                                                     f"{exc!r}")})
        return
    memory_mb = job["memory_bytes"] // _MB
    try:
        _forget_our_packages(job["lib_dir"])
        _set_limits(job)   # NPROC before the uid changes: root may set any limit
        _enter_jail(job)
    except Exception as exc:
        send({"event": "internal", "message": _wire(f"无法建立隔离环境：{exc}",
                                                     f"The jail could not be set up: {exc}")})
        return
    send({"event": "ready", "tests": [case.title for case in cases]})

    budget = [job["output_chars"]]
    sys.stdout = _CappedStream(1, budget)
    sys.stderr = _CappedStream(2, budget)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _block_sockets()

    try:
        compiled = compile(job["code"], LEARNER_FILENAME, "exec")
    except SyntaxError as exc:
        detail = f"{type(exc).__name__}: {exc.msg}"
        where = exc.lineno or 0
        send({"event": "syntax_error", "message": _wire(
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


if __name__ == "__main__":
    main()
