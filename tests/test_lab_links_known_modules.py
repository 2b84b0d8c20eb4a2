"""Bug (qa): Browse offered "Open in Lab" on questions whose Lab module is not in the Lab yet
(kv_cache, mla, sink, ...); the link opened Multi-head attention with "module could not be
read". The link is now offered only for a module the Lab resolves (also in the interview
report's study links)."""

from __future__ import annotations

from pathlib import Path

from prep.bank import load_bank
from prep.interview_report import study_links
from prep.lab import links

ROOT = Path(__file__).resolve().parent.parent


def test_opens_only_modules_the_lab_has():
    assert links.opens({"module": "rope"}) and links.opens({"module": "sdpa"})
    assert not links.opens({"module": "no_such_module"}) and not links.opens({})


def test_every_lab_link_in_the_bank_opens_a_module_the_lab_has():
    # Browse and the interview report do not import the Lab (it imports torch, seconds on a cold
    # start): the bank's presets are checked here and by `python -m prep validate` instead.
    bank = load_bank(ROOT / "content")
    with_links = [q for q in bank.questions if q.lab_params()]
    assert len(with_links) >= 100
    assert [q.id for q in with_links if not links.opens(q.lab_params())] == []
    q = with_links[0]
    assert [link.page for link in study_links(q, None)] == ["pages/1_Browse.py", "pages/3_Lab.py"]
