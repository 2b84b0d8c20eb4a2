"""Row helpers shared by the store and its export / import: times and upserts on both dialects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from fsrs import Card

from prep.store.schema import cards as CARDS


def ts(moment: datetime) -> float:
    if moment.tzinfo is None:
        raise ValueError(f"datetime must be timezone-aware (UTC); got naive {moment!r}")
    return moment.timestamp()


def dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def upsert(conn: sa.Connection, table: sa.Table, values: dict[str, Any], keys: list[str]) -> None:
    """Insert a row, or update it where its primary key exists (both dialects)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table).values(**values)
    changed = {k: statement.excluded[k] for k in values if k not in keys}
    conn.execute(statement.on_conflict_do_update(index_elements=keys, set_=changed))


def save_card(conn: sa.Connection, user: str, question_id: str, card: Card, when: float) -> None:
    upsert(conn, CARDS, {"user": user, "question_id": question_id, "card_json": card.to_json(),
                         "due": ts(card.due), "state": int(card.state), "updated": when},
           ["user", "question_id"])
