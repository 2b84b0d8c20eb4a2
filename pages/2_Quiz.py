"""Quiz: one card at a time, reveal, grade (fsrs schedules), undo, a summary at the end.

Keyboard: Space reveals, 1-4 grade Again/Hard/Good/Easy, U undoes the last grade; with a button
focused, Space presses that button (prep.ui_keys). A card graded Again comes back in the session.
Answer first (an option of the set-up): type an answer, reveal, tick the key points it made;
the suggested grade is starred on the buttons and the typed answer is kept with the review
(prep.ui_quiz, prep.quiz).
"""

from datetime import UTC, datetime

import streamlit as st

from prep import schedule, study, ui, ui_keys, ui_question, ui_store
from prep import ui_quiz as quiz
from prep.i18n import Text
from prep.quiz import QuizSession
from prep.store import StoreError

lang = ui.setup_page("自测", "Quiz", layout="centered")
bank = ui.bank()
DEFAULT_COUNT = 10
MAX_COUNT = 200

st.title(ui.t("自测", "Quiz"))
ui_keys.keyboard_guard()  # Space presses a focused button; no key hints on touch screens
store = ui_store.store()
if store is None:
    st.stop()


def _plural(n: int, noun: str) -> str:
    """English count and noun: "1 card", "3 cards"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _short(text: str, length: int = 60) -> str:
    """The start of a question for a link label."""
    return text if len(text) <= length else text[:length].rstrip() + "…"


ui_store.show_pending_error(quiz.ERROR)
session: QuizSession | None = st.session_state.get(quiz.SESSION)

if session is None:
    # -- choose what to study --------------------------------------------------------------
    try:
        cards = ui_store.cards(store, bank)  # merged questions' history counts for the kept one
    except StoreError as exc:
        ui_store.show_store_error(exc)
        st.stop()
    chosen = ui_question.filter_widget("quiz", bank, columns=3)
    st.session_state.setdefault("quiz_count", DEFAULT_COUNT)  # kept across quizzes (ui)
    count_column, what_column = st.columns([1, 3])
    count = count_column.number_input(ui.t("题数", "Cards"), min_value=1, max_value=MAX_COUNT,
                                      step=1, key="quiz_count")
    due_only = what_column.radio(
        ui.t("学什么", "What to study"), [True, False], key="quiz_due_only", horizontal=True,
        format_func=ui.format_with({
            True: Text("到期的（先复习，再新题）", "What is due (reviews, then new)"),
            False: Text("全部（包括未到期的）", "Everything (study ahead)"),
        }),
    )
    quiz.answer_first_option()
    selected = chosen.ids(bank)
    now = datetime.now(UTC)
    queue = schedule.pick_cards(selected, cards, now, count=int(count), due_only=due_only,
                                learner=ui_store.learner() or "")  # new cards: learner's order
    counts = study.counts(selected, cards, now, ui.timezone())
    st.caption(ui.t(
        f"所选范围 {counts.total} 题：现在到期 {counts.due_now}，新题 {counts.new}。"
        f"本次 {len(queue)} 张。",
        f"{_plural(counts.total, 'question')} selected: {counts.due_now} due, "
        f"{counts.new} new. This quiz: {_plural(len(queue), 'card')}.",
    ))
    if queue:
        st.button(ui.t("开始", "Start"), key="quiz_start", type="primary", on_click=quiz.start,
                  args=(queue, bank), icon=":material/play_arrow:")
    else:
        st.info(ui.t("所选范围内现在没有要学的卡片。可以选择“全部”提前学习。",
                     "Nothing is due in this selection right now. Choose “Everything” to study "
                     "ahead."))
    st.stop()

if session.done:
    # -- summary -------------------------------------------------------------------------------
    summary = session.summary()
    st.subheader(ui.t("本次小结", "Summary"))
    columns = st.columns(3)
    columns[0].metric(ui.t("卡片", "Cards"), summary["cards"])
    columns[1].metric(ui.t("用时", "Time"), schedule.format_duration(summary["elapsed"], lang))
    columns[2].metric(ui.t("平均每张", "Per card"),
                      schedule.format_duration(summary["per_card"], lang))
    rating_columns = st.columns(len(schedule.RATINGS))
    for column, rating in zip(rating_columns, schedule.RATINGS, strict=True):
        column.metric(ui.tr(schedule.RATING_NAMES[rating]), summary["ratings"][rating])
    if missed := [q for q in map(bank.question, session.missed()) if q is not None]:
        st.markdown(ui.t(f"**答错（重来）的 {len(missed)} 题**，可以在题库里再读一遍：",
                         f"**Missed ({len(missed)})**: read them again in the bank:"))
        with st.container(key="quiz_missed"):
            for q in missed:
                ui.page_link("pages/1_Browse.py", f"{q.id} · {_short(q.question.zh)}",
                             f"{q.id} · {_short(q.question.en)}", ":material/menu_book:", q=q.id)
    with st.container(horizontal=True):
        if session.grades:
            st.button(ui.t("撤销上一次评分", "Undo last grade"), key="quiz_undo",
                      on_click=quiz.undo, args=(store,), shortcut="U", icon=":material/undo:")
        st.button(ui.t("再来一轮", "New quiz"), key="quiz_new", on_click=quiz.new_quiz,
                  type="primary", icon=":material/replay:")
    ui.page_link("pages/6_Progress.py", "查看学习进度", "See your progress", ":material/insights:")
    st.stop()

# -- one card ----------------------------------------------------------------------------------
question = bank.question(session.current)
if question is None:  # the bank changed under a running quiz: skip the vanished question
    session.queue.pop(session.index)
    st.rerun()
st.progress(session.index / len(session.queue),
            text=ui.t(f"第 {session.index + 1} / {len(session.queue)} 张",
                      f"Card {session.index + 1} of {len(session.queue)}"))
quiz.card(session, question, store)
if not session.revealed and question.numeric is None:
    st.button(ui.t("显示答案", "Show answer"), key="quiz_reveal", type="primary",
              on_click=quiz.reveal, args=(store,), shortcut="Space",
              icon=":material/visibility:", width="stretch")
elif session.revealed:
    quiz.grade_row(session, store)
    quiz.last_answer(session)
    with st.expander(ui.t("解析、代码与参考", "Explanation, code and references"),
                     key="quiz_explanation"):
        ui_question.explanation_block(question)

with st.container(horizontal=True):
    if session.grades:
        st.button(ui.t("撤销上一次评分", "Undo last grade"), key="quiz_undo", on_click=quiz.undo,
                  args=(store,), shortcut="U", icon=":material/undo:")
    st.button(ui.t("结束本轮", "End quiz"), key="quiz_end", on_click=quiz.finish,
              icon=":material/stop:")
with st.container(key=ui_keys.HINTS_KEY):  # hidden on touch screens
    st.caption(ui.t("键盘：空格 显示答案 · 1–4 评分 · U 撤销（焦点在按钮上时，空格按下该按钮）",
                    "Keyboard: Space reveal · 1–4 grade · U undo (with a button focused, Space "
                    "presses it)"))
