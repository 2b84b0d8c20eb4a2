"""The bank kept between starts (``prep.bank.cache``): the same ``Bank`` as parsing the YAML,
problems included; an edited file is parsed again; a damaged entry or an unwritable folder only
means parsing the YAML."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from prep.bank import cache, load_bank

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_BANK = ROOT / "tests" / "fixtures" / "bank"


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("bank-*.json"))


def test_the_whole_bank_read_back_is_the_bank_parsed(tmp_path, monkeypatch):
    fresh = load_bank(ROOT / "content")
    assert cache.load(ROOT / "content", tmp_path) == fresh  # a miss: parsed, then written
    assert len(entries(tmp_path)) == 1
    monkeypatch.setattr(cache, "load_bank", lambda *_: pytest.fail("the YAML was parsed"))
    again = cache.load(ROOT / "content", tmp_path)
    assert again == fresh and len(again.questions) == len(fresh.questions) > 100


def test_problems_and_an_edit_invalidate(tmp_path):
    content, store = tmp_path / "content", tmp_path / "cache"
    shutil.copytree(FIXTURE_BANK, content)
    section = sorted(content.glob("*.yaml"))[0]
    text = section.read_text(encoding="utf-8")
    section.write_text(text.replace("difficulty: ", "difficulty: impossible-", 1), encoding="utf-8")
    broken = load_bank(content)
    assert broken.problems
    cache.load(content, store)
    assert cache.load(content, store) == broken  # problems come back as they were found
    first = entries(store)

    section.write_text(text, encoding="utf-8")  # the author fixes the file
    fixed = cache.load(content, store)
    assert fixed == load_bank(content) and not fixed.problems
    assert len(entries(store)) == 1 and entries(store) != first  # the stale entry is gone


def test_a_damaged_entry_is_parsed_again_and_replaced(tmp_path, caplog):
    cache.load(FIXTURE_BANK, tmp_path)
    [entry] = entries(tmp_path)
    entry.write_text('{"key": "', encoding="utf-8")
    assert cache.load(FIXTURE_BANK, tmp_path) == load_bank(FIXTURE_BANK)
    assert "not used" in caplog.text
    assert entries(tmp_path) == [entry] and entry.read_text(encoding="utf-8").endswith("}")


def test_a_cache_folder_that_cannot_be_made_still_loads(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    assert cache.load(FIXTURE_BANK, blocker / "cache") == load_bank(FIXTURE_BANK)


def test_the_cache_can_be_switched_off(monkeypatch, tmp_path):
    from prep import settings

    monkeypatch.setenv("ATTN_PREP_CACHE", "off")
    assert settings.cache_dir() is None
    monkeypatch.setenv("ATTN_PREP_CACHE", str(tmp_path))
    assert settings.cache_dir() == tmp_path


HOME = """
import os, runpy, sys
os.environ["ATTN_PREP_CACHE"] = {cache!r}
os.environ["ATTN_PREP_DB"] = os.path.join({cache!r}, "progress.sqlite3")
if {forbid_parsing!r}:
    import prep.bank.cache
    def parsed(*args, **kwargs):
        raise SystemExit("the YAML was parsed")
    prep.bank.cache.load_bank = parsed
runpy.run_path("app.py", run_name="__main__")
print("ok")
"""


def test_the_pages_read_the_bank_through_the_cache(tmp_path):
    """Home's first start writes the entry; the next start's Home reads it, parsing nothing."""
    for forbid_parsing in (False, True):
        done = subprocess.run(
            [sys.executable, "-c", HOME.format(cache=str(tmp_path), forbid_parsing=forbid_parsing)],
            cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0 and done.stdout.split()[-1] == "ok", done.stderr[-2000:]
        assert len(entries(tmp_path)) == 1


def test_the_key_follows_the_code_that_checks_the_bank(tmp_path, monkeypatch):
    """A numeric answer function added to prep/numeric changes which questions have problems:
    the cache must not keep the old verdict."""
    prep = tmp_path / "prep"
    shutil.copytree(ROOT / "prep", prep, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache, "PREP", prep)
    before = cache.key(FIXTURE_BANK)
    assert cache.key(FIXTURE_BANK) == before
    formulas = prep / "numeric" / "formulas.py"
    formulas.write_text(formulas.read_text(encoding="utf-8") + "\n# a new formula\n",
                        encoding="utf-8")
    assert cache.key(FIXTURE_BANK) != before


def test_the_install_writes_the_entry_the_first_start_reads(tmp_path):
    """``python -m prep cache`` (``make setup``, the Dockerfile) writes the entry, so the very first
    Home of a new install parses nothing."""
    env = {**os.environ, "ATTN_PREP_CACHE": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "prep", "cache"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    [entry] = entries(tmp_path)
    assert done.returncode == 0 and str(entry) in done.stdout, done.stderr
    home = subprocess.run(
        [sys.executable, "-c", HOME.format(cache=str(tmp_path), forbid_parsing=True)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert home.returncode == 0 and home.stdout.split()[-1] == "ok", home.stderr[-2000:]
    setup = (ROOT / "Makefile").read_text(encoding="utf-8").split("\nsetup:")[1].split("\n\n")[0]
    assert "-m prep cache" in setup
    assert "RUN python -m prep cache" in (ROOT / "Dockerfile").read_text(encoding="utf-8")


def test_the_cache_command_off(monkeypatch, capsys):
    from prep.__main__ import main

    monkeypatch.setenv("ATTN_PREP_CACHE", "off")
    assert main(["cache"]) == 0
    assert "off" in capsys.readouterr().out


def test_the_cache_command_says_when_it_could_not_write(tmp_path, monkeypatch, capsys):
    """A folder that holds a damaged entry but takes no new file: no claim that the entry is
    there (the entry file exists, but it is not the bank), exit 1; the app still parses."""
    from prep.__main__ import main

    monkeypatch.setenv("ATTN_PREP_CACHE", str(tmp_path))
    assert main(["cache"]) == 0
    [entry] = entries(tmp_path)
    entry.write_text('{"key": "', encoding="utf-8")
    capsys.readouterr()

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    assert main(["cache"]) == 1
    said = capsys.readouterr()
    assert "questions in" not in said.out and "not written" in said.err
    assert "Permission denied" in said.err


def test_an_edit_replaces_its_own_entry_only(tmp_path):
    """Two content folders share a cache folder: a new entry for one removes that folder's stale
    entry and keeps the other's."""
    one, two, store = tmp_path / "my-bank", tmp_path / "my-bank-2", tmp_path / "c-[x]*"
    shutil.copytree(FIXTURE_BANK, one)
    shutil.copytree(FIXTURE_BANK, two)
    first = {cache.refresh(folder, store).entry for folder in (one, two)}
    assert len(first) == 2 and set(entries(store)) == first
    section = sorted(two.glob("*.yaml"))[0]
    section.write_text(section.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    edited = cache.refresh(two, store).entry
    kept = cache.refresh(one, store).entry
    assert set(entries(store)) == {kept, edited} and kept in first and edited not in first
    assert oct(edited.stat().st_mode & 0o777) == oct(0o644)  # another user may read it
