"""What the Practice page and the log tell the host about isolation: which jail runs, and what it
leaves open (``None`` when learner code is fully isolated)."""

from __future__ import annotations

import prep.judge.jail as jail
from prep.i18n import Text

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
