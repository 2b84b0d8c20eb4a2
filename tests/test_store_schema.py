"""A new database is made from ``prep/store/schema.py`` in one step; every other one by the
migrations. On both engines the two ways must give the same schema (columns in order with their
types, defaults and nullability; keys, constraints and indexes with their names and options;
views, triggers, functions; SQLite's AUTOINCREMENT; the rows a migration writes), and the first
start must not import Alembic (a quarter of a second of the first page)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from pg_server import pg_url, postgres  # noqa: F401  (fixtures)

from prep.store import SCHEMA_VERSION, Store
from prep.store.engine import is_url, upgrade
from prep.store.schema import metadata

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=["sqlite", "postgres"])
def two_locations(request, tmp_path) -> tuple[str, str]:
    if request.param == "sqlite":
        return str(tmp_path / "new.sqlite3"), str(tmp_path / "migrated.sqlite3")
    server = request.getfixturevalue("postgres")
    return server.new_database(), server.new_database()


def engine_for(location: str) -> sa.Engine:
    return sa.create_engine(location if is_url(location) else f"sqlite:///{location}")


def migrate_with_alembic(location: str) -> None:
    """Build the schema the other way: every migration, from an empty database."""
    engine = engine_for(location)
    try:
        with engine.begin() as conn:
            upgrade(conn)
    finally:
        engine.dispose()


def _indexes(inspector, name: str) -> list:
    return sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]),
                   repr(sorted(i.get("dialect_options", {}).items())),
                   repr(sorted(i.get("column_sorting", {}).items())))
                  for i in inspector.get_indexes(name))


def _catalogue(conn) -> list:
    """Every schema object the engine lists, beyond tables: views, triggers, functions, and
    (SQLite) each index's own SQL, so a partial or descending index differs."""
    if conn.dialect.name == "sqlite":
        return sorted((kind, name, table, " ".join((sql or "").split()))
                      for kind, name, table, sql in conn.exec_driver_sql(
                          "SELECT type, name, tbl_name, sql FROM sqlite_master "
                          "WHERE type != 'table'"))
    return sorted(conn.exec_driver_sql(
        "SELECT 'view', table_name, view_definition FROM information_schema.views "
        "WHERE table_schema = current_schema() "
        "UNION ALL SELECT 'trigger', trigger_name, action_statement "
        "FROM information_schema.triggers WHERE trigger_schema = current_schema() "
        "UNION ALL SELECT 'function', routine_name, routine_definition "
        "FROM information_schema.routines WHERE routine_schema = current_schema() "
        "UNION ALL SELECT 'index', indexname, indexdef FROM pg_indexes "
        "WHERE schemaname = current_schema()").all())


def describe(location: str) -> dict:
    """Everything about the schema that a query, a constraint or a later migration can tell
    apart: columns in order (type, nullability, default), keys and constraints with their
    names, indexes with their options, every other schema object, and every table's rows."""
    engine = engine_for(location)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            tables = {}
            for name in sorted(inspector.get_table_names()):
                key = inspector.get_pk_constraint(name)
                tables[name] = {
                    "columns": [(c["name"], str(c["type"]), c["nullable"], c.get("default"))
                                for c in inspector.get_columns(name)],
                    "key": (key.get("name"), key["constrained_columns"]),
                    "indexes": _indexes(inspector, name),
                    "checks": sorted((c.get("name"), " ".join(c["sqltext"].split()))
                                     for c in inspector.get_check_constraints(name)),
                    "unique": sorted((u.get("name"), tuple(u["column_names"]))
                                     for u in inspector.get_unique_constraints(name)),
                    "foreign": sorted(repr(sorted(f.items()))
                                      for f in inspector.get_foreign_keys(name)),
                    "rows": sorted(map(tuple, conn.execute(
                        sa.text(f'SELECT * FROM "{name}"')).all()), key=repr),
                }
            if conn.dialect.name == "sqlite":
                for name, sql in conn.exec_driver_sql(
                        "SELECT name, sql FROM sqlite_master WHERE type = 'table'"):
                    if name in tables:
                        tables[name]["autoincrement"] = "AUTOINCREMENT" in sql.upper()
            return {"tables": tables, "objects": _catalogue(conn)}
    finally:
        engine.dispose()


def test_a_new_database_gets_the_schema_the_migrations_build(two_locations):
    new, migrated = two_locations
    Store(new)
    migrate_with_alembic(migrated)
    made = describe(new)
    assert made == describe(migrated)
    assert made["tables"]["alembic_version"]["rows"] == [(SCHEMA_VERSION,)]
    assert set(made["tables"]) == {*metadata.tables, "alembic_version"}


def test_schema_py_matches_the_migrations_by_alembic_compare(two_locations):
    """Alembic's own comparison of a migrated database with ``schema.metadata``: no difference."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    _new, migrated = two_locations
    migrate_with_alembic(migrated)
    engine = engine_for(migrated)
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
