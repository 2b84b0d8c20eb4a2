"""The codebase's layering and size rules, read from the source with ``ast`` (nothing is imported).

Rules (docs/DESIGN.md, "Layers"):
- no import cycle among our modules (``app``, ``pages.*``, ``prep.**``, ``attention.**``);
- no import up a layer: ``attention`` (0) imports nothing of ours, ``prep`` (1) never imports a
  page or ``app`` (2);
- ``streamlit`` is imported only by ``app.py``, ``pages/*.py``, ``prep/ui.py`` and
  ``prep/ui_*.py``;
- no ``.py`` under ``prep/`` or ``attention/`` over 350 lines, no page or ``app.py`` over 200.

Imports under ``if TYPE_CHECKING:`` are left out (they never run); imports inside functions count.
Each rule is first proven on a small synthetic bad graph, then applied to the real tree.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("attention", "prep")
LAYERS = {"attention": 0, "prep": 1, "pages": 2, "app": 2}
STREAMLIT_ALLOWED = ("app", "pages.*", "prep.ui", "prep.ui_*")
MAX_LINES = {"prep": 350, "attention": 350, "pages": 200, "app": 200}

Graph = Mapping[str, set[str]]


# -- reading the tree ---------------------------------------------------------------------------


def our_files(root: Path = ROOT) -> dict[str, Path]:
    """Module name -> file, for app.py, pages/*.py and every .py under prep/ and attention/."""
    files = {"app": root / "app.py"} if (root / "app.py").is_file() else {}
    files |= {f"pages.{path.stem}": path for path in sorted((root / "pages").glob("*.py"))}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            files[name] = path
    return files


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST) -> Iterable[ast.Import | ast.ImportFrom]:
    """Every import statement, skipping the bodies of ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def imported_names(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Absolute dotted names a module's source imports (``from a import b`` gives a and a.b)."""
    names: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in _import_nodes(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        names.add(base)
        names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def resolve(names: Iterable[str], modules: Iterable[str]) -> set[str]:
    """The modules of ours that ``names`` refer to (the longest known prefix of each name)."""
    known = set(modules)
    found = set()
    for name in names:
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            if ".".join(parts[:end]) in known:
                found.add(".".join(parts[:end]))
                break
    return found


def read_tree(root: Path = ROOT) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(graph of our modules, every imported name per module)."""
    files = our_files(root)
    raw = {
        name: imported_names(path.read_text(encoding="utf-8"), name,
                             is_package=path.name == "__init__.py")
        for name, path in files.items()
    }
    graph = {name: resolve(names, files) - {name} for name, names in raw.items()}
    return graph, raw


# -- the rules ----------------------------------------------------------------------------------


def layer_of(module: str) -> int:
    return LAYERS[module.split(".")[0]]


def find_cycles(graph: Graph) -> list[list[str]]:
    """Each import cycle once, as the list of modules along it (Tarjan's strongly connected
    components of more than one module, or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def upward_imports(graph: Graph) -> list[tuple[str, str]]:
    """(importer, imported) pairs where a lower layer imports a higher one."""
    return sorted((source, target) for source, targets in graph.items() for target in targets
                  if layer_of(target) > layer_of(source))


def _allowed_streamlit(module: str) -> bool:
    for pattern in STREAMLIT_ALLOWED:
        if pattern.endswith("*") and module.startswith(pattern[:-1]) and "." not in (
                module[len(pattern) - 1:]):
            return True
        if module == pattern:
            return True
    return False


def streamlit_outside_ui(raw: Mapping[str, set[str]]) -> list[str]:
    """Modules that import streamlit (or a part of it) but may not."""
    return sorted(module for module, names in raw.items()
                  if any(n == "streamlit" or n.startswith("streamlit.") for n in names)
                  and not _allowed_streamlit(module))


def oversized(line_counts: Mapping[str, int]) -> list[tuple[str, int, int]]:
    """(module, lines, cap) for every module over its cap."""
    return sorted((module, lines, MAX_LINES[module.split(".")[0]])
                  for module, lines in line_counts.items()
                  if lines > MAX_LINES[module.split(".")[0]])


def line_counts(root: Path = ROOT) -> dict[str, int]:
    return {name: len(path.read_text(encoding="utf-8").splitlines())
            for name, path in our_files(root).items()}


# -- each rule proven on a synthetic bad graph --------------------------------------------------


def test_reading_imports_resolves_relative_lazy_and_from_imports_and_skips_type_checking():
    source = (
        "from typing import TYPE_CHECKING\n"
        "import attention.masks\n"
        "from prep import ui, schedule\n"
        "from . import sibling\n"
        "from .. import viz\n"
        "if TYPE_CHECKING:\n"
        "    from prep.bank import Bank\n"
        "def later():\n"
        "    import streamlit as st\n"
    )
    names = imported_names(source, "prep.lab.figures")
    assert {"attention.masks", "prep.ui", "prep.schedule", "prep.lab.sibling", "prep.viz",
            "streamlit"} <= names
    assert "prep.bank" not in names and "prep.bank.Bank" not in names
    modules = ["attention", "attention.masks", "prep", "prep.ui", "prep.lab.sibling"]
    assert resolve(names, modules) == {"attention.masks", "prep.ui", "prep.lab.sibling", "prep"}


def test_a_cycle_is_found():
    graph = {"prep.a": {"prep.b"}, "prep.b": {"prep.c"}, "prep.c": {"prep.a"},
             "prep.d": {"prep.a"}, "prep.e": {"prep.e"}}
    assert find_cycles(graph) == [["prep.a", "prep.b", "prep.c"], ["prep.e"]]
    assert find_cycles({"prep.a": {"prep.b"}, "prep.b": set()}) == []


def test_an_import_up_a_layer_is_found():
    graph = {
        "attention.gqa": {"prep.lab"},        # attention -> prep
        "prep.ui": {"pages.1_Browse"},         # prep -> a page
        "prep.quiz": {"app"},                  # prep -> app
        "pages.2_Quiz": {"prep.ui", "attention.gqa"},  # downward: fine
        "prep.lab": {"attention.gqa"},
    }
    assert upward_imports(graph) == [
        ("attention.gqa", "prep.lab"), ("prep.quiz", "app"), ("prep.ui", "pages.1_Browse")]


def test_streamlit_outside_the_ui_modules_is_found():
    raw = {
        "app": {"streamlit"}, "pages.3_Lab": {"streamlit"}, "prep.ui": {"streamlit"},
        "prep.ui_store": {"streamlit.testing.v1"},
        "prep.lab": {"streamlit"},                 # not a UI module
        "prep.ui_x.deep": {"streamlit"},           # a subpackage is not prep/ui_*.py
        "attention.viz": {"streamlit.components"},
        "prep.quiz": {"streamlitish"},             # another package entirely
    }
    assert streamlit_outside_ui(raw) == ["attention.viz", "prep.lab", "prep.ui_x.deep"]


def test_a_file_over_its_size_cap_is_found():
    counts = {"prep.lab": 351, "prep.ui": 350, "attention.gqa": 400, "pages.3_Lab": 201,
              "app": 200}
    assert oversized(counts) == [("attention.gqa", 400, 350), ("pages.3_Lab", 201, 200),
                                 ("prep.lab", 351, 350)]


# -- the real tree ------------------------------------------------------------------------------


def test_the_tree_is_read():
    graph, raw = read_tree()
    assert {"app", "pages.2_Quiz", "prep.ui", "prep.schedule", "attention"} <= set(graph)
    assert "prep.ui" in graph["app"] and "streamlit" in raw["app"]


def test_our_modules_have_no_import_cycle():
    graph, _ = read_tree()
    assert find_cycles(graph) == []


def test_no_module_imports_up_a_layer():
    graph, _ = read_tree()
    assert upward_imports(graph) == []


def test_streamlit_only_in_app_pages_and_prep_ui_modules():
    _, raw = read_tree()
    assert streamlit_outside_ui(raw) == []


def test_no_file_over_its_size_cap():
    assert oversized(line_counts()) == []
