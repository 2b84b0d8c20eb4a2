"""Shared Streamlit pieces: page set-up, the sidebar language switch, the cached bank, messages.

With ``prep/ui_store.py`` (the progress store in a page) and ``prep/ui_question.py`` (questions
and the filter widget), the only modules of ``prep`` that import Streamlit. Every page starts with
``lang = ui.setup_page(title_zh, title_en)`` so that a deep link works as the very first request.
``ui.t(zh, en)`` picks a literal, ``ui.tr(text)`` a ``prep.i18n.Text``.
"""

from __future__ import annotations

import gc
import importlib
import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

from prep import i18n, settings
from prep.i18n import Text

if TYPE_CHECKING:
    from prep.bank import Bank

# Full garbage collections walked the server's long-lived objects (Streamlit, its web server)
# again and again while the first page imported its modules: ~0.2 s of it, ~0.05 s since.
# gc.freeze() sets aside everything alive when a page first loads this module, for good: that
# includes the first session's own objects, whose cycles are then never collected (a one-off
# cost per process, bounded by one session).
gc.freeze()

APP_TITLE = Text("注意力机制面试备考", "Attention interview prep")
LANG_LABELS = {"zh": "中文", "en": "English"}  # each language named in itself, never translated
_LANG_STATE = "_lang"           # the session's language, kept across pages
_LANG_WIDGET = "_lang_choice"   # the sidebar radio's own key
LANG_PARAM = "lang"             # ?lang=en in the URL
# Widget keys whose value must outlive a run that does not draw the widget (another page, the quiz
# summary): Streamlit drops such a widget's state at the end of that run unless it is reassigned.
KEPT_WIDGETS = (
    "browse_query", "browse_sections", "browse_tags", "browse_difficulty", "browse_type",
    "browse_reading",
    "quiz_sections", "quiz_tags", "quiz_difficulty", "quiz_count", "quiz_due_only",
    "quiz_answer_first",
)


# Wide formulas (KaTeX) and code blocks scroll sideways; a keyboard user can only scroll what can
# take focus (axe-core: scrollable-region-focusable). Streamlit markdown cannot carry a tabindex,
# so this fixed script (ours, no user input in it) gives every scrollable block tabindex="0",
# once per browser tab, watching the page for new blocks and the window for resizes.
_FOCUSABLE_SCROLLERS_JS = """<script>
(() => {
  if (window.__focusableScrollers) return;
  window.__focusableScrollers = true;
  const mark = () => {
    document.querySelectorAll('.katex-display, pre, [data-testid="stCode"] pre').forEach(el => {
      const scrolls = el.scrollWidth > el.clientWidth || el.scrollHeight > el.clientHeight;
      if (scrolls && !el.hasAttribute('tabindex')) el.setAttribute('tabindex', '0');
    });
  };
  let queued = false;
  const later = () => {
    if (!queued) { queued = true; requestAnimationFrame(() => { queued = false; mark(); }); }
  };
  new MutationObserver(later).observe(document.body, {childList: true, subtree: true});
  window.addEventListener('resize', later);
  later();
})();
</script>"""


# Colours Streamlit draws below WCAG's 4.5:1 (axe-core: color-contrast), made readable; all are
# 5.3-7.2:1 on white and on the code background (#fcfcfb).
# - A disabled slider's label is drawn at 40% of the text colour (2.7:1 on white; axe checks it
#   because the label is not tied to a disabled input). The Lab disables the settings a module does
#   not use and says why in their help.
# - Code blocks (st.code and code in Markdown: questions, answers, the Lab's source) colour their
#   tokens from a fixed palette at 2.2-3.8:1 (keywords #1c83e1, numbers #29b09d, strings
#   #09ab3b, ...); the same hues, darker. Regression: a question with code failed axe in Browse
#   and in the mock interview.
_CONTRAST_CSS = """<style>
[data-testid="stSlider"]:has([aria-disabled="true"]) [data-testid="stWidgetLabel"] p,
[data-testid="stSlider"]:has([disabled]) [data-testid="stWidgetLabel"] p {
  color: #5C5D61;
}
[data-testid="stCode"] pre .token:is(.comment, .prolog, .doctype, .cdata, .punctuation,
  .unchanged) { color: #5C5D61; }
[data-testid="stCode"] pre .token:is(.attr-name, .property, .variable) { color: #0A5C8A; }
[data-testid="stCode"] pre .token:is(.boolean, .constant, .symbol, .inserted) { color: #1E7A35; }
[data-testid="stCode"] pre .token:is(.number, .regex) { color: #0B6B5E; }
[data-testid="stCode"] pre .token:is(.string, .char, .attr-value) { color: #17692C; }
[data-testid="stCode"] pre .token:is(.operator, .entity, .decorator, .atrule) { color: #A8430B; }
[data-testid="stCode"] pre .token.url { color: #6B3FA0; }
[data-testid="stCode"] pre .token:is(.keyword, .tag, .function, .class-name, .selector) {
  color: #0B5CAD;
}
[data-testid="stCode"] pre .token:is(.important, .deleted) { color: #B0202E; }
</style>"""


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


