"""Where mock interviews are kept: a small repository protocol and two implementations.

``InterviewRepository`` is all the page needs: ``save`` (one write per change of an answer),
``open_interview`` (the one interview of a learner not finished yet: a rerun, a page switch or a
server restart resumes it) and ``finished`` (past interviews, for Progress).

- ``MemoryInterviews``: a dict, for unit tests (no file).
- ``StoreInterviews``: the ``interviews`` table of the progress store (its Alembic revision
  0003, so SQLite and PostgreSQL alike), one transaction per ``save``.

What is NOT done: no history of an interview's edits (each save replaces the row), no encryption;
a learner's typed answers are as private as the database file is.

Table
    interviews(user, id, data_json, started, finished, updated)   PRIMARY KEY (user, id)
        data_json is ``Interview.to_dict()`` as JSON; started / finished / updated are UTC epoch
        seconds (finished NULL while the interview is open).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from prep.interview import Interview
from prep.store import Store


def new_interview_id() -> str:
    """A fresh id for an interview (random, so two tabs never collide)."""
    return uuid.uuid4().hex


class InterviewRepository(Protocol):
    """What the mock-interview page reads and writes."""

    def save(self, user: str, interview_id: str, interview: Interview) -> None:
        """Write the whole interview (insert or replace) in one transaction."""

    def open_interview(self, user: str) -> tuple[str, Interview] | None:
        """The learner's interview not finished yet (the latest updated), or None."""

    def finished(self, user: str) -> list[tuple[str, Interview]]:
        """The learner's finished interviews, newest first."""


class MemoryInterviews:
    """Interviews in a dict: for tests; nothing survives the process."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], tuple[dict[str, object], float]] = {}
        self._clock = 0.0

    def save(self, user: str, interview_id: str, interview: Interview) -> None:
        self._clock += 1.0  # an order of updates, like the SQLite table's `updated`
        self._rows[(user, interview_id)] = (json.loads(json.dumps(interview.to_dict())),
                                            self._clock)

    def open_interview(self, user: str) -> tuple[str, Interview] | None:
        rows = [(updated, iid, Interview.from_dict(data))
                for (who, iid), (data, updated) in self._rows.items() if who == user]
        open_rows = sorted((r for r in rows if r[2].finished is None), key=lambda r: r[0])
        return (open_rows[-1][1], open_rows[-1][2]) if open_rows else None

    def finished(self, user: str) -> list[tuple[str, Interview]]:
        rows = [(iid, Interview.from_dict(data))
                for (who, iid), (data, _) in self._rows.items() if who == user]
        done = [r for r in rows if r[1].finished is not None]
        return sorted(done, key=lambda r: r[1].finished, reverse=True)


class StoreInterviews:
    """Interviews in the progress store (``prep.store``: its ``interviews`` table, created by the
    store's migration history on SQLite or PostgreSQL), one transaction per ``save``.

    ``store_for(user)`` gives that learner's ``Store`` (the page passes its cached one). Errors
    are the store's ``StoreError`` (damaged, locked, read-only, unreachable), with its message.
    """

    def __init__(self, store_for: Callable[[str], Store]) -> None:
        self._store_for = store_for

    @classmethod
    def at(cls, location: str | os.PathLike) -> StoreInterviews:
        """Interviews in the database at ``location`` (a path or URL), a Store per learner."""
        stores: dict[str, Store] = {}

        def store_for(user: str) -> Store:
            if user not in stores:
                stores[user] = Store(location, user=user)
            return stores[user]

        return cls(store_for)

    def save(self, user: str, interview_id: str, interview: Interview) -> None:
        self._store_for(user).save_interview(interview_id, interview.to_dict(), interview.started,
                                             interview.finished, datetime.now(UTC))

    def open_interview(self, user: str) -> tuple[str, Interview] | None:
        opened = self._store_for(user).open_interview()
        return (opened[0], Interview.from_dict(opened[1])) if opened else None

    def finished(self, user: str) -> list[tuple[str, Interview]]:
        return [(iid, Interview.from_dict(data))
                for iid, data in self._store_for(user).finished_interviews()]
