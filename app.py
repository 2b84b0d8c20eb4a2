"""Home: what the app is, sections with counts and mastery, what is due, a way into each page."""

from datetime import UTC, datetime

import streamlit as st

from prep import progress, schedule, ui
from prep.store import StoreError

lang = ui.setup_page("首页", "Home")
bank = ui.bank()

st.title(ui.tr(ui.APP_TITLE))
st.markdown(ui.t(
    "一个关于注意力机制的面试备考应用：中英双语题库（答案先隐藏）、按间隔重复安排的自测、"
    "可以拖动滑块观察热力图的实验室、像在线评测一样检查代码的练习，以及真实预训练模型里的注意力。",
    "An interview-prep app for attention mechanisms: a bilingual question bank with answers hidden "
    "until you reveal them, a self-quiz scheduled by spaced repetition, a lab whose heatmaps react "
    "to sliders, coding practice checked like an online judge, and the attention inside a real "
    "pretrained model.",
))
ui.show_bank_problems(bank)

DESCRIPTIONS = {
    "pages/1_Browse.py": ("按章节阅读题目，搜索、筛选，答案点开才显示。",
                          "Read by section, search and filter; answers stay hidden until you ask."),
    "pages/2_Quiz.py": ("一次一张卡片，自评后由 FSRS 安排下次复习。",
                        "One card at a time; grade yourself and FSRS schedules the next review."),
    "pages/3_Lab.py": ("运行注意力模块，拖动滑块看热力图变化。",
                       "Run attention modules and watch the heatmaps follow the sliders."),
    "pages/4_Practice.py": ("手写面试常考的注意力代码，像在线评测一样检查。",
                            "Write the attention code interviewers ask for; it is judged."),
    "pages/5_Real_model.py": ("看真实预训练模型 MiniLM 里每层每头的注意力。",
                              "See each layer and head of a real pretrained model (MiniLM)."),
    "pages/6_Progress.py": ("复习次数、记忆保持率、各章节掌握情况与到期预测。",
                            "Reviews, retention, mastery by section and what falls due."),
}
PAGES_PER_ROW = 3
shown = [entry for entry in ui.PAGES if entry[0] in DESCRIPTIONS and ui.page_exists(entry[0])]
# One st.columns per row: on a narrow screen columns stack, and the pages keep the sidebar's order.
for start in range(0, len(shown), PAGES_PER_ROW):
    row = shown[start:start + PAGES_PER_ROW]
    for column, (page, zh, en, icon) in zip(st.columns(PAGES_PER_ROW), row, strict=False):
        with column.container(border=True, height="stretch"):
            ui.page_link(page, zh, en, icon)
            st.caption(ui.t(*DESCRIPTIONS[page]))

store = ui.store()
cards = {}
if store is not None:
    try:
        cards = store.cards()
    except StoreError as exc:
        ui.show_store_error(exc)

now = datetime.now(UTC)
all_ids = [q.id for q in bank.questions]
due_reviews = sum(1 for q in all_ids if q in cards and cards[q].due <= now)
new_count = sum(1 for q in all_ids if q not in cards)
metric_columns = st.columns(3)
metric_columns[0].metric(ui.t("题目", "Questions"), len(all_ids))
metric_columns[1].metric(ui.t("今天待复习", "Due now"), due_reviews)
metric_columns[2].metric(ui.t("未学", "New"), new_count)

st.subheader(ui.t("章节", "Sections"))
table = progress.mastery(((s.id, [q.id for q in s.questions]) for s in bank.sections), cards)
for section in bank.sections:
    counts = table[section.id]
    total = len(section.questions)
    with st.container(border=True):
        st.markdown(f"**{ui.tr(section.title)}** · {ui.tr(section.description)}")
        due_here = schedule.due_count([q.id for q in section.questions], cards, now)
        st.caption(" · ".join([
            ui.t(f"{total} 题", f"{total} questions"),
            *(f"{ui.tr(progress.LEVEL_NAMES[name])} {counts[name]}" for name in progress.LEVELS),
            ui.t(f"待学 {due_here}", f"to study {due_here}"),
        ]))
        st.progress(counts["mature"] / total if total else 0.0)
