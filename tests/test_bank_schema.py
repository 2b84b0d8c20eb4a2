"""The bank format's rubric and cross-references: key_points, follow_ups, aliases, lab presets
and numeric questions, each rule reported with file, line, question id and field."""

from __future__ import annotations

import random
import textwrap

from test_bank import good, section, write

from prep import numeric
from prep.__main__ import main
from prep.bank import lab_preset_problems, load_bank, moved_ids, preset_problems

KEY_POINTS = """\
    key_points:
      - {zh: 要点一, en: Point one}
      - {zh: 要点二, en: Point two}
      - {zh: 要点三, en: Point three}
"""


def with_fields(qid: str, extra: str) -> str:
    return good(qid) + textwrap.indent(textwrap.dedent(extra), "    ")


def test_key_points_load_as_bilingual_texts(tmp_path):
    write(tmp_path, "01-a.yaml", section("a", good("a-one") + KEY_POINTS))
    bank = load_bank(tmp_path)
    assert bank.problems == []
    points = bank.question("a-one").key_points
    assert [p.pick("en") for p in points] == ["Point one", "Point two", "Point three"]
    assert points[1]["zh"] == "要点二"


def test_too_few_key_points_name_the_field_and_line(tmp_path):
    two = KEY_POINTS.rsplit("      - ", 1)[0]
    write(tmp_path, "01-a.yaml", section("a", good("a-one") + two, good("a-two")))
    bank = load_bank(tmp_path)
    [problem] = bank.problems
    assert (problem.question_id, problem.field, problem.line) == ("a-one", "key_points", 14)
    assert "at least 3" in problem.message
    assert [q.id for q in bank.questions] == ["a-two"]


def test_key_point_without_english_names_the_item(tmp_path):
    bad = KEY_POINTS.replace("{zh: 要点二, en: Point two}", "{zh: 要点二}")
    write(tmp_path, "01-a.yaml", section("a", good("a-one") + bad))
    [problem] = load_bank(tmp_path).problems
    assert (problem.field, problem.line) == ("key_points.1.en", 16)


def test_follow_ups_across_files_resolve_after_all_files_load(tmp_path):
    write(tmp_path, "01-a.yaml", section("a", with_fields("a-one", "follow_ups: [b-one]\n")))
    write(tmp_path, "02-b.yaml", section("b", good("b-one")))
    bank = load_bank(tmp_path)
    assert bank.problems == []
    assert bank.question("a-one").follow_ups == ["b-one"]


def test_unknown_follow_up_names_file_line_question_and_field_and_the_rest_loads(tmp_path):
    extra = "follow_ups:\n  - a-two\n  - no-such-question\n"
    path = write(tmp_path, "01-a.yaml", section("a", with_fields("a-one", extra), good("a-two")))
    bank = load_bank(tmp_path)
    [problem] = bank.problems
    assert (problem.file, problem.line) == (str(path), 16)
    assert (problem.question_id, problem.field) == ("a-one", "follow_ups")
    assert "unknown question id 'no-such-question'" in problem.message
    assert [q.id for q in bank.questions] == ["a-one", "a-two"]
    assert bank.question("a-one").follow_ups == ["a-two"]


def test_loading_one_file_accepts_follow_ups_into_the_files_beside_it(tmp_path):
    path = write(tmp_path, "01-a.yaml", section("a", with_fields("a-one", "follow_ups: [b-one]\n")))
    write(tmp_path, "02-b.yaml", section("b", good("b-one")))
    bank = load_bank(path)
    assert bank.problems == [] and bank.question("a-one").follow_ups == ["b-one"]
    bad = write(tmp_path, "03-c.yaml", section("c", with_fields("c-one", "follow_ups: [zz-no]\n")))
    assert [p.message for p in load_bank(bad).problems] == ["unknown question id 'zz-no'"]


def test_a_question_cannot_follow_itself(tmp_path):
    write(tmp_path, "01-a.yaml", section("a", with_fields("a-one", "follow_ups: [a-one]\n")))
    [problem] = load_bank(tmp_path).problems
    assert problem.field == "follow_ups" and "itself" in problem.message


