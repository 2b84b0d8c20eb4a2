"""Practice's work kept over time: drafts through the store (a browser reload keeps them), every
judged submission stored and reopened, drills timed with a personal best, and Home / Progress
showing which exercises are solved. AppTest, with the editor's events as the component sends
them."""

from __future__ import annotations

import ast
import os
import time
from datetime import UTC, datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest
from test_practice_page import APP, PAGE, TIMEOUT, _editor, _open

from prep import practice
from prep.exercises import get, load_exercises
from prep.practice_drill import Drill, blank_starter, personal_best
from prep.store import Store, Submission


@pytest.fixture(autouse=True)
def practice_on(monkeypatch):
    monkeypatch.setenv("ATTN_PREP_PRACTICE", "on")


def _store() -> Store:
    return Store(os.environ["ATTN_PREP_DB"])


def _submit(at: AppTest, slot: str, code: str) -> AppTest:
    """Ctrl/Cmd+Enter in the editor: the component sends a "submit" event."""
    return _editor(at, slot).set_value(code, kind="submit").run()


def test_bug16_4_a_browser_reload_lost_the_draft():
    at = _open(ex="rope")
    _editor(at, "rope").set_value("# my draft that must survive\n").run()
    assert _store().draft("rope") == "# my draft that must survive\n"
    reloaded = _open(ex="rope")  # a new session: what a browser reload opens
    assert not reloaded.exception
    assert _editor(reloaded, "rope").value == "# my draft that must survive\n"


def test_the_draft_survives_a_language_switch_and_a_page_switch():
    at = _open(ex="gqa")
    _editor(at, "gqa").set_value("# draft before the switch\n").run()
    at.query_params["lang"] = "zh"
    at.run()
    assert not at.exception
    assert _editor(at, "gqa").value == "# draft before the switch\n"
    at.switch_page("pages/1_Browse.py").run()
    at.switch_page(PAGE).run()
    assert _editor(at, "gqa").value == "# draft before the switch\n"


def test_every_judged_submission_is_stored_and_an_earlier_one_reopens():
    exercise = get("sdpa-masked")
    wrong = exercise.solution.replace("* scale", "")
    at = _open(ex="sdpa-masked")
    _editor(at, "sdpa-masked").set_value(wrong)
    at.button(key="practice_run").click().run()
    _submit(at, "sdpa-masked", exercise.solution)  # Ctrl+Enter runs the tests too
    assert not at.exception and at.success
    stored = _store().submissions("sdpa-masked")
    assert [(s.code, s.verdict, s.seconds) for s in stored] == [
        (wrong, "wrong_answer", None), (exercise.solution, "accepted", None)]
    history = at.selectbox(key="practice_history")
    assert len(history.options) == 2 and "accepted" in history.options[0]  # newest first
    history.set_value(stored[0].id).run()
    at.button(key="practice_reopen").click().run()
    assert not at.exception
    assert _editor(at, "sdpa-masked").value == wrong
    assert _store().draft("sdpa-masked") == wrong
    assert any("This verdict is for earlier code" in c.value for c in at.caption)


def test_drill_time_and_personal_best_are_stored_and_shown():
    exercise = get("rope")
    at = _open(ex="rope")
    at.segmented_control(key="practice_mode").set_value("drill").run()
    assert not at.info, "no hints in a drill"
    assert not [t for t in at.toggle if t.key == "practice_solution"], "no reference in a drill"
    at.button(key="practice_drill_start").click().run()
    assert _editor(at, "rope__drill").value == blank_starter(exercise.starter)
    # the learner started 2 min 5 s ago
    at.session_state["practice_drills"]["rope"] = Drill("rope", time.time() - 125)
    _submit(at, "rope__drill", "def apply_rope(x, positions=None, base=10000.0):\n    return x\n")
    assert at.error, "a wrong drill fails; the clock keeps running"
    _submit(at, "rope__drill", exercise.solution)
    assert not at.exception
    accepted = [s for s in _store().submissions("rope") if s.verdict == "accepted"]
    assert len(accepted) == 1 and accepted[0].seconds >= 125
    shown = practice.clock_text(accepted[0].seconds)
    assert any(f"Solved in {shown}" in s.value and f"personal best {shown}" in s.value
               for s in at.success)
    clock = [m.value for m in at.markdown if "personal best" in m.value]
    assert clock and shown in clock[0], "the clock stops at the passing time"

    at.button(key="practice_drill_start").click().run()  # a slower second drill
    at.session_state["practice_drills"]["rope"] = Drill("rope", time.time() - 600)
    _submit(at, "rope__drill", exercise.solution)
    times = sorted(s.seconds for s in _store().submissions("rope") if s.verdict == "accepted")
    assert len(times) == 2 and times[1] >= 600
    slower = practice.clock_text(times[1])
    assert any(f"Solved in {slower}" in s.value and f"personal best {shown}" in s.value
               for s in at.success), "the best stays the faster one"
    fresh = _open(ex="rope")  # kept over time: a new session shows it before starting
    fresh.segmented_control(key="practice_mode").set_value("drill").run()
    assert any(f"Personal best: {shown}" in c.value for c in fresh.caption)


