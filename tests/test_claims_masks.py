"""Claims stated in content/02-masks.yaml, checked by running them on torch 2.13.

Checked claims (question id: claim):
- mask-padding-vs-causal: with a (B, 1, 1, S) key-padding mask, the contents of padded keys and
  values have no effect on the outputs of real tokens; combined with causal it is (B, 1, L, S).
- mask-fp16-neg-1e9: float16's largest finite value is 65504 and finfo(float16).min is -65504;
  -1e9 converted to float16 is -inf (and `mask * -1e9` on an fp16 tensor gives -inf);
  float16 masked_fill(..., -1e9) raises "value cannot be converted ... without overflow";
  two additive finfo(float16).min masks add up to -inf; a row that is entirely finfo.min or -1e9
  gives a uniform softmax (not NaN); in bfloat16 -1e9 stays finite (rounded to -998244352) and
  finfo(bfloat16).min is about -3.39e38.
- mask-fully-masked-row-nan: softmax of a row of -inf is NaN; left padding with a causal mask
  creates fully masked rows for the padded queries; F.scaled_dot_product_attention returns zeros
  for fully masked rows (bool and -inf float masks) with a NaN-free backward;
  nn.MultiheadAttention gives NaN outputs and weights with need_weights=True, and the out_proj
  bias with need_weights=False in training mode, but NaN again with need_weights=False under
  eval() and torch.no_grad() (the inference fast path); NaN * 0 is NaN, so multiplying the loss
  by 0 keeps the NaN.
- mask-broadcast-shapes: a (B, 1, S, 1) mask masks queries and gives NaN rows; a (B, S) mask
  against (B, H, L, S) scores raises when B != L and is silently wrong when B == L;
  nn.MultiheadAttention wants a 3-D attn_mask of shape (B * H, L, S).
- mask-prefix-lm: P = 0 is the causal mask, P = n is all-True; prefix outputs do not depend on the
  target tokens.
- mask-packed-block-diagonal: the block-diagonal causal mask makes packed outputs equal separate
  runs; the non-causal block-diagonal mask has sum(len_i^2) = n^2 / m entries for m equal samples.
- mask-teacher-forcing-vs-decoding: step-by-step decoding with a KV cache equals causal
  attention over the whole sequence.
- mask-sdpa-vs-mha-convention: SDPA's bool True = attend, nn.MultiheadAttention's True = ignore;
  passing SDPA's keep mask to MHA gives NaN for an unpadded sample; a -inf float
  key_padding_mask equals the bool one; MHA's is_causal needs attn_mask.
- eff-sdpa-backends-is-causal (alias mask-is-causal-alignment): is_causal=True is upper-left
  aligned (tril of ones(L, S)); with L = 1
  it returns v_0; the lower-right mask (diagonal = S - L) equals causal_lower_right and the last L
  rows of full causal attention; with L = S both alignments agree.
- mask-after-softmax-bug: masking after softmax leaves rows summing to less than 1 and outputs that
  depend on the padding contents; masking before softmax does neither and matches SDPA.
"""

from __future__ import annotations

import math
import warnings

import pytest
import torch
import torch.nn.functional as F
from bank_text import bank, question_text
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.nn.attention.bias import causal_lower_right

FP16_MAX = 65504.0
BIG_NEGATIVE = -1e9
BF16_ROUNDED_BIG_NEGATIVE = -998244352


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _qkv(*shape: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = _gen(seed)
    q, k, v = (torch.randn(*shape, generator=g) for _ in range(3))
    return q, k, v


def _lengths_keep(lengths: torch.Tensor, size: int) -> torch.Tensor:
    return torch.arange(size)[None, :] < lengths[:, None]          # (B, S) True = real token


# ------------------------------------------------------------------- mask-padding-vs-causal


def test_padded_keys_have_no_effect_on_real_tokens():
    B, H, L, d_h = 2, 2, 6, 4
    lengths = torch.tensor([6, 4])
    q, k, v = _qkv(B, H, L, d_h, seed=1)
    keep = torch.tril(torch.ones(L, L, dtype=torch.bool)) & _lengths_keep(lengths, L)[
        :, None, None, :]
    assert keep.shape == (B, 1, L, L)
    k2, v2 = k.clone(), v.clone()
    k2[1, :, 4:] = 100 * torch.randn(H, 2, d_h, generator=_gen(2))
    v2[1, :, 4:] = 100 * torch.randn(H, 2, d_h, generator=_gen(3))
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
    out2 = F.scaled_dot_product_attention(q, k2, v2, attn_mask=keep)
    torch.testing.assert_close(out[1, :, :4], out2[1, :, :4])
    torch.testing.assert_close(out[0], out2[0])


# --------------------------------------------------------------------- mask-fp16-neg-1e9


def test_float16_range_and_finfo_min():
    assert torch.finfo(torch.float16).max == FP16_MAX
    assert torch.finfo(torch.float16).min == -FP16_MAX


def test_minus_1e9_becomes_minus_inf_in_float16():
    assert torch.tensor(BIG_NEGATIVE, dtype=torch.float16).item() == float("-inf")
    is_masked = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float16)
    assert (is_masked * BIG_NEGATIVE)[0].item() == float("-inf")


