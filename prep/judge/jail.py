"""The isolation backends: bubblewrap, Landlock, none (see the package docstring's threat model).

Only the standard library: the child process imports this file on its own (a copy of it sits in
the run's folder), before torch and long before the learner's code.

- The **parent** picks a backend (:func:`choose`; ``ATTN_PREP_JAIL`` forces one) and, for
  bubblewrap, builds the command line (:func:`bwrap_command`).
- The **child** calls :func:`restrict_paths` (Landlock) and :func:`drop_privileges` once its own
  imports are done.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import subprocess
import sys
from functools import cache

BUBBLEWRAP, LANDLOCK, NONE, AUTO = "bubblewrap", "landlock", "none", "auto"
BACKENDS = (BUBBLEWRAP, LANDLOCK, NONE)
JAIL_ENV = "ATTN_PREP_JAIL"           # auto (default) | bubblewrap | landlock | none
JAIL_UID_ENV = "ATTN_PREP_JAIL_UID"   # the unprivileged user a root server drops to
DEFAULT_JAIL_UID = 65534              # "nobody" on Debian and most distributions
JAIL_ROOT = "/jail"                   # inside bubblewrap: /jail/lib (read-only), /jail/work
PROBE_TIMEOUT_S = 10.0

# Landlock (linux/landlock.h). The syscall numbers are the same on every architecture.
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_WRITE_DIR = sum(1 << bit for bit in range(4, 13))       # remove / make dir, file, link...
_FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1 << 0, 1 << 1
_FILE_ONLY = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV
READ = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR
WRITE = READ | _FS_WRITE_FILE | _FS_WRITE_DIR | _FS_REFER | _FS_TRUNCATE
DEVICES = ("/dev/null", "/dev/zero", "/dev/random", "/dev/urandom")
_CLONE_NEWUSER, _CLONE_NEWNET = 0x10000000, 0x40000000


class JailError(RuntimeError):
    """The forced backend cannot run here (the message says why)."""


# --------------------------------------------------------------------------------------------
# Parent side: which backend
# --------------------------------------------------------------------------------------------

def requested() -> str:
    value = os.environ.get(JAIL_ENV, AUTO).strip().lower()
    return value if value in (*BACKENDS, AUTO) else AUTO


def jail_uid() -> int:
    with contextlib.suppress(ValueError):
        return int(os.environ.get(JAIL_UID_ENV, DEFAULT_JAIL_UID))
    return DEFAULT_JAIL_UID


def choose() -> str:
    """The backend to use now: the forced one (JailError if unusable) or the best available."""
    wanted = requested()
    if wanted == NONE:
        return NONE
    if wanted in (BUBBLEWRAP, AUTO):
        problem = bubblewrap_problem()
        if problem is None:
            return BUBBLEWRAP
        if wanted == BUBBLEWRAP:
            raise JailError(f"{JAIL_ENV}=bubblewrap, but {problem}")
    if landlock_abi() >= 1:
        return LANDLOCK
    if wanted == LANDLOCK:
        raise JailError(f"{JAIL_ENV}=landlock, but this kernel does not offer Landlock")
    return NONE


@cache
def bubblewrap_problem() -> str | None:
    """None when bubblewrap can build our jail here, else why not (probed once per process)."""
    binary = shutil.which("bwrap")
    if binary is None:
        return "bwrap is not installed (apt-get install bubblewrap)"
    probe = [*_namespace_flags(), "--ro-bind", "/", "/", "--proc", "/proc", "true"]
    try:
        done = subprocess.run([binary, *probe], capture_output=True, timeout=PROBE_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not start ({exc})"
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip() or f"exit code {done.returncode}"
        return f"bwrap cannot create namespaces here ({detail})"
    return None


def _namespace_flags() -> list[str]:
    # As root, no user namespace: the child then drops to a real unprivileged uid, which the
    # process-count limit needs (a uid mapped to root outside would not be counted).
    user = [] if os.geteuid() == 0 else ["--unshare-user"]
    return [*user, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent"]


def interpreter_paths() -> list[str]:
    """What the learner's Python must read: the real prefix, the venv, site-packages."""
    import sysconfig

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable))}
    for name in ("stdlib", "platstdlib", "purelib", "platlib"):
        with contextlib.suppress(KeyError):
            paths.add(sysconfig.get_path(name))
    real = {os.path.realpath(p) for p in paths if p and os.path.isdir(p)}
    # Keep only the outermost folders: a bind inside another bind is redundant.
    return sorted(p for p in real if not any(p != q and p.startswith(q + os.sep) for q in real))


