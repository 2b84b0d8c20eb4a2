"""Every Practice exercise: the reference passes; typical wrong solutions fail, pointedly.

Each wrong solution is the exercise's own reference with one classic mistake edited in (missing
scale, the opposite mask convention, softmax over the wrong axis, a missing transpose, tiling
instead of repeat_interleave, a top-left causal mask on a decoding step, ...). The reference
solutions go through the real judge (child processes, two at a time); the wrong solutions and the
starters run through the same hidden tests in this process (``_judge_here``), which keeps the file
fast: the judge's isolation has its own tests in test_judge.py.
"""

from __future__ import annotations

import importlib.util
import traceback
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import pytest
import torch
import torch.nn.functional as F
from wrong_solutions_v2 import WRONG_V2

from prep import judge
from prep.bank import load_bank
from prep.exercises import EXERCISES_DIR, for_question, harness, load_exercises, parse, problems
from prep.i18n import Text
from prep.settings import content_dir

LIMITS = judge.Limits(time_s=10.0)   # generous: CI is shared; timeouts are tested in test_judge
MIN_EXERCISES = 10


def _edit(exercise_id: str, *replacements: tuple[str, str]) -> str:
    """The reference solution with text replaced; each replacement must apply."""
    code = next(e for e in load_exercises() if e.id == exercise_id).solution
    for old, new in replacements:
        assert old in code, f"{exercise_id}: {old!r} not in the reference"
        code = code.replace(old, new)
    return code


