"""AppTest of Home, Browse, Quiz and Progress on a small fixture bank (tests/fixtures/bank)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import chart_specs, charts
from fsrs import Rating
from streamlit.testing.v1 import AppTest

from prep import schedule, settings
from prep.store import DEFAULT_USER, Store

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_BANK = ROOT / "tests" / "fixtures" / "bank"
APP = str(ROOT / "app.py")
TIMEOUT_S = 60
ANSWER_ZH = "让点积的方差保持为 1"  # fx-why-sqrt's answer
ANSWER_EN = "keeps the variance of the dot product at one"


@pytest.fixture(autouse=True)
def fixture_bank(monkeypatch):
    monkeypatch.setenv("ATTN_PREP_CONTENT", str(FIXTURE_BANK))


def open_page(page: str | None = None, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def text_of(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "title", "header", "subheader", "caption")
             for e in at.get(kind)]
    return "\n".join(str(p) for p in parts)


def shown_question_ids(at: AppTest) -> list[str]:
    return [b.key.removeprefix("reveal-") for b in at.button if b.key.startswith("reveal-")]


@pytest.mark.parametrize("page", [None, "pages/1_Browse.py", "pages/2_Quiz.py",
                                  "pages/6_Progress.py"])
def test_every_page_loads_without_exception(page):
    at = open_page(page)
    assert not at.error


@pytest.mark.parametrize("page", [None, "pages/1_Browse.py"])
def test_pages_render_the_real_bank(monkeypatch, page):
    monkeypatch.setenv("ATTN_PREP_CONTENT", str(ROOT / "content"))
    at = open_page(page)
    assert at.title


def test_home_counts_questions_and_links_every_installed_page():
    at = open_page()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["题目"] == "5" and metrics["未学"] == "5"
    assert "基础" in text_of(at) and "多头" in text_of(at)
    installed = [p for p in ("1_Browse", "2_Quiz", "3_Lab", "4_Practice", "5_Real_model",
                             "6_Progress", "7_Mock_interview")
                 if (ROOT / "pages" / f"{p}.py").exists()]
    main_links = [e for e in at.main.get("page_link") if "section=" not in e.proto.query_string]
    sidebar_links = [e for e in at.sidebar.get("page_link")]
    assert len(main_links) == len(installed)
    assert len(sidebar_links) == len(installed) + 1  # and Home


def test_browse_shows_an_answer_only_after_its_reveal():
    at = open_page("pages/1_Browse.py")
    assert "为什么要除以" in text_of(at)
    assert ANSWER_ZH not in text_of(at)
    at.button(key="reveal-fx-why-sqrt").click().run()
    assert ANSWER_ZH in text_of(at)
    assert "在 SDPA 中 True 表示可以关注" not in text_of(at)  # the others stay hidden
    at.button(key="reveal-fx-why-sqrt").click().run()
    assert ANSWER_ZH not in text_of(at)


def test_browse_reading_mode_shows_every_answer_and_code():
    at = open_page("pages/1_Browse.py")
    at.toggle(key="browse_reading").set_value(True).run()
    assert ANSWER_ZH in text_of(at) and "在 SDPA 中 True 表示可以关注" in text_of(at)
    assert any("scaled_dot_product_attention" not in c.value and "softmax" in c.value
               for c in at.code)


def test_browse_search_in_either_language_and_filters_narrow_the_list():
    at = open_page("pages/1_Browse.py")
    assert len(shown_question_ids(at)) == 5
    at.text_input(key="browse_query").input("heads").run()
    shown = shown_question_ids(at)  # ranked: the question about heads first
    assert shown[0] == "fx-why-heads" and set(shown) <= {"fx-why-heads", "fx-gqa-kv-cache"}
    at.text_input(key="browse_query").input("掩码").run()
    assert shown_question_ids(at) == ["fx-mask-meaning"]
    at.text_input(key="browse_query").input("").run()
    at.multiselect(key="browse_tags").set_value(["scaled-dot-product"]).run()
    assert shown_question_ids(at) == ["fx-why-sqrt", "fx-sdpa-code"]
    at.multiselect(key="browse_difficulty").set_value(["hard"]).run()
    assert shown_question_ids(at) == ["fx-sdpa-code"]
    at.multiselect(key="browse_tags").set_value([]).run()
    at.multiselect(key="browse_difficulty").set_value([]).run()
    at.multiselect(key="browse_type").set_value(["calculation"]).run()
    assert shown_question_ids(at) == ["fx-gqa-kv-cache"]
    at.multiselect(key="browse_type").set_value([]).run()
    at.multiselect(key="browse_sections").set_value(["heads"]).run()
    assert shown_question_ids(at) == ["fx-why-heads", "fx-gqa-kv-cache"]
    at.text_input(key="browse_query").input("no-such-words").run()
    assert shown_question_ids(at) == [] and at.info


def test_a_deep_link_opens_its_question_revealable():
    at = open_page("pages/1_Browse.py")
    at.query_params["q"] = "fx-gqa-kv-cache"
    at.run()
    assert not at.exception
    assert at.button(key="linked-reveal-fx-gqa-kv-cache")
    assert "链接的题目" in text_of(at)
    at.button(key="linked-reveal-fx-gqa-kv-cache").click().run()
    assert "缓存缩小为原来的" in text_of(at)
    at.button(key="unlink").click().run()
    assert "q" not in at.query_params and "链接的题目" not in text_of(at)


def test_bug16_6_a_deep_link_shows_only_its_question_with_a_way_back():
    at = open_page("pages/1_Browse.py", lang="en")
    at.query_params["q"] = "fx-gqa-kv-cache"
    at.run()
    assert not at.exception
    assert shown_question_ids(at) == []  # no full list below the linked question
    assert [b.key for b in at.button if b.key.startswith("linked-reveal-")] == [
        "linked-reveal-fx-gqa-kv-cache"]
    assert at.button(key="unlink").label == "Back to all questions"
    at.button(key="unlink").click().run()
    assert "q" not in at.query_params
    assert len(shown_question_ids(at)) == 5


def test_a_deep_link_to_an_unknown_question_says_so():
    at = open_page("pages/1_Browse.py")
    at.query_params["q"] = "no-such-question"
    at.run()
    assert not at.exception and "no-such-question" in at.warning[0].value


def test_the_language_switch_changes_the_text_and_stays_in_the_url_across_pages():
    at = open_page("pages/1_Browse.py")
    assert at.title[0].value == "浏览题库"
    at.sidebar.radio[0].set_value("en").run()
    assert at.title[0].value == "Browse the bank"
    assert "Why divide the scores by" in text_of(at) and "为什么要除以" not in text_of(at)
    assert at.query_params["lang"] == "en"
    at.switch_page("pages/2_Quiz.py").run()
    assert at.title[0].value == "Quiz" and at.query_params["lang"] == "en"


def test_a_link_in_english_opens_in_english():
    at = open_page(lang="en")
    assert at.title[0].value == "Attention interview prep"


def test_quiz_reveal_then_grade_updates_the_store_and_undo_takes_it_back():
    at = open_page("pages/2_Quiz.py")
    at.multiselect(key="quiz_tags").set_value(["softmax"]).run()  # fx-why-sqrt alone
    at.button(key="quiz_start").click().run()
    assert ANSWER_ZH not in text_of(at) and not [b for b in at.button if "grade" in b.key]
    at.button(key="quiz_reveal").click().run()
    assert ANSWER_ZH in text_of(at)
    labels = [at.button(key=f"quiz_grade_{int(r)}").label for r in schedule.RATINGS]
    assert labels[0].startswith(":red[重来 · ") and labels[2] == ":green[良好 · 10分钟]"

    at.button(key="quiz_grade_3").click().run()
    store = Store(settings.db_path())
    [review] = store.reviews()
    assert (review.question_id, review.rating) == ("fx-why-sqrt", Rating.Good)
    assert store.card("fx-why-sqrt").due > datetime.now(UTC)

    at.button(key="quiz_undo").click().run()
    assert store.reviews() == [] and store.card("fx-why-sqrt") is None
    assert "为什么要除以" in text_of(at)


def test_quiz_good_was_drawn_in_the_alarm_colour():
    """Good was the one primary button, and the primary colour is Streamlit's red."""
    at = open_page("pages/2_Quiz.py", lang="en")
    at.button(key="quiz_start").click().run()
    at.button(key="quiz_reveal").click().run()
    good, again = at.button(key="quiz_grade_3"), at.button(key="quiz_grade_1")
    assert good.proto.type == "secondary" and ":red[" not in good.label
    assert good.label.startswith(":green[Good · ") and again.label.startswith(":red[Again · ")
    assert {at.button(key=f"quiz_grade_{int(r)}").proto.type for r in schedule.RATINGS} == {
        "secondary"}