def readable_by_anyone(paths: list[str]) -> bool:
    """Whether any user may walk to and read each of ``paths`` (mode bits only): when not (e.g.
    a pyenv under /root), a child that dropped root outside bubblewrap (which binds the folders
    under 0755 parents) reaches them through descriptors opened before the drop."""
    import stat

    for path in paths:
        parts = os.path.realpath(path).split(os.sep)
        for depth in range(2, len(parts) + 1):
            mode = os.stat(os.sep.join(parts[:depth]) or os.sep).st_mode
            if not mode & stat.S_IXOTH or (depth == len(parts) and not mode & stat.S_IROTH):
                return False
    return True


def system_paths() -> list[str]:
    """Shared libraries and the dynamic loader."""
    return [p for p in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc/ld.so.cache")
            if os.path.lexists(p)]


def readable_paths(hidden: list[str]) -> tuple[list[str], list[str]]:
    """Landlock's (read, list only) paths: /usr, the interpreter and a few devices, with each
    ``hidden`` folder carved out. Landlock only allows, so a folder holding a hidden one is
    replaced by its other entries (e.g. site-packages without our installed packages) and may
    only be listed (the import system lists it; the hidden files stay unreadable)."""
    paths = [*system_paths(), *interpreter_paths(), *DEVICES]
    hidden = [os.path.realpath(h) for h in hidden]
    read: set[str] = set()
    list_only: set[str] = set()
    while paths:
        path = paths.pop()
        real = os.path.realpath(path)
        if real in hidden:
            continue
        if any(h.startswith(real + os.sep) for h in hidden) and os.path.isdir(real):
            list_only.add(real)
            paths.extend(os.path.join(real, name) for name in os.listdir(real))
        else:
            read.add(path)
    return sorted(read), sorted(list_only)


def bwrap_command(boot_dir: str, lib_dir: str, work_dir: str, argv: list[str],
                  hidden: list[str] = ()) -> list[str]:
    """``bwrap ... argv``: the run's boot and lib folders read-only at /jail/boot and /jail/lib,
    its work folder at /jail/work (the only writable place), the interpreter read-only with each
    ``hidden`` folder inside it covered by an empty one, nothing else of the host."""
    command = [shutil.which("bwrap") or "bwrap", *_namespace_flags()]
    made: set[str] = set()

    def parents(target: str) -> None:
        # bwrap creates missing parent folders 0700 as root: an unprivileged uid could not
        # walk through them. Create them 0755 first.
        parts = target.strip("/").split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folder = "/" + "/".join(parts[:depth])
            if folder not in made:
                made.add(folder)
                command.extend(["--perms", "0755", "--dir", folder])

    for path in system_paths():
        if os.path.islink(path):
            command.extend(["--symlink", os.readlink(path), path])
        else:
            parents(path)
            command.extend(["--ro-bind", path, path])
    mounted = [p for p in system_paths() if not os.path.islink(p)]
    for path in interpreter_paths():
        if any(path == m or path.startswith(m + os.sep) for m in mounted):
            continue  # e.g. /usr/local/lib/python3.11: already inside the /usr bind
        parents(path)
        command.extend(["--ro-bind", path, path])
    for path in hidden:
        command.extend(["--tmpfs", os.path.realpath(path)])
    command.extend(["--dev", "/dev"])
    parents(f"{JAIL_ROOT}/lib")
    command.extend(["--proc", "/proc", "--ro-bind", boot_dir, f"{JAIL_ROOT}/boot",
                    "--ro-bind", lib_dir, f"{JAIL_ROOT}/lib",
                    "--bind", work_dir, f"{JAIL_ROOT}/work", "--chdir", f"{JAIL_ROOT}/work",
                    "--remount-ro", "/"])
    return [*command, *argv]


