"""A finished mock interview as the learner reads it: links to study, and a Markdown download.

Pure functions over ``prep.interview.report``: no Streamlit, no store. The page shows the same
``Report`` with widgets; ``to_markdown`` is what "Download as Markdown" saves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from prep import schedule
from prep.i18n import Text
from prep.interview import Interview, Report, report
from prep.numeric import template

TITLE_CHARS = 80
WEAKEST_SHOWN = 5
MISSED_SHOWN = 8


@dataclass(frozen=True)
class StudyLink:
    """Where to study a weak question: a page of the app and its URL parameters."""

    label: Text
    page: str            # path relative to app.py, as ui.page_link takes it
    url_path: str        # the page's URL path, for a Markdown link
    params: dict[str, str]

    def url(self, lang: str) -> str:
        return f"{self.url_path}?{urlencode({**self.params, 'lang': lang})}"


def study_links(question: object, practice_id: str | None) -> list[StudyLink]:
    """Browse (always), the Lab view (when the question has one) and the Practice exercise."""
    links = [StudyLink(Text("在题库中查看", "Browse"), "pages/1_Browse.py", "Browse",
                       {"q": question.id})]  # type: ignore[attr-defined]
    lab = question.lab_params() if hasattr(question, "lab_params") else {}
    if lab:  # every preset names a Lab module: `python -m prep validate` checks it
        links.append(StudyLink(Text("实验室", "Lab"), "pages/3_Lab.py", "Lab", dict(lab)))
    if practice_id:
        links.append(StudyLink(Text("编程练习", "Practice"), "pages/4_Practice.py", "Practice",
                               {"ex": practice_id}))
    return links


def question_title(question: object | None, question_id: str, lang: str) -> str:
    """One line naming a question: the first line of its text (numbers as their ranges)."""
    if question is None:
        return question_id
    text = template(question) if getattr(question, "numeric", None) else question.question  # type: ignore[attr-defined]
    line = next((part.strip() for part in text.pick(lang).splitlines() if part.strip()),
                question_id)
    if len(line) <= TITLE_CHARS:
        return line
    cut = line[: TITLE_CHARS - 1]
    if cut.count("$") % 2:  # cut inside a formula: end before it, never leave a lone "$"
        cut = cut[: cut.rindex("$")].rstrip()
    return cut + "…"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _pct(value: float) -> str:
    return f"{value:.0%}"


_L = {
    "title": Text("模拟面试报告", "Mock interview report"),
    "summary": Text("总分 {total}，{n} 道题，用时 {time}",
                    "Total {total} over {n} questions in {time}"),
    "sections": Text("各章节得分", "Score by section"),
    "section": Text("章节", "Section"),
    "score": Text("得分", "Score"),
    "questions": Text("每道题", "Each question"),
    "question": Text("题目", "Question"),
    "time": Text("用时", "Time"),
    "skipped": Text("跳过", "skipped"),
    "missed": Text("最常漏掉的要点", "Key points missed most"),
    "weakest": Text("最薄弱的题目", "Weakest questions"),
    "answers": Text("你的回答", "Your answers"),
    "empty": Text("（没有作答）", "(no answer typed)"),
    "follow": Text("追问", "follow-up"),
}


def to_markdown(
    interview: Interview,
    questions: Mapping[str, object],
    section_titles: Mapping[str, Text],
    lang: str,
    *,
    practice_for: Callable[[str], str | None] = lambda _qid: None,
    now: datetime | None = None,
) -> str:
    """The report as Markdown in ``lang``: totals, per section, per question (time, score),
    key points missed most, weakest questions with links, and the typed answers."""
    moment = now or datetime.now(UTC)
    result: Report = report(interview, questions, moment)  # type: ignore[arg-type]
    label = {key: text.pick(lang) for key, text in _L.items()}
    started = interview.started.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [f"# {label['title']} · {started}", ""]
    out += [label["summary"].format(total=_pct(result.total), n=len(result.questions),
                                    time=_duration(result.elapsed, lang)), ""]
    out += [f"## {label['sections']}", "", f"| {label['section']} | {label['score']} |",
            "|---|---|"]
    for sid, score in result.by_section.items():
        title = section_titles.get(sid)
        out.append(f"| {_cell(title.pick(lang) if title else sid or '-')} | {_pct(score)} |")
    out += ["", f"## {label['questions']}", "",
            f"| # | {label['question']} | {label['score']} | {label['time']} |",
            "|---|---|---|---|"]
    for number, row in enumerate(result.questions, 1):
        name = question_title(questions.get(row.question_id), row.question_id, lang)
        if row.parent_id:
            name = f"↳ ({label['follow']}) {name}"
        score = label["skipped"] if row.skipped else _pct(row.score)
        out.append(f"| {number} | {_cell(name)} | {score} | "
                   f"{_duration(timedelta(seconds=row.seconds), lang)} |")
    if result.missed_points:
        out += ["", f"## {label['missed']}", ""]
        out += [f"- {point.pick(lang)} (×{times})"
                for point, times in result.missed_points[:MISSED_SHOWN]]
    if result.weakest:
        out += ["", f"## {label['weakest']}", ""]
        for qid in result.weakest[:WEAKEST_SHOWN]:
            question = questions.get(qid)
            name = question_title(question, qid, lang)
            links = study_links(question, practice_for(qid)) if question is not None else []
            shown = " · ".join(f"[{link.label.pick(lang)}]({link.url(lang)})" for link in links)
            out.append(f"- `{qid}` {name}" + (f" · {shown}" if shown else ""))
    out += ["", f"## {label['answers']}", ""]
    for number, answer in enumerate(interview.answers, 1):
        name = question_title(questions.get(answer.question_id), answer.question_id, lang)
        out += [f"### {number}. {name}", ""]
        typed = answer.text.strip() or (
            str(answer.numeric_value) if answer.numeric_value is not None else label["empty"])
        out += [f"> {line}" if line else ">" for line in typed.splitlines()] + [""]
    return "\n".join(out).rstrip() + "\n"


def _duration(delta: timedelta, lang: str) -> str:
    return schedule.format_duration(delta, lang)


def latest_scores(finished: Sequence[Interview], questions: Mapping[str, object]
                  ) -> dict[str, tuple[float, datetime]]:
    """Section id -> (its score in the latest interview that asked it, when that finished)."""
    latest: dict[str, tuple[float, datetime]] = {}
    for run in sorted(finished, key=lambda r: r.finished or r.started):
        result = report(run, questions, run.finished or run.started)  # type: ignore[arg-type]
        for sid, score in result.by_section.items():
            if sid:
                latest[sid] = (score, run.finished or run.started)
    return latest
