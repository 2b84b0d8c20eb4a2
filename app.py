"""Home: what the app is, sections with counts and mastery, what is due, a way into each page."""

from datetime import UTC, datetime

import streamlit as st

from prep import progress, study, ui, ui_store
from prep.i18n import Text
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
    "pages/1_Browse.py": Text("按章节阅读题目，搜索、筛选，答案点开才显示。",
                              "Read by section, search and filter; answers stay hidden until you "
                              "ask."),
    "pages/2_Quiz.py": Text("一次一张卡片，自评后由 FSRS 安排下次复习。",
                            "One card at a time; grade yourself and FSRS schedules the next "
                            "review."),
    "pages/3_Lab.py": Text("运行注意力模块，拖动滑块看热力图变化。",
                           "Run attention modules and watch the heatmaps follow the sliders."),
    "pages/4_Practice.py": Text("手写面试常考的注意力代码，像在线评测一样检查。",
                                "Write the attention code interviewers ask for; it is judged."),
    "pages/5_Real_model.py": Text("看真实预训练模型 MiniLM 里每层每头的注意力。",
                                  "See each layer and head of a real pretrained model (MiniLM)."),
    "pages/6_Progress.py": Text("复习次数、记忆保持率、各章节掌握情况与到期预测。",
                                "Reviews, retention, mastery by section and what falls due."),
    "pages/7_Mock_interview.py": Text("先作答，再对照评分要点打勾，回答追问，得到报告。",
                                      "Answer first, tick the rubric, face the follow-ups, get "
                                      "a report."),
}
PAGES_PER_ROW = 3
shown = [page for page in ui.PAGES if page.path in DESCRIPTIONS and ui.page_exists(page.path)]
# One st.columns per row: on a narrow screen columns stack, and the pages keep the sidebar's order.
for start in range(0, len(shown), PAGES_PER_ROW):
    row = shown[start:start + PAGES_PER_ROW]
    for column, page in zip(st.columns(PAGES_PER_ROW), row, strict=False):
        with column.container(border=True, height="stretch"):
            ui.page_link(page.path, page.title.zh, page.title.en, page.icon)
            st.caption(ui.tr(DESCRIPTIONS[page.path]))

store = ui_store.store()
cards = {}
if store is not None:
    try:
        cards = ui_store.cards(store, bank)  # merged questions' history counts for the kept one
    except StoreError as exc:
        ui_store.show_store_error(exc)

now, tz = datetime.now(UTC), ui.timezone()
counts = study.counts((q.id for q in bank.questions), cards, now, tz)
ui_store.study_metrics(counts)
ui_store.readiness_summary(bank, cards)
ui_store.solved_panel(store)  # "Practice: 7 / 12 solved" and which

st.header(ui.t("章节", "Sections"))
table = progress.mastery(((s.id, [q.id for q in s.questions]) for s in bank.sections), cards)
for section in bank.sections:
    levels = table[section.id]
    here = study.counts((q.id for q in section.questions), cards, now, tz)
    with st.container(border=True, key=f"home_section_{section.id}"):
        # The title opens Browse filtered to this section (Browse reads ?section= once).
        ui.page_link("pages/1_Browse.py", section.title.zh, section.title.en,
                     ":material/menu_book:", section=section.id)
        st.caption(ui.tr(section.description))
        st.caption(" · ".join([
            ui.t(f"{here.total} 题", f"{here.total} questions"),
            *(f"{ui.tr(progress.LEVEL_NAMES[name])} {levels[name]}" for name in progress.LEVELS),
            ui.t(f"待学 {here.to_study}", f"to study {here.to_study}"),
        ]))
        st.progress(levels["mature"] / here.total if here.total else 0.0)
