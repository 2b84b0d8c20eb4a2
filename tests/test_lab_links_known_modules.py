"""Bug (qa): Browse offered "Open in Lab" on questions whose Lab module is not in the Lab yet
(kv_cache, mla, sink, ...); the link opened Multi-head attention with "module could not be
read". The link is now offered only for a module the Lab resolves (also in the interview
report's study links)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from prep.bank import load_bank
from prep.interview_report import study_links
from prep.lab import links, registry

ROOT = Path(__file__).resolve().parent.parent


def _question_with_unknown_module():
    bank = load_bank(ROOT / "content")
    for q in bank.questions:
        params = q.lab_params()
        if params and registry.resolve_module(params.get("module")) is None:
            return q
    return None


def test_opens_only_modules_the_lab_has():
    assert links.opens({"module": "rope"}) and links.opens({"module": "sdpa"})
    assert not links.opens({"module": "no_such_module"}) and not links.opens({})


def test_no_lab_link_to_a_module_the_lab_lacks():
    q = _question_with_unknown_module()
    if q is None:  # every module of the bank is in the Lab: nothing to hide
        return
    assert all(link.page != "pages/3_Lab.py" for link in study_links(q, None))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/1_Browse.py").run()
    at.query_params["q"] = q.id
    at.run()
    assert not at.exception, at.exception
    assert at.button(key=f"linked-reveal-{q.id}")
    page_links = [el for el in at.get("page_link") if "module=" in el.proto.query_string]
    assert not page_links, [el.proto for el in page_links]
