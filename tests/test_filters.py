"""Filter logic of Browse and Quiz (prep.filters) on the fixture bank; no Streamlit."""

from __future__ import annotations

from pathlib import Path

import pytest

from prep.bank import load_bank
from prep.filters import Filters, shown_count

BANK = load_bank(Path(__file__).resolve().parent / "fixtures" / "bank")
ALL = ["fx-why-sqrt", "fx-mask-meaning", "fx-sdpa-code", "fx-why-heads", "fx-gqa-kv-cache"]


def test_no_filter_is_the_whole_bank_in_order():
    assert not Filters().active
    assert Filters().ids(BANK) == ALL


def test_each_criterion_narrows_and_criteria_combine():
    assert Filters.of(sections=["heads"]).ids(BANK) == ["fx-why-heads", "fx-gqa-kv-cache"]
    assert Filters.of(tags=["scaled-dot-product"]).ids(BANK) == ["fx-why-sqrt", "fx-sdpa-code"]
    assert Filters.of(difficulties=["easy"]).ids(BANK) == ["fx-why-sqrt", "fx-why-heads"]
    assert Filters.of(types=["calculation"]).ids(BANK) == ["fx-gqa-kv-cache"]
    both = Filters.of(sections=["basics"], difficulties=["easy", "hard"])
    assert both.active
    assert both.ids(BANK) == ["fx-why-sqrt", "fx-sdpa-code"]
    assert Filters.of(sections=["heads"], types=["coding"]).ids(BANK) == []


def test_widget_values_become_a_hashable_choice():
    chosen = Filters.of("  kv  ", ["heads"], [], None or [], ["calculation"])
    assert chosen == Filters("kv", ("heads",), (), (), ("calculation",))
    assert hash(chosen) == hash(Filters.of("kv", ["heads"], types=["calculation"]))
    assert Filters.of(None) == Filters()


def test_paging_starts_again_when_the_filters_change():
    easy, hard = Filters.of(difficulties=["easy"]), Filters.of(difficulties=["hard"])
    assert shown_count(easy, None, None, 20) == 20
    assert shown_count(easy, easy, 60, 20) == 60
    assert shown_count(hard, easy, 60, 20) == 20
    assert shown_count(easy, easy, None, 20) == 20
    with pytest.raises(ValueError, match="page_size"):
        shown_count(easy, easy, 5, 0)
