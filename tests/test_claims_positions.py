"""Claims of `content/04-positions.yaml`, checked against torch, float64 references and HF
transformers (LLaMA RoPE, BLOOM ALiBi, T5 buckets, YaRN).

Checked claims (question id: claim):
- fund-permutation-equivariance (alias pos-permutation-equivariance): without positions,
  self-attention (nn.MultiheadAttention) gives
  Attn(PX) = P Attn(X); a causal mask breaks this.
- pos-sinusoidal-encoding: wavelengths run geometrically from 2*pi to 10000 * 2*pi; values lie
  in [-1, 1].
- pos-sinusoidal-relative-offset: one fixed matrix M_k maps PE(pos) to PE(pos + k) for every pos
  (fitted by least squares on some positions, it holds on positions never fitted);
  PE(pos) . PE(pos + k) = sum_i cos(k w_i) depends only on k and is symmetric in k.
- pos-rope-rotation: HF LLaMA's rotate_half RoPE pairs dimension i with i + d/2 (equals a complex
  rotation of that pairing); q_m . k_n depends only on m - n; norms are preserved; RoFormer's
  long-range-decay bound shrinks with distance but not monotonically.
- pos-rope-layout-bug: the interleaved (RoFormer / Meta) and half-split (HF) layouts give the
  same scores once W_Q and W_K rows are permuted per head as HF's conversion does; unpermuted
  they differ.
- pos-alibi-slopes: slopes are 1/2 .. 1/256 for 8 heads, 2^-0.5 .. 2^-8 for 16, and for 12 heads
  the 8-head slopes plus every other 16-head slope (equal to BLOOM's build_alibi_tensor); the
  -m (i - j) and m j forms give the same attention.
- pos-relative-shaw-xl-t5: T5's buckets (32, max_distance 128): distances 0-7 exact per direction,
  the two directions in separate halves, distances >= 128 share the last bucket; the causal
  decoder's first 16 buckets are exact.
- pos-length-extrapolation: the NTK base s^(d/(d-2)) keeps the fastest frequency and divides the
  slowest by s; HF's YaRN leaves dimensions with L / wavelength > 32 unchanged, divides those with
  L / wavelength < 1 by s, and uses sqrt(1/t) = 0.1 ln s + 1.
- pos-nope: with a causal mask, uniform attention over a BOS indicator yields 1 / (i + 1);
  without a mask every position gets the same value.
- pos-2d-images: the dot product of 2-D sin-cos embeddings depends only on (dy, dx).
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from bank_text import bank, question_text

SEED = 0
BASE = 10000.0


def _sinusoidal(positions: torch.Tensor, d: int) -> torch.Tensor:
    freq = BASE ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    angles = positions[:, None].double() * freq
    pe = torch.empty(len(positions), d, dtype=torch.float64)
    pe[:, 0::2], pe[:, 1::2] = angles.sin(), angles.cos()
    return pe


def _inv_freq(d: int, base: float = BASE) -> torch.Tensor:
    return base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)


def test_self_attention_without_positions_is_permutation_equivariant():
    torch.manual_seed(SEED)
    mha = nn.MultiheadAttention(16, 4, batch_first=True)
    x = torch.randn(1, 9, 16)
    perm = torch.randperm(9)
    out, _ = mha(x, x, x, need_weights=False)
    out_permuted, _ = mha(x[:, perm], x[:, perm], x[:, perm], need_weights=False)
    torch.testing.assert_close(out_permuted, out[:, perm])


def test_causal_mask_breaks_permutation_equivariance():
    torch.manual_seed(SEED)
    q, k, v = (torch.randn(1, 1, 9, 8) for _ in range(3))
    perm = torch.randperm(9)

    def attend(idx):
        return F.scaled_dot_product_attention(q[..., idx, :], k[..., idx, :], v[..., idx, :],
                                              is_causal=True)

    assert not torch.allclose(attend(perm), attend(torch.arange(9))[..., perm, :])


def test_sinusoidal_wavelengths_and_range():
    d = 512
    wavelengths = 2 * math.pi / _inv_freq(d)
    torch.testing.assert_close(wavelengths[0], torch.tensor(2 * math.pi, dtype=torch.float64))
    ratios = wavelengths[1:] / wavelengths[:-1]
    torch.testing.assert_close(ratios, torch.full_like(ratios, BASE ** (2 / d)))
    assert wavelengths[-1] < BASE * 2 * math.pi < wavelengths[-1] * BASE ** (2 / d)
    pe = _sinusoidal(torch.arange(2000), d)
    assert pe.abs().max() <= 1.0


@pytest.mark.parametrize("k", [1, 5, 37])
def test_sinusoidal_shift_is_one_fixed_linear_map(k):
    d = 16
    # Least squares: the M with PE(pos) M^T = PE(pos + k) on 64 positions spread over 0..10000
    # (wide enough for the slowest frequency to turn), then used on positions never fitted.
    fit = torch.arange(0, 10_000, 157)
    m_t = torch.linalg.lstsq(_sinusoidal(fit, d), _sinusoidal(fit + k, d)).solution
    unseen = torch.arange(20_001, 20_101)
    torch.testing.assert_close(_sinusoidal(unseen, d) @ m_t, _sinusoidal(unseen + k, d))


def test_sinusoidal_dot_product_depends_only_on_offset_and_is_symmetric():
    d = 32
    positions = torch.arange(50, 150)
    for k in (1, 4, 20):
        forward = (_sinusoidal(positions, d) * _sinusoidal(positions + k, d)).sum(-1)
        backward = (_sinusoidal(positions, d) * _sinusoidal(positions - k, d)).sum(-1)
        expected = torch.cos(k * _inv_freq(d)).sum()
        torch.testing.assert_close(forward, expected.expand(100))
        torch.testing.assert_close(backward, forward)


def _hf_rope(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """HF LLaMA's apply_rotary_pos_emb on x: (1, 1, L, D)."""
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    angles = positions[:, None].double() * _inv_freq(x.shape[-1])
    emb = torch.cat((angles, angles), dim=-1)[None]  # (1, L, D)
    rotated, _ = apply_rotary_pos_emb(x, x, emb.cos(), emb.sin())
    return rotated


