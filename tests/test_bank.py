"""The bank loader and validator: good files load, each kind of breakage is reported precisely."""

from __future__ import annotations

import textwrap
from pathlib import Path

from prep.__main__ import main
from prep.bank import load_bank, run_code_blocks, syntax_problems

GOOD_QUESTION = """\
  - id: {qid}
    type: concept
    difficulty: easy
    tags: [softmax]
    question: {{zh: 问题？, en: Question?}}
    answer: {{zh: 答案。, en: Answer.}}
    explanation:
      zh: 解析。
      en: Explanation.
"""


def section(section_id: str, *questions: str) -> str:
    head = textwrap.dedent(f"""\
        id: {section_id}
        title: {{zh: 标题, en: Title}}
        description: {{zh: 描述。, en: Description.}}
        questions:
        """)
    return head + "".join(questions)


def good(qid: str) -> str:
    return GOOD_QUESTION.format(qid=qid)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_bank_loads_in_file_order(tmp_path):
    write(tmp_path, "02-b.yaml", section("b", good("b-one")))
    write(tmp_path, "01-a.yaml", section("a", good("a-one"), good("a-two")))
    write(tmp_path, "_draft.yaml", "not: [valid")
    bank = load_bank(tmp_path)
    assert bank.problems == []
    assert [s.id for s in bank.sections] == ["a", "b"]
    assert [q.id for q in bank.questions] == ["a-one", "a-two", "b-one"]
    assert bank.question("a-two").line == 14
    assert bank.section_of("b-one").id == "b"
    assert bank.question("a-one").answer["en"] == "Answer."


def test_bad_yaml_syntax_names_file_line_and_question_and_keeps_other_files(tmp_path):
    broken = section("a", good("a-one")) + good("a-two").replace(
        "tags: [softmax]", "tags: [softmax"
    )
    write(tmp_path, "01-a.yaml", broken)
    write(tmp_path, "02-b.yaml", section("b", good("b-one")))
    bank = load_bank(tmp_path)
    assert [s.id for s in bank.sections] == ["b"]
    [problem] = bank.problems
    assert problem.file.endswith("01-a.yaml")
    assert problem.question_id == "a-two"
    assert "invalid YAML" in problem.message
    assert 14 <= problem.line <= 18
    assert str(problem).startswith(f"{problem.file}:{problem.line}: question 'a-two'")


def test_missing_field_names_question_field_and_line_and_keeps_other_questions(tmp_path):
    missing = good("a-two").replace("    difficulty: easy\n", "")
    write(tmp_path, "01-a.yaml", section("a", good("a-one"), missing))
    bank = load_bank(tmp_path)
    assert [q.id for q in bank.questions] == ["a-one"]
    [problem] = bank.problems
    assert (problem.question_id, problem.field, problem.line) == ("a-two", "difficulty", 14)
    assert "missing required field" in str(problem)


def test_missing_language_names_the_nested_field(tmp_path):
    missing_en = good("a-one").replace("      en: Explanation.\n", "")
    write(tmp_path, "01-a.yaml", section("a", missing_en))
    [problem] = load_bank(tmp_path).problems
    assert (problem.question_id, problem.field) == ("a-one", "explanation.en")
    assert problem.line == 11


def test_wrong_type_names_field_line_and_value(tmp_path):
    wrong = good("a-one").replace("difficulty: easy", "difficulty: trivial")
    write(tmp_path, "01-a.yaml", section("a", wrong))
    [problem] = load_bank(tmp_path).problems
    assert (problem.question_id, problem.field, problem.line) == ("a-one", "difficulty", 7)
    assert "'trivial'" in problem.message


def test_tags_must_be_a_list(tmp_path):
    wrong = good("a-one").replace("tags: [softmax]", "tags: softmax")
    write(tmp_path, "01-a.yaml", section("a", wrong))
    [problem] = load_bank(tmp_path).problems
    assert (problem.field, problem.line) == ("tags", 8)


def test_duplicate_id_across_files_names_both_places(tmp_path):
    write(tmp_path, "01-a.yaml", section("a", good("same-id")))
    write(tmp_path, "02-b.yaml", section("b", good("other"), good("same-id")))
    bank = load_bank(tmp_path)
    assert [q.id for q in bank.questions] == ["same-id", "other"]
    [problem] = bank.problems
    assert problem.file.endswith("02-b.yaml") and problem.line == 14
    assert problem.question_id == "same-id" and "01-a.yaml:5" in problem.message


