"""Mock interview: answer first, tick the interviewer's rubric, face the follow-ups, get a report.

Each answer, tick and grade is saved at once (prep.interview_store, one transaction each), so a
rerun, a page switch or a server restart resumes the interview where it was.
Keyboard after the reveal: 1-4 grade Again/Hard/Good/Easy.
"""

import random

import streamlit as st

from prep import interview_plan, ui, ui_store
from prep import ui_interview as live
from prep import ui_interview_report as reports
from prep.i18n import Text
from prep.store import StoreError

lang = ui.setup_page("模拟面试", "Mock interview", layout="centered")
bank = ui.bank()
BY_NAMES = {"sections": Text("章节", "Sections"), "role": Text("岗位方向", "Role focus")}
UNIT_NAMES = {"count": Text("题数", "Questions"), "minutes": Text("分钟", "Minutes")}
DEFAULT_COUNT, DEFAULT_MINUTES, MAX_MINUTES = 3, 15, 100

st.title(ui.t("模拟面试", "Mock interview"))
store = ui_store.store()
user = ui_store.learner()
repo = live.repository() if store is not None else None
if store is None or repo is None or user is None:
    st.stop()
ui_store.show_pending_error(live.ERROR)
try:
    opened = live.load(repo, user)
except StoreError as exc:
    ui_store.show_store_error(exc)
    st.stop()


def _new_interview() -> None:
    st.session_state.pop(live.DONE, None)


if opened is None and live.DONE in st.session_state:
    # -- the report of the interview just finished -------------------------------------------
    done_id, done_run = st.session_state[live.DONE]
    reports.show_report(bank, done_id, done_run)
    with st.container(horizontal=True):
        st.button(ui.t("再来一场", "New interview"), key="iv_new", type="primary",
                  on_click=_new_interview, icon=":material/replay:")
        ui.page_link("pages/6_Progress.py", "查看学习进度", "See your progress",
                     ":material/insights:")
    st.stop()

if opened is None:
    # -- set-up: sections or a role, a length, an optional random seed ----------------------
    st.markdown(ui.t(
        "像真正的面试一样：先说出（写下）你的答案，再对照面试官的评分要点打勾，然后回答追问。"
        "每一步都会立即保存，中途离开或服务器重启后可以接着做。",
        "As in a real interview: say (type) your answer first, then tick it against the "
        "interviewer's key points, then face the follow-ups. Every step is saved at once, so "
        "you can leave and come back, even after a server restart."))
    ui.keep_choice("iv_by", list(BY_NAMES))
    by = st.radio(ui.t("按什么选题", "Choose questions by"), list(BY_NAMES), key="iv_by",
                  horizontal=True, format_func=ui.format_with(BY_NAMES))
    sections, role = [], None
    if by == "sections":
        offered = [s for s in bank.sections if any(interview_plan.askable(q) for q in s.questions)]
        sections = st.multiselect(ui.t("章节（不选即全部）", "Sections (none = all)"),
                                  [s.id for s in offered], key="iv_sections",
                                  format_func=ui.format_with({s.id: s.title for s in offered}))
    else:
        role_ids = [r.id for r in interview_plan.ROLES]
        ui.keep_choice("iv_role", role_ids)
        role = st.radio(ui.t("岗位方向", "Role focus"), role_ids, key="iv_role",
                        format_func=ui.format_with({r.id: r.label for r in interview_plan.ROLES}))
    left, middle, right = st.columns(3)
    ui.keep_choice("iv_unit", list(UNIT_NAMES))
    unit = left.radio(ui.t("长度", "Length in"), list(UNIT_NAMES), key="iv_unit",
                      format_func=ui.format_with(UNIT_NAMES))
    if unit == "count":
        length = middle.number_input(ui.t("主问题数", "Main questions"), 1,
                                     interview_plan.MAX_MAIN, DEFAULT_COUNT, key="iv_count")
    else:
        length = middle.number_input(ui.t("分钟", "Minutes"), 5, MAX_MINUTES, DEFAULT_MINUTES,
                                     step=5, key="iv_minutes")
    seed = right.number_input(ui.t("随机种子（可选）", "Random seed (optional)"), 0, 2**31 - 1,
                              None, key="iv_seed",
                              help=ui.t("同一个种子抽到同样的题。", "The same seed draws the same "
                                        "questions."))
    length_kw = {"count": int(length)} if unit == "count" else {"minutes": int(length)}
    pool = interview_plan.candidates(bank.questions, sections=sections, role=role)
    ids = interview_plan.plan(bank.questions, random.Random(seed), sections=sections, role=role,
                              **length_kw)
    st.caption(ui.t(
        f"这个范围里可问的题 {len(pool)} 道；本次 {len(ids)} 道主问题，每道之后最多两个追问。"
        "界面语言用侧边栏切换。",
        f"{len(pool)} questions can be asked here; this interview: {len(ids)} main questions, "
        "each followed by up to two follow-ups. The sidebar switches the language."))
    if ids:
        st.button(ui.t("开始面试", "Start the interview"), key="iv_start", type="primary",
                  on_click=live.start, args=(ids,), icon=":material/play_arrow:")
    else:
        st.info(ui.t("这个范围里还没有带评分要点的题目，换个章节试试。",
                     "No question here has a rubric yet; try other sections."))
    st.stop()

# -- the interview: one question at a time --------------------------------------------------------
iid, run = opened
questions = reports.questions_of(bank)
answer = live.ask(questions, interview_plan.follow_up_graph(bank.questions))
if answer is None:  # nothing left to ask: the interview has just finished
    st.rerun()
index = len(run.answers) - 1
question = questions.get(answer.question_id)
if question is None:  # the bank changed under a running interview: skip the vanished question
    live.skip_vanished()
live.header(run, answer)
with st.container(border=True, key="iv_question"):
    if answer.parent_id:
        st.caption(ui.t("面试官追问：", "The interviewer follows up:"))
    if question.numeric is not None:
        live.numeric(question, answer, index)
    else:
        ui.markdown(ui.tr(question.question))
        if not answer.revealed:
            live.answer_box(answer, index)
        else:
            live.rubric(question, answer, index)
if answer.revealed:
    live.grade_buttons(store, answer, index)
live.controls(answer, index)
