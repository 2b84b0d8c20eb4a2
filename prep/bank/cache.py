"""The loaded bank kept as JSON between starts, so a new process does not parse the YAML again.

Parsing and checking ``content/`` takes ~0.15 s at every start; reading the same ``Bank`` back
from JSON takes ~0.02 s. The cache is keyed by a hash of everything the result depends on: the
section files' names and bytes, the ``attention`` package's public names (questions link to Lab
modules), the code that loads and checks it (this package, ``prep.i18n``, ``prep.numeric``) and
pydantic's version. So an edited file, a new app version or a new library gives a new key: a
stale entry is never read, only left behind (and removed on the next write). A missing, damaged
or unreadable entry, or a cache folder that cannot be written, just means the YAML is parsed.

The entry is JSON, validated again by the bank's own pydantic models when read; nothing in it is
executed (no pickle). Only ``prep.ui`` uses the cache; the validator command and the tests parse
the YAML every time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

import pydantic

from prep.bank.loader import attention_exports, load_bank, section_files
from prep.bank.model import Bank, Problem, Section

LOG = logging.getLogger(__name__)
FORMAT = 1  # bump when the entry's layout changes
PREP = Path(__file__).resolve().parent.parent
SOURCES = ("bank/*.py", "i18n.py", "numeric/*.py")  # the code a loaded bank depends on
PREFIX = "bank-"


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
        wanted = key(folder)
    except OSError:
        return load_bank(folder)  # an unreadable file: the loader reports it
    # One entry per content folder: loads of other folders (tests' fixture banks) keep theirs.
    place = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:12]
    entry = cache / f"{PREFIX}{place}-{wanted[:32]}.json"
    try:
        data = json.loads(entry.read_text(encoding="utf-8"))
        if data["key"] == wanted:
            return Bank([Section.model_validate(s) for s in data["sections"]],
                        [Problem(**p) for p in data["problems"]], dict(data["aliases"]))
    except FileNotFoundError:
        pass
    except (OSError, ValueError, TypeError, KeyError, pydantic.ValidationError) as exc:
        LOG.warning("bank cache %s not used (%s); parsing the YAML", entry, exc)
    bank = load_bank(folder)
    sections = [section.model_dump(mode="json") for section in bank.sections]
    _write(entry, place, {"key": wanted, "sections": sections,
                          "problems": [asdict(p) for p in bank.problems], "aliases": bank.aliases})
    return bank


def _write(entry: Path, place: str, data: dict) -> None:
    """Write atomically (several processes may start at once), then drop the folder's older
    entries."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=entry.parent, prefix=".bank-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, ensure_ascii=False)
            os.replace(temporary, entry)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        for old in entry.parent.glob(f"{PREFIX}{place}-*.json"):
            if old != entry:
                old.unlink(missing_ok=True)
    except OSError as exc:
        LOG.info("bank cache not written to %s: %s", entry.parent, exc)
