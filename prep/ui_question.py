"""Questions in a page: badges, question, answer and explanation; the filter widget.

Streamlit-side companion of ``prep.bank`` and ``prep.filters`` (Browse and Quiz share the filter).
"""

from __future__ import annotations

import streamlit as st

from prep import numeric, settings
from prep.bank import Bank, Question
from prep.filters import Filters
from prep.i18n import Text
from prep.search import SearchIndex, highlight
from prep.ui import bank as current_bank
from prep.ui import format_with, markdown, show_error, t, tr

SECTION_PARAM = "section"  # Browse?section=<id>: Home's section cards open Browse filtered

DIFFICULTY_NAMES = {
    "easy": Text("简单", "easy"),
    "medium": Text("中等", "medium"),
    "hard": Text("困难", "hard"),
}
DIFFICULTY_COLORS = {"easy": "green", "medium": "orange", "hard": "red"}
TYPE_NAMES = {
    "concept": Text("概念", "concept"),
    "calculation": Text("计算", "calculation"),
    "coding": Text("编程", "coding"),
    "find-the-bug": Text("找 bug", "find the bug"),
    "design": Text("设计", "design"),
    "comparison": Text("比较", "comparison"),
    "numeric": Text("数值计算", "numeric"),
}


def question_badges(q: Question) -> None:
    difficulty, kind = str(q.difficulty), str(q.type)
    st.markdown(
        f":{DIFFICULTY_COLORS.get(difficulty, 'gray')}-badge[{tr(DIFFICULTY_NAMES[difficulty])}] "
        f":blue-badge[{tr(TYPE_NAMES[kind]) if kind in TYPE_NAMES else kind}] "
        + " ".join(f":gray-badge[{tag}]" for tag in q.tags)
        + f"  `{q.id}`"
    )


def _mark(words: str) -> str:
    return f":orange-background[{words}]"


def question_text(q: Question, query: str = "") -> None:
    """The question; with a ``query``, its matched words highlighted (never inside formulas).
    A numeric question shows each parameter as its range (no instance is drawn here)."""
    text = tr(numeric.template(q) if q.numeric is not None else q.question)
    markdown(highlight(text, query, mark=_mark) if query else text)


@st.cache_resource(show_spinner=False)
def _search_index(path: str) -> SearchIndex:  # keyed by the folder, like ui.bank()
    return SearchIndex(current_bank().questions)


def search_index() -> SearchIndex:
    """The ranked search over ``ui.bank()``, built once per process (jieba loads in ~1 s)."""
    return _search_index(str(settings.content_dir()))


def read_section_link(prefix: str, bank: Bank) -> None:
    """Put ``?section=<id>`` (a link from Home) into the sections filter once, then drop it from
    the URL, so the learner can change the filter afterwards; an unknown id gets a message."""
    wanted = st.query_params.get(SECTION_PARAM)
    if wanted is None:
        return
    del st.query_params[SECTION_PARAM]
    if bank.section(wanted) is None:
        show_error(t(f"题库中没有编号为 `{wanted}` 的章节，显示全部章节。",
                     f"There is no section `{wanted}` in the bank; showing every section."))
        return
    st.session_state[f"{prefix}_sections"] = [wanted]


def answer_block(q: Question, *, explanation: bool = True) -> None:
    """The answer of a revealed question, then (unless ``explanation`` is False) the rest."""
    st.markdown(f"**{t('答案', 'Answer')}**")
    markdown(tr(q.answer))
    if explanation:
        explanation_block(q)


def explanation_block(q: Question) -> None:
    """Explanation, code and references of a revealed question."""
    st.markdown(f"**{t('解析', 'Explanation')}**")
    markdown(tr(q.explanation))
    if q.code:
        st.code(q.code, language="python")
    if q.references:
        st.markdown(f"**{t('参考', 'References')}**")
        for ref in q.references:
            title = ref.title.replace("[", "(").replace("]", ")")
            st.markdown(f"- [{title}]({ref.url})" if ref.url else f"- {title}")


def filter_widget(prefix: str, bank: Bank, *, search: bool = False, types: bool = False,
                  columns: int = 4) -> Filters:
    """The search box (if ``search``) and the section, tag, difficulty (and type) pickers.

    Widget keys are ``{prefix}_query``, ``{prefix}_sections``, ``{prefix}_tags``,
    ``{prefix}_difficulty`` and ``{prefix}_type``; an empty picker means "any".
    """
    query = ""
    if search:
        query = st.text_input(
            t("搜索（中英文均可）", "Search (either language)"), key=f"{prefix}_query",
            placeholder=t("例如：softmax、掩码、KV cache", "e.g. softmax, mask, KV cache"),
        )
    slots = st.columns(columns)
    any_label = t("全部", "Any")
    sections = slots[0 % columns].multiselect(
        t("章节", "Sections"), [s.id for s in bank.sections], key=f"{prefix}_sections",
        format_func=format_with({s.id: s.title for s in bank.sections}), placeholder=any_label,
    )
    tags = slots[1 % columns].multiselect(t("标签", "Tags"), bank.tags(), key=f"{prefix}_tags",
                                          placeholder=any_label)
    difficulties = slots[2 % columns].multiselect(
        t("难度", "Difficulty"), list(DIFFICULTY_NAMES), key=f"{prefix}_difficulty",
        format_func=format_with(DIFFICULTY_NAMES), placeholder=any_label,
    )
    kinds: list[str] = []
    if types:
        kinds = slots[3 % columns].multiselect(
            t("题型", "Type"), list(TYPE_NAMES), key=f"{prefix}_type",
            format_func=format_with(TYPE_NAMES), placeholder=any_label,
        )
    return Filters.of(query, sections, tags, difficulties, kinds)
