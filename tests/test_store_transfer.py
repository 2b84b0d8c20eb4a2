"""Moving one learner's progress between instances: export then import reproduces the schedule,
importing twice changes nothing, and an import into an instance with progress merges the logs
(union by review id) and replays each card in time order. Both engines, both directions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fsrs import Rating
from pg_server import pg_url, postgres  # noqa: F401  (fixtures)

from prep import schedule
from prep.store import Store
from prep.store.transfer import FORMAT

NOW = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
PLAN = [("q1", Rating.Good, 0), ("q2", Rating.Again, 1), ("q1", Rating.Easy, 60 * 24 * 3),
        ("q2", Rating.Good, 15), ("q3", Rating.Hard, 90), ("q2", Rating.Good, 60 * 24)]


@pytest.fixture(params=["sqlite-to-postgres", "postgres-to-sqlite"])
def pair(request, tmp_path) -> tuple[str, str]:
    """(source, target): one SQLite file and one PostgreSQL database, in either direction."""
    sqlite = str(tmp_path / "local.sqlite3")
    hosted = request.getfixturevalue("pg_url")
    return (sqlite, hosted) if request.param.startswith("sqlite") else (hosted, sqlite)


def study(store: Store, plan=PLAN, start: datetime = NOW) -> None:
    for qid, rating, minutes in plan:
        now = start + timedelta(minutes=minutes)
        card = store.card(qid)
        outcome = schedule.preview(card or schedule.new_card(qid, now), now)[rating]
        store.record(qid, rating, outcome.card, now, duration_ms=900, based_on=card,
                     answer=f"answer to {qid}")


def schedule_of(store: Store) -> dict[str, dict]:
    return {qid: card.to_dict() for qid, card in store.cards().items()}


def test_export_then_import_reproduces_the_schedule_and_reimport_changes_nothing(pair):
    source_at, target_at = pair
    source = Store(source_at, user="ada")
    study(source)
    exported = json.loads(json.dumps(source.export_progress()))  # through a file's text
    assert exported["format"] == FORMAT and len(exported["reviews"]) == len(PLAN)

    target = Store(target_at, user="ada")
    assert target.import_progress(exported) == len(PLAN)
    assert schedule_of(target) == schedule_of(source)
    assert target.due(NOW + timedelta(days=2)) == source.due(NOW + timedelta(days=2))
    assert sorted((r.uid, r.rating, r.reviewed, r.answer) for r in target.reviews()) == sorted(
        (r.uid, r.rating, r.reviewed, r.answer) for r in source.reviews())

    reviews_before = target.reviews()
    assert target.import_progress(exported) == 0
    assert target.reviews() == reviews_before and schedule_of(target) == schedule_of(source)
    assert Store(target_at, user="bo").cards() == {}  # it went to the learner who imported it

    back = target.export_progress()  # and back again: nothing new for the source
    assert source.import_progress(back) == 0


def test_import_into_an_instance_with_progress_merges_and_replays_in_time_order(pair):
    source_at, target_at = pair
    source, target = Store(source_at), Store(target_at)
    study(source, PLAN[:3])  # q1 twice, q2 once, at NOW..NOW+3d
    study(target, [("q2", Rating.Easy, 30), ("q4", Rating.Good, 40)])  # its own, in between
    added = target.import_progress(source.export_progress())
    assert added == 3

    merged = target.reviews()
    assert len(merged) == 5 and len({r.uid for r in merged}) == 5
    q2 = sorted((r for r in merged if r.question_id == "q2"), key=lambda r: r.reviewed)
    assert [r.rating for r in q2] == [Rating.Again, Rating.Easy]
    # q2's own Easy (at +30 min) now follows the imported Again (at +1 min): replayed on it
    replay = schedule.new_card("q2", q2[0].reviewed)
    replay, _ = schedule.SCHEDULER.review_card(replay, Rating.Again, q2[0].reviewed)
    expected, _ = schedule.SCHEDULER.review_card(replay, Rating.Easy, q2[1].reviewed)
    stored = target.card("q2")
    assert (stored.state, stored.stability, stored.difficulty) == (
        expected.state, expected.stability, expected.difficulty)
    assert schedule_of(target)["q1"] == schedule_of(source)["q1"]  # untouched by the merge
    assert target.undo(q2[1].id) == "q2"  # undo follows the replayed chain
    assert target.card("q2").to_dict() == q2[0].card_after.to_dict()
    assert target.import_progress(source.export_progress()) == 0


@pytest.mark.parametrize("bad", [
    [], {"format": "other"}, {"format": FORMAT, "version": 99, "reviews": []},
    {"format": FORMAT, "version": 1, "reviews": [{"uid": "not-a-uuid"}]},
])
def test_a_bad_export_is_refused_with_a_clear_message_and_changes_nothing(tmp_path, bad):
    store = Store(tmp_path / "p.sqlite3")
    with pytest.raises(ValueError, match="data"):
        store.import_progress(bad)
    assert store.reviews() == []


def test_the_command_line_moves_progress_from_a_local_file_to_postgres_and_back(
        tmp_path, monkeypatch, request, capsys):
    from prep.__main__ import main

    hosted = request.getfixturevalue("pg_url")
    local = tmp_path / "local.sqlite3"
    study(Store(local))
    monkeypatch.setenv("ATTN_PREP_DB", str(local))
    monkeypatch.delenv("ATTN_PREP_DB_URL", raising=False)
    assert main(["progress", "export", str(tmp_path / "mine.json")]) == 0
    monkeypatch.setenv("ATTN_PREP_DB_URL", hosted)  # the hosted instance
    assert main(["progress", "import", str(tmp_path / "mine.json"), "--user", "ada"]) == 0
    assert main(["progress", "import", str(tmp_path / "mine.json"), "--user", "ada"]) == 0
    assert "imported 6 new" in capsys.readouterr().out.splitlines()[-2]
    assert schedule_of(Store(hosted, user="ada")) == schedule_of(Store(local))
    (tmp_path / "bad.json").write_text("{}")
    assert main(["progress", "import", str(tmp_path / "bad.json")]) == 1
    assert "not an attention-prep-progress export" in capsys.readouterr().err


def test_interviews_move_with_the_learner_and_the_newer_copy_wins(pair):
    source_at, target_at = pair
    source = Store(source_at, user="ada")
    source.save_interview("open-one", {"main": ["q1"], "answers": [{"text": "半句 typed"}]},
                          NOW, None, NOW)
    source.save_interview("done-one", {"main": ["q2"]}, NOW, NOW + timedelta(minutes=20),
                          NOW + timedelta(minutes=20))
    exported = json.loads(json.dumps(source.export_progress()))
    assert sorted(i["id"] for i in exported["interviews"]) == ["done-one", "open-one"]

    target = Store(target_at, user="ada")
    target.save_interview("done-one", {"main": ["stale"]}, NOW, NOW, NOW - timedelta(days=1))
    target.import_progress(exported)
    assert target.open_interview() == ("open-one", {"main": ["q1"],
                                                    "answers": [{"text": "半句 typed"}]})
    assert target.finished_interviews() == [("done-one", {"main": ["q2"]})]
    target.import_progress(exported)                      # twice: nothing changes
    assert target.finished_interviews() == [("done-one", {"main": ["q2"]})]
    assert Store(target_at, user="bob").open_interview() is None  # never another learner's
