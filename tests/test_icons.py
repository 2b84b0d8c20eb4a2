"""Every icon the pages give Streamlit is one of its bundled Material icons (``:material/...:``),
drawn from the icon font Streamlit serves itself. An emoji icon is a box wherever no colour-emoji
font is installed (this machine's Chromium showed the Lab's settings and source expanders so).
The tab's ``page_icon`` stays an emoji: a Material one is fetched from fonts.gstatic.com, and an
image or SVG makes Streamlit import numpy (``prep/ui.py``)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UI_FILES = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")),
            *sorted((ROOT / "prep").glob("ui*.py"))]


def literal_icons(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if (keyword.arg == "icon" and isinstance(keyword.value, ast.Constant)
                        and isinstance(keyword.value.value, str)):
                    found.append((node.lineno, keyword.value.value))
    return found


def test_every_literal_icon_is_a_material_icon():
    icons = {f"{path.relative_to(ROOT)}:{line}": icon
             for path in UI_FILES for line, icon in literal_icons(path)}
    assert len(icons) > 5  # the check sees the icons it is about
    assert {where: icon for where, icon in icons.items()
            if not (icon.startswith(":material/") and icon.endswith(":"))} == {}
