"""Ranked bilingual search over the bank: BM25 (``bm25s``) with Chinese words from ``jieba``.

Each field of a question is its own BM25 index, and a question's score is the weighted sum of
its fields' scores, so a hit in the question text outranks the same hit deep in an explanation:

    score(q) = sum_f weight_f * BM25_f(query, q)      f in question, tags/id, answer, explanation

Both languages are indexed together (a learner may type "KV cache" on the Chinese page). English
is split on anything that is not a letter or digit and lower-cased; Chinese runs go through
``jieba.cut_for_search`` (which also emits the shorter words inside long ones). ``jieba`` loads
its dictionary (about 0.6 s) on the first Chinese text it sees, so the index is built lazily by
the caller and cached once per process.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from prep.bank import Question

# How much a match in each field counts: the question is what the learner is looking for.
# The keys (id and tags) are few words the author chose: as strong a signal as the question.
FIELD_WEIGHTS: dict[str, float] = {"question": 3.0, "keys": 4.0, "answer": 1.0, "explanation": 0.5}
# The bank's Chinese text often keeps the English term ("padding mask", "KV cache"), and tags and
# ids are English: a Chinese query also searches the English name of a term it contains.
GLOSSARY: tuple[tuple[str, str], ...] = (
    ("掩码", "mask"), ("缓存", "cache"), ("旋转位置编码", "rope"), ("位置编码", "positional"),
    ("多头", "multi head"), ("分组查询", "gqa"), ("多查询", "mqa"), ("交叉注意力", "cross"),
    ("自注意力", "self attention"), ("因果", "causal"), ("填充", "padding"),
    ("滑动窗口", "sliding"), ("线性注意力", "linear attention"), ("归纳头", "induction"),
    ("温度", "temperature"),
)
_ASCII_WORD = re.compile(r"[a-z0-9]+")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_TOKEN = re.compile(r"[a-z0-9]+|[\u3400-\u4dbf\u4e00-\u9fff]+")
# Words so common in questions that they only add noise to a ranking.
_STOP_WORDS = (
    "a an and are as at be by do does for from how in is it of on or the to what when which why "
    "with 的 了 是 在 和 与 为什么 什么 怎么 如何 吗 呢 一个"
)
_STOP = frozenset(_STOP_WORDS.split(" "))
# Formula and code spans are never highlighted (a mark inside $...$ would break KaTeX).
# So are a numeric question's {placeholders}: "{kv_heads}" must stay whole.
_PROTECTED = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$|```.*?```|`[^`\n]+`|\{[^{}\n]*\}", re.DOTALL)
_MIN_MARKED = 2  # one-letter words ("k" of "d_k") match everywhere: never marked


@functools.cache
def _jieba():
    """jieba, its start-up banner sent to the log rather than to a learner. Once: setting a log
    level clears every logger's cache, which per Chinese run was 25% of building the index."""
    import jieba

    jieba.setLogLevel(60)
    return jieba


def _cut_chinese(run: str) -> list[str]:
    return [word for word in _jieba().cut_for_search(run) if word.strip()]


def tokenize(text: str) -> list[str]:
    """Lower-cased English words and digits, and Chinese words, without stop words."""
    tokens: list[str] = []
    for match in _TOKEN.finditer(text.lower()):
        piece = match.group()
        tokens += _cut_chinese(piece) if _CJK_RUN.fullmatch(piece) else [piece]
    return [token for token in tokens if token not in _STOP]


def _field_texts(question: Question) -> dict[str, str]:
    both = ("zh", "en")
    return {
        "question": " ".join(question.question[lang] for lang in both),
        "keys": " ".join([question.id.replace("-", " "), *question.tags]).replace("-", " "),
        "answer": " ".join(question.answer[lang] for lang in both),
        "explanation": " ".join(question.explanation[lang] for lang in both),
    }


@dataclass(frozen=True)
class Hit:
    question_id: str
    score: float


class SearchIndex:
    """BM25 indexes over the questions' fields; ``search`` ranks the questions for a query."""

    def __init__(self, questions: Sequence[Question]) -> None:
        import bm25s

        self.ids = [q.id for q in questions]
        self._position = {qid: i for i, qid in enumerate(self.ids)}
        texts = [_field_texts(q) for q in questions]
        self._fields: dict[str, bm25s.BM25] = {}
        for name in FIELD_WEIGHTS:
            corpus = [tokenize(text[name]) or ["\u0000"] for text in texts]  # no empty document
            retriever = bm25s.BM25()
            retriever.index(corpus, show_progress=False)
            self._fields[name] = retriever

    def scores(self, query: str) -> np.ndarray:
        """One score per indexed question (0 = no query word anywhere in it)."""
        terms = tokenize(expand(query))
        total = np.zeros(len(self.ids))
        if not terms:
            return total
        for name, retriever in self._fields.items():
            total += FIELD_WEIGHTS[name] * retriever.get_scores(terms)
        return total

    def search(self, query: str, among: Iterable[str] | None = None,
               min_share: float = 0.0) -> list[Hit]:
        """Questions with a positive score, best first (bank order breaks ties).

        ``among`` restricts the answer to those ids (the questions the filters left);
        ``min_share`` drops hits scoring below that share of the best one (the long tail of
        questions that only share a common word with the query).
        """
        scores = self.scores(query)
        allowed = None if among is None else set(among)
        hits = [
            Hit(qid, float(scores[i])) for i, qid in enumerate(self.ids)
            if scores[i] > 0 and (allowed is None or qid in allowed)
        ]  # fmt: skip
        if hits and min_share > 0:
            floor = min_share * max(hit.score for hit in hits)
            hits = [hit for hit in hits if hit.score >= floor]
        return sorted(hits, key=lambda hit: (-hit.score, self._position[hit.question_id]))


def expand(query: str) -> str:
    """``query`` plus the English name of each Chinese ``GLOSSARY`` term it contains.

    Only Chinese -> English: the Chinese text already carries most English terms, so adding
    Chinese words to an English query would only count the same term twice.
    """
    rest, extra = query.lower(), []
    for zh, en in sorted(GLOSSARY, key=lambda pair: -len(pair[0])):  # the longest term first:
        if zh in rest:  # 旋转位置编码 is RoPE, not also "positional"
            rest = rest.replace(zh, " ")
            if en not in query.lower():
                extra.append(en)
    return " ".join([query, *extra])


def highlight(text: str, query: str, mark: Callable[[str], str] = lambda s: f"**{s}**") -> str:
    """``text`` with the query's words marked, outside formulas and code.

    English words match whole words, case-insensitively; Chinese words match where they occur.
    """
    words = sorted({t for t in tokenize(query) if len(t) >= _MIN_MARKED or not t.isascii()},
                   key=len, reverse=True)
    if not words:
        return text
    alternatives = [
        rf"(?<![a-z0-9_]){re.escape(w)}(?![a-z0-9_])" if _ASCII_WORD.fullmatch(w)
        else re.escape(w)
        for w in words
    ]
    word = "(?:" + "|".join(alternatives) + ")"
    pattern = re.compile(rf"{word}(?:\s+{word})*", re.IGNORECASE)  # "KV cache" is one mark
    pieces, last = [], 0
    for protected in _PROTECTED.finditer(text):
        pieces.append(pattern.sub(lambda m: mark(m.group()), text[last:protected.start()]))
        pieces.append(protected.group())
        last = protected.end()
    pieces.append(pattern.sub(lambda m: mark(m.group()), text[last:]))
    return "".join(pieces)