# --------------------------------------------------------------------------------------------
# Child side
# --------------------------------------------------------------------------------------------

def _libc():
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version (0 when it has none)."""
    try:
        version = _libc().syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0),
                                  ctypes.c_uint32(_CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _fs_rights(abi: int) -> int:
    rights = READ | _FS_WRITE_FILE | _FS_WRITE_DIR
    if abi >= 2:
        rights |= _FS_REFER
    if abi >= 3:
        rights |= _FS_TRUNCATE
    if abi >= 5:
        rights |= _FS_IOCTL_DEV
    return rights


def restrict_paths(read: list[str], write: list[str], list_only: list[str] = ()) \
        -> dict[str, object]:
    """Landlock this process and its future children: read (and execute) only under ``read``,
    write only under ``write``, list only the folders ``list_only``, no TCP bind or connect
    (ABI >= 4), no signals or abstract Unix sockets outside the jail (ABI >= 6). Returns what
    was enforced. Irreversible."""
    abi = landlock_abi()
    if abi < 1:
        raise JailError("this kernel does not offer Landlock")
    handled = _fs_rights(abi)
    attr = _RulesetAttr(handled, 0, 0)
    size = 8
    if abi >= 4:
        attr.handled_access_net, size = _NET_BIND_TCP | _NET_CONNECT_TCP, 16
    if abi >= 6:
        attr.scoped, size = _SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL, 24
    libc = _libc()
    fd = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size),
                      ctypes.c_uint32(0))
    if fd < 0:
        raise JailError(f"landlock_create_ruleset failed: {os.strerror(ctypes.get_errno())}")
    try:
        for paths, rights in ((read, READ), (write, WRITE), (list_only, _FS_READ_DIR)):
            for path in paths:
                _add_rule(libc, fd, path, rights & handled)
        no_new_privileges()
        if libc.syscall(_SYS_RESTRICT_SELF, ctypes.c_int(fd), ctypes.c_uint32(0)) != 0:
            raise JailError(f"landlock_restrict_self failed: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(fd)
    return {"abi": abi, "tcp": abi >= 4, "scoped": abi >= 6}


def _add_rule(libc, ruleset_fd: int, path: str, rights: int) -> None:
    try:
        target = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # a path that does not exist needs no rule
    try:
        if not os.path.isdir(path):
            rights &= _FILE_ONLY
        attr = _PathBeneathAttr(rights, target)
        if libc.syscall(_SYS_ADD_RULE, ctypes.c_int(ruleset_fd), ctypes.c_int(_RULE_PATH_BENEATH),
                        ctypes.byref(attr), ctypes.c_uint32(0)) != 0:
            raise JailError(f"landlock_add_rule({path}) failed: "
                            f"{os.strerror(ctypes.get_errno())}")
    finally:
        os.close(target)


def no_new_privileges() -> None:
    """No setuid binary or file capability can give the process back what it gave up."""
    _libc().prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


def leave_network() -> bool:
    """A private network namespace (no interface up) if the kernel lets us; best effort."""
    libc = _libc()
    attempts = (_CLONE_NEWNET, _CLONE_NEWUSER | _CLONE_NEWNET)
    return any(libc.unshare(flags) == 0 for flags in attempts)


def drop_privileges(uid: int) -> bool:
    """As root: become ``uid`` (group ``uid``, no supplementary groups) for good. A no-op
    otherwise. Returns whether privileges were dropped."""
    if os.geteuid() != 0:
        return False
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.geteuid() == 0 or os.getuid() == 0:
        raise JailError("could not drop root privileges")
    no_new_privileges()
    return True
