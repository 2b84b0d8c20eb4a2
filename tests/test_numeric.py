"""Numeric questions: each answer function against an independent computation (tensor sizes of
meta tensors, FLOPs counted by torch, masks counted, parameter tensors summed, RoPE rotations
measured), and the pure draw / grade API."""

from __future__ import annotations

import itertools
import math
import random
import re

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from attention import GroupedQueryAttention, MultiHeadAttention, masks, positional
from prep import numeric, settings
from prep.bank import load_bank
from prep.numeric import formulas

BANK = load_bank(settings.content_dir())
NUMERIC = [q for q in BANK.questions if q.type == "numeric"]
TORCH_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp8": torch.float8_e4m3fn}
GIB = 2**30
DRAWS = 6  # fresh draws per question and test


def draws(question_id: str, count: int = DRAWS) -> list[dict]:
    """Parameter sets drawn from the question's own ranges, fresh each run."""
    rng = random.Random()
    q = BANK.question(question_id)
    return [numeric.draw(q, rng).params for _ in range(count)]


def meta(*shape: int, dtype: str = "fp32") -> torch.Tensor:
    return torch.empty(*shape, dtype=TORCH_DTYPES[dtype], device="meta")


def value(function, **params) -> float:
    return function(**params).value


def test_the_bank_has_at_least_sixteen_numeric_questions_each_with_a_distinct_function_use():
    assert len(NUMERIC) >= 16
    assert {q.numeric.function for q in NUMERIC} == set(numeric.FUNCTIONS)


@pytest.mark.parametrize("qid", ["num-kv-cache-mha", "num-kv-cache-gqa"])
def test_kv_cache_matches_the_bytes_of_the_cache_tensors(qid):
    for p in draws(qid):
        per_layer = 2 * meta(p["batch"], p["kv_heads"], p["seq_len"], p["head_dim"],
                             dtype=p["dtype"]).nbytes  # K and V: (B, G, T, d_h)
        expected = p["layers"] * per_layer / GIB
        assert value(formulas.kv_cache_gib, **p) == pytest.approx(expected, rel=1e-12)


def test_mla_cache_matches_latent_and_rope_key_tensors():
    for p in draws("num-kv-cache-mla"):
        latent = meta(p["batch"], p["seq_len"], p["latent_dim"], dtype=p["dtype"]).nbytes
        rope_key = meta(p["batch"], p["seq_len"], p["rope_dim"], dtype=p["dtype"]).nbytes
        expected = p["layers"] * (latent + rope_key) / GIB
        assert value(formulas.mla_cache_gib, **p) == pytest.approx(expected, rel=1e-12)


def test_mla_ratio_is_the_ratio_of_the_two_caches():
    for p in draws("num-mla-vs-mha-ratio"):
        mha = value(formulas.kv_cache_gib, layers=3, kv_heads=p["heads"], head_dim=p["head_dim"],
                    seq_len=100, batch=2, dtype="bf16")
        mla = value(formulas.mla_cache_gib, layers=3, latent_dim=p["latent_dim"],
                    rope_dim=p["rope_dim"], seq_len=100, batch=2, dtype="bf16")
        assert value(formulas.mla_vs_mha_ratio, **p) == pytest.approx(mha / mla, rel=1e-12)


def test_max_tokens_fit_and_one_more_does_not():
    for p in draws("num-kv-cache-max-tokens"):
        tokens = int(value(formulas.kv_cache_max_tokens, **p))
        assert _cache_bytes(p, tokens) <= p["budget_gib"] * GIB < _cache_bytes(p, tokens + 1)


def _cache_bytes(p: dict, tokens: int) -> int:
    one_layer = 2 * meta(1, p["kv_heads"], tokens, p["head_dim"], dtype=p["dtype"]).nbytes
    return p["layers"] * one_layer


def _counted_flops(fn, *args: torch.Tensor) -> int:
    counter = FlopCounterMode(display=False)
    with counter:
        fn(*args)
    return counter.get_total_flops()


