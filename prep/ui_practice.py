"""Practice's widgets: the code editor, the drill clock, earlier submissions, solved exercises.

The editor is ``streamlit-code-editor`` (Ace in a component iframe; Ace and its Python mode are
bundled in the wheel, nothing is fetched from a CDN: the Streamlit-styled themes ``@import`` a
web font, so the editor uses Ace's built-in ``textmate`` theme instead). Python highlighting,
line numbers, bracket matching, Tab / Shift+Tab indent, Ctrl/Cmd+Enter runs the tests, and Ace's
keyboard-accessibility mode: Esc leaves the text, then Tab moves on (the keyboard is never
trapped; Enter goes back in). It sends its text a second after typing pauses (``DEBOUNCE_MS``), on
blur and on Ctrl/Cmd+Enter; the page saves the draft in the store then (``prep.practice``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st
from code_editor import code_editor

from prep import practice, practice_report, ui_live
from prep.ui import dataframe, lang, t, timezone, tr
from prep.ui_chart import chart

DEBOUNCE_MS = 1000   # the editor sends its text this long after typing pauses
EDITOR_LINES = (18, 32)  # the editor grows from 18 to 32 lines, then scrolls
_EDITOR_PROPS = {
    "theme": "textmate",  # built into Ace; the Streamlit themes load a web font from Google
    "debounceChangePeriod": DEBOUNCE_MS,
    "enableLiveAutocompletion": False,  # a popup would take Tab and Enter
    "enableSnippets": False,
}
# The component binds Esc to its own "exitSession" (leaving its snippet editor, unused here),
# which shadows Ace's "blurTextInput": move it out of the way so Esc then Tab leaves the editor.
_UNUSED_KEY = {"win": "Ctrl-Alt-Shift-F12", "mac": "Command-Alt-Shift-F12"}
_EDITOR_KEYS = {"commands": [{"name": "exitSession", "bindkey": _UNUSED_KEY}]}
_EDITOR_OPTIONS = {
    "showLineNumbers": True,
    "highlightSelectedWord": True,
    "behavioursEnabled": True,           # closes brackets and quotes
    "enableKeyboardAccessibility": True,  # Esc then Tab leaves the editor
    "fontFamily": "ui-monospace, 'DejaVu Sans Mono', monospace",  # local fonts only
    "useSoftTabs": True,
    "tabSize": 4,
}


def editor(key: str, text: str) -> Any:
    """The code editor showing ``text`` when it is created (a new ``key`` loads new text:
    reset, reopen). Returns its last event (``prep.practice.parse_event`` reads it)."""
    return code_editor(
        text, lang="python", key=key, height=list(EDITOR_LINES), shortcuts="vscode",
        response_mode=["blur", "debounce"], props=_EDITOR_PROPS, options=_EDITOR_OPTIONS,
        keybindings=_EDITOR_KEYS,
        component_props={"css": "border: 1px solid rgba(49, 51, 63, 0.2);"},
    )


def isolation_notice() -> None:
    """Tell the learner and the host plainly when learner code is not fully isolated here."""
    from prep.judge import isolation_notice as notice_text

    notice = notice_text()
    if notice is not None:
        st.warning(tr(notice), icon=":material/shield:")


def run_hint() -> None:
    st.caption(t("Ctrl/⌘+Enter 运行测试 · Tab 缩进 · 先按 Esc 再按 Tab 离开编辑器",
                 "Ctrl/⌘+Enter runs the tests · Tab indents · Esc then Tab leaves the editor"))


@st.fragment(run_every=1)
def drill_clock(started: float, frozen: float | None, best: float | None) -> None:
    """The drill's clock, redrawn every second (only this fragment reruns), and the best."""
    seconds = frozen if frozen is not None else time.time() - started
    with st.container(key="practice_drill_clock"):
        best_text = practice.clock_text(best) if best is not None else "—"
        st.markdown(t(f":material/timer: **{practice.clock_text(seconds)}** · 个人最佳 {best_text}",
                      f":material/timer: **{practice.clock_text(seconds)}** · "
                      f"personal best {best_text}"))