def test_quiz_again_comes_back_before_the_end_and_the_summary_links_the_missed_card():
    at = open_page("pages/2_Quiz.py", lang="en")
    at.number_input(key="quiz_count").set_value(3).run()
    at.button(key="quiz_start").click().run()
    seen = []
    for rating in (Rating.Again, Rating.Good, Rating.Easy, Rating.Good):
        seen.append(at.session_state["quiz_session"].current)
        at.button(key="quiz_reveal").click().run()
        at.button(key=f"quiz_grade_{int(rating)}").click().run()
    assert not at.exception
    assert seen[3] == seen[0] and len(set(seen)) == 3  # the missed card came back, fourth
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Cards"] == "4"
    assert (metrics["Again"], metrics["Hard"], metrics["Good"], metrics["Easy"]) == (
        "1", "0", "2", "1")
    assert Store(settings.db_path()).review_count() == 4
    links = [link.proto for link in at.main.get("page_link") if link.proto.page == "Browse"]
    assert [p.query_string for p in links] == [f"lang=en&q={seen[0]}"]
    assert links[0].label.startswith(f"{seen[0]} · ")
    at.button(key="quiz_new").click().run()
    assert at.button(key="quiz_start")


def test_quiz_new_cards_were_always_in_bank_order():
    """Every learner started on the same first questions of the bank."""
    from prep import schedule as sched
    from prep.bank import load_bank

    bank_order = [q.id for q in load_bank(FIXTURE_BANK).questions]
    at = open_page("pages/2_Quiz.py", lang="en")
    at.number_input(key="quiz_count").set_value(5).run()
    at.button(key="quiz_start").click().run()
    queue = at.session_state["quiz_session"].queue
    assert queue == sched.new_order(bank_order, DEFAULT_USER) != bank_order


