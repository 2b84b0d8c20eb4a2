"""What one submission gave: :class:`Report` of :class:`TestResult`, verdicts and their texts.

The child sends JSON events (bilingual texts travel as ``{"zh": ..., "en": ...}``, the wire form of
:class:`prep.i18n.Text`); :func:`build_report` turns them into a report whose every text is a
``Text``. Plain data, so a page renders it and a test asserts on it without Streamlit.
"""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass, field
from typing import Any

from prep.i18n import Text

STARTUP_TIMEOUT_S = 60.0        # importing torch on a loaded machine; not charged to the learner


@dataclass(frozen=True)
class Limits:
    """What one submission may use."""

    time_s: float = 5.0          # wall clock for the learner's code and all tests together
    memory_mb: int = 512         # address space on top of what Python + torch already use
    output_chars: int = 10_000   # printed output kept and shown; the rest is cut


# Verdicts of a whole submission.
ACCEPTED = "accepted"
WRONG_ANSWER = "wrong_answer"
RUNTIME_ERROR = "runtime_error"
SYNTAX_ERROR = "syntax_error"
TIME_LIMIT = "time_limit"
MEMORY_LIMIT = "memory_limit"
DISABLED = "disabled"
REFUSED = "refused"
BUSY = "busy"
INTERNAL_ERROR = "internal_error"

# Statuses of one test.
PASSED = "passed"
FAILED = "failed"
ERROR = "error"
STATUS_NAMES = {PASSED: Text("通过", "passed"), FAILED: Text("未通过", "failed"),
                ERROR: Text("出错", "error")}

DISABLED_TEXT = Text("练习功能已被管理员关闭，代码没有运行。",
                     "Practice is switched off by the host; the code was not run.")
REFUSED_TEXT = Text("代码太长（{0} 个字符，上限 {1}），没有运行。",
                    "The code is too long ({0} characters, limit {1}); not run.")
BUSY_TEXT = Text("判题器正忙（其他人的代码在运行），请稍后再试。",
                 "The judge is busy running other submissions; try again soon.")
JAIL_TEXT = Text("判题环境无法按设置隔离代码，代码没有运行：{0}",
                 "The judge cannot isolate the code as configured, so it was not run: {0}")
_NOT_STARTED = Text("判题进程在 {0:g} 秒内没有启动（服务器太忙？），请重试。",
                    "The judge did not start within {0:g} s (the server is busy?); try again.")
_TIME = Text("超时：代码在 {0:g} 秒内没有跑完，进程已被终止（死循环？）。",
             "Time limit exceeded: the code did not finish within {0:g} s and was stopped "
             "(an endless loop?).")
_ALL_PASSED = Text("全部 {0} 个测试通过。", "All {0} tests passed.")
_SOME_FAILED = Text("{1} 个测试中有 {0} 个没通过。", "{0} of {1} tests did not pass.")
_MEMORY = Text("超出内存限制：代码申请的内存超过 {0} MB。",
               "Memory limit exceeded: the code asked for more than {0} MB.")
_SIGNAL = Text("进程被信号 {0} 终止（超出资源限制？）。",
               "The process was killed by {0} (a resource limit?).")
_EXITED = Text("测试跑完之前进程就退出了（退出码 {0}）：代码里有 os._exit 或类似调用？",
               "The process ended before the tests finished (exit code {0}): an os._exit or "
               "similar in the code?")
_NO_RESULT = Text("判题进程没有给出结果。", "The judge process gave no result.")


def text_from_wire(value: Any) -> Text | None:
    """A ``{"zh", "en"}`` mapping from the child as a Text; a blank side takes the other's text,
    and None when both are blank."""
    if isinstance(value, Text):
        return value
    if not isinstance(value, dict):
        return None
    zh, en = str(value.get("zh") or "").strip(), str(value.get("en") or "").strip()
    if not (zh or en):
        return None
    return Text(zh or en, en or zh)


def memory_text(memory_mb: int) -> Text:
    return _MEMORY.format(memory_mb)


