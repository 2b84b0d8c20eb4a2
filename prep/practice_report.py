"""What the Practice page shows of a judge report: the results table and the failure notes.

A report's verdict message is shown once, above the table. Tests that failed for that same reason
(every test left unfinished after a time limit carries the time-limit message) do not repeat it,
neither in the table nor in the list of failures; a test without a measured difference shows
"—" there, never "None". No Streamlit here; ``judge`` is only read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from prep import i18n
from prep.judge.report import STATUS_NAMES  # the judge names its own statuses

NO_VALUE = "—"  # a cell with nothing measured
DIFF_FORMAT = "{:.2e}"


class _Result(Protocol):
    name: Any
    status: str
    message: Any
    max_abs_diff: float | None


class _Report(Protocol):
    message: Any
    results: list


def _text(value: i18n.Text | Mapping[str, str] | None, lang: str) -> str:
    return i18n.pick(value, lang) if value else ""


def format_diff(value: float | None) -> str:
    """The largest absolute difference as "1.23e-05", or "—" when the test measured none."""
    return NO_VALUE if value is None else DIFF_FORMAT.format(value)


def own_message(result: _Result, report: _Report, lang: str) -> str:
    """The result's message in ``lang``, or "" when it only repeats the report's verdict."""
    message = _text(result.message, lang)
    return "" if message == _text(report.message, lang) else message


def table(report: _Report, lang: str) -> list[dict[str, str]]:
    """One row per test: name, status (in ``lang``), its own message, largest difference."""
    return [
        {
            "test": _text(r.name, lang),
            "status": STATUS_NAMES[r.status].pick(lang) if r.status in STATUS_NAMES else r.status,
            "message": own_message(r, report, lang),
            "max_abs_diff": format_diff(r.max_abs_diff),
        }
        for r in report.results
    ]


def failure_notes(report: _Report, lang: str, passed: str) -> list[tuple[str, str]]:
    """(test name, message) for each failing test (status not ``passed``) with a message of its
    own; tests failing for the verdict's reason are left out (the verdict says it once)."""
    notes = []
    for r in report.results:
        message = own_message(r, report, lang)
        if r.status != passed and message:
            notes.append((_text(r.name, lang), message))
    return notes


def first_failing(results: list[_Result], passed: str) -> int:
    """Index of the first result whose status is not ``passed`` (the judge's PASSED), else 0:
    the test whose attention map the page opens on after a submission."""
    return next((i for i, result in enumerate(results) if result.status != passed), 0)


def is_stale(judged_code: str | None, current_code: str) -> bool:
    """Whether a verdict no longer describes the editor: the code changed since it was judged
    (trailing spaces and blank lines at the end do not count)."""
    if judged_code is None:
        return False
    def tidy(code: str) -> str:
        return "\n".join(line.rstrip() for line in code.rstrip().splitlines())

    return tidy(judged_code) != tidy(current_code)