def test_quiz_due_now_leaves_out_cards_that_are_not_due():
    store = Store(settings.db_path())
    now = datetime.now(UTC)
    for qid in ("fx-why-sqrt", "fx-mask-meaning"):
        card = schedule.preview(schedule.new_card(qid, now), now)[Rating.Easy].card
        store.record(qid, Rating.Easy, card, now)
    at = open_page("pages/2_Quiz.py")
    at.button(key="quiz_start").click().run()
    queue = at.session_state["quiz_session"].queue
    assert sorted(queue) == ["fx-gqa-kv-cache", "fx-sdpa-code", "fx-why-heads"]  # not scheduled


def test_progress_has_an_empty_state_then_charts_of_the_history():
    at = open_page("pages/6_Progress.py", lang="en")
    assert "No reviews yet" in at.info[0].value and not charts(at)
    store = Store(settings.db_path())
    now = datetime.now(UTC)
    for qid, rating in (("fx-why-sqrt", Rating.Good), ("fx-why-heads", Rating.Again),
                        ("fx-mask-meaning", Rating.Easy)):
        card = schedule.preview(schedule.new_card(qid, now), now)[rating].card
        store.record(qid, rating, card, now)
    at.run()
    assert not at.exception
    drawn = chart_specs(at)
    assert len(drawn) == 4
    per_day, retention, mastery, forecast = drawn
    assert sum(sum(trace["y"]) for trace in per_day["data"]) == 3
    assert retention["data"][0]["y"] == [pytest.approx(2 / 3)]
    mastery_by_level = {t["name"]: t["x"] for t in mastery["data"]}
    assert mastery_by_level["New"] == [1, 1]  # fx-sdpa-code and fx-gqa-kv-cache unseen
    assert len(forecast["data"][0]["x"]) == 14


def test_a_corrupt_database_gives_a_clear_message_and_is_never_overwritten():
    path = settings.db_path()
    garbage = os.urandom(4096)
    path.write_bytes(garbage)
    for page in ("pages/2_Quiz.py", "pages/6_Progress.py", None):
        at = open_page(page)
        assert not at.exception
        assert any(str(path) in e.value for e in at.error), [e.value for e in at.error]
    browse = open_page("pages/1_Browse.py")
    assert not browse.error and len(shown_question_ids(browse)) == 5
    assert path.read_bytes() == garbage
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name)) == [
        path.name]


