"""AppTest for pages/4_Practice.py: pick, hints, run (a wrong then a right solution), drafts,
deep links, and the host's off switch."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np
import pytest
from conftest import chart_keys, chart_specs, charts
from streamlit.testing.v1 import AppTest

from prep.exercises import get, load_exercises
from prep.lab.figures import decode_z

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGE = "pages/4_Practice.py"
TIMEOUT = 60


def _open(lang: str = "en", **params: str) -> AppTest:
    """The page as a link opens it: app.py is the entry point (the sidebar links need it)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page(PAGE)
    at.query_params.clear()
    at.query_params.update({"lang": lang, **params})
    return at.run()


class _Editor:
    """The code editor component as a test drives it: its value is the code the page shows in
    it; ``set_value`` sends what the browser component sends when typing pauses."""

    def __init__(self, at: AppTest, slot: str) -> None:
        self.at = at
        prefix = f"practice_code_{slot}_"
        found = [e.proto for e in at.get("component_instance")
                 if e.proto.component_name.startswith("code_editor")
                 and json.loads(e.proto.json_args)["key"].startswith(prefix)
                 and json.loads(e.proto.json_args)["key"][len(prefix):].isdigit()]
        assert len(found) == 1, f"one editor for {slot}, found {len(found)}"
        self.args = json.loads(found[0].json_args)

    @property
    def value(self) -> str:
        return self.args["code"]  # the page passes the current code on every run

    def set_value(self, code: str, kind: str = "change") -> AppTest:
        self.at.session_state[self.args["key"]] = {"id": uuid.uuid4().hex[:8], "type": kind,
                                                  "text": code, "lang": "python"}
        return self.at


def _editor(at: AppTest, slot: str) -> _Editor:
    return _Editor(at, slot)


@pytest.fixture(autouse=True)
def practice_on(monkeypatch):
    monkeypatch.setenv("ATTN_PREP_PRACTICE", "on")


def test_page_lists_every_exercise_and_shows_the_starter():
    at = _open()
    assert not at.exception
    picker = at.selectbox(key="practice_exercise")
    assert len(picker.options) == len(load_exercises()) >= 10
    first = load_exercises()[0]
    assert _editor(at, first.id).value == first.starter
    assert not at.dataframe  # nothing run yet


def test_wrong_solution_fails_then_fixed_solution_passes():
    exercise = get("sdpa-masked")
    wrong = exercise.solution.replace("* scale", "")
    at = _open(ex="sdpa-masked")
    _editor(at, "sdpa-masked").set_value(wrong)
    at.button(key="practice_run").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["message"].str.contains("Missing scale").any()
    assert at.error, "a wrong answer is shown as an error"
    assert charts(at), "the learner's heatmap beside the reference's"
    spec = json.dumps(chart_specs(at)[0])
    assert "Your weights" in spec and "Reference weights" in spec

    _editor(at, "sdpa-masked").set_value(exercise.solution)
    at.button(key="practice_run").click().run()
    assert not at.exception
    assert at.success and "All 4 tests passed" in at.success[0].value
    assert (at.dataframe[0].value["status"].str.contains("passed")).all()


def test_hints_are_revealed_one_at_a_time():
    at = _open(ex="gqa")
    hints = get("gqa").hints
    assert not at.info
    at.button(key="practice_hint").click().run()
    assert len(at.info) == 1 and hints[0]["en"][:20] in at.info[0].value
    at.button(key="practice_hint").click().run()
    assert len(at.info) == 2
    assert not [b for b in at.button if b.key == "practice_hint"]  # all shown: no more button


def test_reference_solution_only_on_demand():
    at = _open(ex="rope")
    solution = get("rope").solution
    assert all(solution.strip() != c.value.strip() for c in at.code)
    at.toggle(key="practice_solution").set_value(True).run()
    assert any(solution.strip() == c.value.strip() for c in at.code)


def test_draft_survives_switching_exercise_and_page():
    at = _open(ex="rope")
    _editor(at, "rope").set_value("# my draft\n").run()
    at.selectbox(key="practice_exercise").set_value("gqa").run()
    assert _editor(at, "gqa").value == get("gqa").starter
    at.switch_page("pages/1_Browse.py").run()
    at.switch_page(PAGE).run()
    at.selectbox(key="practice_exercise").set_value("rope").run()
    assert not at.exception
    assert _editor(at, "rope").value == "# my draft\n"


def test_deep_link_opens_the_exercise():
    at = _open(lang="zh", ex="kv-cache")
    assert at.selectbox(key="practice_exercise").value == "kv-cache"
    assert _editor(at, "kv-cache").value == get("kv-cache").starter


def test_practice_off_says_so_and_offers_nothing_to_run(monkeypatch):
    monkeypatch.setenv("ATTN_PREP_PRACTICE", "off")
    at = _open()
    assert not at.exception
    assert "switched off by the host" in at.info[0].value
    assert not at.get("component_instance")  # no editor
    assert not [b for b in at.button if b.key == "practice_run"]


