"""The progress store in a page: whose progress, the open store, its errors in the page's language.

Streamlit-side companion of ``prep.store`` (see ``prep/ui.py`` for the other UI helpers).
"""

from __future__ import annotations

import streamlit as st
from fsrs import Card

from prep import settings
from prep.bank import Bank, moved_ids
from prep.schedule import merge_moved
from prep.store import DEFAULT_USER, Store, StoreError
from prep.study import StudyCounts
from prep.ui import lang, show_error, t


@st.cache_resource(show_spinner=False)
def _open_store(path: str, user: str) -> Store:
    return Store(path, user=user)


def learner() -> str | None:
    """Whose progress this session reads and writes.

    Without ATTN_PREP_USER_KEY, the one local learner. With it (a host serving many learners),
    the value an auth proxy (``server.trustedUserHeaders``) or ``st.login`` put in ``st.user``
    under that key; None when the request carries none (never someone else's progress).
    """
    key = settings.user_key()
    if key is None:
        return DEFAULT_USER
    value = st.user.get(key)
    return str(value) if value else None


def store() -> Store | None:
    """The progress store, or None after showing a clear message (damaged, locked, read-only).

    A failure is not cached: once the file is fixed, the next rerun opens it.
    """
    user = learner()
    if user is None:
        show_error(t(
            f"这个实例按学习者分别保存进度，但本次请求没有说明你是谁（st.user 中没有 "
            f"`{settings.user_key()}`）。请通过所在机构的登录页面进入。",
            f"This instance keeps progress per learner, but this request does not say who you "
            f"are (st.user has no `{settings.user_key()}`). Please come in through your "
            f"organisation's sign-in page.",
        ))
        return None
    try:
        return _open_store(str(settings.db_path()), user)
    except StoreError as exc:
        show_store_error(exc)
        return None


_STORE_ERRORS_ZH = {  # the store's English messages (StoreError) are the en side
    "corrupt": "学习进度数据库 `{path}` 已损坏，或不是 SQLite 文件。文件保持原样、未被修改："
               "把它移走（或恢复备份），应用就会新建一个。",
    "locked": "学习进度数据库 `{path}` 正被另一个程序锁定。请关闭那个程序，或稍候再试。",
    "readonly": "学习进度数据库 `{path}` 无法写入（文件或所在文件夹是只读的），进度无法保存。"
                "请修改权限，或把 ATTN_PREP_DB 指向一个可写的路径。",
    "newer": "学习进度数据库 `{path}` 由更新版本的本应用写入，已保持原样；请升级应用后再使用。",
    "error": "学习进度数据库 `{path}` 无法使用（文件保持原样，未被修改）。",
}


def store_error_text(exc: StoreError) -> str:
    """The store's message in the session's language (the English original as detail in zh)."""
    if lang() != "zh":
        return str(exc)
    template = _STORE_ERRORS_ZH.get(exc.kind, _STORE_ERRORS_ZH["error"])
    return template.format(path=exc.path) + f"\n\n详情：{exc}"


def show_store_error(exc: StoreError) -> None:
    show_error(store_error_text(exc))


def cards(the_store: Store, bank: Bank) -> dict[str, Card]:
    """The learner's cards keyed by the bank's live ids: history filed under a merged (old) id
    counts for the question it was merged into (``schedule.merge_moved``). Raises StoreError."""
    return merge_moved(the_store.cards(), moved_ids(bank))


def study_metrics(counts: StudyCounts, *, total: bool = True) -> None:
    """The study counts as a row of metrics: questions, new, learning, due now, due today."""
    shown = [(t("题目", "Questions"), counts.total)] if total else []
    shown += [
        (t("未学", "New"), counts.new),
        (t("学习中", "Learning"), counts.learning),
        (t("现在到期", "Due now"), counts.due_now),
        (t("今天到期", "Due today"), counts.due_today),
    ]
    for column, (label, value) in zip(st.columns(len(shown)), shown, strict=True):
        column.metric(label, value)