def test_hf_rotate_half_pairs_dimension_i_with_i_plus_half():
    torch.manual_seed(SEED)
    d, length = 16, 10
    x = torch.randn(1, 1, length, d, dtype=torch.float64)
    positions = torch.arange(length)
    z = torch.complex(x[..., : d // 2], x[..., d // 2:])
    rot = torch.polar(torch.ones(length, d // 2, dtype=torch.float64),
                      positions[:, None].double() * _inv_freq(d))
    rotated = z * rot
    expected = torch.cat((rotated.real, rotated.imag), dim=-1)
    torch.testing.assert_close(_hf_rope(x, positions), expected)


def test_rope_score_depends_only_on_relative_position_and_keeps_norms():
    torch.manual_seed(SEED)
    d, length = 32, 12
    q = torch.randn(1, 1, length, d, dtype=torch.float64)
    k = torch.randn(1, 1, length, d, dtype=torch.float64)
    positions = torch.arange(length)
    scores = _hf_rope(q, positions) @ _hf_rope(k, positions).transpose(-2, -1)
    for shift in (1, 17, 1000):
        shifted = _hf_rope(q, positions + shift) @ _hf_rope(k, positions + shift).transpose(-2, -1)
        torch.testing.assert_close(shifted, scores)
    torch.testing.assert_close(_hf_rope(q, positions).norm(dim=-1), q.norm(dim=-1))


def _roformer_decay_bound(distance: int, d: int = 128) -> float:
    """RoFormer's bound (Sec. 3.4.3): mean_j |S_j|, S_j = sum_{i<j} exp(i * distance * theta_i)."""
    theta = _inv_freq(d).to(torch.complex128)
    partial_sums = torch.cumsum(torch.exp(1j * distance * theta), dim=0)
    return float(partial_sums.abs().mean())


def test_rope_long_range_decay_bound_shrinks_but_not_monotonically():
    coarse = [_roformer_decay_bound(r) for r in (1, 16, 256, 1024)]
    assert coarse == sorted(coarse, reverse=True)
    assert _roformer_decay_bound(4096) > _roformer_decay_bound(1024)  # oscillates


def _rope_interleaved(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """Meta LLaMA / RoFormer layout: (x0, x1), (x2, x3), ... as complex numbers."""
    d = x.shape[-1]
    z = torch.view_as_complex(x.reshape(*x.shape[:-1], d // 2, 2).contiguous())
    rot = torch.polar(torch.ones(len(positions), d // 2, dtype=torch.float64),
                      positions[:, None].double() * _inv_freq(d))
    return torch.view_as_real(z * rot).flatten(-2)


def _hf_permute(w: torch.Tensor, heads: int) -> torch.Tensor:
    """HF's convert_llama_weights_to_hf permutation of W_Q / W_K rows."""
    out_dim, in_dim = w.shape
    return w.view(heads, out_dim // heads // 2, 2, in_dim).transpose(1, 2).reshape(out_dim, in_dim)


def test_rope_layouts_agree_after_hf_weight_permutation():
    torch.manual_seed(SEED)
    heads, head_dim, d_model, length = 2, 8, 12, 9
    x = torch.randn(length, d_model, dtype=torch.float64)
    w_q = torch.randn(heads * head_dim, d_model, dtype=torch.float64)
    w_k = torch.randn(heads * head_dim, d_model, dtype=torch.float64)
    positions = torch.arange(length)

    def per_head(w):  # (1, H, L, Dh)
        return (x @ w.T).view(length, heads, head_dim).transpose(0, 1)[None]

    meta = _rope_interleaved(per_head(w_q), positions) @ _rope_interleaved(
        per_head(w_k), positions).transpose(-2, -1)
    converted = _hf_rope_heads(per_head(_hf_permute(w_q, heads)), positions) @ _hf_rope_heads(
        per_head(_hf_permute(w_k, heads)), positions).transpose(-2, -1)
    unconverted = _hf_rope_heads(per_head(w_q), positions) @ _hf_rope_heads(
        per_head(w_k), positions).transpose(-2, -1)
    torch.testing.assert_close(converted, meta)
    assert not torch.allclose(unconverted, meta)


def _hf_rope_heads(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    angles = positions[:, None].double() * _inv_freq(x.shape[-1])
    emb = torch.cat((angles, angles), dim=-1)[None]
    return apply_rotary_pos_emb(x, x, emb.cos(), emb.sin())[0]


def _alibi_slopes(n: int) -> list[float]:
    def power_of_two(m):
        return [2 ** (-8 * h / m) for h in range(1, m + 1)]

    if math.log2(n).is_integer():
        return power_of_two(n)
    closest = 2 ** math.floor(math.log2(n))
    return power_of_two(closest) + power_of_two(2 * closest)[0::2][: n - closest]


def test_alibi_slopes_for_8_and_16_heads():
    assert _alibi_slopes(8) == [1 / 2**h for h in range(1, 9)]
    torch.testing.assert_close(torch.tensor(_alibi_slopes(16)),
                               torch.tensor([2 ** (-h / 2) for h in range(1, 17)]))


def test_alibi_slopes_for_12_heads_follow_the_non_power_of_two_recipe():
    expected = [2.0**-h for h in range(1, 9)] + [2.0 ** -(h + 0.5) for h in range(4)]
    torch.testing.assert_close(torch.tensor(_alibi_slopes(12)), torch.tensor(expected))


@pytest.mark.parametrize("heads", [8, 12, 16, 6])
def test_alibi_slopes_equal_bloom(heads):
    from transformers.models.bloom.modeling_bloom import build_alibi_tensor

    mask = torch.ones(1, 4)
    alibi = build_alibi_tensor(mask, heads, torch.float64)  # (H, 1, 4): slope * key position
    expected = torch.tensor(_alibi_slopes(heads), dtype=torch.float64)
    torch.testing.assert_close(alibi[:, 0, 1], expected)


def test_alibi_distance_form_and_bloom_form_give_the_same_attention():
    torch.manual_seed(SEED)
    heads, length = 8, 9
    slopes = torch.tensor(_alibi_slopes(heads))[:, None, None]
    i, j = torch.arange(length)[:, None], torch.arange(length)[None, :]
    blocked = j > i
    distance_form = (-slopes * (i - j)).masked_fill(blocked, float("-inf"))
    bloom_form = (slopes * j).expand(heads, length, length).masked_fill(blocked, float("-inf"))
    q, k, v = (torch.randn(1, heads, length, 4) for _ in range(3))
    torch.testing.assert_close(
        F.scaled_dot_product_attention(q, k, v, attn_mask=distance_form),
        F.scaled_dot_product_attention(q, k, v, attn_mask=bloom_form),
    )


def test_t5_relative_position_buckets():
    from transformers.models.t5.modeling_t5 import T5Attention

    def bucket(offsets, bidirectional):
        return T5Attention._relative_position_bucket(
            torch.tensor(offsets), bidirectional=bidirectional, num_buckets=32, max_distance=128
        ).tolist()

    # Encoder: offset = key position - query position.
    assert bucket(list(range(0, -8, -1)), True) == list(range(8))  # 0..7 back: exact
    assert bucket(list(range(1, 8)), True) == list(range(17, 24))  # forward: other half
    assert len(set(bucket(list(range(-8, -128, -1)), True))) == 8  # 8 log-spaced buckets
    assert set(bucket([-128, -500, -10_000], True)) == {15}
    assert set(bucket([128, 500, 10_000], True)) == {31}
    # Decoder (causal): all 32 buckets for the past, the first 16 exact; future clamps to 0.
    assert bucket(list(range(0, -16, -1)), False) == list(range(16))
    assert set(bucket([-128, -10_000], False)) == {31}
    assert bucket([3], False) == [0]


def test_ntk_base_keeps_fastest_frequency_and_interpolates_slowest_by_s():
    d, s = 128, 8.0
    original = _inv_freq(d)
    ntk = _inv_freq(d, BASE * s ** (d / (d - 2)))
    torch.testing.assert_close(ntk[0], original[0])
    torch.testing.assert_close(ntk[-1], original[-1] / s)


def test_hf_yarn_matches_the_described_ramp_and_temperature():
    from transformers import LlamaConfig
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

    s, trained = 4.0, 4096
    config = LlamaConfig(
        hidden_size=4096, num_attention_heads=32, max_position_embeddings=int(s * trained),
        rope_parameters={"rope_type": "yarn", "rope_theta": BASE, "factor": s,
                         "original_max_position_embeddings": trained},
    )
    inv_freq, attention_factor = ROPE_INIT_FUNCTIONS["yarn"](config, "cpu")
    original = _inv_freq(128)
    ratio = original / inv_freq.double()
    turns = trained / (2 * math.pi / original)  # r = L / wavelength
    torch.testing.assert_close(ratio[turns > 32], torch.ones_like(ratio[turns > 32]),
                               rtol=1e-5, atol=0)
    torch.testing.assert_close(ratio[turns < 1], torch.full_like(ratio[turns < 1], s),
                               rtol=1e-5, atol=0)
    middle = ratio[(turns > 2) & (turns < 16)]
    assert bool(((middle > 1) & (middle < s)).all())
    # HF scales cos and sin (so q and k) by the factor: logits by its square, 1/t.
    assert attention_factor == pytest.approx(0.1 * math.log(s) + 1)


def test_nope_causal_mask_leaks_position():
    length = 10
    q = k = torch.zeros(1, 1, length, 4)
    v = torch.zeros(1, 1, length, 4)
    v[..., 0, 0] = 1.0
    causal = F.scaled_dot_product_attention(q, k, v, is_causal=True)[0, 0, :, 0]
    bidirectional = F.scaled_dot_product_attention(q, k, v)[0, 0, :, 0]
    torch.testing.assert_close(causal.double(), 1 / (torch.arange(length, dtype=torch.float64) + 1))
    assert torch.unique(bidirectional).numel() == 1


def test_2d_sincos_dot_product_depends_only_on_offsets():
    height, width, d = 7, 9, 24

    def one_axis(idx):
        freq = BASE ** (-torch.arange(0, d // 2, 2, dtype=torch.float64) / (d // 2))
        angles = idx[:, None].double() * freq
        return torch.cat([angles.sin(), angles.cos()], dim=-1)

    rows, cols = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    pe = torch.cat([one_axis(rows.flatten()), one_axis(cols.flatten())], dim=-1)
    gram = pe @ pe.T
    dy = rows.flatten()[:, None] - rows.flatten()[None, :]
    dx = cols.flatten()[:, None] - cols.flatten()[None, :]
    for target in [(0, 1), (2, -3), (-1, 4)]:
        same = (dy == target[0]) & (dx == target[1])
        values = gram[same]
        torch.testing.assert_close(values, values[0].expand_as(values))


# ============================================================ bank v2 (issue 12) claims
# Each test below names the question whose text states the claim; a renamed or deleted id fails
# here loudly (through _question_text).



def test_permutation_question_is_merged_into_fundamentals():
    kept = bank().question("fund-permutation-equivariance")
    assert "pos-permutation-equivariance" in kept.aliases
    # An alias opens the kept question (old deep links still work); no live question keeps the id.
    assert bank().question("pos-permutation-equivariance").id == "fund-permutation-equivariance"
    live = {x.id for s in bank().sections for x in s.questions}
    assert "pos-permutation-equivariance" not in live


# ----------------------------------------------------------------- pos-length-extrapolation


def _llama3_reference(inv_freq: torch.Tensor, factor=8.0, low=1.0, high=4.0, old_len=8192):
    """Element by element, the published piecewise rule (float64)."""
    out = []
    for f in inv_freq.tolist():
        wavelen = 2 * math.pi / f
        if wavelen < old_len / high:
            out.append(f)
        elif wavelen > old_len / low:
            out.append(f / factor)
        else:
            smooth = (old_len / wavelen - low) / (high - low)
            out.append((1 - smooth) * f / factor + smooth * f)
    return torch.tensor(out, dtype=torch.float64)


def test_llama3_scaling_matches_hf_transformers_and_the_questions_code():
    from transformers import LlamaConfig
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

    config = LlamaConfig(
        hidden_size=4096, num_attention_heads=32, max_position_embeddings=131072,
        rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
                         "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                         "original_max_position_embeddings": 8192})
    hf, attention_factor = ROPE_INIT_FUNCTIONS["llama3"](config, "cpu")
    base = 500000.0 ** (-torch.arange(0, 128, 2, dtype=torch.float64) / 128)
    ours = _llama3_reference(base)
    torch.testing.assert_close(hf.double(), ours, rtol=1e-5, atol=0)
    assert attention_factor == 1.0                                     # no temperature
    namespace: dict = {}
    exec(compile(bank().question("pos-length-extrapolation").code, "<q>", "exec"), namespace)
    torch.testing.assert_close(namespace["llama3_inv_freq"](128), ours)
    wavelen = 2 * math.pi / base
    torch.testing.assert_close(ours[wavelen < 2048], base[wavelen < 2048])
    torch.testing.assert_close(ours[wavelen > 8192], base[wavelen > 8192] / 8)
    text = question_text("pos-length-extrapolation")
    for figure in ("8192", "2048", "500000", "factor", "low_freq_factor", "high_freq_factor"):
        assert figure in text


def test_longrope_is_a_known_rope_type_with_short_and_long_factors():
    import inspect

    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

    source = inspect.getsource(ROPE_INIT_FUNCTIONS["longrope"])
    assert "short_factor" in source and "long_factor" in source
    text = question_text("pos-length-extrapolation")
    assert "LongRoPE" in text and "2048K" in text and "256K" in text    # cited from Ding et al.


# ---------------------------------------------------------------- pos-rope-base-wavelengths


def _wavelengths(base: float, d: int = 128) -> torch.Tensor:
    i = torch.arange(d // 2, dtype=torch.float64)
    return 2 * math.pi * base ** (2 * i / d)


def test_rope_wavelength_counts_for_llama2_and_llama3_bases():
    llama2, llama3 = _wavelengths(1e4), _wavelengths(5e5)
    assert math.isclose(llama2[0].item(), 2 * math.pi)
    assert round(llama2[-1].item()) == 54410
    assert round(llama3[-1].item() / 1e6, 2) == 2.56
    assert int((llama2 > 4096).sum()) == 18 and int((llama2 > 8192).sum()) == 14
    assert int((llama3 > 8192).sum()) == 29 and int((llama3 > 131072).sum()) == 15
    # The same periods, measured: the angle of the slowest pair first wraps at its wavelength.
    theta = 1e4 ** (-126 / 128)
    assert math.floor(2 * math.pi / theta) == 54410
    text = question_text("pos-rope-base-wavelengths")
    for figure in ("54410", "18", "14", "29", "15", "2.56"):
        assert figure in text


def test_key_point_numbers_t5_buckets_and_llama2_base_match_hf_configs():
    from transformers import LlamaConfig, T5Config

    assert LlamaConfig().rope_parameters["rope_theta"] == 10000.0       # Llama 2's base
    t5 = T5Config()
    assert (t5.relative_attention_num_buckets, t5.relative_attention_max_distance) == (32, 128)
    assert "32 buckets, max distance 128" in question_text("pos-relative-shaw-xl-t5")
