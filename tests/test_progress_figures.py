"""Progress figures (prep.progress_figures): what each figure shows, in each language."""

from __future__ import annotations

from datetime import date

from fsrs import Rating

from prep import progress_figures as figures
from prep.i18n import Text
from prep.progress import DayStats

DAYS = [
    DayStats(date(2026, 3, 1), {Rating.Good: 3, Rating.Again: 1}),
    DayStats(date(2026, 3, 3), {Rating.Easy: 2}),
]


def test_reviews_per_day_stacks_one_bar_per_grade_in_order():
    fig = figures.reviews_per_day(DAYS, "en")
    assert [trace.name for trace in fig.data] == ["Again", "Hard", "Good", "Easy"]
    good = fig.data[2]
    assert list(good.x) == ["2026-03-01", "2026-03-03"]
    assert list(good.y) == [3, 0]
    assert fig.layout.barmode == "stack"
    assert fig.layout.yaxis.dtick == 1  # small counts: whole-number ticks
    assert fig.layout.title.text == "Reviews per day"
    assert next(t.name for t in figures.reviews_per_day(DAYS, "zh").data) == "重来"


def test_one_day_of_reviews_is_one_bar_in_a_week_of_room_not_the_whole_width():
    """Regression: with a single day the category axis gave its bar the chart's whole width."""
    one_day = figures.reviews_per_day(DAYS[:1], "en")
    assert list(one_day.layout.xaxis.range) == [-0.5, 6.5]
    many = [DayStats(date(2026, 3, d), {Rating.Good: 1}) for d in range(1, 11)]
    assert list(figures.reviews_per_day(many, "en").layout.xaxis.range) == [-0.5, 9.5]


def test_retention_per_day_is_the_share_not_graded_again_with_the_target():
    fig = figures.retention_per_day(DAYS, "zh")
    assert list(fig.data[0].y) == [0.75, 1.0]
    assert fig.layout.shapes[0].y0 == 0.9
    assert fig.layout.annotations[0].text == "目标"


def test_mastery_by_section_keeps_section_order_and_counts():
    sections = [("a", Text("甲", "Alpha")), ("b", Text("乙", "Beta"))]
    table = {"a": {"new": 2, "learning": 1, "young": 0, "mature": 0},
             "b": {"new": 0, "learning": 0, "young": 1, "mature": 3}}
    fig = figures.mastery_by_section(sections, table, "en")
    assert [trace.name for trace in fig.data] == ["New", "Learning", "Young", "Mature"]
    assert list(fig.data[0].y) == ["Alpha", "Beta"]
    assert list(fig.data[3].x) == [0, 3]


def test_due_forecast_title_says_how_many_days_and_large_counts_get_auto_ticks():
    coming = [(date(2026, 3, 1), 40), (date(2026, 3, 2), 0), (date(2026, 3, 3), 5)]
    fig = figures.due_forecast(coming, "en")
    assert fig.layout.title.text == "Due in the next 3 days"
    assert list(fig.data[0].y) == [40, 0, 5]
    assert fig.layout.yaxis.dtick is None
    assert figures.due_forecast(coming, "zh").layout.title.text == "未来 3 天到期"