def test_unknown_module_is_an_error(tmp_path):
    bad = good("a-one") + "    module: FancyAttention\n"
    write(tmp_path, "01-a.yaml", section("a", bad))
    bank = load_bank(tmp_path)
    [problem] = bank.problems
    assert (problem.field, problem.line) == ("module", 14)
    assert "unknown module 'FancyAttention'" in problem.message
    assert "MultiHeadAttention" in problem.message
    assert bank.questions == []


def test_known_module_is_accepted(tmp_path):
    ok = good("a-one") + "    module: MultiHeadAttention\n"
    write(tmp_path, "01-a.yaml", section("a", ok))
    assert load_bank(tmp_path).problems == []


def test_code_without_check_is_an_error(tmp_path):
    bad = good("a-one") + "    code: |\n      x = 1\n"
    write(tmp_path, "01-a.yaml", section("a", bad))
    [problem] = load_bank(tmp_path).problems
    assert problem.field == "check"


def test_code_that_raises_is_reported_with_its_line(tmp_path):
    bad = good("a-one") + textwrap.indent(
        "code: |\n  import torch\n  x = torch.ones(2, 3)\n  y = x @ x\n"
        "check: |\n  assert y.shape == (2, 2)\n",
        "    ",
    )
    write(tmp_path, "01-a.yaml", section("a", bad))
    bank = load_bank(tmp_path)
    assert bank.problems == []
    [problem] = run_code_blocks(bank)
    assert problem.question_id == "a-one" and problem.field == "code"
    assert "`code` raised RuntimeError" in problem.message and "line 3 of `code`" in problem.message


def test_check_that_fails_is_reported(tmp_path):
    bad = (
        good("a-one")
        + "    code: |\n      x = 2\n    check: |\n      assert x == 3, 'x should be 3'\n"
    )
    write(tmp_path, "01-a.yaml", section("a", bad))
    [problem] = run_code_blocks(load_bank(tmp_path))
    assert "`check` raised AssertionError: x should be 3" in problem.message


def test_code_with_syntax_error_is_a_validation_error(tmp_path, capsys):
    bad = good("a-one") + "    code: |\n      def f(:\n    check: |\n      pass\n"
    path = write(tmp_path, "01-a.yaml", section("a", bad))
    bank = load_bank(tmp_path)
    assert bank.problems == []  # loading stays fast: the app shows code, it never runs it
    [problem] = syntax_problems(bank)
    assert problem.field == "code" and "does not compile" in problem.message
    assert main(["validate", str(path), "--no-run"]) == 1
    assert "does not compile" in capsys.readouterr().err


def test_unknown_field_is_an_error(tmp_path):
    bad = good("a-one") + "    answr: typo\n"
    write(tmp_path, "01-a.yaml", section("a", bad))
    [problem] = load_bank(tmp_path).problems
    assert (problem.field, problem.message, problem.line) == ("answr", "unknown field", 14)


def test_section_that_is_not_a_mapping(tmp_path):
    write(tmp_path, "01-a.yaml", "- just\n- a list\n")
    write(tmp_path, "02-b.yaml", section("b", good("b-one")))
    bank = load_bank(tmp_path)
    assert [s.id for s in bank.sections] == ["b"]
    assert "must be a mapping" in bank.problems[0].message


def test_filter_searches_both_languages_and_combines_criteria(tmp_path):
    q2 = (
        good("a-two")
        .replace("问题？", "为什么要除以根号")
        .replace("tags: [softmax]", "tags: [scaling]")
    )
    write(
        tmp_path,
        "01-a.yaml",
        section("a", good("a-one"), q2.replace("difficulty: easy", "difficulty: hard")),
    )
    bank = load_bank(tmp_path)
    assert [q.id for q in bank.filter("根号")] == ["a-two"]
    assert [q.id for q in bank.filter("QUESTION")] == ["a-one", "a-two"]
    assert [q.id for q in bank.filter("question", lang="zh")] == []
    assert [q.id for q in bank.filter(tags=["softmax"])] == ["a-one"]
    assert [q.id for q in bank.filter(difficulties=["hard"], types=["concept"])] == ["a-two"]
    assert bank.filter("根号 softmax") == []
    assert bank.tags() == ["scaling", "softmax"]


def test_validate_command_exit_codes_and_messages(tmp_path, capsys):
    good_dir = tmp_path / "good"
    good_dir.mkdir()
    write(good_dir, "01-a.yaml", section("a", good("a-one")))
    assert main(["validate", str(good_dir)]) == 0
    assert "1 sections, 1 questions, 0 problems" in capsys.readouterr().out

    bad = good("a-one").replace("difficulty: easy", "difficulty: trivial")
    path = write(tmp_path, "01-bad.yaml", section("a", bad))
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:7: question 'a-one': field 'difficulty'" in err
