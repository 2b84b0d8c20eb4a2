"""Ranked search: question text outranks answers, both languages, highlights outside maths."""

from __future__ import annotations

import pytest

from prep.bank import load_bank
from prep.search import SearchIndex, highlight, tokenize
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex(load_bank(ROOT / "content").questions)


def test_tokenize_splits_english_and_chinese_and_drops_stop_words():
    assert tokenize("Why is the KV-cache 2x?") == ["kv", "cache", "2x"]
    words = tokenize("KV缓存的显存")
    assert words[0] == "kv" and "缓存" in words and "显存" in words and "的" not in words


def test_a_question_text_hit_outranks_the_same_word_in_an_answer(index):
    # Built from two fake questions: one names the term in its question, one only in its answer.
    from prep.bank import Question

    def make(qid: str, question: str, answer: str) -> Question:
        text = {"zh": "占位", "en": "filler"}
        return Question.model_validate({
            "id": qid, "type": "concept", "difficulty": "easy", "tags": ["misc"],
            "question": {"zh": question, "en": question}, "answer": {"zh": answer, "en": answer},
            "explanation": text,
        })

    small = SearchIndex([
        make("in-answer", "What limits decoding speed?", "Reading the paged attention cache."),
        make("in-question", "How does paged attention work?", "Blocks and a table."),
        make("unrelated", "What is softmax?", "A normalised exponential."),
    ])
    assert [hit.question_id for hit in small.search("paged attention")] == [
        "in-question", "in-answer"
    ]
    assert small.search("paged attention", among=["in-answer"])[0].question_id == "in-answer"
    assert small.search("the of") == []  # stop words alone find nothing


def test_highlight_marks_whole_words_as_one_run_and_never_inside_formulas_or_code():
    text = "The KV cache holds $K_{cache}$ and `kv cache`; a kvcache is not a match."
    assert highlight(text, "kv cache") == (
        "The **KV cache** holds $K_{cache}$ and `kv cache`; a kvcache is not a match."
    )
    assert highlight("键值缓存很大", "缓存") == "键值**缓存**很大"
    assert highlight("nothing here", "") == "nothing here"
