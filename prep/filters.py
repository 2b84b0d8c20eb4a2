"""What Browse and Quiz filter the bank by, and Browse's paging (no Streamlit).

``Filters`` is what the filter widget (``prep.ui_question.filter_widget``) returns: a search query
and the sections, tags, difficulties and question types chosen (empty: any). Browse draws the
matching questions a page at a time; ``shown_count`` says how many, starting again from one page
whenever the filters change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from prep.bank import Bank, Question

if TYPE_CHECKING:
    from prep.search import SearchIndex


# A search lists the questions scoring at least this share of the best match: the rest share only
# a common word with the query ("KV cache" matched 46 of 130 questions, 25 kept).
RELEVANCE_FLOOR = 0.2


@dataclass(frozen=True)
class Filters:
    """One choice of filters; hashable, so a page can tell when it changed."""

    query: str = ""
    sections: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    difficulties: tuple[str, ...] = ()
    types: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        query: str | None = "",
        sections: Iterable[str] = (),
        tags: Iterable[str] = (),
        difficulties: Iterable[str] = (),
        types: Iterable[str] = (),
    ) -> Filters:
        """From widget values (lists, None for an empty text box)."""
        return cls((query or "").strip(), tuple(sections), tuple(tags), tuple(difficulties),
                   tuple(types))

    @property
    def active(self) -> bool:
        """Whether anything narrows the bank."""
        return bool(self.query or self.sections or self.tags or self.difficulties or self.types)

    def apply(self, bank: Bank) -> list[Question]:
        """The bank's questions matching every criterion, in bank order."""
        return bank.filter(self.query, sections=self.sections, tags=self.tags,
                           difficulties=self.difficulties, types=self.types)

    def ids(self, bank: Bank) -> list[str]:
        """The ids of ``apply(bank)``."""
        return [q.id for q in self.apply(bank)]

    def ranked(self, bank: Bank, index: SearchIndex) -> list[Question]:
        """The questions the filters leave, best match of the query first (``prep.search``);
        in bank order when there is no query.

        The section, tag, difficulty and type filters choose the candidates; the query ranks
        them (BM25 over both languages) and drops those it does not match at all.
        """
        if not self.query:
            return self.apply(bank)
        among = replace(self, query="").ids(bank)
        hits = index.search(self.query, among, min_share=RELEVANCE_FLOOR)
        found = (bank.question(hit.question_id) for hit in hits)
        return [q for q in found if q is not None]


def shown_count(current: Filters, previous: Filters | None, shown: int | None,
                page_size: int) -> int:
    """How many matching questions to draw: one page after a change of filters, else ``shown``.

    Raises:
        ValueError: ``page_size`` is below 1.
    """
    if page_size < 1:
        raise ValueError(f"page_size: expected at least 1, got {page_size}")
    if current != previous or shown is None:
        return page_size
    return max(shown, page_size)
