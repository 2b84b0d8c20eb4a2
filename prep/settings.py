"""Settings read from the environment, in one place.

ATTN_PREP_DB         path of the SQLite progress database (default: the user's data directory)
ATTN_PREP_DB_URL     a database URL for a host serving many learners, e.g.
                     postgresql+psycopg://user:pass@host/db; when both are set, the URL wins
ATTN_PREP_CONTENT    folder of the question bank's YAML files (default: content/ beside the code)
ATTN_PREP_CACHE      folder where the loaded bank is kept between starts (default: the user's
                     cache directory; "off" parses the YAML at every start)
ATTN_PREP_PRACTICE   "off" switches the Practice page (running learners' code) off
ATTN_PREP_JAIL       Practice's jail: auto (default: bubblewrap, else Landlock, else none),
                     bubblewrap, landlock or none (read by prep.judge.jail; a forced backend that
                     cannot run here runs nothing and says why)
ATTN_PREP_JAIL_UID   the unprivileged uid a root server drops learner code to (default 65534)
ATTN_PREP_USER_KEY   for a host serving many learners: the ``st.user`` key that names a learner
                     (e.g. "email", filled by an auth proxy through ``server.trustedUserHeaders``
                     or by ``st.login``); unset, everyone is the one local learner
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir

PROJECT_ROOT = Path(__file__).resolve().parent.parent
APP_NAME = "attention-prep"


def db_path() -> Path:
    value = os.environ.get("ATTN_PREP_DB")
    if value:
        return Path(value).expanduser()
    return Path(user_data_dir(APP_NAME, appauthor=False)) / "progress.sqlite3"


def db_url() -> str | None:
    value = os.environ.get("ATTN_PREP_DB_URL", "").strip()
    return value or None


def db_location() -> str:
    """Where the progress store lives: ATTN_PREP_DB_URL if set, else the SQLite file's path."""
    return db_url() or str(db_path())


def content_dir() -> Path:
    value = os.environ.get("ATTN_PREP_CONTENT")
    return Path(value).expanduser() if value else PROJECT_ROOT / "content"


def cache_dir() -> Path | None:
    value = os.environ.get("ATTN_PREP_CACHE", "").strip()
    if value.lower() == "off":
        return None
    return Path(value).expanduser() if value else Path(user_cache_dir(APP_NAME, appauthor=False))


def practice_enabled() -> bool:
    return os.environ.get("ATTN_PREP_PRACTICE", "on").strip().lower() not in {
        "off",
        "0",
        "false",
        "no",
    }


def user_key() -> str | None:
    value = os.environ.get("ATTN_PREP_USER_KEY", "").strip()
    return value or None
