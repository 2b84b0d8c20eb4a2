"""Cold start: Home and Browse must not import torch (about 1-2 s here). A link check in the
interview report imported the Lab, and through it torch, on every first Home render."""

from __future__ import annotations

import ast
import shutil
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


RUN_PAGE = """
import os, runpy, sys, tempfile
os.environ["ATTN_PREP_DB"] = os.path.join(tempfile.mkdtemp(), "progress.sqlite3")
runpy.run_path({page!r}, run_name="__main__")
print(sorted(name for name in {names!r} if name in sys.modules))
"""


def test_home_and_browse_first_render_import_no_pandas_numpy_torch_or_code_editor():
    """Regression: every page imported pandas and pyarrow before drawing (0.8 s of a 3-4 s cold
    start) though only pages with a table need them, and Home imported Practice's code editor
    for its "solved" line. Home has no use for numpy (Browse's search has): a tab icon given as
    an image or an SVG makes Streamlit import it (an emoji does not); nor for the mock interview
    (its readiness line is a progress statistic). The pages run here in
    Streamlit's bare mode, in a fresh process."""
    never = ("pandas", "pyarrow", "torch", "code_editor")
    home = (*never, "numpy", "prep.interview", "prep.ui_interview_report")
    for page, names in (("app.py", home), ("pages/1_Browse.py", never)):
        done = subprocess.run([sys.executable, "-c", RUN_PAGE.format(page=page, names=names)],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip().splitlines()[-1] == "[]", (page, done.stdout[-500:])


def test_every_table_goes_through_the_warm_up():
    """st.dataframe / st.table import pandas lazily; two sessions doing that at once broke
    (tests/test_ui_warm_imports.py): only ``ui.dataframe`` / ``ui.table`` may call them. Checked
    in every Streamlit module (app.py, pages, prep/ui*.py): a ``.dataframe`` / ``.table`` /
    ``.data_editor`` call on anything but one of our own modules (``st``, ``st.sidebar``, a
    column, a container) is a table drawn around the warm-up."""
    offenders = []
    for path in [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "prep").glob("ui*.py")]:
        if path == ROOT / "prep" / "ui.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        ours = {alias.asname or alias.name for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("prep")
                for alias in node.names}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("dataframe", "table", "data_editor")
                    and not (isinstance(node.func.value, ast.Name)
                             and node.func.value.id in ours)):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders


RUN_HOME_ON = """
import os, runpy, sys
os.environ["ATTN_PREP_DB"] = {db!r}
runpy.run_path("app.py", run_name="__main__")
print("alembic" in sys.modules)
"""


def test_home_loads_alembic_only_to_upgrade_an_older_database(tmp_path):
    """Alembic (a quarter of a second to import) is needed to upgrade a schema, not to read one
    at the newest revision (every start after the first), nor to make a new one (the first start:
    built from prep/store/schema.py, tests/test_store_schema.py)."""
    new = str(tmp_path / "progress.sqlite3")
    older = tmp_path / "v1.sqlite3"
    shutil.copy(ROOT / "tests" / "fixtures" / "progress_v1.sqlite3", older)
    seen = []
    for db in (new, new, str(older)):
        done = subprocess.run([sys.executable, "-c", RUN_HOME_ON.format(db=db)], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        seen.append(done.stdout.strip().splitlines()[-1])
    assert seen == ["False", "False", "True"]


def test_loading_the_ui_sets_the_servers_objects_aside_from_the_collector():
    """Regression: full garbage collections walked the server's own objects again and again,
    about 0.2 s of the first page (benchmarks/bench_startup.py)."""
    code = ("import gc, streamlit\nbefore = gc.get_freeze_count()\nimport prep.ui\n"
            "print(before, gc.get_freeze_count() > 0)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["0", "True"]