def _attention_core(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> None:
    weights = (q @ k.transpose(-2, -1)).softmax(-1)  # (B, H, L, S)
    weights @ v  # (B, H, L, d_h)


def _decode_step(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> None:
    group = q.size(1) // k.size(1)
    keys = k.float().repeat_interleave(group, dim=1)  # (B, G, T, d_h) -> (B, H, T, d_h)
    values = v.float().repeat_interleave(group, dim=1)
    _attention_core(q, keys, values)


def test_attention_flops_match_torch_flop_counter():
    for p in draws("num-attention-flops"):
        heads = 8
        d_h = p["d_model"] // heads
        q = k = v = meta(1, heads, p["seq_len"], d_h)  # (B, H, n, d_h)
        expected = _counted_flops(_attention_core, q, k, v) / 1e9
        assert value(formulas.attention_core_gflops, **p) == pytest.approx(expected, rel=1e-12)


def test_score_matrix_memory_matches_the_tensor():
    for p in draws("num-score-matrix-memory"):
        scores = meta(p["batch"], p["heads"], p["seq_len"], p["seq_len"], dtype=p["dtype"])
        assert value(formulas.score_matrix_gib, **p) == pytest.approx(scores.nbytes / GIB)


def _window_with_sinks(length: int, window: int, sinks: int) -> torch.Tensor:
    keys = torch.arange(length)
    sink_columns = masks.causal_mask(length) & (keys[None, :] < sinks)  # (L, L)
    return masks.sliding_window_mask(length, window) | sink_columns


def test_keys_seen_count_the_mask_row():
    cases = [{"position": i, "window": w, "sinks": s}
             for i in (0, 1, 3, 4, 5, 9) for w in (1, 3, 4) for s in (0, 1, 2, 6)]
    cases += [p for p in draws("num-window-keys-with-sinks")]
    for p in cases:
        row = _window_with_sinks(p["position"] + 1, p["window"], p["sinks"])[p["position"]]
        assert value(formulas.window_keys_seen, **p) == row.sum().item(), p


def test_window_mask_entries_count_the_mask():
    cases = [{"seq_len": n, "window": w} for n in (1, 5, 9) for w in (1, 4, 9, 12)]
    for p in cases + draws("num-window-mask-entries", 3):
        expected = masks.sliding_window_mask(p["seq_len"], p["window"]).sum().item()
        assert value(formulas.window_mask_entries, **p) == expected, p


def _measured_rope_angle(position: int, pair: int, head_dim: int, base: int) -> float:
    """Rotate a unit vector on ``pair`` with torch RoPE and read its angle with atan2."""
    x = torch.zeros(1, head_dim)
    x[0, pair] = 1.0  # half-split layout: pair i is (i, i + D/2)
    rotated = positional.apply_rope(x, torch.tensor([position]), base=base)[0]
    return math.atan2(rotated[pair + head_dim // 2].item(), rotated[pair].item())


def test_rope_angle_matches_torch_rotation_mod_two_pi():
    for p in draws("num-rope-angle", 12):
        ours = value(formulas.rope_angle, **p)
        measured = _measured_rope_angle(**p)
        difference = math.remainder(ours - measured, 2 * math.pi)
        assert abs(difference) < 2e-3, (p, ours, measured)  # float32 angles up to ~4000 rad


def test_rope_wavelength_is_the_first_full_turn_of_torch_angles():
    for p in draws("num-rope-wavelength", 12):
        per_position = positional.rope_angles(torch.tensor([1.0]), p["head_dim"], p["base"])
        theta = per_position[0, p["pair"]].item()
        wavelength = value(formulas.rope_wavelength, **p)
        assert wavelength == pytest.approx(2 * math.pi / theta, rel=1e-5)
        if wavelength < 1e5:  # the first position past a full turn, found by stepping
            first = next(n for n in range(1, 100_000) if n * theta >= 2 * math.pi)
            assert first == math.ceil(wavelength)


@pytest.mark.parametrize("heads", [1, 2, 3, 5, 6, 8, 12, 16, 20, 24, 32, 48])
def test_alibi_slope_matches_the_package_bias(heads):
    bias = positional.alibi_bias(heads, 2)  # (H, 2, 2): bias[h, 1, 0] = -m_h
    for head in range(1, heads + 1):
        ours = value(formulas.alibi_slope, heads=heads, head=head)
        assert ours == pytest.approx(-bias[head - 1, 1, 0].item(), rel=1e-6)


def test_alibi_slope_rejects_a_head_outside_the_model():
    with pytest.raises(ValueError, match="head"):
        formulas.alibi_slope(heads=4, head=5)


def _moved_by_loops(n: int, d: int, block_rows: int) -> tuple[int, int]:
    """Elements moved to and from HBM, counted operation by operation."""
    standard = 0
    standard += 3 * n * d  # read Q, K, V
    standard += n * n      # write S = QK^T
    standard += n * n      # read S for the softmax
    standard += n * n      # write P
    standard += n * n      # read P for PV
    standard += n * d      # write O
    tiled = 0
    for start in range(0, n, block_rows):
        rows = min(block_rows, n - start)
        tiled += rows * d              # read this Q block
        for _ in range(0, n, block_rows):
            cols = min(block_rows, n - _)
            tiled += 2 * cols * d      # read a K block and a V block
        tiled += rows * d              # write this O block
    return standard, tiled


def test_flash_speedup_matches_bytes_counted_by_loops():
    cases = [{"seq_len": 10, "head_dim": 4, "block_rows": 3}, {"seq_len": 64, "head_dim": 8,
                                                                 "block_rows": 16}]
    for p in cases + draws("num-flash-io-speedup", 3):
        standard, tiled = _moved_by_loops(p["seq_len"], p["head_dim"], p["block_rows"])
        assert value(formulas.flash_io_speedup, **p) == pytest.approx(standard / tiled)


def _parameters(module: torch.nn.Module) -> int:
    return sum(tensor.numel() for tensor in module.parameters())


def test_mha_params_match_the_modules_parameter_tensors():
    for p in draws("num-mha-params"):
        with torch.device("meta"):
            module = MultiHeadAttention(p["d_model"], 8)
        assert value(formulas.mha_params, **p) == _parameters(module)


def test_gqa_savings_match_the_modules_parameter_tensors():
    for p in draws("num-gqa-param-savings"):
        with torch.device("meta"):
            mha = MultiHeadAttention(p["d_model"], p["heads"])
            gqa = GroupedQueryAttention(p["d_model"], p["heads"], p["kv_heads"])
        expected = _parameters(mha) - _parameters(gqa)
        assert value(formulas.gqa_param_savings, **p) == expected


def test_decode_intensity_matches_counted_flops_over_cache_bytes():
    for p in draws("num-decode-attention-intensity"):
        length, d_h = 64, 16
        q = meta(1, p["heads"], 1, d_h)  # (B, H, 1, d_h): the new token
        k = v = meta(1, p["kv_heads"], length, d_h, dtype=p["dtype"])  # (B, G, T, d_h)
        expected = _counted_flops(_decode_step, q, k, v) / (k.nbytes + v.nbytes)
        assert value(formulas.decode_attention_intensity, **p) == pytest.approx(expected)


def test_decode_batch_reaches_the_ridge_point():
    for p in draws("num-decode-batch-for-ridge"):
        d = 256
        weight = meta(d, d, dtype=p["dtype"])
        per_row = _counted_flops(torch.matmul, meta(1, d), weight.float()) / weight.nbytes
        ridge = p["peak_tflops"] / p["bandwidth_tbs"]
        assert value(formulas.decode_batch_for_ridge, **p) == pytest.approx(ridge / per_row)


def test_decode_step_time_reads_weights_and_cache_once():
    for p in draws("num-decode-step-time"):
        weights = meta(p["params_b"], 10**9, dtype=p["dtype"]).nbytes
        cache = meta(p["kv_cache_gib"], GIB, dtype="fp8").nbytes  # GiB of bytes
        seconds = (weights + cache) / (p["bandwidth_tbs"] * 1e12)
        assert value(formulas.decode_step_ms, **p) == pytest.approx(seconds * 1e3)


# -- draw and grade --------------------------------------------------------------------------


@pytest.mark.parametrize("question", NUMERIC, ids=[q.id for q in NUMERIC])
def test_draw_fills_every_placeholder_and_stays_in_range(question):
    rng = random.Random(7)
    for _ in range(20):
        instance = numeric.draw(question, rng)
        for lang in ("zh", "en"):
            for name in question.numeric.params:
                assert "{" + name + "}" not in instance.question[lang]
        for name, spec in question.numeric.params.items():
            drawn = instance.params[name]
            if spec.choices is not None:
                assert drawn in spec.choices
            else:
                assert spec.min <= drawn <= spec.max
        assert math.isfinite(instance.answer) and instance.steps
        assert instance.tolerance == question.numeric.tolerance
        assert numeric.grade(instance, instance.answer)


@pytest.mark.parametrize("question", NUMERIC, ids=[q.id for q in NUMERIC])
def test_every_combination_of_parameters_has_a_finite_answer(question):
    """Every choice and both ends of each range (long ranges: a few values between)."""
    rng = random.Random(11)
    axes = []
    for spec in question.numeric.params.values():
        values = numeric.core.param_values(spec)
        if len(values) > 8:
            values = [values[0], values[-1], *rng.sample(values[1:-1], 4)]
        axes.append(values)
    names = list(question.numeric.params)
    function = numeric.FUNCTIONS[question.numeric.function]
    for combination in itertools.product(*axes):
        solution = function(**dict(zip(names, combination, strict=True)))
        assert math.isfinite(solution.value) and solution.value >= 0, combination


def test_draws_differ_between_calls_and_repeat_with_the_same_seed():
    q = BANK.question("num-kv-cache-gqa")
    first = [numeric.draw(q, random.Random(3)).params for _ in range(2)]
    assert first[0] == first[1]
    rng = random.Random(4)
    assert len({tuple(numeric.draw(q, rng).params.items()) for _ in range(30)}) > 5


def test_grade_uses_relative_tolerance():
    q = BANK.question("num-mha-params")
    instance = numeric.draw(q, random.Random(0))
    x, tol = instance.answer, instance.tolerance
    assert numeric.grade(instance, x * (1 + 0.9 * tol))
    assert numeric.grade(instance, x * (1 - 0.9 * tol))
    assert not numeric.grade(instance, x * (1 + 1.5 * tol))
    assert not numeric.grade(instance, float("nan"))
    assert not numeric.grade(instance, float("inf"))
    assert not numeric.grade(instance, "twelve")


def test_draw_refuses_a_question_that_is_not_numeric():
    with pytest.raises(ValueError, match="numeric"):
        numeric.draw(BANK.question("num-kv-cache-mha").model_copy(update={"numeric": None}),
                     random.Random(0))


def test_template_shows_each_parameter_as_its_range():
    q = BANK.question("num-kv-cache-mha")
    shown = numeric.template(q)
    assert "fp32 / bf16 / fp8" in shown.en and "fp32 / bf16 / fp8" in shown.zh
    assert "batch 1–16" in shown.en
    assert "{" not in re.sub(r"\\text\{[^}]*\}", "", shown.en).replace("{KV}", "")


def test_score_matrix_steps_name_what_the_bytes_multiply():
    """Bug (qa): the second worked step began with a bare "× 4 bytes = ...", a list item with
    no left-hand side; it now names the entry count it multiplies."""
    steps = formulas.score_matrix_gib(seq_len=4096, heads=16, batch=1, dtype="fp32").steps
    assert steps[1].en.startswith(f"{1 * 16 * 4096**2:,} entries × 4 bytes"), steps[1].en
    assert steps[1].zh.startswith(f"{1 * 16 * 4096**2:,} 个元素 × 4 字节"), steps[1].zh


def test_template_inside_a_formula_does_not_read_as_a_fraction():
    """Bug (qa): "$D={head_dim}$" became "$D=64 / 128$", which KaTeX draws as the fraction
    64/128; inside a formula the choices are joined by a word, in the page's language."""
    shown = numeric.template(BANK.question("num-rope-angle"))
    assert r"$D=64\text{ or }128$" in shown.en, shown.en
    assert r"$D=64\text{ 或 }128$" in shown.zh, shown.zh
    assert "base 10000 / 500000" in shown.en  # outside a formula: unchanged
