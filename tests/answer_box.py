"""The answer box (``prep.ui_answer_box``, a components-v2 element) as an AppTest drives it.

AppTest has no widget class for a custom component, so ``set_value`` puts a stand-in widget in
the element's place that sends exactly what the browser component sends when the learner's text
arrives (a widget state with the JSON ``{"value": text}`` under the element's id): the page's
``on_change`` callback then runs as it does in a browser. ``value`` is the text the page gives the
box to show (the text the server holds).
"""

from __future__ import annotations

import json

from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block, UnknownElement, Widget

from prep.ui_answer_box import NAME


class _Sending(Widget):
    """A stand-in for the box in the element tree: sends ``{"value": text}`` like the browser."""

    def __init__(self, proto, root, text: str) -> None:
        self.id = proto.id
        self.disabled = False
        super().__init__(proto, root)
        self.type = "bidi_component"
        self._text = text

    @property
    def value(self) -> str:
        return self._text

    @property
    def _widget_state(self) -> WidgetState:
        state = WidgetState(id=self.id)
        state.json_value = json.dumps({"value": self._text})
        return state


def _boxes(at: AppTest) -> list[tuple[Block, int, UnknownElement]]:
    found = []
    for node in at._tree:
        if isinstance(node, Block):
            for index, child in node.children.items():
                if (isinstance(child, UnknownElement) and child.type == "bidi_component"
                        and child.proto.component_name == NAME):
                    found.append((node, index, child))
    return found


class AnswerBox:
    """The page's one answer box."""

    def __init__(self, at: AppTest) -> None:
        boxes = _boxes(at)
        assert len(boxes) == 1, f"one answer box expected, found {len(boxes)}"
        self.at = at
        self.parent, self.index, self.element = boxes[0]
        self.data = json.loads(self.element.proto.json)

    @property
    def value(self) -> str:
        return self.data["value"]

    @property
    def label(self) -> str:
        return self.data["label"]

    def set_value(self, text: str) -> AppTest:
        """Type ``text`` (the whole box) and let it reach the server; then ``.run()``."""
        self.parent.children[self.index] = _Sending(self.element.proto, self.element.root, text)
        return self.at


def answer_box(at: AppTest) -> AnswerBox:
    return AnswerBox(at)


def has_answer_box(at: AppTest) -> bool:
    return bool(_boxes(at))
