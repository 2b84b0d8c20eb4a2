"""Shared Streamlit pieces: page set-up, the sidebar language switch, the cached bank, messages.

The only module of ``prep`` that imports Streamlit. Every page starts with
``lang = ui.setup_page(title_zh, title_en)`` so that a deep link works as the very first request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from prep import i18n, settings
from prep.store import DEFAULT_USER, Store, StoreError

if TYPE_CHECKING:
    from prep.bank import Bank, Question

APP_TITLE = {"zh": "注意力机制面试备考", "en": "Attention interview prep"}
LANG_LABELS = {"zh": "中文", "en": "English"}
_LANG_STATE = "_lang"           # the session's language, kept across pages
_LANG_WIDGET = "_lang_choice"   # the sidebar radio's own key
LANG_PARAM = "lang"             # ?lang=en in the URL
# Widget keys whose value must outlive a run that does not draw the widget (another page, the quiz
# summary): Streamlit drops such a widget's state at the end of that run unless it is reassigned.
KEPT_WIDGETS = (
    "browse_query", "browse_sections", "browse_tags", "browse_difficulty", "browse_type",
    "browse_reading",
    "quiz_sections", "quiz_tags", "quiz_difficulty", "quiz_count", "quiz_due_only",
)


def _on_lang_change() -> None:
    chosen = i18n.normalize(st.session_state.get(_LANG_WIDGET))
    st.session_state[_LANG_STATE] = chosen
    st.query_params[LANG_PARAM] = chosen


def _resolve_lang() -> str:
    """The URL's ?lang= wins (a shared link opens in its language); else the session's choice."""
    from_url = (st.query_params.get(LANG_PARAM) or "").strip().lower()
    if from_url in i18n.LANGS:
        st.session_state[_LANG_STATE] = from_url
    elif _LANG_STATE not in st.session_state:
        st.session_state[_LANG_STATE] = i18n.DEFAULT_LANG
    return st.session_state[_LANG_STATE]


def keep_widget_state() -> None:
    """Keep the Browse and Quiz choices (search, filters, quiz settings) across pages and runs.

    Streamlit forgets a widget's value after a run that does not draw it; reassigning the key at
    the top of every run turns it into plain session state, which the widget then picks up again.
    """
    for key in KEPT_WIDGETS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def setup_page(title_zh: str, title_en: str, *, layout: str = "wide") -> str:
    """Configure the page and the sidebar; return the language ("zh" or "en").

    Keeps the language in the URL (?lang=) so a copied link opens in the same language.
    """
    keep_widget_state()
    current = _resolve_lang()
    title = title_zh if current == "zh" else title_en
    st.set_page_config(
        page_title=f"{title} · {APP_TITLE[current]}",
        page_icon="🎯",
        layout=layout,
        initial_sidebar_state="auto",
    )
    if st.query_params.get(LANG_PARAM) != current:
        st.query_params[LANG_PARAM] = current
    with st.sidebar:
        st.caption(APP_TITLE[current])
        for page, zh, en, icon in PAGES:
            page_link(page, zh, en, icon)
        st.divider()
        st.session_state[_LANG_WIDGET] = current
        st.radio(
            "语言 / Language",
            i18n.LANGS,
            format_func=LANG_LABELS.__getitem__,
            key=_LANG_WIDGET,
            horizontal=True,
            on_change=_on_lang_change,
        )
    return current


def lang() -> str:
    """The session's language; setup_page must have run first on this page."""
    return i18n.normalize(st.session_state.get(_LANG_STATE))


def t(zh: str, en: str) -> str:
    """Pick the literal for the session's language."""
    return zh if lang() == "zh" else en


def tr(text: Mapping[str, str]) -> str:
    """A bilingual mapping ({"zh": ..., "en": ...} or a bank Text) in the session's language."""
    return i18n.pick(text, lang())


def hover_names() -> tuple[str, str, str]:
    """(query, key, weight) in the session's language: ``attention.viz``'s ``hover``."""
    return t("查询", "query"), t("键", "key"), t("权重", "weight")


def format_with(texts: Mapping[object, Mapping[str, str]]) -> Callable[[object], str]:
    """A widget ``format_func`` giving each option's text in the language of this run.

    Resolved now, not when called: AppTest calls format functions outside the script run.
    """
    current = lang()
    labels = {option: i18n.pick(text, current) for option, text in texts.items()}
    return labels.__getitem__