# Imported once per process, one thread at a time, before the first table: Streamlit imports them
# lazily inside st.table / st.dataframe, and two sessions doing that first at the same moment got
# "partially initialized module 'pandas'" (benchmarks/bench_load.py, 5 sessions, the Lab). Only
# pages that draw a table pay for it (about 0.8 s once per process: most of a cold start's first
# page, when every page did); every table goes through ``dataframe`` / ``table`` below.
WARM_IMPORTS = ("pandas", "pyarrow")
_warm_lock = threading.Lock()
_warmed = threading.Event()  # set once every module is fully imported (sys.modules is not
                             # enough: a module being imported is already in it)


def warm_imports() -> None:
    """Import ``WARM_IMPORTS`` (once; other sessions wait for it; later calls return at once)."""
    if _warmed.is_set():
        return
    with _warm_lock:
        for name in WARM_IMPORTS:
            importlib.import_module(name)
        _warmed.set()


def dataframe(data: object, **kwargs: object) -> object:
    """``st.dataframe``, after ``warm_imports`` (every dataframe of the app goes through here)."""
    warm_imports()
    return st.dataframe(data, **kwargs)


def table(data: object) -> object:
    """``st.table``, after ``warm_imports`` (every table of the app goes through here)."""
    warm_imports()
    return st.table(data)


def setup_page(title_zh: str, title_en: str, *, layout: str = "wide") -> str:
    """Configure the page and the sidebar; return the language ("zh" or "en").

    Keeps the language in the URL (?lang=) so a copied link opens in the same language.
    """
    keep_widget_state()
    current = _resolve_lang()
    title = title_zh if current == "zh" else title_en
    st.set_page_config(
        page_title=f"{title} · {APP_TITLE.pick(current)}",
        page_icon="🎯",
        layout=layout,
        initial_sidebar_state="auto",
    )
    if st.query_params.get(LANG_PARAM) != current:
        st.query_params[LANG_PARAM] = current
    with st.sidebar:
        st.caption(APP_TITLE.pick(current))
        for entry in PAGES:
            page_link(entry.path, entry.title.zh, entry.title.en, entry.icon)
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
        st.html(_FOCUSABLE_SCROLLERS_JS, unsafe_allow_javascript=True)
    st.html(_CONTRAST_CSS)  # style only: Streamlit puts it out of the page's flow
    return current


def lang() -> str:
    """The session's language; setup_page must have run first on this page."""
    return i18n.normalize(st.session_state.get(_LANG_STATE))


def t(zh: str, en: str) -> str:
    """Pick the literal for the session's language."""
    return zh if lang() == "zh" else en


def tr(text: Text | Mapping[str, str]) -> str:
    """A ``Text`` in the session's language (a plain {"zh", "en"} mapping is still accepted)."""
    return i18n.pick(text, lang())


def hover_names() -> tuple[str, str, str]:
    """(query, key, weight) in the session's language: ``attention.viz``'s ``hover``."""
    return t("查询", "query"), t("键", "key"), t("权重", "weight")


def format_with(texts: Mapping[object, Text | Mapping[str, str]]) -> Callable[[object], str]:
    """A widget ``format_func`` giving each option's text in the language of this run.

    Resolved now, not when called: AppTest calls format functions outside the script run.
    """
    current = lang()
    labels = {option: i18n.pick(text, current) for option, text in texts.items()}
    return labels.__getitem__


@st.cache_resource(show_spinner=False)
def _load_bank(path: str) -> Bank:
    from prep.bank import cache

    return cache.load(Path(path), settings.cache_dir())


