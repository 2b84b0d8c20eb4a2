"""Claims in the answers and explanations of content/12-numbers.yaml, each checked by code.

Checked claims (question id: claim):
- num-kv-cache-gqa: 8 KV heads for 32 query heads (Llama 3 8B) is a quarter of MHA's cache.
- num-kv-cache-mla: d_c = 512 plus d_R = 64 is 576 numbers per token and layer; MHA with 128
  heads of 128 caches 32768, about 57 times more.
- num-mla-vs-mha-ratio: GQA's cache ratio to MHA is H / G and MQA's is H (counted on tensors).
- num-attention-flops: the four projections cost 8 n d^2 FLOPs (counted on our MultiHeadAttention),
  so the attention core 4 n^2 d dominates exactly when n > 2 d.
- num-score-matrix-memory: the score tensor grows as n^2 and does not depend on d_h.
- num-window-mask-entries: the window keeps about 2 w / n of the causal mask's entries.
- num-rope-angle: pair 0 turns 1 radian per position, the last pair b^(-(D-2)/D), near 1 / b.
- num-rope-wavelength: wavelengths run from 2 pi to about 2 pi b.
- num-alibi-slope: every slope lies in (0, 1); for a non-power of two the extra heads' slopes lie
  between the power-of-two slopes (interleaved).
- num-flash-io-speedup: for n >> d the bound tends to 2 B_r / d.
- num-mha-params: without biases 4 d^2; a SwiGLU FFN with hidden width 8/3 d has about 8 d^2.
- num-decode-attention-intensity: MHA with a bf16 cache does 1 FLOP per byte.
- num-decode-batch-for-ridge: 989 TFLOP/s over 3.35 TB/s is a ridge near 295 FLOP/B.
Cited, not measured here (no GPU): the H100's 989 dense bf16 TFLOP/s and 3.35 TB/s, DeepSeek-V2/V3's
d_c = 512, d_R = 64 and 128 heads, Llama 3 8B's 32/8 heads, StreamingLLM's sinks, the
FlashAttention paper's measured speedups.
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from attention import MultiHeadAttention, masks, positional
from prep import settings
from prep.bank import load_bank
from prep.numeric import formulas

BANK = load_bank(settings.content_dir() / "12-numbers.yaml")


def text(question_id: str) -> str:
    q = BANK.question(question_id)
    assert q is not None, f"{question_id} was renamed or deleted"
    fields = ("answer", "explanation")
    return "\n".join(getattr(q, f)[lang] for f in fields for lang in ("zh", "en"))


def test_num_kv_cache_gqa_llama3_8b_is_a_quarter():
    gqa = formulas.kv_cache_gib(layers=32, kv_heads=8, head_dim=128, seq_len=8192, batch=1,
                                dtype="bf16").value
    mha = formulas.kv_cache_gib(layers=32, kv_heads=32, head_dim=128, seq_len=8192, batch=1,
                                dtype="bf16").value
    assert gqa / mha == 0.25
    assert "32" in text("num-kv-cache-gqa") and "8" in text("num-kv-cache-gqa")


def test_num_kv_cache_mla_576_against_32768_about_57_times():
    assert 512 + 64 == 576 and 2 * 128 * 128 == 32768
    ratio = formulas.mla_vs_mha_ratio(heads=128, head_dim=128, latent_dim=512, rope_dim=64).value
    assert round(ratio) == 57
    assert all(s in text("num-kv-cache-mla") for s in ("576", "32768", "57"))


@pytest.mark.parametrize(("heads", "kv_heads"), [(8, 1), (8, 2), (16, 4), (32, 32)])
def test_num_mla_vs_mha_ratio_gqa_is_h_over_g(heads, kv_heads):
    def cache(g: int) -> int:
        return 2 * torch.empty(1, g, 10, 16, device="meta").nbytes  # K and V: (B, G, T, d_h)

    assert cache(heads) / cache(kv_heads) == heads / kv_heads
    assert "$H/G$" in text("num-mla-vs-mha-ratio")


@pytest.mark.parametrize(("n", "d"), [(16, 32), (64, 32), (65, 32), (256, 64)])
def test_num_attention_flops_projections_8nd2_and_the_crossover_at_2d(n, d):
    module = MultiHeadAttention(d, 4)
    x = torch.randn(1, n, d)
    counter = FlopCounterMode(display=False)
    with counter:
        for linear in (module.query_linear, module.key_linear, module.value_linear,
                       module.out_linear):
            linear(x)
    projections = counter.get_total_flops()
    assert projections == 8 * n * d * d
    core = formulas.attention_core_gflops(seq_len=n, d_model=d).value * 1e9
    assert (core > projections) == (n > 2 * d)
    assert "n > 2d" in text("num-attention-flops")


def test_num_score_matrix_memory_grows_as_n_squared_not_with_head_dim():
    small = formulas.score_matrix_gib(seq_len=1024, heads=8, batch=1, dtype="bf16").value
    double = formulas.score_matrix_gib(seq_len=2048, heads=8, batch=1, dtype="bf16").value
    assert double / small == 4
    scores = [torch.empty(1, 8, 64, d_h, device="meta") @ torch.empty(1, 8, d_h, 64,
                                                                        device="meta")
              for d_h in (16, 128)]
    assert scores[0].nbytes == scores[1].nbytes


@pytest.mark.parametrize(("n", "w"), [(4096, 64), (8192, 128), (2048, 16)])
def test_num_window_mask_entries_keep_about_2w_over_n(n, w):
    kept = masks.sliding_window_mask(n, w).sum().item() / masks.causal_mask(n).sum().item()
    assert kept == pytest.approx(2 * w / n, rel=0.02)
    assert "2w/n" in text("num-window-mask-entries")


@pytest.mark.parametrize(("head_dim", "base"), [(64, 10000), (128, 10000), (128, 500000)])
def test_num_rope_angle_pair_zero_turns_one_radian_and_the_last_near_one_over_b(head_dim, base):
    theta = positional.rope_angles(torch.tensor([1.0]), head_dim, base)[0].double()
    assert theta[0].item() == 1.0
    assert theta[-1].item() == pytest.approx(base ** (-(head_dim - 2) / head_dim), rel=1e-5)
    assert 1 / base < theta[-1].item() < base ** (2 / head_dim) / base * 1.0001


@pytest.mark.parametrize(("head_dim", "base"), [(64, 10000), (128, 500000)])
def test_num_rope_wavelength_from_2pi_to_about_2pi_b(head_dim, base):
    first = formulas.rope_wavelength(pair=0, head_dim=head_dim, base=base).value
    last = formulas.rope_wavelength(pair=head_dim // 2 - 1, head_dim=head_dim, base=base).value
    assert first == pytest.approx(2 * math.pi)
    assert 2 * math.pi * base / base ** (2 / head_dim) == pytest.approx(last)
    assert last < 2 * math.pi * base


@pytest.mark.parametrize("heads", [3, 5, 6, 12, 20, 24])
def test_num_alibi_slope_in_unit_interval_and_extra_slopes_interleave(heads):
    slopes = positional.alibi_slopes(heads).tolist()
    assert all(0 < m < 1 for m in slopes)
    power = 2 ** math.floor(math.log2(heads))
    base, extra = slopes[:power], slopes[power:]
    for m in extra:  # each extra slope lies strictly between two power-of-two slopes (or above)
        between = any(a > m > b for a, b in itertools.pairwise(base))
        assert m not in base and (m > base[0] or between)


def test_num_flash_io_speedup_tends_to_2br_over_d():
    bound = formulas.flash_io_speedup(seq_len=2**20, head_dim=64, block_rows=128).value
    assert bound == pytest.approx(2 * 128 / 64, rel=0.01)


def test_num_mha_params_without_bias_and_swiglu_about_8d2():
    d = 1024
    no_bias = sum(p.numel() for p in MultiHeadAttention(d, 8, bias=False).parameters())
    assert no_bias == 4 * d * d
    hidden = round(8 * d / 3)
    swiglu = 3 * d * hidden  # gate, up and down projections
    assert swiglu == pytest.approx(8 * d * d, rel=0.001)


def test_num_decode_attention_intensity_mha_bf16_is_one():
    assert formulas.decode_attention_intensity(heads=32, kv_heads=32, dtype="bf16").value == 1.0
    assert "1 FLOP/B" in text("num-decode-attention-intensity")


def test_num_decode_batch_for_ridge_h100_near_295():
    ridge = 989 / 3.35
    assert round(ridge) == 295
    assert formulas.decode_batch_for_ridge(peak_tflops=989, bandwidth_tbs=3.35,
                                           dtype="bf16").value == pytest.approx(ridge)
    assert "295" in text("num-decode-batch-for-ridge")