def test_float16_masked_fill_with_minus_1e9_raises():
    scores = torch.zeros(3, dtype=torch.float16)
    with pytest.raises(RuntimeError, match="without overflow"):
        scores.masked_fill(torch.tensor([True, False, False]), BIG_NEGATIVE)


def test_two_additive_finfo_min_masks_overflow_to_minus_inf_in_float16():
    fp16_min = torch.tensor(torch.finfo(torch.float16).min, dtype=torch.float16)
    assert (fp16_min + fp16_min).item() == float("-inf")


@pytest.mark.parametrize("fill", [torch.finfo(torch.float16).min, BIG_NEGATIVE])
def test_fully_masked_row_with_a_finite_fill_is_uniform_not_nan(fill):
    row = torch.full((5,), fill, dtype=torch.float32)
    torch.testing.assert_close(torch.softmax(row, -1), torch.full((5,), 0.2))


def test_minus_1e9_stays_finite_in_bfloat16():
    assert int(torch.tensor(BIG_NEGATIVE, dtype=torch.bfloat16).item()) == BF16_ROUNDED_BIG_NEGATIVE
    assert torch.finfo(torch.bfloat16).min == pytest.approx(-3.39e38, rel=0.01)
    filled = torch.zeros(3, dtype=torch.bfloat16).masked_fill(
        torch.tensor([True, False, False]), BIG_NEGATIVE)
    assert torch.isfinite(filled).all()


# ----------------------------------------------------------------- mask-fully-masked-row-nan


def test_softmax_of_a_row_of_minus_inf_is_nan():
    assert torch.isnan(torch.softmax(torch.full((4,), float("-inf")), -1)).all()


def test_left_padding_with_causal_mask_fully_masks_padded_queries():
    is_pad = torch.tensor([True, True, False, False])
    keep = torch.tril(torch.ones(4, 4, dtype=torch.bool)) & ~is_pad[None, :]
    assert keep.any(-1).tolist() == [False, False, True, True]


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_sdpa_returns_zeros_for_fully_masked_rows_and_a_finite_backward(kind):
    q, k, v = _qkv(1, 2, 4, 8, seed=4)
    for t in (q, k, v):
        t.requires_grad_(True)
    keep = torch.ones(4, 4, dtype=torch.bool)
    keep[1] = False
    mask = keep if kind == "bool" else torch.zeros(4, 4).masked_fill(~keep, float("-inf"))
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert (out[:, :, 1] == 0).all()
    assert torch.isfinite(out).all()
    out.sum().backward()
    assert all(torch.isfinite(t.grad).all() for t in (q, k, v))


def test_multihead_attention_fully_masked_sample_nan_with_weights_bias_without():
    torch.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    nn.init.normal_(mha.out_proj.bias)
    x = torch.randn(2, 3, 8)
    key_padding_mask = torch.tensor([[False, False, False], [True, True, True]])  # True = ignore
    out, weights = mha(x, x, x, key_padding_mask=key_padding_mask)
    assert torch.isnan(out[1]).all() and torch.isnan(weights[1]).all()
    assert torch.isfinite(out[0]).all()
    out_fast, _ = mha(x, x, x, key_padding_mask=key_padding_mask, need_weights=False)
    torch.testing.assert_close(out_fast[1], mha.out_proj.bias.detach().expand(3, 8))


def test_multihead_attention_inference_fast_path_gives_nan_for_a_fully_masked_sample():
    torch.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    nn.init.normal_(mha.out_proj.bias)
    x = torch.randn(2, 3, 8)
    key_padding_mask = torch.tensor([[False, False, False], [True, True, True]])  # True = ignore
    mha.eval()
    with torch.no_grad():
        out, _ = mha(x, x, x, key_padding_mask=key_padding_mask, need_weights=False)
    assert torch.isnan(out[1]).all()
    assert torch.isfinite(out[0]).all()


