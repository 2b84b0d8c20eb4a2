"""Quiz: one card at a time, reveal, grade (fsrs schedules), undo, a summary at the end.

Keyboard: Space reveals, 1-4 grade Again/Hard/Good/Easy, U undoes the last grade; with a button
focused, Space presses that button (prep.ui_keys). A card graded Again comes back in the session.
"""

from datetime import UTC, datetime

import streamlit as st

from prep import schedule, study, ui, ui_keys, ui_question, ui_store
from prep.bank import moved_ids
from prep.i18n import Text
from prep.quiz import QuizSession
from prep.store import StoreError

lang = ui.setup_page("自测", "Quiz", layout="centered")
bank = ui.bank()
SESSION = "quiz_session"
GRADE_KEYS = {rating: str(int(rating)) for rating in schedule.RATINGS}  # "1".."4"
GRADE_COLOURS = {schedule.Rating.Again: "red", schedule.Rating.Good: "green"}
DEFAULT_COUNT = 10
MAX_COUNT = 200

st.title(ui.t("自测", "Quiz"))
ui_keys.keyboard_guard()  # Space presses a focused button; no key hints on touch screens
store = ui_store.store()
if store is None:
    st.stop()


def _act(action) -> None:
    """Run a callback's store action; a StoreError becomes a message, the session is kept."""
    try:
        action()
    except StoreError as exc:
        st.session_state["quiz_error"] = exc


def _plural(n: int, noun: str) -> str:
    """English count and noun: "1 card", "3 cards"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _short(text: str, length: int = 60) -> str:
    """The start of a question for a link label."""
    return text if len(text) <= length else text[:length].rstrip() + "…"


def _start(question_ids: list[str]) -> None:
    st.session_state[SESSION] = QuizSession(list(question_ids), started=datetime.now(UTC),
                                            moved=moved_ids(bank))


def _reveal() -> None:
    _act(lambda: st.session_state[SESSION].reveal(store, datetime.now(UTC)))


def _grade(rating: schedule.Rating) -> None:
    _act(lambda: st.session_state[SESSION].grade(rating, store, datetime.now(UTC)))


def _undo() -> None:
    _act(lambda: st.session_state[SESSION].undo(store))


def _finish() -> None:
    st.session_state[SESSION].finish(datetime.now(UTC))


def _new_quiz() -> None:
    st.session_state.pop(SESSION, None)


if "quiz_error" in st.session_state:
    ui_store.show_store_error(st.session_state.pop("quiz_error"))

session: QuizSession | None = st.session_state.get(SESSION)

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
        st.button(ui.t("开始", "Start"), key="quiz_start", type="primary", on_click=_start,
                  args=(queue,), icon=":material/play_arrow:")
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
                      on_click=_undo, shortcut="U", icon=":material/undo:")
        st.button(ui.t("再来一轮", "New quiz"), key="quiz_new", on_click=_new_quiz,
                  type="primary", icon=":material/replay:")
    ui.page_link("pages/6_Progress.py", "查看学习进度", "See your progress", ":material/insights:")
    st.stop()

# -- one card ----------------------------------------------------------------------------------
question = bank.question(session.current)
if question is None:  # the bank changed under a running quiz: skip the vanished question
    session.queue.pop(session.index)
    st.rerun()
session.show(datetime.now(UTC))
st.progress(session.index / len(session.queue),
            text=ui.t(f"第 {session.index + 1} / {len(session.queue)} 张",
                      f"Card {session.index + 1} of {len(session.queue)}"))
with st.container(border=True, key="quiz_card"):
    ui_question.question_badges(question)
    ui_question.question_text(question)
    if session.revealed:
        st.divider()
        ui_question.answer_block(question, explanation=False)

if not session.revealed:
    st.button(ui.t("显示答案", "Show answer"), key="quiz_reveal", type="primary",
              on_click=_reveal, shortcut="Space", icon=":material/visibility:",
              width="stretch")
else:
    st.caption(ui.t("你答得怎么样？按钮上是下次复习的间隔。",
                    "How well did you know it? Each button shows when you would see it again."))
    grade_columns = st.columns(len(schedule.RATINGS))
    for column, rating in zip(grade_columns, schedule.RATINGS, strict=True):
        interval = schedule.format_interval(session.outcomes[rating].interval, lang)
        label = f"{ui.tr(schedule.RATING_NAMES[rating])} · {interval}"
        colour = GRADE_COLOURS.get(rating)  # as Anki: Again red, Good green; buttons neutral
        column.button(f":{colour}[{label}]" if colour else label, key=f"quiz_grade_{int(rating)}",
                      on_click=_grade, args=(rating,), shortcut=GRADE_KEYS[rating],
                      type="secondary", width="stretch")
    with st.expander(ui.t("解析、代码与参考", "Explanation, code and references"),
                     key="quiz_explanation"):
        ui_question.explanation_block(question)

with st.container(horizontal=True):
    if session.grades:
        st.button(ui.t("撤销上一次评分", "Undo last grade"), key="quiz_undo", on_click=_undo,
                  shortcut="U", icon=":material/undo:")
    st.button(ui.t("结束本轮", "End quiz"), key="quiz_end", on_click=_finish,
              icon=":material/stop:")
with st.container(key=ui_keys.HINTS_KEY):  # hidden on touch screens
    st.caption(ui.t("键盘：空格 显示答案 · 1–4 评分 · U 撤销（焦点在按钮上时，空格按下该按钮）",
                    "Keyboard: Space reveal · 1–4 grade · U undo (with a button focused, Space "
                    "presses it)"))