def bank() -> Bank:
    """The question bank from settings.content_dir(), loaded once per process and folder (from
    the cache of an earlier start when the files are unchanged: ``prep.bank.cache``)."""
    return _load_bank(str(settings.content_dir()))


_KEPT_CHOICE = "_kept_choice:{key}"   # the last value of a choice widget, outside the widget
_KEPT_LANG = "_kept_choice_lang:{key}"  # the language that value was chosen in


def keep_choice(key: str, options: Sequence[Hashable], default: Hashable | None = None) -> None:
    """Keep a choice widget's value across a language switch; call it just before the widget.

    A selectbox or radio whose ``format_func`` shows translated labels loses its value when the
    language changes (the browser holds it as the old label; Streamlit falls back to the first
    option). This remembers each run's value under a private key and, on the first run in a new
    language (or when the value is no longer among ``options``), puts it back in
    ``st.session_state[key]`` before the widget is drawn.

    Args:
        key: the widget's ``key``.
        options: the widget's options (the values, not their labels); must not be empty.
        default: the value when the widget has none yet (e.g. from a deep link); ignored when
            not among ``options``. Without it, the remembered value, else the first option.
    """
    if not options:
        raise ValueError(f"options: expected at least one option for {key!r}, got none")
    state, current = st.session_state, lang()
    kept, kept_lang = _KEPT_CHOICE.format(key=key), _KEPT_LANG.format(key=key)
    remembered = state.get(kept)
    fallback = remembered if remembered in options else options[0]
    if key not in state:
        state[key] = default if default in options else fallback
    elif state.get(kept_lang, current) != current or state[key] not in options:
        state[key] = fallback
    state[kept], state[kept_lang] = state[key], current


def timezone() -> tzinfo:
    """The browser's time zone (for "today"), UTC when the browser does not say or is unknown."""
    try:
        return ZoneInfo(st.context.timezone) if st.context.timezone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def show_error(message: str) -> None:
    """A clear message in the page, never a traceback."""
    st.error(message, icon=":material/warning:")


def show_bank_problems(the_bank: Bank) -> None:
    """List what is wrong in the bank (file, line, question, field); the rest still works."""
    if not the_bank.problems:
        return
    count = len(the_bank.problems)
    label = t(f"题库中有 {count} 处问题（其余题目照常可用）",
              f"{count} problem(s) in the question bank (the rest still works)")
    with st.expander(label, icon=":material/warning:"):
        for problem in the_bank.problems:
            st.text(str(problem))


# -- navigation ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Page:
    """One page of the app: its file (relative to app.py), its name and its icon."""

    path: str
    title: Text
    icon: str


# Every page, as the sidebar lists it (Streamlit's own page list is off in .streamlit/config.toml:
# it would call the home page "app" and drop ?lang=). A page whose file is absent is left out.
PAGES = (
    Page("app.py", Text("首页", "Home"), ":material/home:"),
    Page("pages/1_Browse.py", Text("浏览题库", "Browse"), ":material/menu_book:"),
    Page("pages/2_Quiz.py", Text("自测", "Quiz"), ":material/quiz:"),
    Page("pages/3_Lab.py", Text("实验室", "Lab"), ":material/science:"),
    Page("pages/4_Practice.py", Text("编程练习", "Practice"), ":material/code:"),
    Page("pages/5_Real_model.py", Text("真实模型", "Real model"), ":material/model_training:"),
    Page("pages/6_Progress.py", Text("学习进度", "Progress"), ":material/insights:"),
    Page("pages/7_Mock_interview.py", Text("模拟面试", "Mock interview"),
         ":material/record_voice_over:"),
)


def page_exists(page: str) -> bool:
    """Whether a page file (path relative to app.py, e.g. "pages/3_Lab.py") is present."""
    return (settings.PROJECT_ROOT / page).is_file()  # where app.py and pages/ live


def page_link(page: str, zh: str, en: str, icon: str | None = None, **params: str) -> None:
    """A link to another page that keeps the language; nothing if that page is not installed."""
    if not page_exists(page):
        return
    st.page_link(page, label=t(zh, en), icon=icon, query_params={LANG_PARAM: lang(), **params})


def markdown(text: str) -> None:
    """Bank text: Markdown with LaTeX ($...$), never raw HTML (a file cannot inject script)."""
    st.markdown(text, unsafe_allow_html=False)
