"""Command line (also installed as ``attention-prep``).

python -m prep validate [paths...]            check the bank, its Lab presets and code blocks
python -m prep cache                          write the bank cache the app reads at start
python -m prep export anki deck.apkg [--lang en]
python -m prep export markdown bank.md [--lang en]
python -m prep progress export mine.json [--user ada]   one learner's progress, to move it
python -m prep progress import mine.json [--user ada]   merge it here (importing twice is a no-op)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from prep import settings
from prep.bank import lab_preset_problems, load_bank, run_code_blocks, syntax_problems
from prep.export import to_markdown, write_anki


def validate(paths: Sequence[str], run_code: bool) -> int:
    bank = load_bank(paths or [settings.content_dir()])
    problems = list(bank.problems) + syntax_problems(bank) + lab_preset_problems(bank)
    if run_code:
        problems += run_code_blocks(bank)
    for problem in problems:
        print(problem, file=sys.stderr)
    count = len(bank.questions)
    print(f"{len(bank.sections)} sections, {count} questions, {len(problems)} problems")
    return 1 if problems else 0


def export(kind: str, output: str, lang: str) -> int:
    bank = load_bank(settings.content_dir())
    for problem in bank.problems:
        print(problem, file=sys.stderr)
    if kind == "anki":
        count = write_anki(bank, output, lang)
    else:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(to_markdown(bank, lang))
        count = len(bank.questions)
    print(f"wrote {count} questions to {output}")
    return 0


def build_cache() -> int:
    """Load the bank the way the app does, so that its start reads the cache (``make setup``)."""
    from prep.bank import cache

    where = settings.cache_dir()
    if where is None:
        print("bank cache: off (ATTN_PREP_CACHE=off); the app parses the YAML at each start")
        return 0
    done = cache.refresh(settings.content_dir(), where)
    if done.entry is None:
        print(f"bank cache: not written to {where} ({done.reason}); the app parses the YAML "
              f"at its start", file=sys.stderr)
        return 1
    print(f"bank cache: {len(done.bank.questions)} questions in {done.entry}")
    return 0


def progress(action: str, path: str, user: str) -> int:
    from prep.store import Store, StoreError

    try:
        store = Store(settings.db_location(), user=user)
        if action == "export":
            data = store.export_progress()
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(data, handle, ensure_ascii=False, indent=1)
            print(f"wrote {len(data['reviews'])} reviews of {user} to {path}")
        else:
            with open(path, encoding="utf-8") as handle:
                added = store.import_progress(json.load(handle))
            print(f"imported {added} new reviews for {user} from {path}")
    except (OSError, ValueError, StoreError) as exc:
        print(f"progress {action}: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="attention-prep", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("validate", help="check question-bank YAML files")
    check.add_argument("paths", nargs="*", help="section files or folders (default: the bank)")
    check.add_argument("--no-run", action="store_true", help="do not run the code blocks")
    out = commands.add_parser("export", help="export the bank to an Anki deck or Markdown")
    out.add_argument("kind", choices=["anki", "markdown"])
    out.add_argument("output", help="file to write (.apkg for anki, .md for markdown)")
    out.add_argument("--lang", choices=["zh", "en"], default="zh")
    moves = commands.add_parser("progress", help="export or import one learner's progress")
    moves.add_argument("action", choices=["export", "import"])
    moves.add_argument("file", help="the JSON file to write or read")
    moves.add_argument("--user", default="local", help="the learner (default: local)")
    commands.add_parser("cache", help="write the bank cache the app reads at start")
    args = parser.parse_args(argv)
    if args.command == "cache":
        return build_cache()
    if args.command == "progress":
        return progress(args.action, args.file, args.user)
    if args.command == "validate":
        return validate(args.paths, run_code=not args.no_run)
    return export(args.kind, args.output, args.lang)


if __name__ == "__main__":
    sys.exit(main())
