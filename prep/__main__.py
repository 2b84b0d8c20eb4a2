"""Command line: ``python -m prep validate [paths...]`` (also installed as ``attention-prep``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from prep import settings
from prep.bank import load_bank, run_code_blocks


def validate(paths: Sequence[str], run_code: bool) -> int:
    bank = load_bank(paths or [settings.content_dir()])
    problems = list(bank.problems)
    if run_code:
        problems += run_code_blocks(bank)
    for problem in problems:
        print(problem, file=sys.stderr)
    count = len(bank.questions)
    print(f"{len(bank.sections)} sections, {count} questions, {len(problems)} problems")
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="attention-prep", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("validate", help="check question-bank YAML files")
    check.add_argument("paths", nargs="*", help="section files or folders (default: the bank)")
    check.add_argument("--no-run", action="store_true", help="do not run the code blocks")
    args = parser.parse_args(argv)
    if args.command == "validate":
        return validate(args.paths, run_code=not args.no_run)
    return 2


if __name__ == "__main__":
    sys.exit(main())
