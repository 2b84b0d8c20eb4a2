"""One database behind the store: an SQLite file (embedded default) or a PostgreSQL server.

``Database`` opens it, checks it, creates its schema (a new database in one step from
``schema.py``) or upgrades it with Alembic (the one migration history for both engines, in
``migrations/``), and runs transactions that turn every driver error
into a ``StoreError``. It never deletes, replaces or rewrites an SQLite file it cannot read.

SQLite: WAL, ``synchronous=FULL``, a connection per transaction (so a file moved aside while the
app runs is noticed: the next transaction sets up a new one instead of failing), and writes that
take the write lock up front (``BEGIN IMMEDIATE``), so writers queue instead of failing half-way.
PostgreSQL: a connection pool, ``lock_timeout`` as the wait, an advisory lock per card.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from prep.store.errors import StoreError, explain
from prep.store.schema import alembic_version, metadata

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
HEAD = "0003"  # the newest revision in migrations/versions (a test checks it is the head)
LEGACY_VERSION = 1  # PRAGMA-era files: a schema_version table holding 1 is revision 0001
LEGACY_MARK = 2  # written into schema_version after upgrading, so older apps refuse the file
ANY_WRITE_BIT = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
_MIGRATION_LOCK_KEY = 0x617474_6E70  # PostgreSQL advisory lock: one replica migrates at a time
_MS_PER_S = 1000

_engines: dict[tuple[str, float], sa.Engine] = {}
_engines_lock = threading.Lock()


def is_url(location: str | os.PathLike) -> bool:
    return "://" in str(location)


def upgrade(conn: sa.Connection) -> None:
    """Run the migrations from the database's revision to HEAD, inside ``conn``'s transaction."""
    from alembic import command  # a quarter of a second to import: only when upgrading
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    command.upgrade(config, "head")


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK) and bool(path.stat().st_mode & ANY_WRITE_BIT)


def _sqlite_engine(path: Path, timeout: float) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=NullPool,
                              connect_args={"timeout": timeout})

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        dbapi_conn.execute(f"PRAGMA busy_timeout = {int(timeout * _MS_PER_S)}")
        dbapi_conn.execute("PRAGMA synchronous = FULL")
        dbapi_conn.execute("PRAGMA foreign_keys = ON")

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        immediate = conn.get_execution_options().get("write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _server_engine(url: str, timeout: float) -> sa.Engine:
    key = (url, timeout)
    with _engines_lock:
        if key not in _engines:
            options = f"-c lock_timeout={int(timeout * _MS_PER_S)}"
            _engines[key] = sa.create_engine(
                url, pool_pre_ping=True,
                connect_args={"options": options, "connect_timeout": max(1, int(timeout))},
            )
        return _engines[key]


class Database:
    """An opened, checked and migrated database. Safe to share between threads."""

    def __init__(self, location: str | os.PathLike, timeout: float) -> None:
        self.timeout = timeout
        self._setup_lock = threading.Lock()
        self._identity: tuple[int, int] | None = None
        if is_url(location):
            self.path: Path | None = None
            self.engine = _server_engine(str(location), timeout)
            self.where = self.engine.url.render_as_string(hide_password=True)
        else:
            self.path = Path(location).expanduser()
            self.where = str(self.path)
            self.engine = _sqlite_engine(self.path, timeout)
        self.dialect = self.engine.dialect.name
        self._setup()

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        self._ensure()
        with self._transaction(write=False) as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """One atomic transaction: it all commits, or (on any exception) none of it does."""
        self._ensure()
        with self._transaction(write=True) as conn:
            yield conn

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[sa.Connection]:
        try:
            with self.engine.connect().execution_options(write=write) as conn, conn.begin():
                yield conn
        except sa.exc.DBAPIError as exc:
            raise explain(exc, self.where) from exc

    def lock_card(self, conn: sa.Connection, user: str, question_id: str) -> None:
        """Serialise writers of one card until the transaction ends (SQLite's write lock already
        serialises every writer)."""
        if self.dialect == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                         {"k": f"{user}\x1f{question_id}"})

    # -- setup --------------------------------------------------------------------------------

    def _ensure(self) -> None:
        """Set up again if the SQLite file was moved aside or replaced since it was set up."""
        if self.path is None:
            return
        try:
            info = self.path.stat()
            identity = (info.st_dev, info.st_ino)
        except FileNotFoundError:
            identity = None
        if identity != self._identity:
            with self._setup_lock:
                self._setup()

    def _setup(self) -> None:
        if self.path is not None:
            self._check_file()
        with self._transaction(write=True) as conn:
            self._migrate(conn)
        if self.path is not None:
            info = self.path.stat()
            self._identity = (info.st_dev, info.st_ino)

    def _check_file(self) -> None:
        path = self.path
        assert path is not None
        folder = path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError("readonly", self.where,
                             f"cannot create the folder {folder}: {exc.strerror}") from exc
        if path.is_dir():
            raise StoreError("error", self.where, "the path is a folder, not a file")
        # WAL needs to create <file>-wal and <file>-shm beside the file. A file or folder whose
        # mode has no write bit at all counts as read-only even for root: someone meant it so.
        if not _writable(folder) or (path.exists() and not _writable(path)):
            raise StoreError("readonly", self.where, "the file or its folder is read-only")
        try:
            conn = sqlite3.connect(path, timeout=self.timeout, isolation_level=None)
            try:
                # Reading the header first: a non-SQLite file fails here, before any write.
                conn.execute("PRAGMA schema_version").fetchone()
                check = conn.execute("PRAGMA quick_check").fetchone()[0]
                if check != "ok":
                    raise StoreError("corrupt", self.where, f"quick_check: {check}")
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if mode.lower() != "wal":
                    raise StoreError("error", self.where, f"cannot switch to WAL (got {mode})")
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise explain(exc, self.where) from exc

    def _migrate(self, conn: sa.Connection) -> None:
        """Create or upgrade the schema to HEAD inside the caller's transaction.

        Alembic, a quarter of a second to import, is loaded only to upgrade. A database already at
        HEAD (every start but the first) is only read; a new, empty one gets the head schema from
        ``schema.py`` in one step and is stamped HEAD (Alembic's recipe for a database built from
        scratch; tests/test_store_schema.py checks it equals the migrations' result).
        """
        if self.dialect == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_KEY})
        tables = set(sa.inspect(conn).get_table_names())
        if not tables:
            metadata.create_all(conn)
            alembic_version.create(conn)
            conn.execute(sa.insert(alembic_version).values(version_num=HEAD))
            return
        current = self._revision(conn, tables)
        legacy = None
        if "schema_version" in tables:
            legacy = conn.execute(sa.text("SELECT MAX(version) FROM schema_version")).scalar()
        if current == HEAD and legacy in {None, LEGACY_MARK}:
            return
        if current is None and legacy is not None and legacy > LEGACY_VERSION:
            raise StoreError("newer", self.where,
                             f"schema {legacy}; this app reads up to {LEGACY_VERSION} unmigrated")
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        script = ScriptDirectory(str(MIGRATIONS_DIR))
        if current is not None and current not in {s.revision for s in script.walk_revisions()}:
            raise StoreError("newer", self.where,
                             f"schema revision {current}; this app knows up to {HEAD}")
        if current is None and legacy == LEGACY_VERSION:
            MigrationContext.configure(conn).stamp(script, "0001")
        if current != HEAD:
            upgrade(conn)
        if legacy is not None and legacy != LEGACY_MARK:
            conn.execute(sa.text("UPDATE schema_version SET version = :v"), {"v": LEGACY_MARK})

    def revision(self) -> str | None:
        with self.read() as conn:
            return self._revision(conn, set(sa.inspect(conn).get_table_names()))

    def _revision(self, conn: sa.Connection, tables: set[str]) -> str | None:
        """The Alembic revision the database is at (None before its first migration)."""
        if "alembic_version" not in tables:
            return None
        rows = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
        if len(rows) > 1:  # branches: this app's history is one line, so a later app wrote it
            raise StoreError("newer", self.where,
                             f"alembic_version holds several revisions ({', '.join(rows)})")
        return rows[0] if rows else None
