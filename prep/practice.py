"""Practice's state without Streamlit: the editor's events, drafts, submissions, solved counts.

The editor (``prep.ui_practice.editor``, a browser component) sends its text as an event
``{"id", "type", "text", ...}``: ``"change"`` a second after typing pauses,
``"blur"`` when it loses focus, ``"submit"`` on Ctrl/Cmd+Enter. A component keeps returning its
last event on every rerun, so each event is handled once, by its id (``new_event``).

Drafts and submissions live in the learner's store (``prep.store.Store``): a draft per learner
and exercise, saved whenever an event brings text that differs from the saved draft; every
judged submission with its verdict. A submission's ``seconds`` is the drill's elapsed time
(``prep.practice_drill``) and None outside a drill.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from prep.i18n import Text

ACCEPTED = "accepted"  # the judge's verdict for a passing submission (prep.judge.ACCEPTED)
SUBMIT = "submit"      # the editor's Ctrl/Cmd+Enter event
VERDICT_NAMES = {
    "accepted": Text("通过", "accepted"),
    "wrong_answer": Text("答案错误", "wrong answer"),
    "runtime_error": Text("运行出错", "runtime error"),
    "syntax_error": Text("语法错误", "syntax error"),
    "time_limit": Text("超时", "time limit"),
    "memory_limit": Text("超出内存", "memory limit"),
}


@dataclass(frozen=True)
class EditorEvent:
    """One message from the editor: its id (unique per message), type and the whole text."""

    id: str
    type: str
    text: str

    @property
    def submits(self) -> bool:
        return self.type == SUBMIT


def parse_event(value: Any) -> EditorEvent | None:
    """The editor's returned value as an event, or None before the learner did anything (the
    component's default has an empty id) or when the value is not an editor event."""
    if not isinstance(value, Mapping):
        return None
    event_id, text = value.get("id"), value.get("text")
    if not event_id or not isinstance(text, str):
        return None
    return EditorEvent(str(event_id), str(value.get("type") or ""), text)


def new_event(value: Any, seen: dict[str, str], editor_key: str) -> EditorEvent | None:
    """The editor's event if it has not been handled yet (``seen`` maps editor key -> the last
    handled id and is updated), else None."""
    event = parse_event(value)
    if event is None or seen.get(editor_key) == event.id:
        return None
    seen[editor_key] = event.id
    return event


def needs_saving(code: str, saved: str | None) -> bool:
    """Whether ``code`` differs from the stored draft (None: nothing stored yet)."""
    return saved != code


def solved_ids(submissions: Iterable[Any]) -> set[str]:
    """Exercise ids with at least one accepted submission (objects with ``exercise_id`` and
    ``verdict``, such as ``prep.store.Submission``)."""
    return {s.exercise_id for s in submissions if s.verdict == ACCEPTED}


@dataclass(frozen=True)
class SolvedSummary:
    """How many of the exercises are solved, and which (in the exercises' order)."""

    solved: tuple[str, ...]
    unsolved: tuple[str, ...]
    attempted: tuple[str, ...]   # submitted at least once but not solved

    @property
    def total(self) -> int:
        return len(self.solved) + len(self.unsolved)

    def text(self) -> Text:
        n, total = len(self.solved), self.total
        return Text(f"练习：已解出 {n} / {total} 题", f"Practice: {n} / {total} solved")


def summary(exercise_ids: Iterable[str], submissions: Iterable[Any]) -> SolvedSummary:
    """Solved / unsolved / attempted among ``exercise_ids`` (submissions of exercises that no
    longer exist are ignored)."""
    ids = list(exercise_ids)
    submissions = list(submissions)
    solved = solved_ids(submissions)
    tried = {s.exercise_id for s in submissions}
    return SolvedSummary(
        solved=tuple(i for i in ids if i in solved),
        unsolved=tuple(i for i in ids if i not in solved),
        attempted=tuple(i for i in ids if i in tried and i not in solved),
    )


def submission_label(submission: Any, lang: str, tz: Any = None) -> str:
    """"2026-12-01 20:31 · accepted · drill 4:05" for a list of earlier submissions."""
    when = submission.created.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    verdict = VERDICT_NAMES.get(submission.verdict)
    parts = [when, verdict.pick(lang) if verdict else submission.verdict]
    if submission.seconds is not None:
        parts.append(Text("限时 ", "drill ").pick(lang) + clock_text(submission.seconds))
    return " · ".join(parts)


def clock_text(seconds: float) -> str:
    """Seconds as m:ss (or h:mm:ss from an hour on)."""
    total = int(max(0.0, seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
