"""Real browser: every formula of the bank renders (KaTeX), in both languages."""

from __future__ import annotations

import pytest
from conftest import wait_idle

pytestmark = pytest.mark.browser

UNRENDERED_MATHS = """() => {
  const left = [];
  document.querySelectorAll('[data-testid="stMarkdown"]').forEach(md => {
    const copy = md.cloneNode(true);
    copy.querySelectorAll('pre, code, .katex').forEach(e => e.remove());
    if (/\\$|\\\\[a-zA-Z]+\\{/.test(copy.innerText)) left.push(copy.innerText.slice(0, 200));
  });
  return left;
}"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_formula_in_the_bank_renders(app_server, page, artifacts, lang):
    page.goto(f"{app_server.url}/Browse?lang={lang}")
    wait_idle(page)
    page.get_by_text("阅读模式" if lang == "zh" else "Reading mode").click()
    wait_idle(page)
    page.get_by_role("button", name="全部显示" if lang == "zh" else "Show all").click()
    page.locator(".katex").nth(500).wait_for(state="attached")
    wait_idle(page)
    assert page.locator(".katex").count() > 1000
    errors = page.locator(".katex-error")
    titles = [errors.nth(i).get_attribute("title") for i in range(errors.count())]
    assert titles == []
    assert page.evaluate(UNRENDERED_MATHS) == []
    page.screenshot(path=artifacts / f"bank-reading-mode-{lang}.png")
