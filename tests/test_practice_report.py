"""prep.practice_report: a judge report as the Practice page shows it (issue 16, bug 9)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prep import practice_report
from prep.i18n import Text

TIME_LIMIT = Text("超时：代码在 2 秒内没有跑完。", "Time limit exceeded: the code did not finish.")


@dataclass
class Result:
    name: object
    status: str
    message: object = None
    max_abs_diff: float | None = None


@dataclass
class Report:
    message: object
    results: list = field(default_factory=list)


def timed_out() -> Report:
    results = [Result({"zh": "形状", "en": "shape"}, "passed", None, 0.0)]
    results += [Result(Text(f"测试{i}", f"test {i}"), "error", TIME_LIMIT) for i in range(6)]
    return Report(TIME_LIMIT, results)


def test_bug16_9_time_limit_message_is_not_repeated_for_each_unfinished_test():
    report = timed_out()
    rows = practice_report.table(report, "en")
    assert [row["message"] for row in rows] == [""] * 7
    assert practice_report.failure_notes(report, "en", "passed") == []
    assert practice_report.failure_notes(report, "zh", "passed") == []


def test_bug16_9_max_abs_diff_shows_a_dash_not_none():
    rows = practice_report.table(timed_out(), "en")
    assert rows[0]["max_abs_diff"] == "0.00e+00"
    assert {row["max_abs_diff"] for row in rows[1:]} == {"—"}
    assert "None" not in str(rows)


def test_a_test_with_its_own_message_keeps_it_in_both_languages():
    wrong = Result({"zh": "因果", "en": "causal"}, "failed",
                   {"zh": "第 2 行不对", "en": "row 2 differs"}, 0.5)
    report = Report(Text("1 个没通过。", "1 of 1 tests did not pass."), [wrong])
    assert practice_report.failure_notes(report, "en", "passed") == [("causal", "row 2 differs")]
    assert practice_report.failure_notes(report, "zh", "passed") == [("因果", "第 2 行不对")]
    row = practice_report.table(report, "en")[0]
    assert row == {"test": "causal", "status": "failed", "message": "row 2 differs",
                   "max_abs_diff": "5.00e-01"}
    assert practice_report.table(report, "zh")[0]["status"] == "未通过"


def test_first_failing_and_stale_verdicts():
    from types import SimpleNamespace

    from prep.practice_report import first_failing, is_stale

    results = [SimpleNamespace(status=s) for s in ("passed", "failed", "error")]
    assert first_failing(results, "passed") == 1
    assert first_failing(results[:1], "passed") == 0 and first_failing([], "passed") == 0
    assert not is_stale(None, "x = 1")  # nothing judged yet
    assert not is_stale("x = 1\n", "x = 1   \n\n")  # trailing blanks do not count
    assert is_stale("x = 1\n", "x = 2\n")
