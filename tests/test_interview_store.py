"""Interview repositories: in memory and in the progress database (resume after a restart)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from prep.interview import Answer, Interview
from prep.interview_store import MemoryInterviews, StoreInterviews, new_interview_id
from prep.store import SCHEMA_VERSION, Store, StoreError

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _open_one() -> Interview:
    return Interview(main=["m1", "m2"], started=NOW, answers=[
        Answer("m1", text="softmax(QK^T/√d)V", ticked=[0, 2], total_points=3, finished=True,
               rating=3, asked_at=NOW.timestamp()),
        Answer("f1", parent_id="m1", text="half typed — 半句", asked_at=NOW.timestamp() + 60),
    ])


@pytest.mark.parametrize("make", [lambda p: MemoryInterviews(), lambda p: StoreInterviews.at(p)])
def test_save_open_and_finish(tmp_path, make):
    repo = make(tmp_path / "progress.sqlite3")
    assert repo.open_interview("ann") is None
    run = _open_one()
    iid = new_interview_id()
    repo.save("ann", iid, run)
    assert repo.open_interview("bob") is None             # another learner's is not theirs
    assert repo.open_interview("ann") == (iid, run)
    run.answers[-1].text += " and more"
    repo.save("ann", iid, run)                            # one write per change: replaced
    assert repo.open_interview("ann")[1].answers[-1].text.endswith("and more")
    run.finished = NOW + timedelta(minutes=9)
    repo.save("ann", iid, run)
    assert repo.open_interview("ann") is None
    later = Interview(main=["m3"], started=NOW + timedelta(hours=1),
                      finished=NOW + timedelta(hours=2))
    repo.save("ann", "second", later)
    assert [i for i, _ in repo.finished("ann")] == ["second", iid]   # newest first


def test_an_interview_resumes_after_a_server_restart_with_the_typed_text(tmp_path):
    path = tmp_path / "progress.sqlite3"
    Store(path)                                            # the store's own file, same database
    run = _open_one()
    StoreInterviews.at(path).save("local", "abc", run)
    reopened = StoreInterviews.at(path)                      # a new process would do just this
    iid, resumed = reopened.open_interview("local")
    assert iid == "abc" and resumed == run
    assert resumed.answers[-1].text == "half typed — 半句"
    assert Store(path).schema_version() == SCHEMA_VERSION  # the table is in the store's history


def test_a_damaged_database_is_a_store_error_naming_the_file(tmp_path):
    path = tmp_path / "progress.sqlite3"
    path.write_bytes(b"this is not an sqlite file" * 100)
    with pytest.raises(StoreError, match=r"progress\.sqlite3") as caught:
        StoreInterviews.at(path).open_interview("ann")
    assert caught.value.kind == "corrupt"
    assert path.read_bytes().startswith(b"this is not")    # left untouched


def test_a_failed_save_changes_nothing(tmp_path):
    path = tmp_path / "progress.sqlite3"
    repo = StoreInterviews.at(path)
    repo.save("ann", "x", _open_one())
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")                     # another writer holds the lock
    try:
        slow = StoreInterviews(lambda user: Store(path, user=user, timeout=0.05))
        changed = _open_one()
        changed.answers[-1].text = "lost"
        with pytest.raises(StoreError) as caught:
            slow.save("ann", "x", changed)
        assert caught.value.kind == "locked"
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert repo.open_interview("ann")[1].answers[-1].text == "half typed — 半句"
