"""Progress: reviews per day, retention, mastery by section, what falls due next (Plotly).

The numbers come from prep.progress and prep.study, the figures from prep.progress_figures.
"""

from datetime import UTC, datetime

import streamlit as st

from prep import progress, study, ui, ui_chart, ui_interview_report, ui_store
from prep import progress_figures as figures
from prep.store import StoreError

lang = ui.setup_page("学习进度", "Progress")
bank = ui.bank()
FORECAST_DAYS = 14

st.title(ui.t("学习进度", "Progress"))
store = ui_store.store()
if store is None:
    st.stop()
try:
    reviews = store.reviews()
    cards = ui_store.cards(store, bank)  # merged questions' history counts for the kept one
except StoreError as exc:
    ui_store.show_store_error(exc)
    st.stop()

tz, now = ui.timezone(), datetime.now(UTC)
ui_store.solved_panel(store)  # "Practice: 7 / 12 solved" and which
if not reviews:
    st.info(ui.t("还没有复习记录。做一轮自测，这里就会出现你的进度。",
                 "No reviews yet. Take a quiz and your progress shows up here."))
    ui.page_link("pages/2_Quiz.py", "开始自测", "Start a quiz", ":material/quiz:")
    st.stop()

days = progress.per_day(reviews, tz)
columns = st.columns(3)
columns[0].metric(ui.t("复习次数", "Reviews"), len(reviews))
columns[1].metric(ui.t("记住的比例", "Retention"), f"{progress.retention(reviews):.0%}")
columns[2].metric(ui.t("已学题目", "Questions seen"), len(cards))
ui_store.study_metrics(study.counts((q.id for q in bank.questions), cards, now, tz))

ui_chart.chart(figures.reviews_per_day(days, lang), key="chart_per_day")
ui_chart.chart(figures.retention_per_day(days, lang), key="chart_retention")
table = progress.mastery(((s.id, [q.id for q in s.questions]) for s in bank.sections), cards)
ui_chart.chart(figures.mastery_by_section([(s.id, s.title) for s in bank.sections], table, lang),
               key="chart_mastery")
ui_chart.chart(figures.due_forecast(progress.forecast(cards, now, tz, FORECAST_DAYS), lang),
               key="chart_forecast")
ui_interview_report.progress_panel(bank, cards)
