"""``python -m prep serve [streamlit options]``: the app's server, with the common work done first.

This is ``streamlit run app.py`` (the options after ``serve`` go to it), preceded by a preload:
the modules every page imports (Streamlit's helpers, the progress store with SQLAlchemy, the
bank's models), the question bank loaded into the cache the pages read it from, and the progress
database created or upgraded. Without it, the first page of a process does all of that while the
learner's browser waits; with it, the server reports healthy a little later and the first page
is drawn sooner (``benchmarks/bench_startup.py``).

The preload runs before the server starts, in the process's only thread, so no page can import a
module at the same time (two threads importing one package can see it half initialised,
``tests/test_ui_warm_imports.py``). Nothing in it is needed for correctness: a page does the same
work when it is missing, and a database the preload cannot open (read-only, damaged, a server not
up yet) is only logged here; each page explains it to the learner in their language.

Streamlit reads ``.streamlit/config.toml`` from the working directory: start it from the project
folder, as ``make run`` and the Dockerfile do.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence

from streamlit.web import cli

from prep import settings
from prep.store import Store, StoreError

LOG = logging.getLogger(__name__)
APP = settings.PROJECT_ROOT / "app.py"
PRELOADED = ("prep.ui", "prep.ui_store", "prep.progress", "prep.study")  # what every page needs


def preload() -> None:
    """Import ``PRELOADED``, load the bank into the pages' cache, open (create or upgrade) the
    progress database. Never raises for a database it cannot open."""
    for name in PRELOADED:
        importlib.import_module(name)
    importlib.import_module("prep.ui").bank()
    try:
        Store(settings.db_location())
    except StoreError as exc:
        LOG.warning("The progress database was not opened at start (each page says why): %s", exc)


def serve(streamlit_args: Sequence[str]) -> None:
    """Preload, then run Streamlit's command line; exits the process when the server stops."""
    preload()
    cli.main(["run", str(APP), *streamlit_args], prog_name="streamlit")
