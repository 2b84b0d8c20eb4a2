"""Progress: reviews per day, retention, mastery by section, what falls due next (Plotly)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import plotly.graph_objects as go
import streamlit as st

from prep import progress, schedule, ui
from prep.store import StoreError

lang = ui.setup_page("学习进度", "Progress")
bank = ui.bank()
FORECAST_DAYS = 14
SMALL_COUNT = 10  # up to this many, count axes get a tick at every whole number
RATING_COLORS = {  # Okabe-Ito, colour-blind safe
    schedule.Rating.Again: "#D55E00",
    schedule.Rating.Hard: "#E69F00",
    schedule.Rating.Good: "#009E73",
    schedule.Rating.Easy: "#0072B2",
}
LEVEL_COLORS = {"new": "#BBBBBB", "learning": "#E69F00", "young": "#56B4E9", "mature": "#009E73"}

st.title(ui.t("学习进度", "Progress"))
store = ui.store()
if store is None:
    st.stop()
try:
    reviews = store.reviews()
    cards = store.cards()
except StoreError as exc:
    ui.show_store_error(exc)
    st.stop()

try:
    tz = ZoneInfo(st.context.timezone) if st.context.timezone else UTC
except (ZoneInfoNotFoundError, ValueError):
    tz = UTC
now = datetime.now(UTC)

if not reviews:
    st.info(ui.t("还没有复习记录。做一轮自测，这里就会出现你的进度。",
                 "No reviews yet. Take a quiz and your progress shows up here."))
    ui.page_link("pages/2_Quiz.py", "开始自测", "Start a quiz", ":material/quiz:")
    st.stop()

days = progress.per_day(reviews, tz)
overall = progress.retention(reviews)
columns = st.columns(4)
columns[0].metric(ui.t("复习次数", "Reviews"), len(reviews))
columns[1].metric(ui.t("记住的比例", "Retention"), f"{overall:.0%}")
columns[2].metric(ui.t("已学题目", "Questions seen"), len(cards))
columns[3].metric(ui.t("现在到期", "Due now"), sum(card.due <= now for card in cards.values()))


def _count_axis(counts: list[int]) -> dict:
    """A y axis of whole numbers: with small counts Plotly would put ticks at 0.5 cards."""
    return {"rangemode": "tozero", "dtick": 1} if max(counts, default=0) <= SMALL_COUNT else {
        "rangemode": "tozero"}


def _layout(fig: go.Figure, title: str, **kwargs) -> go.Figure:
    fig.update_layout(title=title, margin={"l": 10, "r": 10, "t": 50, "b": 10}, height=320,
                      legend={"orientation": "h", "traceorder": "normal"}, **kwargs)
    return fig


per_day = go.Figure([
    go.Bar(name=ui.tr(schedule.RATING_NAMES[rating]), x=[d.day.isoformat() for d in days],
           y=[d.by_rating.get(rating, 0) for d in days], marker_color=RATING_COLORS[rating])
    for rating in schedule.RATINGS
])
st.plotly_chart(_layout(per_day, ui.t("每天复习次数", "Reviews per day"), barmode="stack",
                        xaxis={"type": "category"}, yaxis=_count_axis([d.total for d in days])),
                key="chart_per_day")

retention = go.Figure(go.Scatter(
    x=[d.day.isoformat() for d in days], y=[d.retention for d in days], mode="lines+markers",
    line_color=RATING_COLORS[schedule.Rating.Good], name=ui.t("记住的比例", "Retention"),
    hovertemplate="%{x}: %{y:.0%}<extra></extra>",
))
retention.add_hline(y=schedule.DESIRED_RETENTION, line_dash="dot",
                    annotation_text=ui.t("目标", "target"))
st.plotly_chart(_layout(retention, ui.t("记住的比例（不是“重来”的复习所占比例）",
                                        "Retention (share of reviews not graded Again)"),
                        yaxis={"range": [0, 1.05], "tickformat": ".0%"},
                        xaxis={"type": "category"}),
                key="chart_retention")

table = progress.mastery(((s.id, [q.id for q in s.questions]) for s in bank.sections), cards)
titles = [ui.tr(s.title) for s in bank.sections]
mastery = go.Figure([
    go.Bar(name=ui.tr(progress.LEVEL_NAMES[name]), y=titles,
           x=[table[s.id][name] for s in bank.sections], orientation="h",
           marker_color=LEVEL_COLORS[name])
    for name in progress.LEVELS
])
st.plotly_chart(_layout(mastery, ui.t("各章节掌握情况", "Mastery by section"), barmode="stack",
                        yaxis={"autorange": "reversed"}),
                key="chart_mastery")

coming = progress.forecast(cards, now, tz, FORECAST_DAYS)
forecast = go.Figure(go.Bar(x=[day.isoformat() for day, _ in coming], y=[n for _, n in coming],
                            marker_color=LEVEL_COLORS["young"], name=ui.t("到期", "Due")))
st.plotly_chart(_layout(forecast, ui.t(f"未来 {FORECAST_DAYS} 天到期", f"Due in the next "
                                       f"{FORECAST_DAYS} days"), xaxis={"type": "category"},
                        yaxis=_count_axis([n for _, n in coming])),
                key="chart_forecast")