def test_alias_opens_the_kept_question_and_maps_old_to_new(tmp_path):
    write(tmp_path, "01-a.yaml", section("a", with_fields("a-kept", "aliases: [b-old]\n")))
    write(tmp_path, "02-b.yaml", section("b", good("b-one")))
    bank = load_bank(tmp_path)
    assert bank.problems == []
    assert bank.question("b-old").id == "a-kept"
    assert bank.section_of("b-old").id == "a"
    assert bank.canonical_id("b-old") == "a-kept" and bank.canonical_id("b-one") == "b-one"
    assert bank.aliases == {"b-old": "a-kept"} == moved_ids(bank)
    assert bank.question("never-was") is None
    assert [q.id for q in bank.questions] == ["a-kept", "b-one"]


def test_alias_equal_to_a_live_id_is_refused(tmp_path):
    write(tmp_path, "01-a.yaml", section("a", with_fields("a-one", "aliases: [a-two]\n"),
                                         good("a-two")))
    bank = load_bank(tmp_path)
    [problem] = bank.problems
    assert (problem.question_id, problem.field, problem.line) == ("a-one", "aliases", 14)
    assert "live question" in problem.message
    assert bank.aliases == {} and bank.question("a-two").id == "a-two"


def test_alias_claimed_by_two_questions_is_refused_the_second_time(tmp_path):
    write(tmp_path, "01-a.yaml", section("a", with_fields("a-one", "aliases: [old]\n"),
                                         with_fields("a-two", "aliases: [old]\n")))
    bank = load_bank(tmp_path)
    [problem] = bank.problems
    assert problem.question_id == "a-two" and "already an alias of 'a-one'" in problem.message
    assert bank.aliases == {"old": "a-one"}


def test_follow_up_naming_an_alias_says_which_id_to_use(tmp_path):
    write(tmp_path, "01-a.yaml", section("a", with_fields("a-kept", "aliases: [a-old]\n"),
                                         with_fields("a-two", "follow_ups: [a-old]\n")))
    [problem] = load_bank(tmp_path).problems
    assert problem.question_id == "a-two" and "use that id" in problem.message
    assert "'a-kept'" in problem.message


def test_lab_preset_is_a_flat_mapping_of_scalars(tmp_path):
    ok = with_fields("a-one", "lab: {module: sdpa, mask: padding, pad: 2, rope: true}\n")
    nested = with_fields("a-two", "lab: {module: sdpa, mask: {kind: padding}}\n")
    write(tmp_path, "01-a.yaml", section("a", ok, nested))
    bank = load_bank(tmp_path)
    [problem] = bank.problems
    assert (problem.question_id, problem.field, problem.line) == ("a-two", "lab", 24)
    assert "`mask` must be one value" in problem.message
    assert bank.question("a-one").lab_params() == {
        "module": "sdpa", "mask": "padding", "pad": "2", "rope": "1"
    }


def test_without_a_preset_the_lab_link_uses_the_module(tmp_path):
    write(tmp_path, "01-a.yaml", section("a", with_fields("a-one", "module: MultiHeadAttention\n"),
                                         good("a-two")))
    bank = load_bank(tmp_path)
    assert bank.question("a-one").lab_params() == {"module": "MultiHeadAttention"}
    assert bank.question("a-two").lab_params() == {}


def test_lab_presets_are_checked_against_the_lab(tmp_path, capsys):
    bad = with_fields("a-one", "lab: {module: warp_drive, heads: 2}\n")
    no_module = with_fields("a-two", "lab: {heads: 2}\n")
    path = write(tmp_path, "01-a.yaml", section("a", bad, no_module))
    bank = load_bank(tmp_path)
    assert bank.problems == []  # loading does not import the Lab
    problems = lab_preset_problems(bank)
    assert [(p.question_id, p.field, p.line) for p in problems] == [
        ("a-one", "lab", 14), ("a-two", "lab", 24)
    ]
    assert "warp_drive" in problems[0].message
    assert preset_problems({"module": "sliding_window", "mask": "sliding", "window": 4}) == []
    assert main(["validate", str(path), "--no-run"]) == 1
    assert f"{path}:14: question 'a-one': field 'lab'" in capsys.readouterr().err