def test_open_in_lab_links_carry_the_module_and_the_language():
    at = open_page("pages/1_Browse.py", lang="en")
    links = [link.proto for link in at.main.get("page_link")]
    assert [p.query_string for p in links] == [
        "lang=en&module=scaled_dot_product_attention",  # fx-why-sqrt
        "lang=en&module=sdpa&mask=padding&pad=2",       # fx-mask-meaning: its lab: preset
        "lang=en&module=scaled_dot_product_attention",  # fx-sdpa-code
        "lang=en&module=GroupedQueryAttention",          # fx-gqa-kv-cache
    ]
    assert {p.page for p in links} == {"Lab"} and links[0].label == "Open in Lab"


def test_a_broken_bank_file_is_named_in_a_warning_and_the_rest_still_works(tmp_path, monkeypatch):
    for source in FIXTURE_BANK.glob("*.yaml"):
        (tmp_path / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "03-broken.yaml").write_text("id: broken\ntitle: [unclosed\n", encoding="utf-8")
    monkeypatch.setenv("ATTN_PREP_CONTENT", str(tmp_path))
    at = open_page("pages/1_Browse.py", lang="en")
    [expander] = [e for e in at.expander if "problem" in e.label]
    assert "03-broken.yaml" in " ".join(str(t.value) for t in expander.text)
    assert len(shown_question_ids(at)) == 5


def test_coding_questions_link_to_their_practice_exercise(monkeypatch):
    monkeypatch.setenv("ATTN_PREP_CONTENT", str(ROOT / "content"))
    at = open_page("pages/1_Browse.py", lang="en")
    at.query_params["q"] = "code-causal-mask"
    at.run()
    assert not at.exception
    practice = [link.proto for link in at.main.get("page_link") if link.proto.page == "Practice"]
    assert practice and practice[0].label == "Practise it"
    assert "ex=causal-mask" in practice[0].query_string


def test_browse_offers_the_bank_as_anki_and_markdown_downloads():
    at = open_page("pages/1_Browse.py", lang="en")
    buttons = {b.proto.id: b.proto for b in at.get("download_button")}
    labels = sorted(b.label for b in buttons.values())
    assert labels == ["Anki (.apkg)", "Markdown (.md)"]


# -- regressions found by hands-on QA in a real browser ------------------------------------------


def test_browse_search_and_filters_were_lost_after_visiting_another_page():
    at = open_page("pages/1_Browse.py")
    at.text_input(key="browse_query").input("heads").run()
    at.multiselect(key="browse_difficulty").set_value(["medium"]).run()
    at.toggle(key="browse_reading").set_value(True).run()
    narrowed = set(shown_question_ids(at)) | {b.key for b in at.button}
    at.switch_page("pages/2_Quiz.py").run()
    at.switch_page("pages/1_Browse.py").run()
    assert not at.exception
    assert at.text_input(key="browse_query").value == "heads"
    assert at.multiselect(key="browse_difficulty").value == ["medium"]
    assert at.toggle(key="browse_reading").value is True
    assert set(shown_question_ids(at)) | {b.key for b in at.button} == narrowed


def test_quiz_choices_were_reset_by_finishing_a_quiz():
    at = open_page("pages/2_Quiz.py", lang="en")
    at.multiselect(key="quiz_tags").set_value(["multi-head"]).run()
    at.number_input(key="quiz_count").set_value(3).run()
    at.button(key="quiz_start").click().run()
    at.button(key="quiz_reveal").click().run()
    at.button(key="quiz_grade_4").click().run()
    assert "Summary" in text_of(at)  # one question carries the tag: a one-card quiz
    at.button(key="quiz_new").click().run()
    assert not at.exception and not at.warning  # no "default value and Session State" warning
    assert at.multiselect(key="quiz_tags").value == ["multi-head"]
    assert at.number_input(key="quiz_count").value == 3


def test_quiz_said_1_questions_and_1_cards_in_english():
    at = open_page("pages/2_Quiz.py", lang="en")
    at.multiselect(key="quiz_tags").set_value(["multi-head"]).run()
    assert "1 question selected: 0 due, 1 new. This quiz: 1 card." in text_of(at)


