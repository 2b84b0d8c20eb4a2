"""Quiz in a page: the callbacks, one card (answer first or not), the grade buttons.

Streamlit-side companion of ``prep.quiz`` (the session) and ``prep.ui_rubric`` (the answer box,
the side-by-side answers, the key-point ticks and the marked buttons the mock interview draws
too). Answer first: the box's text reaches the server as the learner types (a second after a
pause, at least every three seconds, and when the box loses focus: ``prep.ui_answer_box``); the
preview below it is redrawn at each arrival.

Numeric questions (``type: numeric``), answer first or not, are asked as the mock interview
asks them: numbers drawn fresh for each showing (kept across reruns), the learner's number checked
within the question's tolerance, the worked solution after, and the app's grade
(``prep.interview.numeric_grade``) on the one grade button.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import streamlit as st

from prep import interview_session as steps
from prep import schedule, ui_question
from prep import ui_rubric as rubrics
from prep.bank import Bank, Question, moved_ids
from prep.quiz import QuizSession
from prep.store import Store, StoreError
from prep.ui import lang, markdown, t, timezone, tr
from prep.ui_answer_box import text_of

SESSION = "quiz_session"
ERROR = "quiz_error"  # a StoreError or a message from a callback, shown by the next run
ANSWER_FIRST = "quiz_answer_first"  # the set-up's option (kept across pages: prep.ui)
GRADE_COLOURS = {schedule.Rating.Again: "red", schedule.Rating.Good: "green"}


def _act(action: Callable[[QuizSession], object]) -> None:
    """Run a callback's store action; a StoreError becomes a message, the session is kept."""
    try:
        action(st.session_state[SESSION])
    except StoreError as exc:
        st.session_state[ERROR] = exc


def _now() -> datetime:
    return datetime.now(UTC)


def start(question_ids: list[str], bank: Bank) -> None:
    st.session_state[SESSION] = QuizSession(
        list(question_ids), started=_now(), moved=moved_ids(bank),
        answer_first=bool(st.session_state.get(ANSWER_FIRST)))


def _box_key(session: QuizSession) -> str:
    return f"quiz_typed_{session.turn}"


def reveal(store: Store) -> None:
    def act(session: QuizSession) -> None:
        session.type_answer(text_of(_box_key(session))
                            or (session.answer.text if session.answer else ""))
        session.reveal(store, _now())
    _act(act)


def grade(store: Store, rating: schedule.Rating) -> None:
    _act(lambda session: session.grade(rating, store, _now()))


def undo(store: Store) -> None:
    _act(lambda session: session.undo(store))


def check(store: Store, key: str, question: Question) -> None:
    raw = str(st.session_state.get(key) or "")
    try:
        value = steps.read_number(raw)
    except ValueError:
        st.session_state[ERROR] = rubrics.not_a_number(raw)
        return
    _act(lambda session: session.check_number(question, value, store, _now()))


def hint() -> None:
    _act(lambda session: session.hint())


def finish() -> None:
    st.session_state[SESSION].finish(_now())


def new_quiz() -> None:
    st.session_state.pop(SESSION, None)


def answer_first_option() -> None:
    """The set-up's "answer first" switch."""
    st.toggle(t("先写答案，再对照要点自评", "Answer first, then tick the key points"),
              key=ANSWER_FIRST,
              help=t("每张卡片先写下你的答案（Markdown，可写公式），显示答案后对照要点打勾，"
                     "按勾选比例建议评分。你写的答案会随评分保存。",
                     "Type your answer to each card first (Markdown, formulas allowed); after "
                     "the reveal, tick the key points it made and get a suggested grade. What "
                     "you type is kept with the review."))


def card(session: QuizSession, question: Question, store: Store) -> None:
    """The card: the question; the answer box (answer first) or, after the reveal, the answer,
    the learner's answer beside it and the key points to tick."""
    numeric = question.numeric is not None
    points = list(question.key_points or []) if session.answer_first and not numeric else []
    session.show(_now(), key_points=len(points), numeric=question if numeric else None)
    with st.container(border=True, key="quiz_card"):
        ui_question.question_badges(question)
        if numeric:
            _number(session, question, store)
            return
        ui_question.question_text(question)
        if not session.revealed:
            if session.answer_first:
                _answer_box(session)
            return
        st.divider()
        if not session.answer_first:
            ui_question.answer_block(question, explanation=False)
            return
        rubrics.side_by_side(session.answer.text, question.answer, "quiz")
        if points:
            key = f"quiz_points_{session.turn}"
            session.tick(rubrics.checklist(points, key, session.answer.ticked))


def _number(session: QuizSession, question: Question, store: Store) -> None:
    """A numeric question: its drawn numbers, the number box, then the worked solution."""
    drawn = steps.instance(session.answer, question)
    markdown(tr(drawn.question))
    if session.revealed:
        rubrics.number_result(drawn, session.answer)
        return
    key = f"quiz_number_{session.turn}"
    rubrics.number_box(drawn, session.answer, key=key, prefix="quiz", on_check=check,
                       check_args=(store, key, question), on_hint=hint)


def _typed(key: str) -> None:
    text = text_of(key)
    _act(lambda session: session.type_answer(text))


def _answer_box(session: QuizSession) -> None:
    """The answer box, filled again from the session after a page switch, and its preview."""
    key = _box_key(session)
    typed = rubrics.answer_area(key, value=session.answer.text, on_change=_typed, args=(key,),
                                placeholder=t("先写下你会怎么回答，再点“显示答案”。",
                                              "Write what you would say, then reveal."))
    if typed.strip():
        st.caption(t("预览（边写边更新）：", "Preview (updated as you type):"))
        with st.container(border=True, key="quiz_preview"):
            markdown(typed)


def grade_row(session: QuizSession, store: Store) -> None:
    """Again / Hard / Good / Easy with the next interval (Again red, Good green, as Anki); with
    answer first, the grade the ticks suggest is marked; the learner may press any."""
    suggested = session.suggested()
    ratings = [suggested] if session.graded_by_app else list(schedule.RATINGS)
    if session.graded_by_app:
        st.caption(t("数值题由应用自动评分；按钮上是下次复习的间隔。",
                     "The app grades a number itself; the button shows the next review."))
    elif suggested is not None:
        rubrics.suggestion_caption(suggested)
    else:
        st.caption(t("你答得怎么样？按钮上是下次复习的间隔。",
                     "How well did you know it? Each button shows when you would see it again."))
    labels = {}
    for rating in ratings:
        interval = schedule.format_interval(session.outcomes[rating].interval, lang())
        label = f"{tr(schedule.RATING_NAMES[rating])} · {interval}"
        if session.graded_by_app:
            label = t(f"记为 {label}，继续", f"Record {label} and continue")
        colour = GRADE_COLOURS.get(rating)
        labels[rating] = f":{colour}[{label}]" if colour else label
    rubrics.grade_buttons(labels, suggested, key="quiz_grade", on_click=grade, args=(store,))


def last_answer(session: QuizSession) -> None:
    """What the learner typed at the previous review of this card, if anything."""
    if session.last is None:
        return
    day = session.last.reviewed.astimezone(timezone()).strftime("%Y-%m-%d")
    with st.expander(t(f"你上次的回答（{day}）", f"Your last answer ({day})"),
                     key="quiz_last_answer", icon=":material/history:"):
        markdown(session.last.text)