def test_multiplying_nan_by_zero_keeps_the_nan_in_the_loss():
    per_token_loss = torch.tensor([0.5, float("nan"), 0.25])
    loss_mask = torch.tensor([1.0, 0.0, 1.0])
    assert torch.isnan((per_token_loss * loss_mask).sum())
    selected = torch.where(loss_mask.bool(), per_token_loss, 0.0).sum()
    assert selected.item() == pytest.approx(0.75)


# --------------------------------------------------------------------- mask-broadcast-shapes


def test_query_shaped_padding_mask_gives_nan_rows():
    B, H, L, d_h = 2, 2, 5, 4
    q, k, _ = _qkv(B, H, L, d_h, seed=5)
    pad_keep = _lengths_keep(torch.tensor([5, 3]), L)
    scores = q @ k.transpose(-2, -1)
    wrong = torch.softmax(scores.masked_fill(~pad_keep[:, None, :, None], float("-inf")), -1)
    right = torch.softmax(scores.masked_fill(~pad_keep[:, None, None, :], float("-inf")), -1)
    assert torch.isnan(wrong[1, :, 3:]).all()
    assert (wrong[1, :, :3, 3:] > 0).all()                         # padded keys still attended
    assert torch.isfinite(right).all()
    assert (right[1, :, :, 3:] == 0).all()


def test_unexpanded_batch_mask_raises_when_b_differs_from_l_and_is_wrong_when_equal():
    lengths = torch.tensor([3, 2, 1])
    q, k, v = _qkv(3, 2, 5, 4, seed=6)                            # B = 3, L = 5
    with pytest.raises(RuntimeError):
        F.scaled_dot_product_attention(q, k, v, attn_mask=_lengths_keep(lengths, 5))

    lengths = torch.tensor([4, 3, 2, 1])
    q, k, v = _qkv(4, 2, 4, 4, seed=7)                            # B = L = 4: broadcasts
    keep = _lengths_keep(lengths, 4)
    silently_wrong = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
    right = F.scaled_dot_product_attention(q, k, v, attn_mask=keep[:, None, None, :])
    assert not torch.allclose(silently_wrong, right)


def test_multihead_attention_3d_mask_must_be_batch_times_heads():
    B, L, d, H = 3, 5, 8, 2
    mha = nn.MultiheadAttention(d, H, batch_first=True)
    x = torch.randn(B, L, d)
    with pytest.raises(RuntimeError, match=r"\(6, 5, 5\)"):
        mha(x, x, x, attn_mask=torch.zeros(B, L, L, dtype=torch.bool))
    out, _ = mha(x, x, x, attn_mask=torch.zeros(B * H, L, L, dtype=torch.bool))
    assert out.shape == (B, L, d)


# ---------------------------------------------------------------------------- mask-prefix-lm


def _prefix_lm_keep(n: int, prefix_len: int) -> torch.Tensor:
    i, j = torch.arange(n)[:, None], torch.arange(n)[None, :]
    return (j <= i) | (j < prefix_len)


def test_prefix_lm_limits_and_prefix_independent_of_targets():
    n, P = 7, 3
    causal = torch.tril(torch.ones(n, n, dtype=torch.bool))
    torch.testing.assert_close(_prefix_lm_keep(n, 0), causal)
    assert _prefix_lm_keep(n, n).all()
    q, k, v = _qkv(1, 2, n, 4, seed=8)
    keep = _prefix_lm_keep(n, P)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
    q2, k2, v2 = q.clone(), k.clone(), v.clone()
    for t in (q2, k2, v2):
        t[:, :, P:] = torch.randn(1, 2, n - P, 4, generator=_gen(9))
    out2 = F.scaled_dot_product_attention(q2, k2, v2, attn_mask=keep)
    torch.testing.assert_close(out[:, :, :P], out2[:, :, :P])
    assert not torch.allclose(out[:, :, P:], out2[:, :, P:])


# ------------------------------------------------------------------ mask-packed-block-diagonal