def test_quiz_summary_said_under_a_minute_beside_seconds_per_card():
    at = open_page("pages/2_Quiz.py")
    at.number_input(key="quiz_count").set_value(1).run()
    at.button(key="quiz_start").click().run()
    at.button(key="quiz_reveal").click().run()
    at.button(key="quiz_grade_3").click().run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["用时"].endswith(" 秒") and metrics["平均每张"].endswith(" 秒"), metrics
    assert metrics["用时"][:-2].isdigit()


def test_a_damaged_database_was_reported_in_english_on_the_chinese_page():
    path = settings.db_path()
    path.write_bytes(os.urandom(4096))  # damaged: the store refuses it with kind "corrupt"
    at = open_page("pages/2_Quiz.py")
    [error] = at.error
    assert "已损坏" in error.value and str(path) in error.value
    english = open_page("pages/2_Quiz.py", lang="en")
    assert "is damaged" in english.error[0].value and "已损坏" not in english.error[0].value


def test_home_page_cards_were_out_of_order_on_a_narrow_screen():
    """Columns stack on a phone: filling them column by column put Practice before Quiz."""
    at = open_page()
    main = [link.proto.page for link in at.main.get("page_link")
            if "section=" not in link.proto.query_string]  # not the section cards
    sidebar = [link.proto.page for link in at.sidebar.get("page_link")]
    assert main == [page for page in sidebar if page in main]


def test_an_uppercase_lang_in_the_url_was_ignored():
    at = open_page("pages/1_Browse.py", lang="EN")
    assert at.title[0].value == "Browse the bank" and at.query_params["lang"] == "en"


def test_the_link_button_still_puts_the_question_at_the_top_from_its_fragment():
    at = open_page("pages/1_Browse.py", lang="en")
    at.button(key="link-fx-gqa-kv-cache").click().run()
    assert not at.exception and at.query_params["q"] == "fx-gqa-kv-cache"
    assert at.button(key="linked-reveal-fx-gqa-kv-cache")
    assert "Linked question" in text_of(at)


def test_progress_count_axes_had_ticks_at_half_a_card():
    store = Store(settings.db_path())
    now = datetime.now(UTC)
    for qid in ("fx-why-sqrt", "fx-why-heads"):
        card = schedule.preview(schedule.new_card(qid, now), now)[Rating.Good].card
        store.record(qid, Rating.Good, card, now)
    at = open_page("pages/6_Progress.py", lang="en")
    per_day, _, _, forecast = chart_specs(at)
    assert per_day["layout"]["yaxis"]["dtick"] == 1
    assert forecast["layout"]["yaxis"]["dtick"] == 1


def test_browse_draws_twenty_questions_at_a_time_and_a_new_search_starts_again(monkeypatch):
    monkeypatch.setenv("ATTN_PREP_CONTENT", str(ROOT / "content"))
    at = open_page("pages/1_Browse.py", lang="en")
    assert len(shown_question_ids(at)) == 20
    at.button(key="show_more").click().run()
    assert len(shown_question_ids(at)) == 40
    at.button(key="show_all").click().run()
    total = len(shown_question_ids(at))
    assert total > 80 and not [b for b in at.button if b.key in ("show_more", "show_all")]
    at.text_input(key="browse_query").input("softmax").run()
    matching = len(shown_question_ids(at))
    assert 0 < matching <= 20


