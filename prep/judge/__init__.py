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

from prep.judge.child import LEARNER_FILENAME
from prep.judge.notice import backend, isolation_notice
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
