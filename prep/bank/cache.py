"""The loaded bank kept as JSON between starts, so a new process does not parse the YAML again.

Parsing and checking ``content/`` takes ~0.15 s at every start; reading the same ``Bank`` back
from JSON takes ~0.015 s. The cache is keyed by a hash of everything the result depends on: the
section files' names and bytes, the ``attention`` package's public names (questions link to Lab
modules), the code that loads and checks it (this package, ``prep.i18n``, ``prep.numeric``) and
pydantic's version. So an edited file, a new app version or a new library gives a new key: a
stale entry is never read, only left behind (and removed on the next write). A missing, damaged
or unreadable entry, or a cache folder that cannot be written, just means the YAML is parsed.

The entry is JSON, validated again by the bank's own pydantic models when read; nothing in it is
executed (no pickle). Only ``prep.ui`` reads the cache; the validator command and the tests parse
the YAML every time. ``python -m prep cache`` writes the entry ahead of time: ``make setup`` and
the Dockerfile run it, so even the first start after an install reads JSON.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

import pydantic

from prep.bank.loader import attention_exports, load_bank, section_files
from prep.bank.model import Bank, Problem, Section

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
    if cache is None:
        return load_bank(folder)
    try:
        wanted, entry = entry_for(folder, cache)
    except OSError:
        return load_bank(folder)  # an unreadable file: the loader reports it
    try:
        data = Entry.model_validate_json(entry.read_bytes())
        if data.key == wanted:
            return Bank(data.sections, data.problems, data.aliases)
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        LOG.warning("bank cache %s not used (%s); parsing the YAML", entry, exc)
    bank = load_bank(folder)
    data = Entry(key=wanted, sections=bank.sections, problems=bank.problems, aliases=bank.aliases)
    _write(entry, data.model_dump_json().encode())
    return bank


def entry_for(folder: Path, cache: Path) -> tuple[str, Path]:
    """The key of ``folder``'s bank today and the file its entry has in ``cache``. One entry per
    content folder: loads of other folders (tests' fixture banks) keep theirs."""
    wanted = key(folder)
    place = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:12]
    return wanted, cache / f"{PREFIX}{place}-{wanted[:32]}.json"


def _write(entry: Path, data: bytes) -> None:
    """Write atomically (several processes may start at once), then drop the folder's older
    entries."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=entry.parent, prefix=".bank-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temporary, entry)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        place = entry.name.rsplit("-", 1)[0]  # bank-{folder hash}
        for old in entry.parent.glob(f"{place}-*.json"):
            if old != entry:
                old.unlink(missing_ok=True)
    except OSError as exc:
        LOG.info("bank cache not written to %s: %s", entry.parent, exc)