def _solved_line(at: AppTest) -> str:
    return next(m.value for m in at.markdown if "solved" in m.value)


@pytest.mark.parametrize("page", [None, "pages/6_Progress.py"])
def test_home_and_progress_show_which_exercises_are_solved(page):
    now = datetime.now(UTC)
    store = _store()
    store.add_submission("gqa", "x = 1", "wrong_answer", None, now - timedelta(minutes=2))
    store.add_submission("rope", "ok", "accepted", None, now - timedelta(minutes=1))
    store.add_submission("sdpa-masked", "bad", "wrong_answer", None, now)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if page:
        at.switch_page(page)
    at.query_params.update({"lang": "en"})
    at.run()
    assert not at.exception
    total = len(load_exercises())
    assert _solved_line(at).endswith(f"**Practice: 1 / {total} solved**")
    captions = [c.value for c in at.caption]
    assert any(c.startswith("Solved: ") and get("rope").title["en"] in c for c in captions)
    assert any(c.startswith("Tried, not passed yet: ") and get("gqa").title["en"] in c
               for c in captions)


def test_the_page_says_drafts_stay_in_the_session_when_the_store_fails(monkeypatch, tmp_path):
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"not a database" * 100)
    monkeypatch.setenv("ATTN_PREP_DB", str(broken))
    at = _open(ex="rope")
    assert not at.exception and at.error  # the store's own message
    _editor(at, "rope").set_value("# kept in this session\n").run()
    at.button(key="practice_run").click().run()
    assert not at.exception and at.dataframe  # judged all the same
    assert _editor(at, "rope").value == "# kept in this session\n"


# --- logic without Streamlit --------------------------------------------------------------


@pytest.mark.parametrize("exercise", load_exercises(), ids=lambda e: e.id)
def test_blank_starter_keeps_only_signatures_and_docstrings(exercise):
    blank = blank_starter(exercise.starter)
    tree, original = ast.parse(blank), ast.parse(exercise.starter)
    names = lambda t: sorted(n.name for n in ast.walk(t) if isinstance(n, ast.FunctionDef))  # noqa: E731
    assert names(tree) == names(original)
    for node in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        body = node.body[1:] if isinstance(node.body[0], ast.Expr) else node.body
        assert len(body) == 1 and isinstance(body[0], ast.Raise), node.name
    assert "# your code here" not in blank


def test_an_editor_event_is_handled_once():
    seen: dict[str, str] = {}
    value = {"id": "a1", "type": "submit", "text": "x = 1\n"}
    event = practice.new_event(value, seen, "k")
    assert event is not None and event.submits and event.text == "x = 1\n"
    assert practice.new_event(value, seen, "k") is None  # the component repeats its last value
    assert practice.new_event({"id": "", "type": "", "text": ""}, seen, "k2") is None  # default
    assert practice.new_event({"id": "b2", "type": "change", "text": "y"}, seen, "k").text == "y"


def test_personal_best_is_the_fastest_accepted_drill():
    when = datetime.now(UTC)
    subs = [Submission(1, "rope", "", "accepted", None, when),      # not a drill
            Submission(2, "rope", "", "wrong_answer", 30.0, when),  # a failing drill
            Submission(3, "rope", "", "accepted", 300.0, when),
            Submission(4, "rope", "", "accepted", 200.0, when),
            Submission(5, "gqa", "", "accepted", 10.0, when)]
    assert personal_best(subs, "rope") == 200.0
    assert personal_best(subs, "kv-cache") is None
    drill = Drill("rope", started=100.0)
    assert drill.elapsed(160.0) == 60.0 and drill.finish(190.0).elapsed(10_000.0) == 90.0
    assert practice.clock_text(3725) == "1:02:05" and practice.clock_text(125) == "2:05"
    done = practice.summary(["rope", "gqa", "kv-cache"], subs)
    assert done.solved == ("rope", "gqa") and done.unsolved == ("kv-cache",)
    assert done.text().en == "Practice: 2 / 3 solved"


def test_practice_says_plainly_when_learner_code_runs_without_isolation(monkeypatch):
    # The judge knew (prep.judge.isolation_notice) but the page never said it.
    for backend, words in (("none", "without isolation"), ("landlock", "partly isolated")):
        monkeypatch.setenv("ATTN_PREP_JAIL", backend)
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        at.switch_page(PAGE)
        at.query_params.update({"lang": "en"})
        at.run()
        assert not at.exception
        assert any(words in w.value for w in at.warning), backend
