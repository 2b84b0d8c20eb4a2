"""The loaded bank kept as JSON between starts, so a new process does not parse the YAML again.

Parsing and checking ``content/`` takes ~0.15 s at every start; reading the same ``Bank`` back
from JSON takes ~0.015 s. The cache is keyed by a hash of everything the result depends on: the
section files' names and bytes, the ``attention`` package's public names (questions link to Lab
modules), the code that loads and checks it (this package, ``prep.i18n``, ``prep.numeric``) and
pydantic's version. So an edited file, a new app version or a new library gives a new key: a
stale entry is never read, only left behind (and removed on the next write). A missing, damaged
or unreadable entry, or a cache folder that cannot be written, just means the YAML is parsed.

The entry is JSON, validated again by the bank's own pydantic models when read; nothing in it is
executed (no pickle). Only ``prep.ui`` and ``python -m prep cache`` use the cache; the validator
command and the tests parse the YAML every time. ``python -m prep cache`` writes the entry ahead of
time: ``make setup`` and the Dockerfile run it, so the first start after an install reads JSON
when the app runs with the same cache folder (the user's, or ``ATTN_PREP_CACHE``: the Dockerfile
sets it).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import NamedTuple

import pydantic

from prep.bank.loader import attention_exports, load_bank, section_files
from prep.bank.model import Bank, Problem, Section
from prep.files import write_atomic

LOG = logging.getLogger(__name__)
FORMAT = 2  # bump when the entry's layout changes
PREP = Path(__file__).resolve().parent.parent
SOURCES = ("bank/*.py", "i18n.py", "numeric/*.py")  # the code a loaded bank depends on
PREFIX = "bank-"


class Entry(pydantic.BaseModel):
    """One cached bank, as pydantic writes and reads it (its JSON codec: ~2x faster than json)."""

    key: str
    sections: list[Section]
    problems: list[Problem]
    aliases: dict[str, str]


def key(folder: Path) -> str:
    """A hash of everything ``load_bank(folder)`` depends on."""
    digest = hashlib.sha256(f"{FORMAT}\0{pydantic.VERSION}\0".encode())
    digest.update("\0".join(sorted(attention_exports())).encode())
    for source in sorted(path for pattern in SOURCES for path in PREP.glob(pattern)):
        digest.update(str(source.relative_to(PREP)).encode() + b"\0" + source.read_bytes())
    for path in section_files(folder):
        digest.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def load(folder: Path, cache: Path | None) -> Bank:
    """``load_bank(folder)``, read from ``cache`` (a folder) when an entry for it is there."""
    return load_bank(folder) if cache is None else refresh(folder, cache).bank


class Refreshed(NamedTuple):
    bank: Bank
    entry: Path | None  # the folder's current entry, in place; None when it could not be written
    reason: str = ""  # why not


def refresh(folder: Path, cache: Path) -> Refreshed:
    """``folder``'s bank, read from its entry in ``cache``, or parsed and its entry written."""
    try:
        wanted = key(folder)
    except OSError as exc:
        return Refreshed(load_bank(folder), None, str(exc))  # the loader reports the file
    # One entry per content folder: loads of other folders (tests' fixture banks) keep theirs.
    place = f"{PREFIX}{hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:12]}"
    entry = cache / f"{place}-{wanted[:32]}.json"
    try:
        data = Entry.model_validate_json(entry.read_bytes())
        if data.key == wanted:
            return Refreshed(Bank(data.sections, data.problems, data.aliases), entry)
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        LOG.warning("bank cache %s not used (%s); parsing the YAML", entry, exc)
    bank = load_bank(folder)
    data = Entry(key=wanted, sections=bank.sections, problems=bank.problems, aliases=bank.aliases)
    try:
        _write(entry, place, data.model_dump_json().encode())
    except OSError as exc:
        LOG.info("bank cache not written to %s: %s", cache, exc)
        return Refreshed(bank, None, str(exc))
    return Refreshed(bank, entry)


def _write(entry: Path, place: str, data: bytes) -> None:
    """Write the entry (atomically: several processes may start at once; readable by any user: a
    container may run as another user than the one that built it), then drop the folder's older
    entries (``{place}-*.json``)."""
    write_atomic(entry, data)
    for old in entry.parent.glob(f"{place}-*.json"):
        if old != entry:
            old.unlink(missing_ok=True)