# (exercise id, label, code, expected verdict, substring expected in a failing test's message)
WRONG = [
    ("sdpa-masked", "missing scale",
     [("scores = query @ key.transpose(-2, -1) * scale", "scores = query @ key.transpose(-2, -1)")],
     "Missing scale"),
    ("sdpa-masked", "opposite mask convention",
     [("masked_fill(~attn_mask", "masked_fill(attn_mask")], "opposite mask convention"),
    ("sdpa-masked", "softmax over the wrong axis",
     [("torch.softmax(scores, dim=-1)", "torch.softmax(scores, dim=-2)")],
     "softmax over the wrong axis"),
    ("sdpa-masked", "NaN on a fully masked row",
     [("weights = torch.nan_to_num(weights, nan=0.0)", "pass")], "all masked"),
    ("multihead-self", "heads split without transpose",
     [("t.view(B, L, num_heads, head_dim).transpose(1, 2)", "t.view(B, num_heads, L, head_dim)")],
     "without a transpose"),
    ("multihead-self", "scaled by embed_dim",
     [("/ math.sqrt(head_dim)", "/ math.sqrt(E)")], "wrong size"),
    ("cross-attention", "missing scale",
     [("/ math.sqrt(head_dim), dim=-1)", ", dim=-1)")], "Missing scale"),
    ("cross-attention", "scaled by embed_dim",
     [("/ math.sqrt(head_dim), dim=-1)", "/ math.sqrt(E), dim=-1)")], "wrong size"),
    ("cross-attention", "key reshaped with the query length (the seed's kind of crash)",
     [("(key @ w_k.T + b_k).view(B, S,", "(key @ w_k.T + b_k).view(B, L,")],
     "is invalid for input of size"),
    ("causal-mask", "upper triangle",
     [("torch.ones(L, S, dtype=torch.bool).tril()", "torch.ones(L, S, dtype=torch.bool).triu()")],
     "wrong triangle"),
    ("causal-mask", "diagonal excluded",
     [(".tril()", ".tril(diagonal=-1)")], "diagonal is excluded"),
    ("causal-mask", "opposite mask convention in attention",
     [("masked_fill(~causal_mask(L)", "masked_fill(causal_mask(L)")], "opposite mask convention"),
    ("padding-mask", "inverted mask",
     [("[None, :] < lengths[:, None]", "[None, :] >= lengths[:, None]")],
     "opposite mask convention"),
    ("padding-mask", "shape (B, S)", [("return keep[:, None, None, :]", "return keep")],
     "(B, 1, 1, S)"),
    ("padding-mask", "off by one",
     [("[None, :] < lengths[:, None]", "[None, :] <= lengths[:, None]")],
     "Off by one"),
    ("gqa", "tiled heads",
     [("return x[:, :, None].expand(B, Hkv, n_rep, S, D).reshape(B, Hkv * n_rep, S, D)",
       "return x.repeat(1, n_rep, 1, 1)")], "wrong order"),
    ("gqa", "missing scale",
     [("/ math.sqrt(query.shape[-1])", "")], "Missing scale"),
    ("kv-cache", "top-left causal mask on a decoding step",
     [(".tril(diagonal=S - T)", ".tril()")], "aligned wrongly"),
    ("kv-cache", "cache not used",
     [("keys, values = cache.append(key, value)",
       "cache.append(key, value)\n    keys, values = key, value")], "cache was not used"),
    ("tiled", "no rescaling when the max grows",
     [("correction = torch.exp(row_max - new_max)", "correction = torch.ones_like(row_max)")],
     "Not rescaled"),
    ("tiled", "no max subtraction (overflow)",
     [("p = torch.exp(scores - new_max)", "p = torch.exp(scores)"),
      ("correction = torch.exp(row_max - new_max)", "correction = torch.ones_like(row_max)")],
     "overflow"),
    ("tiled", "builds the full score matrix",
     [("for start in range(0, key.shape[-2], block_size):",
       "full = query @ key.transpose(-2, -1)\n    for start in range(0, key.shape[-2], "
       "block_size):")],
     "full"),
    ("sinusoidal", "sin and cos as halves",
     [("pe[:, 0::2] = torch.sin(angle)\n    pe[:, 1::2] = torch.cos(angle)",
       "pe = torch.cat([torch.sin(angle), torch.cos(angle)], dim=-1)")], "concatenated as halves"),
    ("sinusoidal", "exponent i/D",
     [("(two_i / D)", "(two_i / 2 / D)")], "Wrong frequency exponent"),
    ("rope", "interleaved pairing",
     [("x1, x2 = x[..., : D // 2], x[..., D // 2:]", "x1, x2 = x[..., 0::2], x[..., 1::2]"),
      ("return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)",
       "return torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).flatten(-2)")],
     "wrong pairing"),
    ("rope", "rotated the wrong way",
     [("[x1 * cos - x2 * sin, x1 * sin + x2 * "
       "cos]", "[x1 * cos + x2 * sin, -x1 * sin + x2 * cos]")],
     "wrong way"),
    ("sliding-window", "off by one", [("(offset < window)", "(offset <= window)")], "Off by one"),
    ("sliding-window", "two-sided window",
     [("keep = (offset >= 0) & (offset < window)", "keep = offset.abs() < window")], "two-sided"),
    ("visualize", "row 0 at the bottom", [(',\n                     autorange="reversed")', ")")],
     "on top"),
    ("visualize", "repeated tokens as categories",
     [("x=list(range(S)), y=list(range(L))", "x=list(key_tokens), y=list(query_tokens)"),
      ("tickvals=list(range(S)), ticktext=list(key_tokens)", ""),
      ("tickvals=list(range(L)), ticktext=list(query_tokens),", "")],
     "repeated tokens"),
    ("visualize", "the seed's set_ylim crop",
     [('autorange="reversed")', 'range=[0.5, -0.5])')], "only some rows"),
]
WRONG += WRONG_V2    # the 2026 mechanisms and the NumPy drills (tests/wrong_solutions_v2.py)


def _first_wrong(exercise_id: str) -> tuple:
    return next(w for w in WRONG if w[0] == exercise_id)


