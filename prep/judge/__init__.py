"""The Practice judge: run a learner's code against an exercise's hidden tests, jailed.

``judge(code, tests_path, limits=None, *, enabled=None) -> Report`` is the entry point. The
learner's code never runs in the server: the parent (:mod:`.parent`) copies what the child may
import (the harness, the hidden tests, ``attention``) into a fresh run folder, starts
``python -I -S`` with an almost empty environment in a new session, and the child
(:mod:`.child`) imports torch and the tests, enters the jail (:mod:`.jail`), sets its limits and
only then runs the learner's code and each test, streaming one JSON line per result over a
private pipe. :mod:`.report` turns those lines into a :class:`Report` of ``prep.i18n.Text``.

Threat model. The learner's code is hostile: it may loop, allocate, print, fork, read, write and
connect. The server, other learners' data and the host must not notice.

Limited, whatever the backend:
  wall clock (``Limits.time_s``, from "ready" on; the process group is killed), address space
  (``Limits.memory_mb`` on top of Python + torch), CPU time (a backstop), size of written files,
  printed output (``Limits.output_chars`` kept), processes (``RLIMIT_NPROC``: the jail user's
  tasks now + 64). A server running as root drops the child to an unprivileged uid
  (``ATTN_PREP_JAIL_UID``, default 65534) before the learner's code runs, since the kernel does
  not apply the process limit to root (an interpreter that uid cannot walk to, such as a pyenv
  under /root, stays reachable through descriptors opened before the drop; they give no access
  beyond the folders' own permissions). At most one child per core at a time. No environment
  variable of the server reaches the child. ``import prep`` / ``import attention`` fail for the
  learner (the hidden tests import them first).

Isolated, by backend (``ATTN_PREP_JAIL`` = auto | bubblewrap | landlock | none; auto takes the
first that works here):
  bubblewrap  new mount, PID, network, IPC and UTS namespaces: the child sees only /usr, the
              interpreter and its site-packages (read-only), its copies of the harness and the
              tests, and a private work folder; no other file of the host exists for it (no
              reference solutions, no bank, no progress database, no /etc/passwd); it sees only
              its own processes; its network has only a loopback of its own. Landlock is layered
              on top where the kernel has it, so the copies of our packages become unreadable.
  landlock    (where user namespaces are refused, e.g. Docker's default seccomp profile) the
              kernel refuses reads outside the interpreter, /usr and a few devices, writes
              outside the work folder, /proc (so no process listing), TCP connect and bind
              (ABI >= 4), signals and abstract Unix sockets outside the jail (ABI >= 6). NOT
              isolated: other processes still exist for ``kill(pid, 0)`` probes; UDP and other
              non-TCP sockets work unless the kernel also granted a private network namespace.
  none        only the limits above, and ``socket`` refused at the Python level (raw ``_socket``
              works unless the kernel granted a private network namespace). NOT isolated: the
              code reads and writes every file the child's user can, and lists every process.
              The page says so (:func:`isolation_notice`) and the log warns at the first run.
The work folder is deleted after every run. Not defended against: kernel exploits, CPU time
stolen from other learners within the limits, side channels.
"""

from __future__ import annotations

from prep.i18n import Text
from prep.judge import jail
from prep.judge.child import LEARNER_FILENAME
from prep.judge.parent import MAX_CODE_CHARS, QUEUE_TIMEOUT_S, judge
from prep.judge.report import (
    ACCEPTED,
    BUSY,
    DISABLED,
    ERROR,
    FAILED,
    INTERNAL_ERROR,
    MEMORY_LIMIT,
    PASSED,
    REFUSED,
    RUNTIME_ERROR,
    STARTUP_TIMEOUT_S,
    SYNTAX_ERROR,
    TIME_LIMIT,
    WRONG_ANSWER,
    Limits,
    Report,
    TestResult,
)

__all__ = [
    "ACCEPTED", "BUSY", "DISABLED", "ERROR", "FAILED", "INTERNAL_ERROR", "LEARNER_FILENAME",
    "MAX_CODE_CHARS", "MEMORY_LIMIT", "PASSED", "QUEUE_TIMEOUT_S", "REFUSED", "RUNTIME_ERROR",
    "STARTUP_TIMEOUT_S", "SYNTAX_ERROR", "TIME_LIMIT", "WRONG_ANSWER", "Limits", "Report",
    "TestResult", "backend", "isolation_notice", "judge",
]

_NOTICES = {
    jail.LANDLOCK: Text(
        "本服务器的练习判题只有部分隔离（Landlock）：代码读不到项目和其他文件、写不出临时目录、"
        "不能建立 TCP 连接，但 UDP 等其他网络访问没有被阻止。",
        "Practice runs code only partly isolated here (Landlock): it cannot read the project or "
        "other files, write outside its folder or open TCP connections, but UDP and other "
        "network access are not blocked."),
    jail.NONE: Text(
        "本服务器的练习判题没有隔离：提交的代码有时间、内存和进程数限制，但能读写服务器用户"
        "可以访问的任何文件、看到其他进程。只在你信任所有用户时开放练习。",
        "Practice runs code without isolation here: submissions are limited in time, memory and "
        "processes, but can read and write any file the server's user can and see other "
        "processes. Offer Practice only to users you trust."),
}


def backend() -> str:
    """The jail the next run will use ("bubblewrap", "landlock", "none"); raises
    :class:`jail.JailError` when ``ATTN_PREP_JAIL`` forces one that cannot run here."""
    return jail.choose()


def isolation_notice(name: str | None = None) -> Text | None:
    """What the Practice page should tell the host about isolation (None: fully isolated).

    ``name`` defaults to the backend the next run will use; a forced backend that cannot run
    gives the reason, since nothing will run.
    """
    if name is None:
        try:
            name = backend()
        except jail.JailError as exc:
            return Text(f"练习判题无法按设置隔离代码，不会运行任何提交：{exc}",
                        f"Practice cannot isolate code as configured and will run nothing: {exc}")
    return _NOTICES.get(name)
