"""Cold start: Home and Browse must not import torch (about 1-2 s here). A link check in the
interview report imported the Lab, and through it torch, on every first Home render."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _our_imports(page: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(page.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("prep"):
            names += [f"{node.module}.{a.name}" if node.module == "prep" else node.module
                      for a in node.names]
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names if a.name.startswith("prep")]
    return sorted(set(names))


def test_home_and_browse_import_no_torch():
    modules = _our_imports(ROOT / "app.py") + _our_imports(ROOT / "pages" / "1_Browse.py")
    assert "prep.ui" in modules
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n    importlib.import_module(name)\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip().splitlines()[-1]
    assert out == "False"