@pytest.fixture(scope="module")
def reference_reports():
    """Per exercise, the reference and its first wrong solution, judged in child processes two
    at a time: keyed by (exercise id, "reference" or "wrong")."""
    jobs = {}
    for e in load_exercises():
        jobs[(e.id, "reference")] = (e.solution, e.tests_path)
        _, _, replacements, _ = _first_wrong(e.id)
        jobs[(e.id, "wrong")] = (_edit(e.id, *replacements), e.tests_path)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {key: pool.submit(judge.judge, code, path, LIMITS, enabled=True)
                   for key, (code, path) in jobs.items()}
        return {key: future.result() for key, future in futures.items()}


@cache
def _tests_module(exercise_id: str):
    exercise = next(e for e in load_exercises() if e.id == exercise_id)
    spec = importlib.util.spec_from_file_location(f"_tests_{exercise.tests_path.stem}",
                                                  exercise.tests_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _judge_here(exercise_id: str, code: str) -> list[dict]:
    """Run the exercise's hidden tests on ``code`` in this process (trusted code only)."""
    namespace: dict = {"__name__": "__learner__"}
    exec(compile(code, judge.LEARNER_FILENAME, "exec"), namespace)

    def describe(exc: BaseException):
        text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return {"zh": text, "en": text}, False

    module = _tests_module(exercise_id)
    return [harness.run_case(c, namespace, describe) for c in harness.collect_cases(module)]


def test_at_least_ten_exercises_with_statement_hints_and_bank_link():
    exercises = load_exercises()
    assert len(exercises) >= MIN_EXERCISES
    assert len({e.id for e in exercises}) == len(exercises)
    bank = load_bank(content_dir())
    for exercise in exercises:
        assert exercise.statement["zh"].strip() and exercise.statement["en"].strip()
        assert exercise.title["zh"] and exercise.title["en"]
        assert exercise.hints and all(h["zh"] and h["en"] for h in exercise.hints)
        assert "raise NotImplementedError" in exercise.starter
        question = bank.question(exercise.bank_id)
        assert question is not None, f"{exercise.id}: no bank question {exercise.bank_id}"
        # Coding items first; a mechanism with no coding item yet links to its concept question.
        assert question.type.value in {"coding", "find-the-bug", "concept", "comparison"}


@pytest.mark.parametrize("exercise", load_exercises(), ids=lambda e: e.id)
def test_reference_solution_passes_all_tests(reference_reports, exercise):
    report = reference_reports[(exercise.id, "reference")]
    assert report.verdict == judge.ACCEPTED, [r.message["en"] for r in report.results]
    assert len(report.results) >= 3
    assert all(r.status == judge.PASSED for r in report.results)
    if exercise.heatmap:
        assert any(r.learner_weights and r.reference_weights for r in report.results)


@pytest.mark.parametrize("exercise", load_exercises(), ids=lambda e: e.id)
def test_starter_code_fails_with_not_implemented(exercise):
    results = _judge_here(exercise.id, exercise.starter)
    assert results
    assert all(r["status"] == judge.ERROR for r in results)
    assert all("NotImplementedError" in r["message"]["en"] for r in results)


def test_each_exercise_has_at_least_two_wrong_solutions_covered():
    counts = {e.id: 0 for e in load_exercises()}
    for exercise_id, *_ in WRONG:
        counts[exercise_id] += 1
    assert min(counts.values()) >= 2, counts


@pytest.mark.parametrize(("exercise_id", "label", "replacements", "expected"), WRONG,
                         ids=[f"{w[0]}:{w[1]}" for w in WRONG])
def test_typical_wrong_solution_fails_with_a_pointed_message(exercise_id, label, replacements,
                                                             expected):
    results = _judge_here(exercise_id, _edit(exercise_id, *replacements))
    not_passed = [r for r in results if r["status"] != judge.PASSED]
    assert not_passed, f"{label}: every test passed"
    messages = [r["message"]["en"] for r in not_passed]
    assert any(expected in m for m in messages), messages
    assert all(r["message"]["zh"] for r in not_passed)


@pytest.mark.parametrize("exercise", load_exercises(), ids=lambda e: e.id)
def test_a_wrong_solution_fails_through_the_real_judge(reference_reports, exercise):
    _, label, _, expected = _first_wrong(exercise.id)
    report = reference_reports[(exercise.id, "wrong")]
    assert report.verdict in {judge.WRONG_ANSWER, judge.RUNTIME_ERROR}, label
    assert report.passed < len(report.results)
    assert any(r.message is not None and expected in r.message["en"] for r in report.results), label


def test_reference_attention_matches_torch_including_fully_masked_rows():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, n, 4, generator=g, dtype=torch.float64) for n in (5, 7, 7))
    keep = torch.rand(5, 7, generator=g) > 0.5
    keep[2] = False
    out, weights = harness.reference_attention(q, k, v, keep)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=keep))
    assert torch.all(weights[..., 2, :] == 0)
    torch.testing.assert_close(weights.sum(-1)[..., [0, 1, 3, 4]],
                               torch.ones(2, 3, 4, dtype=torch.float64))


