"""The mock interview's report in a page, and Progress's panel of readiness and past interviews.

Streamlit-side companion of ``prep.interview_report`` (the pure report, Markdown, study links);
readiness is ``prep.progress.readiness_by_section``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import streamlit as st

from prep import exercises, schedule
from prep.interview import Interview, report
from prep.interview_report import (
    MISSED_SHOWN,
    WEAKEST_SHOWN,
    latest_scores,
    question_title,
    study_links,
    to_markdown,
)
from prep.progress import readiness_by_section
from prep.store import StoreError
from prep.ui import lang, markdown, page_link, t, tr
from prep.ui_interview import repository
from prep.ui_store import learner, show_store_error

PAST_SHOWN = 10


def _practice_for(question_id: str) -> str | None:
    exercise = exercises.for_question(question_id)
    return exercise.id if exercise else None


def questions_of(bank) -> dict:
    return {q.id: q for q in bank.questions}


def show_report(bank, iid: str, run: Interview) -> None:
    """Totals, the weakest questions with links to study them, the full report, a download."""
    questions = questions_of(bank)
    result = report(run, questions, run.finished or datetime.now(UTC))
    with st.container(key="iv_report"):
        st.subheader(t("面试报告", "Interview report"))
        columns = st.columns(3)
        columns[0].metric(t("总分", "Total score"), f"{result.total:.0%}")
        columns[1].metric(t("题数", "Questions"), len(result.questions))
        columns[2].metric(t("用时", "Time"), schedule.format_duration(result.elapsed, lang()))
        for sid, score in result.by_section.items():
            section = bank.section(sid)
            st.progress(score, text=f"{tr(section.title) if section else sid}: {score:.0%}")
        if result.missed_points:
            st.markdown(f"**{t('最常漏掉的要点', 'Key points missed most')}**")
            markdown("\n".join(f"- {tr(point)} (×{times})"
                               for point, times in result.missed_points[:MISSED_SHOWN]))
        if result.weakest:
            st.markdown(f"**{t('先复习这些', 'Study these first')}**")
        for qid in result.weakest[:WEAKEST_SHOWN]:
            question = questions.get(qid)
            if question is None:
                continue
            with st.container(border=True):
                markdown(question_title(question, qid, lang()))
                with st.container(horizontal=True):
                    for link in study_links(question, _practice_for(qid)):
                        page_link(link.page, link.label.zh, link.label.en, None, **link.params)
        text = to_markdown(run, questions, {s.id: s.title for s in bank.sections}, lang(),
                           practice_for=_practice_for)
        st.download_button(t("下载报告（Markdown）", "Download the report (Markdown)"), text,
                           file_name=f"mock-interview-{iid[:8]}-{lang()}.md",
                           mime="text/markdown", key="iv_download",
                           icon=":material/download:")
        with st.expander(t("完整报告与你的回答", "Full report and your answers")):
            markdown(text)


def _finished(user: str) -> list[tuple[str, Interview]]:
    repo = repository()
    if repo is None:
        return []
    try:
        return repo.finished(user)
    except StoreError as exc:
        show_store_error(exc)
        return []


def progress_panel(bank, cards) -> None:
    """Progress: readiness per section beside the latest rubric score, and past interviews."""
    user = learner()
    past = _finished(user) if user else []
    now = datetime.now(UTC)
    questions = questions_of(bank)
    ready = readiness_by_section(bank.sections, cards, now)
    latest = latest_scores([run for _, run in past], questions)
    with st.container(key="iv_progress"):
        st.subheader(t("面试准备度", "Interview readiness"))
        rows = [f"| {t('章节', 'Section')} | {t('准备度', 'Readiness')} | "
                f"{t('最近一次模拟面试得分', 'Latest mock-interview score')} |", "|---|---|---|"]
        for section in bank.sections:
            score = latest.get(section.id)
            shown = f"{score[0]:.0%} ({score[1]:%Y-%m-%d})" if score else "–"
            rows.append(f"| {tr(section.title)} | {ready[section.id]:.0%} | {shown} |")
        st.markdown("\n".join(rows))
        st.subheader(t("做过的模拟面试", "Past mock interviews"))
        if not past:
            st.caption(t("还没有完成的模拟面试。", "No finished mock interview yet."))
        for _, run in past[:PAST_SHOWN]:
            result = report(run, questions, run.finished or now)
            when = (run.finished or run.started).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
            spent = schedule.format_duration(run.finished - run.started if run.finished
                                             else timedelta(0), lang())
            st.markdown(t(f"- {when} · {len(result.questions)} 题 · 总分 {result.total:.0%} · "
                          f"用时 {spent}",
                          f"- {when} · {len(result.questions)} questions · total "
                          f"{result.total:.0%} · {spent}"))
        page_link("pages/7_Mock_interview.py", "开始模拟面试", "Start a mock interview",
                  ":material/record_voice_over:")
