"""Progress storage: spaced-repetition cards, review logs and Practice work.

An SQLite file by default (embedded, no server: ``settings.db_path()``), or PostgreSQL for a host
serving many learners from several replicas (``ATTN_PREP_DB_URL``). One schema and one Alembic
migration history for both (``migrations/``); the app creates or upgrades it when it starts (a new
database in one step from ``schema.py``, which a test holds equal to the migrations' result).

    core.py       Store: reading, grading, undo, Practice drafts and submissions
    engine.py     Database: opening, checks, migrations, transactions
    errors.py     StoreError and its bilingual messages, error kinds from driver codes
    schema.py     the tables (SQLAlchemy Core)
    transfer.py   export / import of one learner's progress
"""

from prep.store.core import DEFAULT_TIMEOUT_S, DEFAULT_USER, Review, Store, Submission
from prep.store.engine import HEAD as SCHEMA_VERSION
from prep.store.errors import StoreError

__all__ = ["DEFAULT_TIMEOUT_S", "DEFAULT_USER", "SCHEMA_VERSION", "Review", "Store", "StoreError",
           "Submission"]
