"""prep.ui.warm_imports: the modules Streamlit imports lazily are imported once, before a page
draws, so two sessions never import them at the same moment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import sys, threading
from prep import ui
assert not any(name in sys.modules for name in ui.WARM_IMPORTS), "imported too early"
errors = []
def page():
    try:
        ui.warm_imports()
        import pandas
        pandas.Series([1.0])  # "partially initialized module 'pandas'" before the fix
    except Exception as error:
        errors.append(repr(error))
threads = [threading.Thread(target=page) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
assert not errors, errors
assert all(name in sys.modules for name in ui.WARM_IMPORTS)
print("ok")
"""


def test_warm_imports_regression_partially_initialized_pandas_under_concurrent_sessions():
    """Bug: two Lab sessions drawing their first table at once got "partially initialized module
    'pandas'"; every table now imports pandas and pyarrow first (ui.dataframe / ui.table), one
    thread at a time."""
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"

