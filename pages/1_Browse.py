"""Browse: the bank by section, searchable and filterable; answers hidden until revealed."""

import streamlit as st

from prep import exercises, export, filters, ui, ui_question
from prep.bank import Question

lang = ui.setup_page("浏览题库", "Browse")
bank = ui.bank()
REVEALED = "browse_revealed"  # question ids whose answer this session has revealed
revealed: set[str] = st.session_state.setdefault(REVEALED, set())
PAGE_SIZE = 20         # questions drawn at a time
SHOWN = "browse_shown"  # how many of the matching questions are drawn
CRITERIA = "browse_criteria"  # the search and filters SHOWN was counted for


def _show_more(count: int) -> None:
    st.session_state[SHOWN] += count


def _toggle(question_id: str) -> None:
    revealed.symmetric_difference_update({question_id})


LINKED_TOAST = "browse_linked_toast"  # set by a Link click, shown once by the next full run


def _unlink() -> None:
    st.query_params.pop("q", None)


@st.fragment  # revealing one answer reruns this card only, not the whole (long) list
def show_question(q: Question, reading_mode: bool, prefix: str, query: str = "") -> None:
    with st.container(border=True, key=f"{prefix}card-{q.id}"):
        ui_question.question_badges(q)
        ui_question.question_text(q, query)
        shown = reading_mode or q.id in revealed
        with st.container(horizontal=True, vertical_alignment="center"):
            if not reading_mode:
                st.button(
                    ui.t("隐藏答案", "Hide answer") if shown else ui.t("显示答案", "Show answer"),
                    key=f"{prefix}reveal-{q.id}", on_click=_toggle, args=(q.id,),
                    icon=":material/visibility_off:" if shown else ":material/visibility:",
                )
            if st.button(ui.t("链接", "Link"), key=f"{prefix}link-{q.id}", icon=":material/link:",
                         help=ui.t("把这道题放进地址栏，便于分享", "Put this question in the URL")):
                st.query_params["q"] = q.id
                st.session_state[LINKED_TOAST] = True
                st.rerun()  # the whole page, so that the linked question shows alone
            lab_params = q.lab_params()  # the question's Lab preset, else its module
            if lab_params:  # the validator checks every preset opens in the Lab
                ui.page_link("pages/3_Lab.py", "在实验室中打开", "Open in Lab",
                             ":material/science:", **lab_params)
            if exercise := exercises.for_question(q.id):
                ui.page_link("pages/4_Practice.py", "去练习", "Practise it", ":material/code:",
                             ex=exercise.id)
        if shown:
            ui_question.answer_block(q)


st.title(ui.t("浏览题库", "Browse the bank"))
if st.session_state.pop(LINKED_TOAST, False):
    st.toast(ui.t("这道题的链接已放入地址栏；页面只显示这道题。",
                  "The question's link is now in the address bar; the page shows it alone."))
ui.show_bank_problems(bank)

linked_id = st.query_params.get("q")
if linked_id:  # a deep link (?q=) shows that question alone, with one clear way back to the list
    linked = bank.question(linked_id)
    if linked is None:
        st.warning(ui.t(f"题库中没有编号为 `{linked_id}` 的题目。",
                        f"There is no question with id `{linked_id}` in the bank."))
    else:
        section = bank.section_of(linked.id)
        st.subheader(ui.t("链接的题目", "Linked question") + f" · {ui.tr(section.title)}")
        show_question(linked, reading_mode=False, prefix="linked-")
    st.button(ui.t("返回全部题目", "Back to all questions"), key="unlink", on_click=_unlink,
              icon=":material/arrow_back:", type="primary")
    st.stop()

ui_question.read_section_link("browse", bank)  # Home's section cards: Browse?section=<id>
chosen = ui_question.filter_widget("browse", bank, search=True, types=True)
reading_mode = st.toggle(ui.t("阅读模式（显示全部答案）", "Reading mode (show every answer)"),
                         key="browse_reading")

with st.expander(ui.t("导出题库（Anki / Markdown）", "Export the bank (Anki / Markdown)"),
                 icon=":material/download:"):
    st.caption(ui.t("导出当前语言的全部题目。Anki 卡片以题目编号为 ID，"
                    "重新导入会更新原卡片并保留复习记录。",
                    "Every question, in the current language. Anki notes are keyed by question id, "
                    "so re-importing updates them and keeps their review history."))
    with st.container(horizontal=True):
        st.download_button("Anki (.apkg)", lambda: export.anki_bytes(bank, lang),
                           file_name=f"attention-prep-{lang}.apkg", key="export_anki",
                           mime="application/octet-stream", icon=":material/style:")
        st.download_button("Markdown (.md)", lambda: export.to_markdown(bank, lang),
                           file_name=f"attention-prep-{lang}.md", key="export_markdown",
                           mime="text/markdown", icon=":material/description:")

found = chosen.ranked(bank, ui_question.search_index())  # best match first when searching
# Show a page at a time: drawing all 112 cards with their formulas takes the browser seconds.
st.session_state[SHOWN] = filters.shown_count(chosen, st.session_state.get(CRITERIA),
                                              st.session_state.get(SHOWN), PAGE_SIZE)
st.session_state[CRITERIA] = chosen
visible = found[: st.session_state[SHOWN]]
st.caption(ui.t(f"找到 {len(found)} / {len(bank.questions)} 题，显示前 {len(visible)} 题",
                f"{len(found)} of {len(bank.questions)} questions match; showing {len(visible)}"))
if not found:
    st.info(ui.t("没有符合条件的题目，试试放宽筛选。", "No question matches; try fewer filters."))

if chosen.query:  # ranked: one list, best first, the matched words highlighted
    for q in visible:
        show_question(q, reading_mode, prefix="", query=chosen.query)
else:  # by section, in bank order
    visible_ids = {q.id for q in visible}
    for section in bank.sections:
        in_section = [q for q in section.questions if q.id in visible_ids]
        if not in_section:
            continue
        st.header(ui.tr(section.title), divider="gray")
        st.caption(ui.tr(section.description))
        for q in in_section:
            show_question(q, reading_mode, prefix="")

hidden = len(found) - len(visible)
if hidden:
    with st.container(horizontal=True):
        st.button(ui.t(f"再显示 {min(hidden, PAGE_SIZE)} 题（还有 {hidden} 题）",
                       f"Show {min(hidden, PAGE_SIZE)} more ({hidden} left)"),
                  key="show_more", on_click=_show_more, args=(PAGE_SIZE,),
                  icon=":material/expand_more:")
        st.button(ui.t("全部显示", "Show all"), key="show_all", on_click=_show_more,
                  args=(hidden,), icon=":material/unfold_more:")
