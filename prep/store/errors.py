"""``StoreError``: every failure of the progress store, with a bilingual message that names the
database and says what to do. Kinds come from the driver's error code (SQLite's
``sqlite_errorname``, PostgreSQL's SQLSTATE), never from message text."""

from __future__ import annotations

import sqlite3

from prep.i18n import Text

KINDS = ("corrupt", "locked", "readonly", "newer", "unavailable", "error")

_MESSAGES = {
    "corrupt": Text(
        "学习进度数据库 {where} 已损坏，或不是 SQLite 文件（{detail}）。文件保持原样、未被修改："
        "把它移走（或恢复备份），应用就会新建一个，无需重启。",
        "The progress database {where} is damaged or is not an SQLite file ({detail}). "
        "It was left untouched: move it aside (or restore a backup) and the app starts a new "
        "one, without a restart.",
    ),
    "locked": Text(
        "学习进度数据库 {where} 正被另一个程序锁定（{detail}）。请关闭那个程序，或稍候再试。",
        "The progress database {where} is locked by another program ({detail}). "
        "Close the other program, or wait, and try again.",
    ),
    "readonly": Text(
        "学习进度数据库 {where} 无法写入（{detail}），进度无法保存。请修改文件及所在文件夹的权限，"
        "或把 ATTN_PREP_DB 指向一个可写的路径。",
        "The progress database {where} cannot be written ({detail}). Your progress cannot be "
        "saved: fix the permissions of the file and its folder, or point ATTN_PREP_DB at a "
        "writable path.",
    ),
    "newer": Text(
        "学习进度数据库 {where} 由更新版本的本应用写入（{detail}），已保持原样；"
        "请升级应用后再使用。",
        "The progress database {where} was written by a newer version of this app ({detail}). "
        "It was left untouched; upgrade the app to use it.",
    ),
    "unavailable": Text(
        "无法连接学习进度数据库 {where}（{detail}）。请确认数据库服务器正在运行，"
        "并检查 ATTN_PREP_DB_URL。",
        "The progress database {where} cannot be reached ({detail}). Check that the database "
        "server is running and that ATTN_PREP_DB_URL is right.",
    ),
    "error": Text(
        "学习进度数据库 {where} 无法使用（{detail}）。文件保持原样，未被修改。",
        "The progress database {where} failed ({detail}). It was left untouched.",
    ),
}

# SQLite primary result codes (``sqlite_errorname`` may carry an extended suffix, e.g.
# SQLITE_BUSY_SNAPSHOT, SQLITE_READONLY_DBMOVED, SQLITE_CANTOPEN_ISDIR).
_SQLITE_KINDS = {
    "SQLITE_CORRUPT": "corrupt",
    "SQLITE_NOTADB": "corrupt",
    "SQLITE_BUSY": "locked",
    "SQLITE_LOCKED": "locked",
    "SQLITE_READONLY": "readonly",
    "SQLITE_CANTOPEN": "readonly",
    "SQLITE_PERM": "readonly",
    "SQLITE_AUTH": "readonly",
}
# PostgreSQL SQLSTATE codes and classes.
_PG_KINDS = {
    "40P01": "locked",  # deadlock_detected
    "55P03": "locked",  # lock_not_available (lock_timeout)
    "57014": "locked",  # query_canceled (statement_timeout)
    "25006": "readonly",  # read_only_sql_transaction
    "42501": "readonly",  # insufficient_privilege
    "XX001": "corrupt",  # data_corrupted
    "XX002": "corrupt",  # index_corrupted
}
_PG_CLASSES = {"08": "unavailable", "57": "unavailable", "53": "unavailable", "28": "unavailable"}


class StoreError(Exception):
    """The progress database cannot be used; the message says why and names it.

    ``message`` is the bilingual text (``exc.message.pick(lang)``); ``str(exc)`` is the English.
    ``kind`` is one of ``KINDS``; ``path`` names the file (or the server, for PostgreSQL).
    """

    def __init__(self, kind: str, where: str, detail: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")
        self.kind = kind
        self.path = where
        self.detail = detail
        self.message: Text = _MESSAGES[kind].format(where=where, detail=detail)
        super().__init__(self.message.en)


def kind_of(exc: BaseException) -> str:
    """The kind of a driver error: from SQLite's error name or PostgreSQL's SQLSTATE."""
    orig = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the DBAPI error
    if isinstance(orig, sqlite3.Error):
        name = getattr(orig, "sqlite_errorname", "") or ""
        for prefix, kind in _SQLITE_KINDS.items():
            if name == prefix or name.startswith(prefix + "_"):
                return kind
        return "error"
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate:
        return _PG_KINDS.get(sqlstate) or _PG_CLASSES.get(sqlstate[:2], "error")
    if type(orig).__module__.startswith("psycopg") and type(orig).__name__ == "OperationalError":
        return "unavailable"  # no SQLSTATE: the server was never reached
    return "error"


def explain(exc: BaseException, where: str) -> StoreError:
    """A ``StoreError`` for a driver (or SQLAlchemy) error."""
    orig = getattr(exc, "orig", None) or exc
    detail = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return StoreError(kind_of(exc), where, detail)
