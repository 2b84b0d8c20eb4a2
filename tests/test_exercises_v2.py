"""The 2026 exercises and the NumPy drills, beyond what test_exercises.py checks for every exercise.

test_exercises.py runs each reference through the real judge and each wrong solution listed in
tests/wrong_solutions_v2.py through the hidden tests. Here: the hidden tests' own float64 formulas
(from which the typical mistakes are built) equal the attention package when no mistake is
switched on, NumPy drills refuse torch, and the stable softmax never overflows.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_exercises import _edit, _judge_here, _tests_module
from wrong_solutions_v2 import WRONG_V2

import attention
from prep import judge
from prep.exercises import load_exercises

NEW_MECHANISMS = {"kv-cache-block", "mla-absorbed", "sink-attention", "block-sparse",
                  "delta-rule", "delta-rule-chunkwise", "differential-attention"}
NUMPY_DRILLS = {"np-self-attention", "np-multihead", "np-kv-cache", "np-softmax", "np-rope"}


def _exercise(exercise_id: str):
    return next(e for e in load_exercises() if e.id == exercise_id)


def test_every_new_exercise_is_loaded_after_the_first_twelve():
    ids = {e.id for e in load_exercises()}
    assert ids >= NEW_MECHANISMS | NUMPY_DRILLS
    new = NEW_MECHANISMS | NUMPY_DRILLS
    last_old = max(e.order for e in load_exercises() if e.id not in new)
    assert all(_exercise(i).order > last_old for i in new)


@pytest.mark.parametrize("exercise_id", sorted(NUMPY_DRILLS))
def test_numpy_drill_reference_has_no_torch_and_a_bare_starter(exercise_id):
    exercise = _exercise(exercise_id)
    assert "torch" not in exercise.solution
    assert "torch" not in exercise.starter
    assert exercise.id.startswith("np-")


@pytest.mark.parametrize("exercise_id", sorted(NUMPY_DRILLS))
def test_numpy_drill_rejects_code_that_imports_torch(exercise_id):
    code = _edit(exercise_id, ("import numpy as np\n", "import numpy as np\nimport torch\n"))
    results = _judge_here(exercise_id, code)
    assert results and all(r["status"] == judge.FAILED for r in results)
    assert all("NumPy only" in r["message"]["en"] for r in results)
    assert all("NumPy" in r["message"]["zh"] for r in results)


def test_numpy_drill_rejects_a_result_that_is_not_an_array():
    code = _edit("np-softmax", ("return exps / exps.sum(axis=axis, keepdims=True)",
                                "return (exps / exps.sum(axis=axis, keepdims=True)).tolist()"))
    results = _judge_here("np-softmax", code)
    assert all(r["status"] == judge.FAILED for r in results)
    assert all("should be a NumPy array" in r["message"]["en"] for r in results)


def test_stable_softmax_reference_never_overflows_nor_divides_by_zero():
    exercise = _exercise("np-softmax")
    with np.errstate(over="raise", invalid="raise", divide="raise"):   # underflow to 0 is fine
        results = _judge_here("np-softmax", exercise.solution)
    assert all(r["status"] == judge.PASSED for r in results), results


def _inputs(seed: int, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_block_sparse_formula_equals_the_package():
    module = _tests_module("block-sparse")
    q, k, v = (_inputs(s, 2, 2, 11, 4) for s in (1, 2, 3))
    for block_size, top_k in [(2, 1), (3, 2), (4, 5)]:
        out, weights = module.formula(q, k, v, block_size, top_k)
        expected = attention.block_sparse_attention(q, k, v, block_size=block_size, top_k=top_k)
        torch.testing.assert_close(out, expected.output)
        torch.testing.assert_close(weights, expected.weights)


@pytest.mark.parametrize("exercise_id", ["delta-rule", "delta-rule-chunkwise"])
def test_delta_rule_formulas_equal_the_package(exercise_id):
    module = _tests_module(exercise_id)
    q, k, v = _inputs(4, 2, 3, 7, 4), _inputs(5, 2, 3, 7, 4), _inputs(6, 2, 3, 7, 3)
    k = torch.nn.functional.normalize(k, dim=-1)
    beta = torch.rand(2, 3, 7, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    expected = attention.delta_rule(q, k, v, beta).output
    if exercise_id == "delta-rule":
        torch.testing.assert_close(module.formula(q, k, v, beta), expected)
    else:
        for chunk_size in (1, 3, 7):
            torch.testing.assert_close(module.formula(q, k, v, beta, chunk_size), expected)


def test_mla_formula_equals_the_package_module_with_absorb():
    module = _tests_module("mla-absorbed")
    g = torch.Generator().manual_seed(8)
    mla = module._module(g)
    x = module.randn(1, 6, module.E, generator=g)
    cache = attention.KVCache()
    with torch.no_grad():
        mla(x[:, :4], kv_cache=cache, is_causal=True)
        expected = mla(x[:, 4:], kv_cache=cache, is_causal=True, absorb=True)
        args = module._inputs(mla, x[:, 4:], torch.arange(4, 6), cache)
    out, weights = module.formula(*args)
    torch.testing.assert_close(out, expected.output.double(), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(weights, expected.weights.double(), atol=1e-5, rtol=1e-5)


def test_numpy_rope_and_multihead_formulas_equal_the_package():
    rope = _tests_module("np-rope")
    x, positions = _inputs(9, 2, 5, 8).numpy(), np.arange(3, 8)
    torch.testing.assert_close(rope.formula(x, positions),
                               attention.positional.apply_rope(torch.from_numpy(x),
                                                               torch.from_numpy(positions)))
    multihead = _tests_module("np-multihead")
    x = _inputs(10, 2, 4, 8).numpy()
    weights = [_inputs(11 + i, 8, 8).numpy() for i in range(4)]
    out, per_head = multihead.formula(x, *weights, 2)
    mha = attention.MultiHeadAttention(8, 2, bias=False).double()
    with torch.no_grad():
        for linear, w in zip((mha.query_linear, mha.key_linear, mha.value_linear, mha.out_linear),
                             weights, strict=True):
            linear.weight.copy_(torch.from_numpy(w).T)
    expected = mha(torch.from_numpy(x))
    torch.testing.assert_close(out, expected.output)
    torch.testing.assert_close(per_head, expected.weights)


@pytest.mark.parametrize("exercise_id", sorted(
    i for i in NEW_MECHANISMS | NUMPY_DRILLS if _exercise(i).heatmap))
def test_a_failing_case_still_sends_both_weight_matrices(exercise_id):
    """The failure view draws the learner's weights beside the reference's."""
    _, _, replacements, _ = next(w for w in WRONG_V2 if w[0] == exercise_id)
    results = _judge_here(exercise_id, _edit(exercise_id, *replacements))
    failed = [r for r in results if r["status"] == judge.FAILED]
    assert failed
    assert any(r["learner_weights"] and r["reference_weights"] for r in failed)