def test_endless_loop_gives_a_time_limit_message_and_the_page_keeps_working():
    at = _open(ex="sinusoidal")
    _editor(at, "sinusoidal").set_value("while True:\n    pass\n")
    at.button(key="practice_run").click().run()
    assert not at.exception
    assert at.warning and "Time limit exceeded" in at.warning[0].value
    _editor(at, "sinusoidal").set_value(get("sinusoidal").solution)
    at.button(key="practice_run").click().run()
    assert at.success


def test_visualisation_exercise_shows_the_learners_own_figure():
    at = _open(ex="visualize")
    _editor(at, "visualize").set_value(get("visualize").solution)
    at.button(key="practice_run").click().run()
    assert not at.exception
    assert at.success
    spec = json.dumps(chart_specs(at)[0])
    assert '"heatmap"' in spec and '"reversed"' in spec


def test_reset_restores_the_starter_and_clears_the_result():
    at = _open(ex="sliding-window")
    _editor(at, "sliding-window").set_value("x = 1\n")
    at.button(key="practice_run").click().run()
    assert at.dataframe
    at.button(key="practice_reset").click().run()
    assert not at.exception
    assert _editor(at, "sliding-window").value == get("sliding-window").starter
    assert not at.dataframe


# --- regressions found by hands-on QA ------------------------------------------------------------


def test_heatmaps_beside_the_reference_are_labelled_in_chinese():
    # attention.viz's English hover ("query / key / weight") and colour-bar title showed on the
    # Chinese page.
    exercise = get("sdpa-masked")
    at = _open(lang="zh", ex="sdpa-masked")
    _editor(at, "sdpa-masked").set_value(exercise.solution.replace("* scale", ""))
    at.button(key="practice_run").click().run()
    assert not at.exception
    spec = json.dumps(chart_specs(at)[0], ensure_ascii=False)
    assert "你的权重" in spec and "参考权重" in spec
    assert "查询 %{y}" in spec and "权重" in spec
    assert "query" not in spec and "weight" not in spec


def test_bug16_9_time_limit_message_shows_once_and_no_none_in_the_table():
    at = _open(ex="sinusoidal")
    _editor(at, "sinusoidal").set_value("while True:\n    pass\n")
    at.button(key="practice_run").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    shown = [w.value for w in at.warning] + [m.value for m in at.markdown]
    shown += [str(v) for v in table["message"]]
    assert sum("Time limit exceeded" in text for text in shown) == 1, shown
    assert "None" not in {str(v) for v in table["max_abs_diff"]}


def test_bug16_4_the_map_picker_kept_a_passing_test_after_a_second_submission():
    exercise = get("sdpa-masked")
    at = _open(ex="sdpa-masked")
    _editor(at, "sdpa-masked").set_value(exercise.solution)
    at.button(key="practice_run").click().run()
    picker = at.selectbox(key="practice_map_test")
    assert picker.value == 0  # all pass: the first test
    picker.set_value(3).run()  # the learner looks at the last (passing) test
    wrong = exercise.solution.replace("* scale", "")
    _editor(at, "sdpa-masked").set_value(wrong)
    at.button(key="practice_run").click().run()
    assert not at.exception
    report = at.session_state["practice_reports"]["sdpa-masked"]
    first_failing = next(i for i, r in enumerate(report.results) if r.status != "passed")
    assert at.selectbox(key="practice_map_test").value == first_failing == 0


def _greyed(at: AppTest) -> bool:
    """The server drew the verdict stale: greyed, with its note shown (not only on typing)."""
    return any("st-key-practice_verdict_stale" in h.proto.body for h in at.get("html"))


def test_bug16_4_an_old_verdict_was_not_marked_once_the_code_changed():
    exercise = get("sdpa-masked")
    at = _open(ex="sdpa-masked")
    _editor(at, "sdpa-masked").set_value(exercise.solution)
    at.button(key="practice_run").click().run()
    assert at.success and not _greyed(at)
    _editor(at, "sdpa-masked").set_value(exercise.solution + "\n# try something else\n").run()
    assert _greyed(at)
    assert any("This verdict is for earlier code" in c.value for c in at.caption)
    assert at.success, "the old verdict stays readable, greyed out"
    _editor(at, "sdpa-masked").set_value(exercise.solution + "\n\n").run()  # same code again
    assert not _greyed(at)
    _editor(at, "sdpa-masked").set_value(exercise.solution + "\n# changed\n").run()
    at.button(key="practice_run").click().run()  # judged again: current
    assert not _greyed(at)


def test_a_failure_shows_the_difference_between_your_weights_and_the_reference():
    # Issue 15: the failure view showed the two maps side by side but not where they differ.
    exercise = get("sdpa-masked")
    at = _open(ex="sdpa-masked")
    _editor(at, "sdpa-masked").set_value(exercise.solution.replace("* scale", ""))
    at.button(key="practice_run").click().run()
    assert not at.exception
    specs = dict(zip(chart_keys(at), chart_specs(at), strict=True))
    difference = next(s for key, s in specs.items() if key.endswith("practice_difference"))
    trace = next(t for t in difference["data"] if t["type"] == "heatmap")
    assert "Difference: yours − reference" in json.dumps(difference, ensure_ascii=False)
    z = decode_z(trace)
    assert np.abs(z).max() > 0.01 and z.min() < 0 < z.max()  # weight moves both ways
