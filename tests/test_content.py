"""The shipped question bank: size, coverage of the seed, both languages, and runnable code.

Each `code` block runs, then its `check`, which compares the result with torch or the
`attention` package (format rule, enforced by the loader).
"""

from __future__ import annotations

import re

import pytest

from prep import numeric, settings
from prep.bank import KEY_POINTS_MAX, KEY_POINTS_MIN, Question, load_bank, run_code_block

BANK = load_bank(settings.content_dir())
SEED_ITEMS = [f"seed-1.{i}" for i in range(1, 9)] + [
    f"seed-{p}.{i}" for p in (2, 3) for i in (1, 2, 3)
]
CJK = re.compile(r"[\u4e00-\u9fff]")
CODE_QUESTIONS = [q for q in BANK.questions if q.code]


def test_bank_has_no_problems():
    assert BANK.problems == [], "\n".join(map(str, BANK.problems))


def test_bank_size_and_sections():
    assert len(BANK.questions) >= 80
    assert len(BANK.sections) >= 9
    assert all(len(s.questions) >= 5 for s in BANK.sections), [
        (s.id, len(s.questions)) for s in BANK.sections
    ]


def test_every_seed_item_is_present_with_its_source():
    sources = {q.source for q in BANK.questions}
    assert [item for item in SEED_ITEMS if item not in sources] == []


def test_seed_broken_code_answers_are_also_find_the_bug_questions():
    bugs = {q.source for q in BANK.questions if q.type == "find-the-bug"}
    assert {"seed-2.2", "seed-2.3"} <= bugs | {s.replace("seed-3", "seed-2") for s in bugs if s}


def test_chinese_fields_are_chinese_and_english_fields_are_english():
    for q in BANK.questions:
        for name in ("question", "answer", "explanation"):
            text = getattr(q, name)
            assert CJK.search(text.zh), f"{q.id}.{name}.zh has no Chinese"
            prose = re.sub(r"```.*?```", "", text.en, flags=re.S)
            share = len(CJK.findall(prose)) / max(len(prose), 1)
            assert share < 0.02, f"{q.id}.{name}.en looks untranslated ({share:.0%} CJK)"
        for index, point in enumerate(q.key_points or []):
            assert CJK.search(point.zh), f"{q.id}.key_points.{index}.zh has no Chinese"
            assert not CJK.search(point.en), f"{q.id}.key_points.{index}.en is not English"


@pytest.mark.parametrize("source", ["seed-1.3", "seed-1.7"])
def test_seed_claim_that_attention_reduces_computation_is_corrected(source):
    [q] = [q for q in BANK.questions if q.source == source]
    for lang in ("zh", "en"):
        text = q.answer[lang] + q.explanation[lang]
        assert re.search(r"n\^2|n\^\{2\}|n²", text), (
            f"{q.id}.{lang} does not state the quadratic cost"
        )


def test_no_raw_html_in_content():
    pattern = re.compile(r"<\s*(script|iframe|img|style|object|embed)\b", re.I)
    for q in BANK.questions:
        for name in ("question", "answer", "explanation"):
            for lang in ("zh", "en"):
                assert not pattern.search(getattr(q, name)[lang]), f"{q.id}.{name}.{lang}"


@pytest.mark.parametrize("question", CODE_QUESTIONS, ids=[q.id for q in CODE_QUESTIONS])
def test_code_block_runs_and_its_check_passes(question):
    assert run_code_block(question) is None, run_code_block(question)


def _unbalanced_math_lines(text: str) -> list[str]:
    """Lines with an odd number of `$` once code and display maths are removed."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    text = re.sub(r"\$\$.*?\$\$", "", text, flags=re.S)
    return [line.strip() for line in text.splitlines() if line.count("$") % 2]


def test_inline_maths_opens_and_closes_on_one_line_regression_split_formula():
    """Streamlit's Markdown does not parse an inline formula broken across a line ($W_Q,\\nW_O$)."""
    broken = [
        (q.id, name, lang, line)
        for q in BANK.questions
        for name in ("question", "answer", "explanation")
        for lang in ("zh", "en")
        for line in _unbalanced_math_lines(getattr(q, name)[lang])
    ]
    assert broken == []


def test_no_tag_is_a_spelling_variant_of_another():
    """Filtering by `mask` must not miss questions tagged `masks` (or regularisation/-ization)."""

    def canonical(tag: str) -> str:
        return tag.replace("isation", "ization").removesuffix("s")

    tags = BANK.tags()
    variants = {}
    for tag in tags:
        variants.setdefault(canonical(tag), []).append(tag)
    assert [group for group in variants.values() if len(group) > 1] == []


# -- interviewer's rubric: key_points and follow_ups over the whole bank ----------------------
ALL_FILES = sorted(path.name for path in settings.content_dir().glob("[!_]*.yaml"))
RUBRIC_FILES = ALL_FILES
FOLLOW_UP_SHARE = 0.6


def questions_in(files: list[str]) -> list[Question]:
    return [q for q in BANK.questions if q.file.rsplit("/", 1)[-1] in files]


def key_point_gaps(questions: list[Question]) -> list[str]:
    """Ids of questions without 3..7 key points (the schema refuses a list of another size)."""
    return [q.id for q in questions
            if not q.key_points or not KEY_POINTS_MIN <= len(q.key_points) <= KEY_POINTS_MAX]


def follow_up_share(questions: list[Question]) -> float:
    return sum(bool(q.follow_ups) for q in questions) / max(len(questions), 1)


def test_rubric_files_exist_and_have_questions():
    assert set(RUBRIC_FILES) <= set(ALL_FILES)
    assert questions_in(RUBRIC_FILES)


def test_every_question_in_the_rubric_files_has_3_to_7_key_points():
    assert key_point_gaps(questions_in(RUBRIC_FILES)) == []


def test_most_questions_in_the_rubric_files_have_follow_ups():
    assert follow_up_share(questions_in(RUBRIC_FILES)) >= FOLLOW_UP_SHARE


def test_numeric_section_has_at_least_sixteen_self_grading_questions():
    numbers = [q for q in BANK.questions if q.type == "numeric"]
    assert len(numbers) >= 16
    assert all(q.numeric.tolerance > 0 for q in numbers)
    assert numeric.spec_problems(numbers[0]) == []


def test_lab_presets_are_valid_lab_configurations():
    from prep.bank import lab_preset_problems

    assert lab_preset_problems(BANK) == []
    assert sum(bool(q.lab) for q in BANK.questions) >= 5
