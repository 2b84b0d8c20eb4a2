"""Anki and Markdown export: every question, stable guids, escaped HTML, MathJax delimiters."""

from __future__ import annotations

import dataclasses
import sqlite3
import zipfile
from pathlib import Path

import genanki

from prep.__main__ import main
from prep.bank import load_bank
from prep.export import anki_bytes, markdown_to_html, to_markdown, write_anki

FIXTURE_BANK = Path(__file__).parent / "fixtures" / "bank"


def read_notes(apkg: Path, tmp_path: Path) -> list[tuple[str, list[str]]]:
    with zipfile.ZipFile(apkg) as archive:
        archive.extract("collection.anki2", tmp_path)
    with sqlite3.connect(tmp_path / "collection.anki2") as db:
        rows = db.execute("SELECT guid, flds FROM notes ORDER BY id").fetchall()
    return [(guid, fields.split("\x1f")) for guid, fields in rows]


def test_anki_deck_has_every_question_with_guid_from_its_id(tmp_path):
    bank = load_bank(FIXTURE_BANK)
    assert write_anki(bank, tmp_path / "deck.apkg", "en") == len(bank.questions)
    notes = read_notes(tmp_path / "deck.apkg", tmp_path)
    assert sorted(fields[0] for _, fields in notes) == sorted(q.id for q in bank.questions)
    for guid, fields in notes:
        assert guid == genanki.guid_for(fields[0], "en")


def test_guids_stay_when_an_answer_is_edited(tmp_path):
    bank = load_bank(FIXTURE_BANK)
    write_anki(bank, tmp_path / "a.apkg", "zh")
    first = dict((fields[0], guid) for guid, fields in read_notes(tmp_path / "a.apkg", tmp_path))
    edited = bank.questions[0].model_copy(
        update={"answer": dataclasses.replace(bank.questions[0].answer, zh="改过的答案")}
    )
    sections = [s.model_copy(update={"questions": [edited, *s.questions[1:]]}) if i == 0 else s
                for i, s in enumerate(bank.sections)]  # fmt: skip
    write_anki(type(bank)(sections), tmp_path / "b.apkg", "zh")
    second = read_notes(tmp_path / "b.apkg", tmp_path)
    assert dict((fields[0], guid) for guid, fields in second) == first
    assert any("改过的答案" in fields[2] for _, fields in second)


def test_fields_are_escaped_html_with_mathjax_delimiters():
    rendered = markdown_to_html(
        "Why $\\sqrt{d_k}$ and $a_1 < b_2$? <script>x</script>\n\n$$q_i k_j$$"
    )
    assert r"\(\sqrt{d_k}\)" in rendered
    assert r"\(a_1 &lt; b_2\)" in rendered
    assert r"\[q_i k_j\]" in rendered
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered
    assert "<em>" not in rendered  # underscores in maths are not emphasis


def test_markdown_export_contains_every_question_and_answer():
    bank = load_bank(FIXTURE_BANK)
    text = to_markdown(bank, "en")
    for q in bank.questions:
        assert f"`{q.id}`" in text
        assert q.answer.en.strip() in text
    assert text.index(bank.sections[0].title.en) < text.index(bank.sections[1].title.en)


def test_export_command_writes_files(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ATTN_PREP_CONTENT", str(FIXTURE_BANK))
    assert main(["export", "markdown", str(tmp_path / "bank.md"), "--lang", "en"]) == 0
    assert (tmp_path / "bank.md").read_text(encoding="utf-8").startswith("# Attention interview")
    assert main(["export", "anki", str(tmp_path / "deck.apkg")]) == 0
    assert "wrote 5 questions" in capsys.readouterr().out


def test_anki_bytes_is_a_deck_with_every_question(tmp_path):
    bank = load_bank(FIXTURE_BANK)
    (tmp_path / "deck.apkg").write_bytes(anki_bytes(bank, "zh"))
    notes = read_notes(tmp_path / "deck.apkg", tmp_path)
    assert len(notes) == len(bank.questions)


def test_markdown_export_printed_each_question_twice_regression():
    bank = load_bank(FIXTURE_BANK)
    text = to_markdown(bank, "en")
    for q in bank.questions:
        assert text.count(q.question.en.strip().splitlines()[0]) == 1, q.id
