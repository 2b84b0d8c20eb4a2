"""The Progress page's figures (Plotly), built from ``prep.progress`` numbers; no Streamlit.

Each function takes the numbers and the page's language and returns a ``go.Figure``: reviews per
day stacked by grade, retention per day against the target, mastery by section, and the cards
falling due on each of the next days. Colours are Okabe-Ito (colour-blind safe).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import plotly.graph_objects as go

from prep import progress, schedule
from prep.i18n import Text

SMALL_COUNT = 10  # up to this many, count axes get a tick at every whole number
HEIGHT_PX = 320
RATING_COLORS = {
    schedule.Rating.Again: "#D55E00",
    schedule.Rating.Hard: "#E69F00",
    schedule.Rating.Good: "#009E73",
    schedule.Rating.Easy: "#0072B2",
}
LEVEL_COLORS = {"new": "#BBBBBB", "learning": "#E69F00", "young": "#56B4E9", "mature": "#009E73"}
RETENTION = Text("记住的比例", "Retention")
TITLES = {
    "per_day": Text("每天复习次数", "Reviews per day"),
    "retention": Text("记住的比例（不是“重来”的复习所占比例）",
                      "Retention (share of reviews not graded Again)"),
    "mastery": Text("各章节掌握情况", "Mastery by section"),
    "forecast": Text("未来 {days} 天到期", "Due in the next {days} days"),
}
TARGET = Text("目标", "target")
DUE = Text("到期", "Due")


def count_axis(counts: Sequence[int]) -> dict[str, Any]:
    """A y axis of whole numbers: with small counts Plotly would put ticks at 0.5 cards."""
    axis: dict[str, Any] = {"rangemode": "tozero"}
    if max(counts, default=0) <= SMALL_COUNT:
        axis["dtick"] = 1
    return axis


def _layout(fig: go.Figure, title: str, **kwargs: Any) -> go.Figure:
    fig.update_layout(title=title, margin={"l": 10, "r": 10, "t": 50, "b": 10}, height=HEIGHT_PX,
                      legend={"orientation": "h", "traceorder": "normal"}, **kwargs)
    return fig


MIN_DAYS_SHOWN = 7  # the per-day bars leave room for a week


def reviews_per_day(days: Sequence[progress.DayStats], lang: str) -> go.Figure:
    """One stacked bar per day, a segment per grade (Again, Hard, Good, Easy)."""
    fig = go.Figure([
        go.Bar(name=schedule.RATING_NAMES[rating].pick(lang),
               x=[d.day.isoformat() for d in days],
               y=[d.by_rating.get(rating, 0) for d in days], marker_color=RATING_COLORS[rating])
        for rating in schedule.RATINGS
    ])
    # At least a week's room: one day's bar filled the whole width.
    room = [-0.5, max(len(days), MIN_DAYS_SHOWN) - 0.5]
    return _layout(fig, TITLES["per_day"].pick(lang), barmode="stack",
                   xaxis={"type": "category", "range": room},
                   yaxis=count_axis([d.total for d in days]))


def retention_per_day(days: Sequence[progress.DayStats], lang: str) -> go.Figure:
    """The share of each day's reviews not graded Again, with the scheduler's target as a line."""
    fig = go.Figure(go.Scatter(
        x=[d.day.isoformat() for d in days], y=[d.retention for d in days], mode="lines+markers",
        line_color=RATING_COLORS[schedule.Rating.Good], name=RETENTION.pick(lang),
        hovertemplate="%{x}: %{y:.0%}<extra></extra>",
    ))
    fig.add_hline(y=schedule.DESIRED_RETENTION, line_dash="dot", annotation_text=TARGET.pick(lang))
    return _layout(fig, TITLES["retention"].pick(lang),
                   yaxis={"range": [0, 1.05], "tickformat": ".0%"}, xaxis={"type": "category"})


def mastery_by_section(
    sections: Sequence[tuple[str, Text]], table: Mapping[str, Mapping[str, int]], lang: str
) -> go.Figure:
    """One horizontal stacked bar per (section id, title): questions at each mastery level."""
    titles = [title.pick(lang) for _, title in sections]
    fig = go.Figure([
        go.Bar(name=progress.LEVEL_NAMES[name].pick(lang), y=titles,
               x=[table[section_id][name] for section_id, _ in sections], orientation="h",
               marker_color=LEVEL_COLORS[name])
        for name in progress.LEVELS
    ])
    return _layout(fig, TITLES["mastery"].pick(lang), barmode="stack",
                   yaxis={"autorange": "reversed"})


def due_forecast(coming: Sequence[tuple[date, int]], lang: str) -> go.Figure:
    """Cards falling due on each coming day (``progress.forecast``; today includes overdue)."""
    fig = go.Figure(go.Bar(x=[day.isoformat() for day, _ in coming], y=[n for _, n in coming],
                           marker_color=LEVEL_COLORS["young"], name=DUE.pick(lang)))
    return _layout(fig, TITLES["forecast"].format(days=len(coming)).pick(lang),
                   xaxis={"type": "category"}, yaxis=count_axis([n for _, n in coming]))