@st.cache_resource(show_spinner=False)
def _load_bank(path: str) -> Bank:
    from prep.bank import load_bank

    return load_bank(Path(path))


def bank() -> Bank:
    """The question bank from settings.content_dir(), loaded once per process and folder."""
    return _load_bank(str(settings.content_dir()))


def show_error(message: str) -> None:
    """A clear message in the page, never a traceback."""
    st.error(message, icon="⚠️")


def show_bank_problems(the_bank: Bank) -> None:
    """List what is wrong in the bank (file, line, question, field); the rest still works."""
    if not the_bank.problems:
        return
    count = len(the_bank.problems)
    label = t(f"题库中有 {count} 处问题（其余题目照常可用）",
              f"{count} problem(s) in the question bank (the rest still works)")
    with st.expander(label, icon="⚠️"):
        for problem in the_bank.problems:
            st.text(str(problem))


# -- navigation ---------------------------------------------------------------------------------

# Every page, as the sidebar lists it (Streamlit's own page list is off in .streamlit/config.toml:
# it would call the home page "app" and drop ?lang=). A page whose file is absent is left out.
PAGES = (
    ("app.py", "首页", "Home", ":material/home:"),
    ("pages/1_Browse.py", "浏览题库", "Browse", ":material/menu_book:"),
    ("pages/2_Quiz.py", "自测", "Quiz", ":material/quiz:"),
    ("pages/3_Lab.py", "实验室", "Lab", ":material/science:"),
    ("pages/4_Practice.py", "编程练习", "Practice", ":material/code:"),
    ("pages/5_Real_model.py", "真实模型", "Real model", ":material/model_training:"),
    ("pages/6_Progress.py", "学习进度", "Progress", ":material/insights:"),
)


def page_exists(page: str) -> bool:
    """Whether a page file (path relative to app.py, e.g. "pages/3_Lab.py") is present."""
    return (settings.PROJECT_ROOT / page).is_file()  # where app.py and pages/ live


def page_link(page: str, zh: str, en: str, icon: str | None = None, **params: str) -> None:
    """A link to another page that keeps the language; nothing if that page is not installed."""
    if not page_exists(page):
        return
    st.page_link(page, label=t(zh, en), icon=icon, query_params={LANG_PARAM: lang(), **params})


# -- progress store -----------------------------------------------------------------------------


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
        return _open_store(settings.db_location(), user)
    except StoreError as exc:
        show_store_error(exc)
        return None


_STORE_ERRORS_ZH = {
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


# -- question rendering -------------------------------------------------------------------------

DIFFICULTY_NAMES = {
    "easy": {"zh": "简单", "en": "easy"},
    "medium": {"zh": "中等", "en": "medium"},
    "hard": {"zh": "困难", "en": "hard"},
}
DIFFICULTY_COLORS = {"easy": "green", "medium": "orange", "hard": "red"}
TYPE_NAMES = {
    "concept": {"zh": "概念", "en": "concept"},
    "calculation": {"zh": "计算", "en": "calculation"},
    "coding": {"zh": "编程", "en": "coding"},
    "find-the-bug": {"zh": "找 bug", "en": "find the bug"},
    "design": {"zh": "设计", "en": "design"},
    "comparison": {"zh": "比较", "en": "comparison"},
}


def markdown(text: str) -> None:
    """Bank text: Markdown with LaTeX ($...$), never raw HTML (a file cannot inject script)."""
    st.markdown(text, unsafe_allow_html=False)


def question_badges(q: Question) -> None:
    difficulty, kind = str(q.difficulty), str(q.type)
    st.markdown(
        f":{DIFFICULTY_COLORS.get(difficulty, 'gray')}-badge[{tr(DIFFICULTY_NAMES[difficulty])}] "
        f":blue-badge[{tr(TYPE_NAMES.get(kind, {'zh': kind, 'en': kind}))}] "
        + " ".join(f":gray-badge[{tag}]" for tag in q.tags)
        + f"  `{q.id}`"
    )


def question_text(q: Question) -> None:
    markdown(tr(q.question))


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
