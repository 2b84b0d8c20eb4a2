"""Files the browser loads from this server: Plotly.js, beside the app, served by Streamlit.

The app draws its charts with Plotly.js itself (``prep.ui_chart``), which the browser loads once
per tab from ``/app/static/plotly.min.js`` (Streamlit's static file serving, switched on in
``.streamlit/config.toml``). The file is the one shipped inside the installed ``plotly`` Python
package, so the figures' JSON and the library that draws them always come from the same release,
and nothing is fetched from a CDN. It is copied into ``static/`` beside ``app.py`` (not kept in
git): by ``make setup``, by the app when it registers its chart component (if the file is missing
or stale), and ahead of time where the app cannot write there (the Dockerfile runs
``python -m prep.web_assets``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import plotly

from prep import settings
from prep.files import write_atomic

LOG = logging.getLogger(__name__)
PLOTLY_SOURCE = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
STATIC_DIR = settings.PROJECT_ROOT / "static"   # Streamlit serves it as /app/static/
PLOTLY_NAME = "plotly.min.js"
PLOTLY_URL = f"app/static/{PLOTLY_NAME}"        # relative to the page: works under a base path


def ensure_plotly(static_dir: Path = STATIC_DIR, source: Path = PLOTLY_SOURCE) -> Path:
    """``static_dir/plotly.min.js``, the same bytes as the installed package's (copied when it
    is missing or differs in size, atomically: a reader never sees half a file).

    Raises:
        OSError: the file is missing and cannot be written (a read-only install that skipped
            ``python -m prep.web_assets``).
    """
    target = static_dir / PLOTLY_NAME
    if target.is_file() and target.stat().st_size == source.stat().st_size:
        return target
    write_atomic(target, source.read_bytes())
    LOG.info("copied Plotly.js (plotly package %s) to %s", plotly.__version__, target)
    return target


if __name__ == "__main__":
    print(ensure_plotly())