def _quiz_one_card_as(user: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.user = user
    at.query_params["lang"] = "en"
    at.run()
    at.switch_page("pages/2_Quiz.py").run()
    assert not at.exception, at.exception
    if at.error:
        return at
    at.number_input(key="quiz_count").set_value(1).run()
    at.button(key="quiz_start").click().run()
    at.button(key="quiz_reveal").click().run()
    at.button(key="quiz_grade_3").click().run()
    assert not at.exception, at.exception
    return at


def test_with_a_user_key_each_learner_has_their_own_progress(monkeypatch):
    monkeypatch.setenv("ATTN_PREP_USER_KEY", "email")
    _quiz_one_card_as({"email": "ada@example.org"})
    _quiz_one_card_as({"email": "alan@example.org"})
    _quiz_one_card_as({"email": "alan@example.org"})
    path = settings.db_path()
    assert Store(path, user="ada@example.org").review_count() == 1
    assert Store(path, user="alan@example.org").review_count() == 2
    assert Store(path).review_count() == 0  # nothing lands on the shared local learner


def test_with_a_user_key_a_request_without_identity_gets_a_message_not_someone_elses_progress(
    monkeypatch,
):
    monkeypatch.setenv("ATTN_PREP_USER_KEY", "email")
    at = _quiz_one_card_as({})
    assert "does not say who you are" in at.error[0].value
    assert not settings.db_path().exists() or Store(settings.db_path()).review_count() == 0


# -- issue 16: search that ranks, section cards, moved history -----------------------------------


def test_browse_search_ranks_the_best_match_first_and_highlights_it_in_the_question():
    at = open_page("pages/1_Browse.py", lang="en")
    at.text_input(key="browse_query").input("KV cache").run()
    ids = shown_question_ids(at)
    assert ids[0] == "fx-gqa-kv-cache"  # the question says "KV cache"; bank order put it last
    [card_text] = [m.value for m in at.markdown if "shrink" in m.value]
    assert ":orange-background[KV cache]" in card_text
    assert not at.header  # a ranked list, not grouped by section


def test_browse_search_keeps_the_filters_working():
    at = open_page("pages/1_Browse.py", lang="en")
    at.text_input(key="browse_query").input("softmax heads").run()
    everywhere = shown_question_ids(at)
    at.multiselect(key="browse_sections").set_value(["heads"]).run()
    in_heads = shown_question_ids(at)
    assert in_heads and set(in_heads) < set(everywhere)
    assert set(in_heads) <= {"fx-why-heads", "fx-gqa-kv-cache"}
    at.multiselect(key="browse_difficulty").set_value(["hard"]).run()
    assert shown_question_ids(at) == [] and at.info


def test_home_section_cards_open_browse_filtered_to_that_section():
    at = open_page(lang="en")
    links = [link.proto for link in at.main.get("page_link")
             if "section=" in link.proto.query_string]
    assert [(p.page, p.query_string, p.label) for p in links] == [
        ("Browse", "lang=en&section=basics", "Basics"),
        ("Browse", "lang=en&section=heads", "Heads"),
    ]
    browse = open_page("pages/1_Browse.py", lang="en")
    browse.query_params["section"] = "heads"
    browse.run()
    assert browse.multiselect(key="browse_sections").value == ["heads"]
    assert shown_question_ids(browse) == ["fx-why-heads", "fx-gqa-kv-cache"]
    assert "section" not in browse.query_params  # read once: the learner can widen it again
    browse.multiselect(key="browse_sections").set_value([]).run()
    assert len(shown_question_ids(browse)) == 5


def test_a_link_to_an_unknown_section_says_so_and_shows_everything():
    at = open_page("pages/1_Browse.py", lang="en", section="no-such-section")
    assert "There is no section `no-such-section`" in at.error[0].value
    assert len(shown_question_ids(at)) == 5


def test_history_under_a_merged_id_counts_for_the_kept_question(tmp_path, monkeypatch):
    for source in FIXTURE_BANK.glob("*.yaml"):
        text = source.read_text(encoding="utf-8").replace(
            "  - id: fx-why-sqrt\n", "  - id: fx-why-sqrt\n    aliases: [old-sqrt]\n")
        (tmp_path / source.name).write_text(text, encoding="utf-8")
    monkeypatch.setenv("ATTN_PREP_CONTENT", str(tmp_path))
    now = datetime.now(UTC)
    card = schedule.preview(schedule.new_card("old-sqrt", now), now)[Rating.Easy].card
    Store(settings.db_path()).record("old-sqrt", Rating.Easy, card, now)
    home = open_page(lang="en")
    metrics = {m.label: m.value for m in home.metric}
    assert metrics["New"] == "4"  # fx-why-sqrt has its old id's history: not new
    quiz = open_page("pages/2_Quiz.py", lang="en")
    quiz.number_input(key="quiz_count").set_value(5).run()
    quiz.button(key="quiz_start").click().run()
    assert "fx-why-sqrt" not in quiz.session_state["quiz_session"].queue  # not due: Easy
