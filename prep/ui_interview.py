"""The mock interview in a page: its repository, set-up, one question at a time, the clock.

Streamlit-side companion of ``prep.interview_session`` (the steps), ``prep.interview_plan`` (what
to ask) and ``prep.interview_store`` (where it is kept). The report and Progress's panel
of readiness and past interviews live in ``prep/ui_interview_report.py``.

How what the learner types reaches the server: the answer box (``prep.ui_answer_box``, drawn by
``prep.ui_rubric.answer_area``) sends its text about a second after typing pauses, at least every
three seconds while typing goes on, and at once when the box loses focus (so before any button
click); never in the middle of an input-method composition. Each arrival runs ``_typed``, which
writes the text into the interview and saves it (one transaction). Whatever reached the server is
in the database, so a rerun, a page switch (the box is filled again from the saved answer) and a
server restart (the page reopens the learner's unfinished interview) lose none of it; what can be
lost is the last second or so of typing before the server dies.

The clock is an ``st.fragment(run_every=1)``: only that caption reruns each second (custom
JavaScript is not allowed in Markdown), so the time moves without a full rerun.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime

import streamlit as st

from prep import interview_session as steps
from prep import schedule, settings
from prep import ui_rubric as rubrics
from prep.interview import Answer, Interview
from prep.interview_store import StoreInterviews, new_interview_id
from prep.store import Store, StoreError
from prep.ui import markdown, t, tr
from prep.ui_answer_box import text_of
from prep.ui_store import learner, open_store, show_store_error

STATE = "iv_run"          # (interview id, Interview) of this session, as last saved
DONE = "iv_done"          # (interview id, Interview) just finished: its report is shown
ERROR = "iv_error"        # a StoreError or a message from a callback, shown by the next run
OUTCOMES = "iv_outcomes"  # (answer key, previewed fsrs outcomes): what the buttons show is stored


def _store_for(user: str) -> Store:
    """The learner's store, cached per process as the other pages cache it."""
    return open_store(settings.db_location(), user)


def repository() -> StoreInterviews | None:
    """The interviews in the progress store, or None after a clear message."""
    try:
        user = learner()
        if user is not None:
            _store_for(user)  # opened now, so a damaged database is reported here
        return StoreInterviews(_store_for)
    except StoreError as exc:
        show_store_error(exc)
        return None


def load(repo: StoreInterviews, user: str) -> tuple[str, Interview] | None:
    """This session's open interview, or the learner's saved one (after a restart)."""
    if STATE not in st.session_state:
        opened = repo.open_interview(user)
        if opened is None:
            return None
        st.session_state[STATE] = opened
    return st.session_state[STATE]


def _save() -> bool:
    """Write this session's interview (one transaction); on failure reload what was saved."""
    iid, run = st.session_state[STATE]
    try:
        StoreInterviews(_store_for).save(learner() or "", iid, run)
    except StoreError as exc:
        st.session_state[ERROR] = exc
        st.session_state.pop(STATE, None)  # the next run shows what the database holds
        return False
    if run.finished is not None:
        st.session_state[DONE] = st.session_state.pop(STATE)
    return True


def _step(action: Callable[[Interview, Answer | None], None]) -> None:
    """A callback: change the interview, then save it."""
    if STATE not in st.session_state:
        return
    _, run = st.session_state[STATE]
    action(run, steps.current(run))
    _save()


def _now() -> datetime:
    return datetime.now(UTC)


def start(ids: list[str]) -> None:
    """Begin a new interview with these main questions (saved at once)."""
    st.session_state.pop(DONE, None)
    st.session_state[STATE] = (new_interview_id(), Interview(main=ids, started=_now()))
    _save()



def ask(questions, graph) -> Answer | None:
    """The question to answer now (asked and saved if new); None when the interview is over."""
    _, run = st.session_state[STATE]
    before = (len(run.answers), run.finished)
    answer = steps.ask_next(run, questions, graph, _now(), random.Random())
    if (len(run.answers), run.finished) != before:
        _save()
    return answer


def _mmss(seconds: float) -> str:
    minutes, rest = divmod(int(max(0, seconds)), 60)
    return f"{minutes}:{rest:02d}"


@st.fragment(run_every=1)
def clock(started: float, asked_at: float, frozen: float | None) -> None:
    """This answer's time (stopped at the reveal) and the session's, updated every second."""
    now = time.time()
    this = frozen if frozen is not None else now - asked_at
    with st.container(key="iv_clock"):
        total = _mmss(now - started)
        st.caption(t(f":material/timer: 本题 {_mmss(this)} · 全程 {total}",
                     f":material/timer: This answer {_mmss(this)} · session {total}"))


def header(run: Interview, answer: Answer) -> None:
    mains = len(run.main)
    number = sum(1 for a in run.answers if a.parent_id is None)
    kind = t("追问", "Follow-up") if answer.parent_id else t("主问题", "Main question")
    st.progress(min(1.0, (number - 1) / mains),
                text=t(f"第 {number} / {mains} 道主问题 · {kind}",
                       f"Main question {number} of {mains} · {kind}"))
    clock(run.started.timestamp(), answer.asked_at or time.time(),
          answer.seconds if answer.revealed else None)


def _key(answer_index: int) -> str:
    iid, _ = st.session_state[STATE]
    return f"iv_{iid[:8]}_{answer_index}"


