"""Small behaviours that must happen in the browser, before Streamlit hears of a change.

A Streamlit text area sends its value on blur (or Ctrl+Enter), so the server cannot know that the
learner is typing. ``stale_on_edit`` marks a verdict stale at the first keystroke in the editor:
it greys the verdict's container and shows a note drawn hidden beside it; the next run (on blur)
then draws the stale state from the server, the same look.
"""

from __future__ import annotations

import json

import streamlit as st

STALE_CLASS = "attn-prep-stale"
_STALE_LOOK = "opacity: 0.55; filter: grayscale(1);"


def stale_css(*keys: str) -> str:
    """CSS greying the stale class and the containers ``keys`` (the server-side stale state)."""
    selectors = ", ".join([f".{STALE_CLASS}", *(f".st-key-{key}" for key in keys)])
    return f"<style>{selectors} {{{_STALE_LOOK}}}</style>"
_SCRIPT = """<script>
(() => {
  const [editorKey, verdictKey, noteKey, staleClass] = %s;
  const watch = () => {
    const editor = document.querySelector(`.st-key-${editorKey} textarea`);
    if (!editor || editor.dataset.attnPrepStaleWatch === verdictKey) return;
    editor.dataset.attnPrepStaleWatch = verdictKey;
    editor.addEventListener("input", () => {
      document.querySelector(`.st-key-${verdictKey}`)?.classList.add(staleClass);
      const note = document.querySelector(`.st-key-${noteKey}`);
      if (note) note.style.display = "block";
    });
  };
  watch();
  setTimeout(watch, 500);  // the editor may be drawn after this script
})();
</script>"""


def stale_on_edit(editor_key: str, verdict_key: str, note_key: str) -> None:
    """Grey ``verdict_key``'s container and show ``note_key``'s (drawn hidden with
    ``hidden_note_css``) at the first edit in ``editor_key``'s text area."""
    args = json.dumps([editor_key, verdict_key, note_key, STALE_CLASS])
    st.html(stale_css() + (_SCRIPT % args), unsafe_allow_javascript=True)


def hidden_note_css(note_key: str) -> str:
    """CSS that draws ``note_key``'s container hidden until ``stale_on_edit`` shows it."""
    return f"<style>.st-key-{note_key} {{display: none;}}</style>"
