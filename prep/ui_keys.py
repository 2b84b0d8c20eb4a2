"""Keyboard shortcuts that never steal a key from the focused control, and hints that touch
screens do not show.

Streamlit's ``st.button(shortcut=...)`` binds its keys on the whole document (hotkeys-js) and
leaves out only text inputs, text areas and selects: with the focus on a button (the learner
tabbed to "End quiz"), Space still fired the "Show answer" shortcut and the focused button was not
pressed (issue 16, bug 3). ``keyboard_guard()`` adds one capture-phase listener on the window that
stops Space and Enter from reaching the shortcut handlers while a button, link or ``<summary>`` has
the focus; it does not cancel the key, so the browser presses the focused control as usual.
Text boxes stay protected by Streamlit itself. Other keys (1-4, U) still work with a button
focused: a button has no use for them.

What is NOT done: controls drawn as ``<div role=...>`` that handle Space in script are left alone
(stopping the event would stop their own handler); the Quiz draws none.
"""

from __future__ import annotations

import streamlit as st

HINTS_KEY = "key_hints"  # wrap keyboard hints in st.container(key=HINTS_KEY)
# A touch screen has no keyboard to press: hide our hint line and Streamlit's key badge in buttons
# (drawn as an element labelled "Shortcut X").
# On a primary button Streamlit draws the key badge in a faded white: 3.5:1 on our red (axe-core:
# colour contrast, WCAG AA asks 4.5:1). Plain white on it is 7.5:1.
_HIDE_HINTS_ON_TOUCH = f"""<style>
@media (hover: none), (pointer: coarse) {{
  .st-key-{HINTS_KEY}, [aria-label^="Shortcut "] {{ display: none !important; }}
}}
button[kind="primary"] kbd, button[kind="primary"] kbd * {{
  color: #FFFFFF !important; opacity: 1 !important;
}}
</style>"""
_GUARD = """<script>
(() => {
  if (window.__attnPrepKeyGuard) return;
  window.__attnPrepKeyGuard = true;
  const OWN_KEYS = new Set([" ", "Spacebar", "Enter"]);
  const NATIVE = "button, a[href], summary";
  window.addEventListener("keydown", (event) => {
    if (!OWN_KEYS.has(event.key) || event.ctrlKey || event.metaKey || event.altKey) return;
    const path = event.composedPath ? event.composedPath() : [event.target];
    const target = path[0];
    if (target instanceof Element && target.closest(NATIVE)) {
      event.stopImmediatePropagation();  // not preventDefault: the focused control gets the key
    }
  }, true);
})();
</script>"""


def keyboard_guard() -> None:
    """Install the focus guard and the touch-screen CSS on this page (idempotent per page)."""
    st.html(_HIDE_HINTS_ON_TOUCH + _GUARD, unsafe_allow_javascript=True)
