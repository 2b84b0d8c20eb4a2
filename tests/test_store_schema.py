"""A new database is made from ``prep/store/schema.py`` in one step; every other one by the
migrations. On both engines the two ways must give the same schema (columns in order with their
types, defaults and nullability, keys, indexes, check constraints, SQLite's AUTOINCREMENT), and
the first start must not import Alembic (a quarter of a second of the first page)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from pg_server import pg_url, postgres  # noqa: F401  (fixtures)

from prep.store import SCHEMA_VERSION, Store
from prep.store.engine import MIGRATIONS_DIR
from prep.store.schema import metadata

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=["sqlite", "postgres"])
def two_locations(request, tmp_path) -> tuple[str, str]:
    if request.param == "sqlite":
        return str(tmp_path / "new.sqlite3"), str(tmp_path / "migrated.sqlite3")
    server = request.getfixturevalue("postgres")
    return server.new_database(), server.new_database()


def migrate_with_alembic(location: str) -> None:
    """Build the schema the other way: every migration, from an empty database."""
    from alembic import command
    from alembic.config import Config

    url = location if "://" in location else f"sqlite:///{location}"
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS_DIR))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    finally:
        engine.dispose()


def describe(location: str) -> dict:
    """Everything about the schema that a query or a constraint can tell apart."""
    url = location if "://" in location else f"sqlite:///{location}"
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            tables = {}
            for name in sorted(inspector.get_table_names()):
                columns = [(c["name"], str(c["type"]), c["nullable"], c.get("default"))
                           for c in inspector.get_columns(name)]
                indexes = sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                                 for i in inspector.get_indexes(name))
                checks = sorted(" ".join(c["sqltext"].split())
                                for c in inspector.get_check_constraints(name))
                key = inspector.get_pk_constraint(name)["constrained_columns"]
                tables[name] = {"columns": columns, "key": key, "indexes": indexes,
                                "checks": checks}
            if conn.dialect.name == "sqlite":
                for name, sql in conn.exec_driver_sql(
                        "SELECT name, sql FROM sqlite_master WHERE type = 'table'"):
                    if name in tables:
                        tables[name]["autoincrement"] = "AUTOINCREMENT" in sql.upper()
            version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        return {"tables": tables, "version": version}
    finally:
        engine.dispose()


def test_a_new_database_gets_the_schema_the_migrations_build(two_locations):
    new, migrated = two_locations
    Store(new)
    migrate_with_alembic(migrated)
    made = describe(new)
    assert made == describe(migrated)
    assert made["version"] == [(SCHEMA_VERSION,)]
    assert set(made["tables"]) == {*metadata.tables, "alembic_version"}


def test_schema_py_matches_the_migrations_by_alembic_compare(two_locations):
    """Alembic's own comparison of a migrated database with ``schema.metadata``: no difference."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    _new, migrated = two_locations
    migrate_with_alembic(migrated)
    url = migrated if "://" in migrated else f"sqlite:///{migrated}"
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        engine.dispose()


FIRST_START = """
import os, sys, tempfile
from prep.store import Store
store = Store(os.path.join(tempfile.mkdtemp(), "progress.sqlite3"))
print(store.schema_version(), "alembic" in sys.modules)
"""


def test_the_first_start_does_not_import_alembic():
    done = subprocess.run([sys.executable, "-c", FIRST_START], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=True)
    assert done.stdout.split() == [SCHEMA_VERSION, "False"]