def submissions_panel(submissions: Sequence[Any], on_open: Callable[[int], None]) -> None:
    """Earlier submissions of this exercise, newest first; "Open in the editor" loads one."""
    label = t(f"之前的提交（{len(submissions)}）", f"Earlier submissions ({len(submissions)})")
    with st.expander(label, icon=":material/history:"):
        if not submissions:
            st.caption(t("还没有提交。", "No submissions yet."))
            return
        newest = list(reversed(submissions))
        labels = {s.id: practice.submission_label(s, lang(), timezone()) for s in newest}
        chosen = st.selectbox(t("提交", "Submission"), list(labels), key="practice_history",
                              format_func=labels.get)
        picked = next(s for s in newest if s.id == chosen)
        st.code(picked.code, language="python")
        st.button(t("在编辑器中打开", "Open in the editor"), key="practice_reopen",
                  icon=":material/edit_note:", on_click=on_open, args=(picked.id,))


def verdict(report: Any, judged_code: str | None, code: str, page_lang: str,
            map_pick: str) -> None:
    """The last report, greyed with a note once the code in the editor changed since it was
    judged (the editor sends its text when typing pauses, so the server knows within a second;
    this replaces ``ui_live.stale_on_edit``, which watched a text area)."""
    stale = practice_report.is_stale(judged_code, code)
    if stale:
        st.html(ui_live.stale_css("practice_verdict_stale"))
        st.caption(t("这个结果针对的是修改之前的代码；再次运行测试以检查当前代码。",
                     "This verdict is for earlier code; run the tests again to check the code "
                     "in the editor."))
    with st.container(key="practice_verdict_stale" if stale else "practice_verdict"):
        show_report(report, page_lang, map_pick)


def show_report(report: Any, page_lang: str, map_pick: str) -> None:
    """A judge report: the verdict, the results table, the printed output and the attention
    maps (the learner's beside the reference's, opened on the first failing test)."""
    import numpy as np
    import plotly.graph_objects as go

    from attention import viz
    from prep import judge
    from prep.ui import hover_names, keep_choice

    show = {judge.ACCEPTED: st.success, judge.TIME_LIMIT: st.warning,
            judge.MEMORY_LIMIT: st.warning}.get(report.verdict, st.error)
    show(f"{tr(report.message)}  ({report.passed}/{len(report.results)} · "
         f"{report.seconds:.2f} s)")
    if report.results:
        dataframe(
            practice_report.table(report, page_lang), hide_index=True, width="stretch",
            column_config={
                "test": t("测试", "Test"), "status": t("结果", "Result"),
                "message": t("说明", "Message"), "max_abs_diff": t("最大绝对误差", "Max abs diff"),
            },
        )
        notes = practice_report.failure_notes(report, page_lang, judge.PASSED)
        if notes:
            with st.container(key="practice_failures"):
                for name, message in notes:
                    st.markdown(f"**{name}** — {message}")
    if report.output:
        with st.expander(t("程序输出", "Printed output")):
            st.code(report.output, language=None)
            if report.output_truncated:
                chars = judge.Limits().output_chars
                st.caption(t(f"输出过长，只保留前 {chars} 个字符。",
                             f"Output cut to its first {chars} characters."))
    with_maps = [r for r in report.results if r.learner_weights or r.reference_weights or r.figure]
    if not with_maps:
        return
    options = list(range(len(with_maps)))  # labels are translated: keep_choice keeps it
    keep_choice(map_pick, options, default=practice_report.first_failing(with_maps, judge.PASSED))
    chosen = st.selectbox(t("查看哪个测试的注意力图", "Attention map of test"), options,
                          key=map_pick, format_func=lambda i: with_maps[i].name[page_lang])
    result = with_maps[chosen]
    if result.figure is not None:
        chart(go.Figure(result.figure), key="practice_figure")
    mine, ref = result.learner_weights, result.reference_weights
    yours, reference = t("你的权重", "Your weights"), t("参考权重", "Reference weights")
    if mine and ref and np.shape(mine) == np.shape(ref):
        chart(viz.heatmaps(np.array([mine, ref]), titles=[yours, reference], columns=2,
                           zmax=1.0, hover=hover_names()), key="practice_heatmaps")
        difference = np.array(mine) - np.array(ref)  # (L, S): where yours departs, and by how much
        if np.abs(difference).max() > 0:
            chart(viz.heatmaps(difference, titles=[t("差值：你的 − 参考", "Difference: "
                                                     "yours − reference")],
                               colorscale="RdBu", z_format="rounded",
                               hover=hover_names()), key="practice_difference")
        return
    columns = st.columns(2)
    for index, (column, weights, title) in enumerate(((columns[0], mine, yours),
                                                      (columns[1], ref, reference))):
        if weights:
            with column:
                chart(viz.heatmaps(np.array(weights), titles=[title], zmax=1.0,
                                   hover=hover_names()), key=f"practice_heatmap_{index}")
