"""Practice: write the code interviewers ask for; the judge runs it out of process (prep.judge)."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from prep import practice_report, settings, ui, ui_live, ui_question

lang = ui.setup_page("编程练习", "Practice")

from attention import viz  # noqa: E402  (after the page set-up, so a deep link configures first)
from prep import judge  # noqa: E402
from prep.exercises import load_exercises  # noqa: E402

DRAFTS = "practice_drafts"     # exercise id -> the learner's code; not a widget key, so it
REPORTS = "practice_reports"   # survives page switches (Streamlit drops unrendered widgets)
HINTS = "practice_hints"       # exercise id -> number of hints revealed
JUDGED = "practice_judged"     # exercise id -> the code its report was judged on
MAP_PICK = "practice_map_test"  # the "attention map of test" picker
STALE_NOTE = "practice_stale_note"  # "this verdict is for earlier code"
PICK = "practice_exercise"
EXERCISE_PARAM = "ex"
EDITOR_HEIGHT = 380
EDITOR_CSS = ("<style>[class*='st-key-practice_code_'] textarea {font-family: "
              "'Source Code Pro', ui-monospace, monospace; font-size: 0.85rem; "
              "white-space: pre; overflow-wrap: normal; overflow-x: auto;}</style>")
VERDICT_STYLE = {judge.ACCEPTED: st.success, judge.WRONG_ANSWER: st.error,
                 judge.RUNTIME_ERROR: st.error, judge.SYNTAX_ERROR: st.error,
                 judge.TIME_LIMIT: st.warning, judge.MEMORY_LIMIT: st.warning}

st.title(ui.t("编程练习", "Practice"))
if not settings.practice_enabled():
    st.info(ui.t("练习功能已被管理员关闭：这个实例不会运行任何提交的代码。",
                 "Practice is switched off by the host: this instance runs no submitted code."),
            icon=":material/block:")
    st.stop()

exercises = {e.id: e for e in load_exercises()}
drafts: dict[str, str] = st.session_state.setdefault(DRAFTS, {})
reports: dict[str, judge.Report] = st.session_state.setdefault(REPORTS, {})
hints_shown: dict[str, int] = st.session_state.setdefault(HINTS, {})
judged: dict[str, str] = st.session_state.setdefault(JUDGED, {})

linked = st.query_params.get(EXERCISE_PARAM)
ui.keep_choice(PICK, list(exercises), default=linked)  # titles are translated: keep the choice


def _on_pick() -> None:
    st.query_params[EXERCISE_PARAM] = st.session_state[PICK]


exercise_id = st.selectbox(
    ui.t("题目", "Exercise"), list(exercises), key=PICK, on_change=_on_pick,
    format_func=ui.format_with({i: e.title for i, e in exercises.items()}),
)
exercise = exercises[exercise_id]
editor_key = f"practice_code_{exercise_id}"


def _save_draft() -> None:
    drafts[exercise_id] = st.session_state[editor_key]


def _reset() -> None:
    st.session_state[editor_key] = drafts[exercise_id] = exercise.starter
    reports.pop(exercise_id, None)
    judged.pop(exercise_id, None)


def _more_hint() -> None:
    hints_shown[exercise_id] = hints_shown.get(exercise_id, 0) + 1


left, right = st.columns([5, 6], gap="large")
with left:
    st.caption(ui.tr(ui_question.DIFFICULTY_NAMES[exercise.difficulty]))
    st.markdown(ui.tr(exercise.statement))
    ui.page_link("pages/1_Browse.py", "题库中的这道题", "This question in the bank",
                 icon=":material/menu_book:", q=exercise.bank_id)
    shown = hints_shown.get(exercise_id, 0)
    for number, hint in enumerate(exercise.hints[:shown], start=1):
        st.info(f"**{ui.t('提示', 'Hint')} {number}** · {ui.tr(hint)}", icon=":material/lightbulb:")
    if shown < len(exercise.hints):
        st.button(ui.t(f"显示提示（{shown + 1}/{len(exercise.hints)}）",
                       f"Show a hint ({shown + 1}/{len(exercise.hints)})"),
                  key="practice_hint", on_click=_more_hint, icon=":material/lightbulb:")
    if st.toggle(ui.t("显示参考答案", "Show the reference solution"), key="practice_solution"):
        st.code(exercise.solution, language="python")

with right:
    if editor_key not in st.session_state:
        st.session_state[editor_key] = drafts.get(exercise_id, exercise.starter)
    st.html(EDITOR_CSS)  # a monospace editor
    code = st.text_area(ui.t("你的代码", "Your code"), key=editor_key, height=EDITOR_HEIGHT,
                        on_change=_save_draft)
    drafts[exercise_id] = code
    with st.container(horizontal=True):
        run = st.button(ui.t("运行测试", "Run the tests"), key="practice_run", type="primary",
                        icon=":material/play_arrow:")
        st.button(ui.t("恢复起始代码", "Reset to the starter"), key="practice_reset",
                  on_click=_reset, icon=":material/restart_alt:")
    if run:
        with st.spinner(ui.t("在独立进程中运行测试……", "Running the tests in a separate process…")):
            reports[exercise_id] = judge.judge(code, exercise.tests_path,
                                               judge.Limits(time_s=exercise.time_s))
        judged[exercise_id] = code
        st.session_state.pop(MAP_PICK, None)  # a new report opens on its first failing test


def show_report(report: judge.Report) -> None:
    """The verdict, the results table, the printed output and the attention maps."""
    show = VERDICT_STYLE.get(report.verdict, st.error)
    show(f"{ui.tr(report.message)}  ({report.passed}/{len(report.results)} · "
         f"{report.seconds:.2f} s)")
    if report.results:
        st.dataframe(
            practice_report.table(report, lang), hide_index=True, width="stretch",
            column_config={
                "test": ui.t("测试", "Test"), "status": ui.t("结果", "Result"),
                "message": ui.t("说明", "Message"),
                "max_abs_diff": ui.t("最大绝对误差", "Max abs diff"),
            },
        )
        notes = practice_report.failure_notes(report, lang, judge.PASSED)
        if notes:
            with st.container(key="practice_failures"):
                for name, message in notes:
                    st.markdown(f"**{name}** — {message}")
    if report.output:
        with st.expander(ui.t("程序输出", "Printed output")):
            st.code(report.output, language=None)
            if report.output_truncated:
                st.caption(ui.t(f"输出过长，只保留前 {judge.Limits().output_chars} 个字符。",
                                f"Output cut to its first {judge.Limits().output_chars} "
                                "characters."))
    with_maps = [r for r in report.results if r.learner_weights or r.reference_weights or r.figure]
    if with_maps:
        options = list(range(len(with_maps)))  # labels are translated: keep_choice keeps it
        ui.keep_choice(MAP_PICK, options,
                       default=practice_report.first_failing(with_maps, judge.PASSED))
        chosen = st.selectbox(ui.t("查看哪个测试的注意力图", "Attention map of test"),
                              options, key=MAP_PICK,
                              format_func=lambda i: with_maps[i].name[lang])
        result = with_maps[chosen]
        if result.figure is not None:
            st.plotly_chart(go.Figure(result.figure), key="practice_figure")
        mine, ref = result.learner_weights, result.reference_weights
        yours, reference = ui.t("你的权重", "Your weights"), ui.t("参考权重", "Reference weights")
        if mine and ref and np.shape(mine) == np.shape(ref):
            st.plotly_chart(viz.heatmaps(np.array([mine, ref]), titles=[yours, reference],
                                         columns=2, zmax=1.0, hover=ui.hover_names()),
                            key="practice_heatmaps")
        else:
            columns = st.columns(2)
            for column, weights, title in ((columns[0], mine, yours), (columns[1], ref, reference)):
                if weights:
                    column.plotly_chart(
                        viz.heatmaps(np.array(weights), titles=[title], zmax=1.0,
                                     hover=ui.hover_names()),
                        key=f"practice_heatmap_{title}")


report = reports.get(exercise_id)
if report is not None:
    st.divider()
    stale = practice_report.is_stale(judged.get(exercise_id), code)  # the editor changed since
    if not stale:  # the browser greys it at the first keystroke, before the server knows
        st.html(ui_live.hidden_note_css(STALE_NOTE))
        ui_live.stale_on_edit(editor_key, "practice_verdict", STALE_NOTE)
    else:
        st.html(ui_live.stale_css("practice_verdict_stale"))
    with st.container(key=STALE_NOTE):
        st.caption(ui.t("这个结果针对的是修改之前的代码；再次运行测试以检查当前代码。",
                        "This verdict is for earlier code; run the tests again to check "
                        "the code in the editor."))
    with st.container(key="practice_verdict_stale" if stale else "practice_verdict"):
        show_report(report)
