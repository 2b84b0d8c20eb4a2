"""The progress store in a page: whose progress, the open store, its errors in the page's language.

Streamlit-side companion of ``prep.store`` (see ``prep/ui.py`` for the other UI helpers).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import streamlit as st
from fsrs import Card

from prep import practice, settings
from prep.bank import Bank, moved_ids
from prep.exercises import load_exercises
from prep.progress import readiness_by_section
from prep.schedule import merge_moved
from prep.store import DEFAULT_USER, Store, StoreError
from prep.study import StudyCounts
from prep.ui import lang, show_error, t, tr


@st.cache_resource(show_spinner=False)
def open_store(path: str, user: str) -> Store:
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
        return open_store(settings.db_location(), user)
    except StoreError as exc:
        show_store_error(exc)
        return None


def store_error_text(exc: StoreError) -> str:
    """The store's own bilingual message in the session's language."""
    return exc.message.pick(lang())


def show_store_error(exc: StoreError) -> None:
    show_error(store_error_text(exc))


def show_pending_error(key: str) -> None:
    """What a callback could not do, left in ``st.session_state[key]`` (a StoreError or a
    message), shown once by the next run."""
    pending = st.session_state.pop(key, None)
    if isinstance(pending, StoreError):
        show_store_error(pending)
    elif pending:
        st.warning(pending)


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


def readiness_summary(bank: Bank, cards: Mapping[str, Card]) -> None:
    """Home: one line of readiness per section (expected share of its cards recalled now)."""
    ready = readiness_by_section(bank.sections, cards, datetime.now(UTC))
    st.caption(t("面试准备度（现在能回忆起的比例）：", "Interview readiness (share recalled now): ")
               + " · ".join(f"{tr(s.title)} {ready[s.id]:.0%}" for s in bank.sections))


def solved_panel(store: Store | None) -> None:
    """Home's and Progress's line "Practice: 7 / 12 solved" and which ones."""
    exercises = load_exercises()
    try:
        submissions = store.submissions() if store is not None else []
    except StoreError:
        submissions = []  # the page that opened the store already shows its error
    done = practice.summary((e.id for e in exercises), submissions)
    titles = {e.id: e.title for e in exercises}
    with st.container(border=True, key="practice_solved"):
        st.markdown(f":material/code: **{tr(done.text())}**")
        st.progress(len(done.solved) / done.total if done.total else 0.0)
        for ids, zh, en in ((done.solved, "已解出", "Solved"),
                            (done.attempted, "尝试过、未通过", "Tried, not passed yet")):
            if ids:
                st.caption(f"{t(zh, en)}: " + " · ".join(tr(titles[i]) for i in ids))