NUMERIC = """\
    numeric:
      function: alibi_slope
      params:
        heads: {choices: [8, 12]}
        head: {min: 1, max: 4}
      unit: {zh: 无, en: none}
      tolerance: 0.01
"""


def numeric_question(qid: str, spec: str = NUMERIC, text: str = "第 {head} 头，共 {heads} 头？",
                     en: str = "Head {head} of {heads}?") -> str:
    q = good(qid).replace("type: concept", "type: numeric")
    q = q.replace("{zh: 问题？, en: Question?}", f'{{zh: "{text}", en: "{en}"}}')
    return q + spec


def test_numeric_question_loads_draws_and_grades(tmp_path):
    write(tmp_path, "01-a.yaml", section("a", numeric_question("a-one")))
    bank = load_bank(tmp_path)
    assert bank.problems == []
    instance = numeric.draw(bank.question("a-one"), random.Random(1))
    heads, head = instance.params["heads"], instance.params["head"]
    assert instance.question.en == f"Head {head} of {heads}?"
    assert numeric.grade(instance, instance.answer * 1.005)
    assert not numeric.grade(instance, instance.answer * 1.02)


def numeric_problems(tmp_path, question: str) -> list:
    write(tmp_path, "01-a.yaml", section("a", question, good("a-two")))
    bank = load_bank(tmp_path)
    assert [q.id for q in bank.questions] == ["a-two"]  # the broken one is left out
    return [(p.question_id, p.field, p.message) for p in bank.problems]


def test_numeric_unknown_function(tmp_path):
    spec = NUMERIC.replace("alibi_slope", "rm_rf")
    [(qid, field, message)] = numeric_problems(tmp_path, numeric_question("a-one", spec))
    assert (qid, field) == ("a-one", "numeric.function")
    assert "unknown function 'rm_rf'" in message and "kv_cache_gib" in message


def test_numeric_params_must_match_the_function(tmp_path):
    spec = NUMERIC.replace("head: {min: 1, max: 4}", "layer: {min: 1, max: 4}")
    [(_, field, message)] = numeric_problems(
        tmp_path, numeric_question("a-one", spec, "{layer} {heads}", "{layer} {heads}"))
    assert field == "numeric.params"
    assert "missing: head" in message and "unknown: layer" in message


def test_numeric_placeholders_in_both_languages(tmp_path):
    found = numeric_problems(tmp_path, numeric_question("a-one", text="共 {heads} 头？",
                                                        en="Head {head} of {heads} ({layers})?"))
    assert ("a-one", "question.zh", "parameter 'head' is not shown as {head}") in found
    assert ("a-one", "question.en", "placeholder {layers} is not a parameter") in found


def test_numeric_function_must_run_on_the_extreme_draws(tmp_path):
    spec = NUMERIC.replace("head: {min: 1, max: 4}", "head: {min: 1, max: 9}")
    [(_, field, message)] = numeric_problems(tmp_path, numeric_question("a-one", spec))
    assert field == "numeric" and "raised ValueError" in message and "head=9" in message


def test_numeric_tolerance_must_be_positive(tmp_path):
    spec = NUMERIC.replace("tolerance: 0.01", "tolerance: 0")
    [(_, field, message)] = numeric_problems(tmp_path, numeric_question("a-one", spec))
    assert field == "numeric.tolerance" and "greater than 0" in message


def test_numeric_param_needs_choices_or_a_range(tmp_path):
    spec = NUMERIC.replace("head: {min: 1, max: 4}", "head: {min: 5, max: 4}")
    [(_, field, message)] = numeric_problems(tmp_path, numeric_question("a-one", spec))
    assert field == "numeric.params.head" and "min <= max" in message


def test_numeric_block_and_type_go_together(tmp_path):
    no_block = good("a-one").replace("type: concept", "type: numeric")
    assert numeric_problems(tmp_path, no_block)[0][1:] == (
        "numeric", "a `type: numeric` question needs a `numeric` block")
    no_type = good("a-one") + NUMERIC
    assert "needs `type: numeric`" in numeric_problems(tmp_path, no_type)[0][2]