def test_packed_sequences_equal_separate_runs_and_block_mask_size():
    lengths = [4, 4, 4]
    seg = torch.repeat_interleave(torch.arange(len(lengths)), torch.tensor(lengths))
    n, m = seg.numel(), len(lengths)
    same_sample = seg[:, None] == seg[None, :]
    assert same_sample.sum().item() == sum(x * x for x in lengths) == n * n // m
    q, k, v = _qkv(1, 2, n, 4, seed=10)
    keep = same_sample & torch.tril(torch.ones(n, n, dtype=torch.bool))
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
    plain_causal = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    for start in range(0, n, 4):
        s = slice(start, start + 4)
        ref = F.scaled_dot_product_attention(q[:, :, s], k[:, :, s], v[:, :, s], is_causal=True)
        torch.testing.assert_close(out[:, :, s], ref)
    assert not torch.allclose(out, plain_causal)                  # without blocks: contamination


# ------------------------------------------------------------ mask-teacher-forcing-vs-decoding


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_kv_cache_decoding_equals_causal_attention(seed):
    B, H, n, d_h = 2, 3, 9, 8
    q, k, v = _qkv(B, H, n, d_h, seed=seed)
    full = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    steps = [
        F.scaled_dot_product_attention(q[:, :, t:t + 1], k[:, :, :t + 1], v[:, :, :t + 1])
        for t in range(n)
    ]
    torch.testing.assert_close(torch.cat(steps, dim=2), full)


# --------------------------------------------------------------- mask-sdpa-vs-mha-convention


