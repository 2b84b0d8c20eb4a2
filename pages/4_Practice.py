"""Practice: write the code interviewers ask for; the judge runs it out of process (prep.judge).

Two modes: practice (starter, hints, reference on demand, draft kept in the store) and drill
(a blank editor with only the signatures, a clock, the hidden tests at the end, a personal best).
"""

import time
from datetime import UTC, datetime

import streamlit as st

from prep import practice, settings, ui, ui_practice, ui_question, ui_store
from prep import practice_drill as drills
from prep.store import StoreError

lang = ui.setup_page("编程练习", "Practice")

from prep import judge  # noqa: E402  (after the page set-up, so a deep link configures first)
from prep.exercises import load_exercises  # noqa: E402

CODE = "practice_drafts"       # slot -> the code the page last heard from the editor; not a
REPORTS = "practice_reports"   # widget key, so it survives page switches (Streamlit drops
HINTS = "practice_hints"       # unrendered widgets); slot = exercise id, or "<id>__drill"
JUDGED = "practice_judged"     # slot -> the code its report was judged on
REVISION = "practice_editor_rev"  # slot -> n; a new editor key loads new text (reset, reopen)
SEEN = "practice_seen_event"   # editor key -> id of the last editor event handled
DRILLS = "practice_drills"     # exercise id -> prep.practice_drill.Drill
MAP_PICK = "practice_map_test"  # the "attention map of test" picker
PENDING = "practice_pending_run"  # the slot whose Run / Ctrl+Enter is not judged yet
PICK, MODE = "practice_exercise", "practice_mode"
EXERCISE_PARAM = "ex"
MODES = {"practice": ui.t("练习", "Practice"), "drill": ui.t("限时默写", "Drill")}

st.title(ui.t("编程练习", "Practice"))
if not settings.practice_enabled():
    st.info(ui.t("练习功能已被管理员关闭：这个实例不会运行任何提交的代码。",
                 "Practice is switched off by the host: this instance runs no submitted code."),
            icon=":material/block:")
    st.stop()
ui_practice.isolation_notice()

exercises = {e.id: e for e in load_exercises()}
state = st.session_state
codes, reports, hints_shown, judged, revision, seen, drill_of = (
    state.setdefault(name, {}) for name in (CODE, REPORTS, HINTS, JUDGED, REVISION, SEEN, DRILLS))
store = ui_store.store()  # None after a clear message: drafts then last for this session only


def _store_call(method: str, *args):
    """A store call, or None after showing its error (Practice keeps working without it)."""
    if store is None:
        return None
    try:
        return getattr(store, method)(*args)
    except StoreError as exc:
        ui_store.show_store_error(exc)
        return None


ui.keep_choice(PICK, list(exercises), default=st.query_params.get(EXERCISE_PARAM))
ui.keep_choice(MODE, list(MODES))


def _on_pick() -> None:
    st.query_params[EXERCISE_PARAM] = state[PICK]


with st.container(horizontal=True, vertical_alignment="bottom"):
    exercise_id = st.selectbox(
        ui.t("题目", "Exercise"), list(exercises), key=PICK, on_change=_on_pick,
        format_func=ui.format_with({i: e.title for i, e in exercises.items()}))
    mode = st.segmented_control(ui.t("模式", "Mode"), list(MODES), key=MODE,
                                format_func=MODES.get) or "practice"
exercise = exercises[exercise_id]
drilling = mode == "drill"
slot = f"{exercise_id}__drill" if drilling else exercise_id
drill = drill_of.get(exercise_id) if drilling else None
if slot not in codes and not drilling:
    codes[slot] = _store_call("draft", exercise_id) or exercise.starter
now = datetime.now(UTC)
history = _store_call("submissions", exercise_id) or []


def _load(code: str) -> None:
    """Put ``code`` in a new editor (the component shows its text only when it is created)."""
    codes[slot] = code
    revision[slot] = revision.get(slot, 0) + 1
    if not drilling:
        _store_call("save_draft", exercise_id, code, datetime.now(UTC))


def _reset() -> None:
    _load(exercise.starter)
    reports.pop(slot, None)
    judged.pop(slot, None)


def _reopen(submission_id: int) -> None:
    _load(next(s.code for s in history if s.id == submission_id))


def _start_drill() -> None:
    drill_of[exercise_id] = drills.Drill(exercise_id, time.time())
    _load(drills.blank_starter(exercise.starter))
    reports.pop(slot, None)
    judged.pop(slot, None)


def _queue_run() -> None:
    state[PENDING] = slot


def _more_hint() -> None:
    hints_shown[exercise_id] = hints_shown.get(exercise_id, 0) + 1


