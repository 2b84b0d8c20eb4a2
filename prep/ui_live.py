"""How a stale result looks: greyed, still readable.

Practice marks its verdict stale once the code in the editor differs from the code it was judged
on. The editor component (``prep.ui_practice.editor``) sends its text a second after typing
pauses, so the server draws the stale state itself; the browser-side script that greyed the
verdict at the first keystroke in a text area is no longer needed (an editor in an iframe has
no text area in the page to watch).
"""

from __future__ import annotations

STALE_CLASS = "attn-prep-stale"
_STALE_LOOK = "opacity: 0.55; filter: grayscale(1);"


def stale_css(*keys: str) -> str:
    """CSS greying the stale class and the containers ``keys`` (the server-side stale state)."""
    selectors = ", ".join([f".{STALE_CLASS}", *(f".st-key-{key}" for key in keys)])
    return f"<style>{selectors} {{{_STALE_LOOK}}}</style>"