def test_sdpa_true_means_attend_and_mha_true_means_ignore():
    torch.manual_seed(0)
    B, L, d, H = 2, 5, 8, 2
    mha = nn.MultiheadAttention(d, H, batch_first=True)
    x = torch.randn(B, L, d)
    keep = _lengths_keep(torch.tensor([5, 3]), L)
    out_mha, _ = mha(x, x, x, key_padding_mask=~keep)
    q, k, v = (F.linear(x, w, b) for w, b in zip(
        mha.in_proj_weight.chunk(3), mha.in_proj_bias.chunk(3), strict=True))
    q, k, v = (t.view(B, L, H, d // H).transpose(1, 2) for t in (q, k, v))
    o = F.scaled_dot_product_attention(q, k, v, attn_mask=keep[:, None, None, :])
    torch.testing.assert_close(out_mha, mha.out_proj(o.transpose(1, 2).reshape(B, L, d)))

    out_inverted, _ = mha(x, x, x, key_padding_mask=keep)         # SDPA's mask given to MHA
    assert torch.isnan(out_inverted[0]).all()

    float_mask = torch.zeros(B, L).masked_fill(~keep, float("-inf"))
    out_float, _ = mha(x, x, x, key_padding_mask=float_mask)
    torch.testing.assert_close(out_float, out_mha)


def test_multihead_attention_is_causal_is_only_a_hint():
    mha = nn.MultiheadAttention(4, 1, batch_first=True)
    x = torch.randn(1, 3, 4)
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        mha(x, x, x, is_causal=True)


# --------------------------- eff-sdpa-backends-is-causal (merged from mask-is-causal-alignment)
# The question now lives in 05-efficient.yaml; its alignment claims stay here beside the masks.


def test_is_causal_is_upper_left_aligned_and_forgets_the_cache_when_l_is_1():
    S, L = 7, 3
    q_all, k, v = _qkv(1, 2, S, 4, seed=14)
    q_new = q_all[:, :, S - L:]
    upper_left = torch.tril(torch.ones(L, S, dtype=torch.bool))
    torch.testing.assert_close(
        F.scaled_dot_product_attention(q_new, k, v, is_causal=True),
        F.scaled_dot_product_attention(q_new, k, v, attn_mask=upper_left))
    last_only = F.scaled_dot_product_attention(q_all[:, :, -1:], k, v, is_causal=True)
    torch.testing.assert_close(last_only, v[:, :, :1])


def test_lower_right_mask_matches_causal_lower_right_and_full_causal_rows():
    S, L = 7, 3
    q_all, k, v = _qkv(1, 2, S, 4, seed=15)
    q_new = q_all[:, :, S - L:]
    lower_right = torch.tril(torch.ones(L, S, dtype=torch.bool), diagonal=S - L)
    out = F.scaled_dot_product_attention(q_new, k, v, attn_mask=lower_right)
    torch.testing.assert_close(
        out, F.scaled_dot_product_attention(q_new, k, v, attn_mask=causal_lower_right(L, S)))
    full = F.scaled_dot_product_attention(q_all, k, v, is_causal=True)
    torch.testing.assert_close(out, full[:, :, S - L:])


def test_both_alignments_agree_on_square_masks():
    n = 6
    q, k, v = _qkv(1, 2, n, 4, seed=16)
    torch.testing.assert_close(
        F.scaled_dot_product_attention(q, k, v, is_causal=True),
        F.scaled_dot_product_attention(q, k, v, attn_mask=causal_lower_right(n, n)))


# ------------------------------------------------------------------- mask-after-softmax-bug


def test_masking_after_softmax_leaks_padding_and_masking_before_does_not():
    L, n_real, d_k = 5, 3, 4
    q, k, v = (t[0, 0] for t in _qkv(1, 1, L, d_k, seed=17))
    keep = (torch.arange(L) < n_real)[None, :].expand(L, L)
    scores = q @ k.T / d_k**0.5

    after = torch.softmax(scores, -1) * keep
    assert (after.sum(-1) < 1).all()

    def buggy(k_, v_):
        return (torch.softmax(q @ k_.T / d_k**0.5, -1) * keep) @ v_

    def fixed(k_, v_):
        return torch.softmax((q @ k_.T / d_k**0.5).masked_fill(~keep, float("-inf")), -1) @ v_

    k2, v2 = k.clone(), v.clone()
    k2[n_real:] = 5 * torch.randn(L - n_real, d_k, generator=_gen(18))
    v2[n_real:] = torch.randn(L - n_real, d_k, generator=_gen(19))
    assert not torch.allclose(buggy(k2, v2), buggy(k, v))
    torch.testing.assert_close(fixed(k2, v2), fixed(k, v))
    torch.testing.assert_close(fixed(k, v), F.scaled_dot_product_attention(q, k, v, attn_mask=keep))


# ============================================================ bank v2 (issue 12) claims
# Each test below names the question whose text states the claim; a renamed or deleted id fails
# here loudly (through _question_text).



def test_is_causal_alignment_question_is_merged_into_the_sdpa_backends_question():
    q = bank().question("eff-sdpa-backends-is-causal")
    assert q is not None and "mask-is-causal-alignment" in q.aliases
    # The old id is an alias: it opens the kept question (old deep links still work), and no live
    # question keeps that id.
    assert bank().question("mask-is-causal-alignment").id == "eff-sdpa-backends-is-causal"
    assert "mask-is-causal-alignment" not in {x.id for s in bank().sections for x in s.questions}
    assert "causal_lower_right" in question_text("eff-sdpa-backends-is-causal")


# ---------------------------------------------------------------- mask-fully-masked-row-nan


@pytest.mark.parametrize("backend", [SDPBackend.MATH, SDPBackend.FLASH_ATTENTION])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_cpu_math_and_cpu_flash_kernels_give_zeros_for_fully_masked_rows(backend, dtype):
    q, k, v = (t.to(dtype) for t in _qkv(1, 2, 4, 8, seed=30))
    is_pad = torch.tensor([True, True, False, False])
    keep = torch.tril(torch.ones(4, 4, dtype=torch.bool)) & ~is_pad[None, :]
    with sdpa_kernel([backend]):
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
    assert (out[..., :2, :] == 0).all() and torch.isfinite(out).all()
    text = question_text("mask-fully-masked-row-nan")
    assert "MATH" in text and "FLASH_ATTENTION" in text and "fp16" in text and "bf16" in text


def test_safe_softmax_gives_zeros_for_an_all_minus_inf_row():
    row = torch.full((2, 5), float("-inf"))
    row[1, 2] = 0.0
    out = torch._safe_softmax(row, -1)
    assert (out[0] == 0).all()
    torch.testing.assert_close(out[1], torch.softmax(row[1], -1))
    assert "_safe_softmax" in question_text("mask-fully-masked-row-nan")


def test_fully_masked_row_answer_says_cuda_backends_were_not_measured():
    # Cited, not measured: this machine has no GPU, so the CUDA claim is a caveat in the text.
    assert not torch.cuda.is_available()
    text = question_text("mask-fully-masked-row-nan")
    assert "must be checked" in text and "not measured here" in text and "CUDA" in text


# --------------------------------------------------------- mask-fp16-neg-1e9 (merged fix)
# (merged from train-mask-fill-fp16)


def test_fp32_minus_inf_mask_with_zeroed_rows_matches_sdpa_for_fp16_inputs():
    B, L, S, d_k = 2, 4, 5, 8
    g = _gen(31)
    q, k, v = (torch.randn(B, n, d_k, generator=g).half() for n in (L, S, S))
    keep = torch.rand(B, L, S, generator=g) > 0.4
    keep[0, 1] = False
    scores = (q @ k.transpose(-2, -1) / math.sqrt(d_k)).float().masked_fill(~keep, float("-inf"))
    weights = torch.where(keep.any(-1, keepdim=True), torch.softmax(scores, -1), 0.0)
    out = weights @ v.float()
    ref = F.scaled_dot_product_attention(q.float(), k.float(), v.float(), attn_mask=keep)
    torch.testing.assert_close(out, ref, atol=2e-3, rtol=2e-3)
    assert (out[0, 1] == 0).all()
    q_ = bank().question("mask-fp16-neg-1e9")
    assert "train-mask-fill-fp16" in q_.aliases
    assert "9.98" in question_text("mask-fp16-neg-1e9")


# ---------------------------------------------------------- mask-flex-attention-block-mask


def _flex():
    from torch.nn.attention import flex_attention as flex

    warnings.filterwarnings("ignore", message=".*flex_attention called without torch.compile.*")
    return flex


def test_flex_default_block_is_128_and_a_causal_block_mask_skips_the_upper_blocks():
    flex = _flex()
    assert flex._DEFAULT_SPARSE_BLOCK_SIZE == 128
    block_mask = flex.create_block_mask(
        lambda b, h, q_idx, kv_idx: q_idx >= kv_idx, None, None, 512, 512, device="cpu")
    # 4 x 4 blocks of 128: 6 below the diagonal fully visible, 4 partial, 6 skipped.
    assert block_mask.full_kv_num_blocks.flatten().tolist() == [0, 1, 2, 3]
    assert block_mask.kv_num_blocks.flatten().tolist() == [1, 1, 1, 1]
    assert block_mask.sparsity() == pytest.approx(100 * 6 / 16)
    assert "128" in question_text("mask-flex-attention-block-mask")


@pytest.mark.parametrize("seed", [32, 33])
def test_flex_packed_prefix_lm_matches_sdpa_and_a_float64_reference(seed):
    flex = _flex()
    g = _gen(seed)
    lengths = torch.randint(2, 9, (4,), generator=g).tolist()
    prefix = 2
    doc = torch.cat([torch.full((n,), i) for i, n in enumerate(lengths)])
    pos = torch.cat([torch.arange(n) for n in lengths])
    L = int(doc.numel())
    q, k, v = (torch.randn(1, 2, L, 8, generator=g) for _ in range(3))

    def make(doc, pos):
        def mask_mod(b, h, q_idx, kv_idx):
            visible = (pos[kv_idx] <= pos[q_idx]) | (pos[kv_idx] < prefix)
            return (doc[q_idx] == doc[kv_idx]) & visible
        return mask_mod

    block_mask = flex.create_block_mask(make(doc, pos), None, None, L, L, device="cpu")
    out = flex.flex_attention(q, k, v, block_mask=block_mask)
    i, j = torch.arange(L)[:, None], torch.arange(L)[None, :]
    keep = (doc[i] == doc[j]) & ((pos[j] <= pos[i]) | (pos[j] < prefix))
    scores = q.double() @ k.double().transpose(-2, -1) / math.sqrt(8)
    scores = scores.masked_fill(~keep, float("-inf"))
    torch.testing.assert_close(out.double(), torch.softmax(scores, -1) @ v.double(),
                               rtol=1e-5, atol=1e-5)
    # Packed outputs equal each document run on its own with the same prefix-LM mask.
    start = 0
    for n in lengths:
        sl = slice(start, start + n)
        r, c = torch.arange(n)[:, None], torch.arange(n)[None, :]
        own = (c <= r) | (c < prefix)
        alone = F.scaled_dot_product_attention(
            q[..., sl, :], k[..., sl, :], v[..., sl, :], attn_mask=own)
        torch.testing.assert_close(out[..., sl, :], alone, rtol=1e-5, atol=1e-5)
        start += n
    assert "mask_mod" in question_text("mask-flex-attention-block-mask")


def test_flex_attention_exists_in_the_installed_torch_release_2_5_is_cited():
    major, minor = (int(x) for x in torch.__version__.split("+")[0].split(".")[:2])
    assert (major, minor) >= (2, 5)
    assert "2.5" in question_text("mask-flex-attention-block-mask")