@dataclass
class TestResult:
    """One hidden test: ``status`` is passed / failed / error; ``message`` is None when passed."""

    __test__ = False  # not a pytest class

    name: Text
    status: str
    message: Text | None = None
    max_abs_diff: float | None = None
    learner_weights: list | None = None     # 2-D list (L x S) for a heatmap, when the test has one
    reference_weights: list | None = None
    figure: dict | None = None              # a Plotly figure (JSON dict) the learner's code built

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> TestResult:
        return cls(
            name=text_from_wire(event.get("name")) or Text("（无名测试）", "(unnamed test)"),
            status=event.get("status", ERROR),
            message=text_from_wire(event.get("message")),
            max_abs_diff=event.get("max_abs_diff"),
            learner_weights=event.get("learner_weights"),
            reference_weights=event.get("reference_weights"),
            figure=event.get("figure"),
        )


@dataclass
class Report:
    """The outcome of one submission."""

    verdict: str
    message: Text
    results: list[TestResult] = field(default_factory=list)
    output: str = ""                 # what the learner's code printed (stdout and stderr), cut
    output_truncated: bool = False
    seconds: float = 0.0             # wall time of the learner's part
    jail: str = ""                   # the isolation backend it ran under (see prep.judge.jail)

    @property
    def passed(self) -> int:
        return sum(r.status == PASSED for r in self.results)

    @property
    def accepted(self) -> bool:
        return self.verdict == ACCEPTED


def build_report(events: list[dict], timed_out: bool, returncode: int | None, printed: str,
                 truncated: bool, seconds: float, limits: Limits) -> Report:
    """The report of one run from the child's events and how the child ended."""
    results = [TestResult.from_event(e) for e in events if e.get("event") == "test"]
    by_kind = {e.get("event"): e for e in events}
    report = Report(INTERNAL_ERROR, _NO_RESULT, results, printed, truncated, seconds)
    if "syntax_error" in by_kind:
        report.verdict = SYNTAX_ERROR
        report.message = text_from_wire(by_kind["syntax_error"].get("message")) or _NO_RESULT
    elif timed_out and "ready" not in by_kind:
        report.message = _NOT_STARTED.format(STARTUP_TIMEOUT_S)
    elif timed_out:
        report.verdict, report.message = TIME_LIMIT, _TIME.format(limits.time_s)
    elif "load_error" in by_kind:
        event = by_kind["load_error"]
        report.verdict = MEMORY_LIMIT if event.get("memory") else RUNTIME_ERROR
        report.message = text_from_wire(event.get("message")) or _NO_RESULT
    elif "done" in by_kind:
        _judge_results(report, events, limits)
    elif "internal" in by_kind:
        report.message = text_from_wire(by_kind["internal"].get("message")) or _NO_RESULT
    elif returncode is not None and returncode < 0:
        sig = -returncode
        report.verdict = (TIME_LIMIT if sig == signal.SIGXCPU
                          else MEMORY_LIMIT if sig == signal.SIGKILL else RUNTIME_ERROR)
        report.message = _SIGNAL.format(signal.Signals(sig).name)
    else:
        report.verdict, report.message = RUNTIME_ERROR, _EXITED.format(returncode)
    if report.verdict == TIME_LIMIT:
        done = {json.dumps(r.name.as_dict(), sort_keys=True) for r in results}
        for name in by_kind.get("ready", {}).get("tests", []):
            title = text_from_wire(name)
            if title and json.dumps(title.as_dict(), sort_keys=True) not in done:
                report.results.append(TestResult(title, ERROR, report.message))
    return report


def _judge_results(report: Report, events: list[dict], limits: Limits) -> None:
    results = report.results
    memory = any(e.get("memory") for e in events if e.get("event") == "test")
    if all(r.status == PASSED for r in results):
        report.verdict, report.message = ACCEPTED, _ALL_PASSED.format(len(results))
        return
    report.verdict = (MEMORY_LIMIT if memory
                      else RUNTIME_ERROR if any(r.status == ERROR for r in results)
                      else WRONG_ANSWER)
    report.message = (memory_text(limits.memory_mb) if memory
                      else _SOME_FAILED.format(len(results) - report.passed, len(results)))
