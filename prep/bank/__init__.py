"""The question bank: YAML sections under ``content/`` -> validated ``Bank``.

One file per section (format in ``content/FORMAT.md``). ``load_bank`` never raises on bad
content: each problem names the file, the line, the question id and the field, and every good
section and question still loads. ``run_code_blocks`` (torch) and ``lab_preset_problems`` (the
Lab) are slow and used by the validator command and the tests, never by the app at start-up.

Modules: ``model`` (schema, ``Bank``), ``loader`` (YAML, line numbers), ``rules`` (per question
and bank-wide), ``checks`` (code blocks, Lab presets), ``cache`` (the loaded bank kept between
the app's starts).
"""

from prep.bank.checks import (
    lab_preset_problems,
    preset_problems,
    run_code_block,
    run_code_blocks,
    syntax_problems,
)
from prep.bank.loader import attention_exports, load_bank
from prep.bank.model import (
    KEY_POINTS_MAX,
    KEY_POINTS_MIN,
    Bank,
    Difficulty,
    NumericParam,
    NumericSpec,
    Problem,
    Question,
    QuestionType,
    Reference,
    Section,
    moved_ids,
)

__all__ = [
    "KEY_POINTS_MAX",
    "KEY_POINTS_MIN",
    "Bank",
    "Difficulty",
    "NumericParam",
    "NumericSpec",
    "Problem",
    "Question",
    "QuestionType",
    "Reference",
    "Section",
    "attention_exports",
    "lab_preset_problems",
    "load_bank",
    "moved_ids",
    "preset_problems",
    "run_code_block",
    "run_code_blocks",
    "syntax_problems",
]
