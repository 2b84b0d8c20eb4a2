"""Answer first, then the rubric: the pieces Quiz and the mock interview draw alike.

The answer box (its text reaches the server as the learner types: ``prep.ui_answer_box``), the
learner's answer beside the model answer (two columns, stacked on a phone), the key points to
tick, the grade buttons with the suggested grade marked (primary, starred, "The suggested grade"
as its tooltip), and a numeric question's number box and worked solution.
What a tick or a grade means is decided by the caller (``prep.interview.suggest_grade`` gives
the suggestion); nothing here is stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import streamlit as st
from fsrs import Rating

from prep import schedule
from prep.i18n import Text
from prep.interview import Answer
from prep.numeric import Instance
from prep.ui import lang, markdown, t, tr
from prep.ui_answer_box import typing_box

TABLE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*\|", re.M)  # a Markdown table's rule row
SUGGESTED = Text("建议的评分", "The suggested grade")


def answer_area(key: str, *, value: str, placeholder: str,
                on_change: Callable[..., None] | None = None, args: tuple = ()) -> str:
    """The box the learner types their answer in (Markdown, formulas as ``$...$``), showing
    ``value`` (the text the server holds). Its text reaches the server as the learner types
    (``prep.ui_answer_box``); ``on_change(*args)`` stores it, reading ``text_of(key)``."""
    return typing_box(key, value=value, on_change=on_change, args=args, placeholder=placeholder,
                      label=t("你的回答（Markdown，公式写成 `$...$`）",
                              "Your answer (Markdown, formulas as `$...$`)"))


def side_by_side(mine: str, model: Text, prefix: str) -> None:
    """The learner's answer beside the model answer (containers ``{prefix}_mine`` / ``_model``);
    one above the other when the model answer holds a table, which half a page would squeeze
    to a word per line and cut off at the right."""
    if TABLE.search(tr(model)):
        mine_column = model_column = st.container()
    else:
        mine_column, model_column = st.columns(2)
    with mine_column.container(border=True, key=f"{prefix}_mine"):
        st.markdown(f"**{t('你的回答', 'Your answer')}**")
        markdown(mine or t("（没有作答）", "(no answer typed)"))
    with model_column.container(border=True, key=f"{prefix}_model"):
        st.markdown(f"**{t('参考答案', 'Model answer')}**")
        markdown(tr(model))


def checklist(points: Sequence[Text], key: str, ticked: Sequence[int], *,
              on_change: Callable[..., None] | None = None, args: tuple = ()) -> list[int]:
    """The key points as checkboxes ``{key}_p{i}`` (first drawn as ``ticked``); the ticked ones."""
    st.markdown(f"**{t('你的回答包含了哪些要点？', 'Which key points did your answer make?')}**")
    for i, point in enumerate(points):
        st.session_state.setdefault(f"{key}_p{i}", i in ticked)
        st.checkbox(tr(point), key=f"{key}_p{i}", on_change=on_change, args=args)
    return [i for i in range(len(points)) if st.session_state.get(f"{key}_p{i}")]


def suggestion_caption(suggested: Rating) -> None:
    name = tr(schedule.RATING_NAMES[suggested])
    st.caption(t(f"按你勾选的要点，建议评为“{name}”（带星号的按钮）；你可以选别的。"
                 "按钮上是下次复习的间隔。",
                 f"Your ticks suggest {name} (the starred button); you may press another. "
                 "Each button shows the next review."))


def grade_buttons(labels: Mapping[Rating, str], suggested: Rating | None, *, key: str,
                  on_click: Callable[..., None], args: tuple = ()) -> None:
    """One button per rating in ``labels`` (key ``{key}_{n}``, shortcut ``n``), calling
    ``on_click(*args, rating)``; the ``suggested`` one is primary, starred and says so."""
    for column, rating in zip(st.columns(len(labels)), labels, strict=True):
        chosen = rating == suggested
        column.button(labels[rating], key=f"{key}_{int(rating)}", on_click=on_click,
                      args=(*args, rating), shortcut=str(int(rating)), width="stretch",
                      type="primary" if chosen else "secondary",
                      icon=":material/star:" if chosen else None,
                      help=SUGGESTED.pick(lang()) if chosen else None)


# -- numeric questions: the app grades the number ----------------------------------------------


def not_a_number(raw: str) -> str:
    """The message for a typed value that is not a number."""
    shown = raw.strip()
    return t(f"“{shown}” 不是一个数，请输入数字（例如 132 或 1.5e3）。",
             f"“{shown}” is not a number; type one (e.g. 132 or 1.5e3).")


def number_box(drawn: Instance, answer: Answer, *, key: str, prefix: str,
               on_check: Callable[..., None], check_args: tuple,
               on_hint: Callable[..., None]) -> None:
    """Before the check: the number box with its unit, Check, and the first step as a hint
    (buttons ``{prefix}_check`` and ``{prefix}_hint``). A form, so that Enter in the box checks
    (it submits with the form's first button) and leaving the box does not rerun the page."""
    with st.form(key=f"{prefix}_number_form", border=False):
        placeholder = t("输入一个数，可用科学计数法，如 1.5e9",
                        "Type a number; scientific notation like 1.5e9 is fine")
        st.text_input(t(f"你的答案（{drawn.unit.zh}）", f"Your answer ({drawn.unit.en})"),
                      key=key, placeholder=placeholder)
        if answer.hint_used:
            st.info(t("第一步：", "First step: ") + tr(drawn.steps[0]))
        with st.container(horizontal=True):
            st.form_submit_button(t("核对", "Check"), key=f"{prefix}_check", type="primary",
                                  on_click=on_check, args=check_args, icon=":material/check:")
            if not answer.hint_used:
                hint = t("显示第一步（算作提示）", "Show first step (counts as a hint)")
                st.form_submit_button(hint, key=f"{prefix}_hint", on_click=on_hint,
                                      icon=":material/lightbulb:")


def number_result(drawn: Instance, answer: Answer) -> None:
    """After the check: right or not, and the worked solution."""
    unit = tr(drawn.unit)
    if answer.correct:
        st.success(t(f"正确：{drawn.answer:g} {unit}", f"Right: {drawn.answer:g} {unit}"))
    else:
        st.error(t(f"不对：答案是 {drawn.answer:g} {unit}（你答的是 {answer.numeric_value:g}）",
                   f"Not quite: the answer is {drawn.answer:g} {unit} (you said "
                   f"{answer.numeric_value:g})"))
    st.markdown(f"**{t('解题步骤', 'Worked solution')}**")
    for number, step in enumerate(drawn.steps, 1):
        markdown(f"{number}. {tr(step)}")
