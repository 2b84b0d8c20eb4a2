"""The answer box: a native text area that sends what the learner types while they type.

``st.text_area`` sends its value only when the box loses focus or on Ctrl+Enter, so a long answer
typed without leaving the box lived only in the browser: a server restart or a closed tab lost
it. This box is a Streamlit components-v2 component (no iframe, nothing loaded from a network)
around a plain ``<textarea>`` with a real ``<label>``, so spell checking, input methods and
screen readers work as in any form. It sends its whole text to the server

- about ``PAUSE_MS`` after the learner stops typing,
- at least every ``MAX_WAIT_MS`` while they type without a pause,
- at once when they leave the box, press Ctrl/⌘+Enter, or the tab is hidden,

and never in the middle of an input-method composition (Chinese, Japanese: the text between
``compositionstart`` and ``compositionend`` is not yet what the learner means). Each arrival is a
rerun whose ``on_change`` callback stores the text (the caller decides where).

What the server sends back is shown only when the learner is not typing: while the box has the
focus, or text is waiting to be sent, the box keeps what is on the screen (a rerun answering an
older send would otherwise wipe the newest keystrokes). A new ``key`` in the same place (the next
question) always takes the server's text.

Not done: text typed in the last ``PAUSE_MS`` before the server dies, or before the tab is killed
without a ``visibilitychange``, is lost; nothing is kept in the browser's own storage.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

NAME = "attn_prep_answer_box"
PAUSE_MS = 1000     # send this long after the last keystroke
MAX_WAIT_MS = 3000  # and at least this often while typing goes on
HEIGHT_PX = 180

_HTML = """<div class="box"><label for="answer"></label>
<textarea id="answer" spellcheck="true" autocomplete="off"></textarea></div>"""

# Streamlit's text area, drawn with the theme's variables (they reach into the shadow root).
_CSS = """
.box { font-family: var(--st-font); color: var(--st-text-color); }
label { display: block; font-size: 0.875rem; line-height: 1.6; margin-bottom: 0.25rem; }
label code { font-family: var(--st-code-font); font-size: 0.8em; padding: 0.1em 0.25em;
  border-radius: 0.25rem; background: var(--st-code-background-color);
  color: var(--st-code-text-color); }
textarea { box-sizing: border-box; display: block; width: 100%; min-height: 5.75rem;
  resize: vertical; margin: 0; padding: 0.75rem; font: inherit; font-size: 0.875rem;
  line-height: 1.5; color: var(--st-text-color);
  background: var(--st-secondary-background-color);
  border: 1px solid var(--st-widget-border-color, transparent);
  border-radius: var(--st-base-radius); outline: none; }
textarea::placeholder { color: var(--st-text-color); opacity: 0.6; }
textarea:focus, textarea:focus-visible { border-color: var(--st-primary-color);
  box-shadow: 0 0 0 1px var(--st-primary-color); }
"""

_JS = """
function fillLabel(label, text) {
  // Backticks mark code, as in Streamlit's labels; every part is set as text, never as HTML.
  label.replaceChildren(...text.split("`").map((part, i) => {
    if (i % 2 === 0) return document.createTextNode(part);
    const code = document.createElement("code");
    code.textContent = part;
    return code;
  }));
}

export default function ({ data, parentElement, setStateValue }) {
  const box = parentElement.querySelector("textarea");
  let s = box.answerBox;
  if (!s) {
    s = box.answerBox = { name: null, sent: "", timer: null, since: 0, composing: false,
                          unanswered: false };
    s.flush = () => {
      clearTimeout(s.timer);
      s.timer = null;
      s.since = 0;
      if (s.composing || box.value === s.sent) return;
      s.sent = box.value;
      s.unanswered = true;  // until a run shows this text: older runs must not overwrite it
      s.send(box.value);
    };
    const later = () => {
      if (s.composing) return;
      const now = Date.now();
      if (!s.since) s.since = now;
      clearTimeout(s.timer);
      const wait = Math.min(s.pause, s.since + s.maxWait - now);
      s.timer = setTimeout(s.flush, Math.max(0, wait));
    };
    box.addEventListener("input", later);
    box.addEventListener("compositionstart", () => { s.composing = true; });
    box.addEventListener("compositionend", () => { s.composing = false; later(); });
    box.addEventListener("blur", () => s.flush());
    box.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) s.flush();
    });
    s.hidden = () => { if (document.visibilityState === "hidden") s.flush(); };
  }
  // On every render: Streamlit may call the cleanup below early (before an update), and adding
  // the same listener twice is a no-op.
  document.addEventListener("visibilitychange", s.hidden);
  s.send = (text) => setStateValue("value", text);
  s.pause = data.pause;
  s.maxWait = data.maxWait;
  fillLabel(parentElement.querySelector("label"), data.label);
  box.placeholder = data.placeholder;
  box.style.height = box.style.height || data.height + "px";
  if (data.value === s.sent) s.unanswered = false;
  const typing = s.timer !== null || s.composing || s.unanswered || box.matches(":focus");
  if (data.name !== s.name || (!typing && box.value !== data.value)) {
    clearTimeout(s.timer);
    s.timer = null;
    s.since = 0;
    s.name = data.name;
    box.value = data.value;
    s.sent = data.value;
    s.unanswered = false;
  }
  return () => document.removeEventListener("visibilitychange", s.hidden);
}
"""

_mount = st.components.v2.component(NAME, html=_HTML, css=_CSS, js=_JS)


def text_of(key: str) -> str:
    """The text the box ``key`` last sent ("" before it sent anything)."""
    state = st.session_state.get(key)
    value = state.get("value") if isinstance(state, dict) else None
    return value if isinstance(value, str) else ""


def typing_box(key: str, *, value: str, label: str, placeholder: str,
               on_change: Callable[..., None] | None = None, args: tuple = ()) -> str:
    """The box ``key`` showing ``value`` (what the server holds); ``on_change(*args)`` runs at
    each arrival of new text (read it with ``text_of(key)``). Returns the box's text."""
    def changed() -> None:
        if on_change is not None:
            on_change(*args)

    result: Any = _mount(key=key, data={"name": key, "value": value, "label": label,
                                        "placeholder": placeholder, "height": HEIGHT_PX,
                                        "pause": PAUSE_MS, "maxWait": MAX_WAIT_MS},
                         default={"value": value}, on_value_change=changed)
    text = result.get("value") if result is not None else None
    return text if isinstance(text, str) else value