def _typed(key: str) -> None:
    text = text_of(key)
    _step(lambda run, a: setattr(a, "text", text) if a and not a.revealed else None)


def _reveal(key: str) -> None:
    def act(run: Interview, answer: Answer | None) -> None:
        if answer is not None:
            answer.text = text_of(key) or answer.text
            steps.reveal(answer, _now())
    _step(act)


def _ticks(key: str, total: int) -> None:
    chosen = [i for i in range(total) if st.session_state.get(f"{key}_p{i}")]
    _step(lambda run, a: steps.tick(a, chosen) if a else None)


def answer_box(answer: Answer, index: int) -> None:
    """The answer box, filled from the saved answer after a page switch or a restart."""
    key = _key(index)
    rubrics.answer_area(f"{key}_text", value=answer.text, on_change=_typed, args=(f"{key}_text",),
                        placeholder=t("像面试时那样说出来，再点“显示答案”。",
                                      "Say it as you would in the interview, then reveal."))
    st.caption(t("边写边保存（停笔约 1 秒、离开输入框时）。",
                 "Saved as you type (a second after you pause) and when you leave the box."))


def rubric(question, answer: Answer, index: int) -> None:
    """After the reveal: your answer beside the model answer, and the key points to tick."""
    key = _key(index)
    rubrics.side_by_side(answer.text, question.answer, "iv")
    rubrics.checklist(question.key_points or [], key, answer.ticked, on_change=_ticks,
                      args=(key, answer.total_points))


def _preview(store: Store, answer: Answer, index: int) -> dict:
    """The four fsrs outcomes for this answer, computed once (fsrs fuzzes) and stored as shown."""
    kept = st.session_state.get(OUTCOMES)
    if kept is None or kept[0] != _key(index):
        card = store.card(answer.question_id) or schedule.new_card(answer.question_id, _now())
        kept = (_key(index), schedule.preview(card, _now()))
        st.session_state[OUTCOMES] = kept
    return kept[1]


def _grade(store: Store, rating: schedule.Rating) -> None:
    def act(run: Interview, answer: Answer | None) -> None:
        if answer is None:
            return
        outcome = st.session_state[OUTCOMES][1][rating]
        store.record(answer.question_id, rating, outcome.card, _now(),
                     duration_ms=int(answer.seconds * 1000), answer=answer.text.strip() or None)
        steps.finish_answer(answer, rating)
    try:
        _step(act)
    except StoreError as exc:
        st.session_state[ERROR] = exc


def grade_buttons(store: Store, answer: Answer, index: int) -> None:
    """Again / Hard / Good / Easy with the next interval; the suggested one is primary, starred
    and says so in its tooltip. A number is graded by the app: one button records its grade."""
    try:
        outcomes = _preview(store, answer, index)
    except StoreError as exc:
        show_store_error(exc)
        return
    suggested = steps.suggested(answer)
    ratings = [suggested] if answer.correct is not None else list(schedule.RATINGS)
    if answer.correct is None:
        rubrics.suggestion_caption(suggested)
    labels = {}
    for rating in ratings:
        label = (f"{tr(schedule.RATING_NAMES[rating])} · "
                 f"{schedule.format_interval(outcomes[rating].interval, t('zh', 'en'))}")
        if answer.correct is not None:
            label = t(f"记为 {label}，继续", f"Record {label} and continue")
        labels[rating] = label
    rubrics.grade_buttons(labels, suggested, key="iv_grade", on_click=_grade, args=(store,))


def _hint() -> None:
    _step(lambda run, a: steps.use_hint(a) if a else None)


def _check(key: str, question) -> None:
    raw = str(st.session_state.get(key) or "")
    try:
        value = steps.read_number(raw)
    except ValueError:
        st.session_state[ERROR] = rubrics.not_a_number(raw)
        return
    _step(lambda run, a: steps.check_number(a, question, value, _now()) if a else None)


def numeric(question, answer: Answer, index: int) -> None:
    """A number with its unit; the first worked step on request (a hint); graded by the app."""
    drawn = steps.instance(answer, question)
    markdown(tr(drawn.question))
    key = f"{_key(index)}_number"
    if not answer.revealed:
        rubrics.number_box(drawn, answer, key=key, prefix="iv", on_check=_check,
                           check_args=(key, question), on_hint=_hint)
    else:
        rubrics.number_result(drawn, answer)


def skip_vanished() -> None:
    """The question being answered left the bank (it changed under a running interview)."""
    _skip()
    st.rerun()


def _skip() -> None:
    _step(lambda run, a: steps.skip(a, _now()) if a else None)


def _stop() -> None:
    _step(lambda run, a: steps.stop(run, _now()))


def controls(answer: Answer, index: int) -> None:
    """Reveal (before), skip and stop (any time)."""
    with st.container(horizontal=True):
        if not answer.revealed and answer.numeric_params is None:
            st.button(t("显示答案", "Reveal"), key="iv_reveal", type="primary",
                      on_click=_reveal, args=(f"{_key(index)}_text",),
                      icon=":material/visibility:")
        st.button(t("跳过这题", "Skip"), key="iv_skip", on_click=_skip,
                  icon=":material/skip_next:")
        st.button(t("结束面试", "Stop the interview"), key="iv_stop", on_click=_stop,
                  icon=":material/stop:")