# the editor first (drawn in the right column): an editor event is recorded before anything
# slower, so a rerun that interrupts this one (the editor's next event) cannot lose it
left, right = st.columns([5, 6], gap="large")
best = drills.personal_best(history, exercise_id)
event = None
with right:
    if drilling:
        st.caption(ui.t("面试时的做法：只有函数签名，不看提示和答案，计时；写完再运行隐藏测试。",
                        "As the interview runs it: only the signatures, no hints, no reference, "
                        "a clock; the hidden tests run when you submit."))
    if drilling and drill is None:
        st.button(ui.t("开始限时默写", "Start the drill"), key="practice_drill_start",
                  type="primary", on_click=_start_drill, icon=":material/timer:")
        st.caption(ui.t("个人最佳：", "Personal best: ") +
                   (practice.clock_text(best) if best is not None else "—"))
    else:
        if drilling:
            ui_practice.drill_clock(drill.started, drill.seconds, best)
        editor_key = f"practice_code_{slot}_{revision.get(slot, 0)}"
        event = practice.new_event(ui_practice.editor(editor_key, codes[slot]), seen, editor_key)
        if event is not None and event.submits:
            state[PENDING] = slot  # until judged, even if this run is interrupted
        if event is not None and event.text != codes[slot]:
            codes[slot] = event.text
            if not drilling:  # the draft is saved each time the editor sends its text
                _store_call("save_draft", exercise_id, event.text, now)
        ui_practice.run_hint()
        with st.container(horizontal=True):
            label = ui.t("提交", "Submit") if drilling else ui.t("运行测试", "Run the tests")
            st.button(label, key="practice_run", type="primary", icon=":material/play_arrow:",
                      on_click=_queue_run)  # a callback: a rerun that interrupts keeps it
            if drilling:
                st.button(ui.t("重新开始", "Start again"), key="practice_drill_start",
                          on_click=_start_drill, icon=":material/restart_alt:")
            else:
                st.button(ui.t("恢复起始代码", "Reset to the starter"), key="practice_reset",
                          on_click=_reset, icon=":material/restart_alt:")
    if state.get(PENDING) == slot:
        code, submitted = codes[slot], time.time()  # the drill's clock stops at the submission
        with st.spinner(ui.t("在独立进程中运行测试……", "Running the tests in a separate process…")):
            report = judge.judge(code, exercise.tests_path, judge.Limits(time_s=exercise.time_s))
            # no Streamlit call until it is all kept: an interrupting rerun stops at the next one
            reports[slot], judged[slot], seconds = report, code, None
            state.pop(MAP_PICK, None)  # a new report opens on its first failing test
            if drill is not None and not drill.finished:
                seconds = drill.elapsed(submitted)
                if report.verdict == judge.ACCEPTED:
                    drill_of[exercise_id] = drill.finish(submitted)
            if report.verdict in practice.VERDICT_NAMES:  # judged (not off, busy, ...)
                _store_call("add_submission", exercise_id, code, report.verdict, seconds, now)
            state.pop(PENDING, None)
        st.rerun()  # the clock stops, the list of submissions shows this one
    if drill is not None and drill.finished:
        st.success(ui.t(f"用时 {practice.clock_text(drill.seconds)} · 个人最佳 "
                        f"{practice.clock_text(best)}",
                        f"Solved in {practice.clock_text(drill.seconds)} · personal best "
                        f"{practice.clock_text(best)}"), icon=":material/emoji_events:")

with left:
    st.caption(ui.tr(ui_question.DIFFICULTY_NAMES[exercise.difficulty]))
    st.markdown(ui.tr(exercise.statement))
    ui.page_link("pages/1_Browse.py", "题库中的这道题", "This question in the bank",
                 icon=":material/menu_book:", q=exercise.bank_id)
    shown = hints_shown.get(exercise_id, 0)
    for number, hint in enumerate(exercise.hints[:shown] if not drilling else [], start=1):
        st.info(f"**{ui.t('提示', 'Hint')} {number}** · {ui.tr(hint)}", icon=":material/lightbulb:")
    if not drilling and shown < len(exercise.hints):
        st.button(ui.t(f"显示提示（{shown + 1}/{len(exercise.hints)}）",
                       f"Show a hint ({shown + 1}/{len(exercise.hints)})"),
                  key="practice_hint", on_click=_more_hint, icon=":material/lightbulb:")
    if not drilling and st.toggle(ui.t("显示参考答案", "Show the reference solution"),
                                  key="practice_solution"):
        st.code(exercise.solution, language="python")
    if not drilling:
        ui_practice.submissions_panel(history, _reopen)

if slot in reports:
    st.divider()
    ui_practice.verdict(reports[slot], judged.get(slot), codes[slot], lang, MAP_PICK)
