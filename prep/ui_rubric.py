"""Answer first, then the rubric: the pieces Quiz and the mock interview draw alike.

The answer box, the learner's answer beside the model answer (two columns, stacked on a phone),
the key points to tick, and the grade buttons with the suggested grade marked (primary, starred,
"The suggested grade" as its tooltip). What a tick or a grade means is decided by the caller
(``prep.interview.suggest_grade`` gives the suggestion); nothing here is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import streamlit as st
from fsrs import Rating

from prep import schedule
from prep.i18n import Text
from prep.ui import lang, markdown, t, tr

SUGGESTED = Text("建议的评分", "The suggested grade")


def answer_area(key: str, *, placeholder: str, on_change: Callable[..., None] | None = None,
                args: tuple = ()) -> str:
    """The box the learner types their answer in (Markdown, formulas as ``$...$``)."""
    return st.text_area(t("你的回答（Markdown，公式写成 `$...$`）",
                          "Your answer (Markdown, formulas as `$...$`)"),
                        key=key, height=180, on_change=on_change, args=args,
                        placeholder=placeholder)


def side_by_side(mine: str, model: Text, prefix: str) -> None:
    """The learner's answer beside the model answer (containers ``{prefix}_mine`` / ``_model``)."""
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