def test_compare_detects_softmax_over_the_wrong_axis_without_running_a_child():
    scores = torch.randn(4, 6, dtype=torch.float64)
    with pytest.raises(harness.Failed, match="wrong axis"):
        harness.compare("权重", "weights", torch.softmax(scores, 0), torch.softmax(scores, -1),
                        weights=True)


def test_compare_points_at_a_missing_transpose():
    expected = torch.zeros(3, 5)
    with pytest.raises(harness.Failed, match="transpose"):
        harness.compare("权重", "weights", torch.zeros(5, 3), expected)


def test_bank_question_leads_to_its_exercise():
    for exercise in load_exercises():   # several exercises may practise one question
        linked = for_question(exercise.bank_id)
        assert linked is not None and linked.bank_id == exercise.bank_id
        assert linked.order <= exercise.order
    assert for_question("no-such-question") is None


def test_every_exercise_file_is_valid():
    assert problems() == ()
    assert len(load_exercises()) == len(list(EXERCISES_DIR.glob("*.yaml")))


def test_unquoted_comma_in_a_flow_mapping_title_is_reported_not_cut(tmp_path):
    # cross_attention.yaml and visualize.yaml had `en: Visualising ... (seed 2.3, fixed)` in a
    # flow mapping: YAML cut the title at the comma and made "fixed)" a key of its own, and the
    # hand-written loader kept the cut title.
    good = (EXERCISES_DIR / "causal_mask.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(good.replace("title: {zh: 因果掩码, en: Causal mask}",
                                "title: {zh: 因果掩码, en: Causal mask (top-left, fixed)}"),
                   encoding="utf-8")
    (tmp_path / "bad.py").write_text("")
    exercise, found = parse(bad)
    assert exercise is None
    assert any(p.file == "bad.yaml" and p.field and p.field.startswith("title") for p in found)
    assert "bad.yaml: field 'title" in str(found[0])


@pytest.mark.parametrize(("edit", "field"), [
    (("difficulty: easy", "difficulty: trivial"), "difficulty"),
    (("title: {zh: 因果掩码, en: Causal mask}", "title: {zh: 因果掩码}"), "title.en"),
    (("order: 4", "order: fourth"), "order"),
    (("id: causal-mask", "id: causal-mask\nsurprise: 1"), "surprise"),
])
def test_a_bad_exercise_file_names_the_file_and_the_field(tmp_path, edit, field):
    good = (EXERCISES_DIR / "causal_mask.yaml").read_text(encoding="utf-8")
    assert edit[0] in good
    bad = tmp_path / "broken.yaml"
    bad.write_text(good.replace(*edit), encoding="utf-8")
    (tmp_path / "broken.py").write_text("")
    exercise, found = parse(bad)
    assert exercise is None and [p.field for p in found] == [field]
    assert str(found[0]).startswith(f"broken.yaml: field '{field}'")


def test_exercise_texts_are_the_one_bilingual_type():
    for exercise in load_exercises():
        assert isinstance(exercise.title, Text) and isinstance(exercise.statement, Text)
        assert all(isinstance(hint, Text) for hint in exercise.hints)
