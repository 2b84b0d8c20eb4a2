"""Claims of the training section (content/07-training.yaml), each checked by code.

Checked claims (question id: claim):
- train-entropy-collapse: attention entropy lies in [0, log n], is log n for uniform weights;
  scaling the logits by beta gives dH/dbeta = -beta Var_p(s), so larger logits lower the entropy.
- train-rank-collapse: a stack of pure attention layers collapses to rank 1 doubly exponentially
  (the log of the residual grows geometrically; machine precision by layer 4), while the same stack
  with skip connections keeps full rank after 8 layers.
- train-qk-norm-softcap: c tanh(s/c) is bounded by c and within |s|^3 / (3 c^2) of s (under 0.017
  for |s| <= 5, c = 50); its gradient vanishes for capped logits; L2 QK-norm bounds every score by
  its scale g.
- train-pre-ln-vs-post-ln: at initialisation the gradient of the last layer's weights stays about
  the same at any depth for Post-LN, and falls with depth for Pre-LN (about 0.13 -> 0.02 from 2 to
  18 layers of nn.TransformerEncoderLayer with d = 64).
- train-log-n-scaling: one key with logit gap D over n - 1 others gets e^D / (e^D + n - 1) -> 0
  with a fixed scale, and n^D / (n^D + n - 1) (about 1/2 at D = 1) with a log n scale; on random
  logits (d = 64) the mean entropy grows about 2.8 nats from n = 512 to 8192 with a fixed scale
  and about 2.3 with a log_512 n factor.
- train-fp16-softmax: exp overflows fp16 for x > ln 65504 ~ 11.09; on the fp16 grid the largest
  input with a finite exp is 11.0859375 and 11.09375 overflows; a naive fp16 softmax gives NaN
  where max subtraction in fp32 matches float64; exp underflows to 0 below about -17.3; bf16 has
  fp32's range but eps 2^-7, so 1 + 0.001 == 1.
- mask-fp16-neg-1e9 (merged from train-mask-fill-fp16, now in 02-masks.yaml): masked_fill(-1e9)
  on fp16 raises an overflow error; -1e9 cast to fp16 is
  -inf; a fully masked row of -inf gives NaN; finfo(fp16).min + finfo(fp16).min is -inf; a fully
  masked row of finfo.min gives uniform weights; SDPA gives zeros for a fully masked row while
  nn.MultiheadAttention (need_weights=True, the default) gives NaN; bf16 represents -1e9.
- fund-attention-dropout (merged from train-attention-dropout, now in 01-fundamentals.yaml):
  dropped weights are rescaled by 1/(1-p), rows sum to 1 only in
  expectation; SDPA's dropout_p applies even under no_grad; nn.MultiheadAttention returns
  post-dropout weights in train mode and rows summing to 1 in eval mode.
- train-qk-norm-softcap (QK-Clip): scaling a head's W_q and W_k by sqrt(tau / max) each brings its
  largest logit to exactly tau (100 in Kimi K2) and leaves heads under tau alone; torch's SDPA has
  no softcap argument (flash-attn's `softcap`, since 2.6, needs a GPU: cited, not run here).
- train-sigmoid-attention: with bias -log n a row of zero scores sums to n / (n + 1), without it
  n / 2; outputs over blocks of keys add up (no running max); a fully masked row gives zeros; the
  17% FlashSigmoid speed-up on H100 is cited, not measured (no GPU here).
Every test of a question names its id through ``question_text`` (a renamed or deleted id fails).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from prep.bank import load_bank

SECTION = Path(__file__).resolve().parents[1] / "content" / "07-training.yaml"
CONTENT = SECTION.parent
FP16_MAX = 65504.0


def entropy(weights: torch.Tensor) -> torch.Tensor:
    return -(weights * weights.clamp_min(1e-300).log()).sum(-1)


def question_text(question_id: str) -> str:
    """Answer, explanation and key points of a question anywhere in the bank (fails if gone)."""
    q = load_bank(CONTENT).question(question_id)
    assert q is not None, f"question {question_id} is gone: update this claim test"
    texts = [getattr(q, f)[lang] for f in ("answer", "explanation") for lang in ("zh", "en")]
    texts += [point[lang] for point in q.key_points for lang in ("zh", "en")]
    return "\n".join(texts)


def section_text(question_id: str) -> str:
    bank = load_bank(SECTION)
    assert bank.problems == [], bank.problems
    q = bank.question(question_id)
    assert q is not None, question_id
    fields = ("answer", "explanation")
    return "\n".join(getattr(q, f)[lang] for f in fields for lang in ("zh", "en"))


# --- train-entropy-collapse ----------------------------------------------------------------------


def test_entropy_is_between_zero_and_log_n():
    g = torch.Generator().manual_seed(0)
    n = 10
    p = torch.softmax(torch.randn(100, n, generator=g, dtype=torch.float64) * 3, dim=-1)
    h = entropy(p)
    assert (h >= 0).all() and (h <= math.log(n) + 1e-12).all()
    assert math.isclose(entropy(torch.full((n,), 1 / n, dtype=torch.float64)).item(), math.log(n))
    assert entropy(F.one_hot(torch.tensor(3), n).double()).item() == 0


def test_entropy_derivative_is_minus_beta_times_score_variance():
    g = torch.Generator().manual_seed(1)
    scores = torch.randn(16, generator=g, dtype=torch.float64)
    for beta_value in (0.5, 1.0, 3.0):
        beta = torch.tensor(beta_value, dtype=torch.float64, requires_grad=True)
        p = torch.softmax(beta * scores, dim=0)
        (grad,) = torch.autograd.grad(entropy(p), beta)
        p = p.detach()
        variance = (p * scores**2).sum() - (p * scores).sum() ** 2
        torch.testing.assert_close(grad, -beta_value * variance)
        assert grad < 0


# --- train-rank-collapse -------------------------------------------------------------------------


def residuals(seed: int, skip: bool, depth: int = 8, n: int = 16, d: int = 32):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    found = []
    for _ in range(depth):
        w_q, w_k, w_v = (torch.randn(d, d, generator=g, dtype=torch.float64) / math.sqrt(d)
                         for _ in range(3))
        out = F.scaled_dot_product_attention(x @ w_q, x @ w_k, x @ w_v)
        x = x + out if skip else out
        found.append(((x - x.mean(0)).norm() / x.norm()).item())
    return found, x


@pytest.mark.parametrize("seed", range(5))
def test_pure_attention_loses_rank_doubly_exponentially(seed):
    res, x = residuals(seed, skip=False)
    assert res[3] < 1e-10
    # doubly exponential: log residual at least doubles from layer 2 to layer 3
    assert math.log(res[2]) / math.log(res[1]) > 2
    assert torch.linalg.matrix_rank(x, tol=1e-8 * x.norm().item()).item() == 1


@pytest.mark.parametrize("seed", range(5))
def test_skip_connections_keep_full_rank(seed):
    res, x = residuals(seed, skip=True)
    assert min(res) > 0.05
    assert torch.linalg.matrix_rank(x).item() == x.shape[0]


# --- train-qk-norm-softcap -----------------------------------------------------------------------


def test_soft_cap_is_bounded_and_close_to_identity_for_small_logits():
    cap = 50.0
    s = torch.linspace(-1000, 1000, 20001, dtype=torch.float64)
    capped = cap * torch.tanh(s / cap)
    assert capped.abs().max() <= cap                      # tanh rounds to exactly 1 far out
    assert (capped[s.abs() < 500].abs() < cap).all()
    small = s[s.abs() <= 5]
    error = (cap * torch.tanh(small / cap) - small).abs()
    assert (error <= small.abs() ** 3 / (3 * cap**2) + 1e-15).all()
    assert error.max() < 0.017


def test_soft_capped_logits_get_almost_no_gradient():
    cap = 50.0
    s = torch.tensor([1.0, 200.0], dtype=torch.float64, requires_grad=True)
    (cap * torch.tanh(s / cap)).sum().backward()
    assert s.grad[0] > 0.99 and s.grad[1] < 1e-2


def test_l2_qk_norm_bounds_scores_by_the_scale():
    g = torch.Generator().manual_seed(2)
    q = torch.randn(4, 10, 16, generator=g) * 100
    k = torch.randn(4, 10, 16, generator=g) * 100
    scale = 7.0
    scores = scale * F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).transpose(-2, -1)
    assert scores.abs().max() <= scale + 1e-4
    raw = q @ k.transpose(-2, -1) / math.sqrt(16)
    assert raw.abs().max() > 100 * scale


# --- train-pre-ln-vs-post-ln ---------------------------------------------------------------------


def last_layer_grad(depth: int, norm_first: bool, seed: int, d: int = 64) -> float:
    torch.manual_seed(seed)
    layer = nn.TransformerEncoderLayer(d, 4, 4 * d, dropout=0.0, batch_first=True,
                                       norm_first=norm_first)
    stack = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
    final = nn.LayerNorm(d) if norm_first else nn.Identity()   # Pre-LN ends with a final LN
    x = torch.randn(8, 16, d)
    loss = ((final(stack(x)) - torch.randn(8, 16, d)) ** 2).mean()
    loss.backward()
    return stack.layers[-1].linear2.weight.grad.norm().item()


def test_post_ln_gradient_near_output_does_not_shrink_with_depth_but_pre_ln_does():
    seeds = range(3)
    post = {n: sum(last_layer_grad(n, False, s) for s in seeds) / 3 for n in (2, 18)}
    pre = {n: sum(last_layer_grad(n, True, s) for s in seeds) / 3 for n in (2, 18)}
    assert math.isclose(post[18], post[2], rel_tol=0.25)
    assert pre[18] < pre[2] / 3
    assert post[18] > 3 * pre[18]
    assert math.isclose(post[2], 0.13, abs_tol=0.03) and pre[18] < 0.04


# --- train-log-n-scaling -------------------------------------------------------------------------


@pytest.mark.parametrize("n", [16, 256, 4096, 65536])
@pytest.mark.parametrize("gap", [1.0, 1.5])
def test_weight_on_the_relevant_key_with_and_without_log_n(n, gap):
    logits = torch.zeros(n, dtype=torch.float64)
    logits[0] = gap
    fixed = torch.softmax(logits, dim=0)[0].item()
    scaled = torch.softmax(logits * math.log(n), dim=0)[0].item()
    assert math.isclose(fixed, math.exp(gap) / (math.exp(gap) + n - 1), rel_tol=1e-12)
    assert math.isclose(scaled, n**gap / (n**gap + n - 1), rel_tol=1e-12)
    if gap == 1.0:
        assert 0.5 <= scaled < 0.52
    assert scaled > fixed


def test_weight_on_the_relevant_key_vanishes_with_a_fixed_scale():
    weights = [math.e / (math.e + n - 1) for n in (16, 256, 4096, 65536)]
    assert weights == sorted(weights, reverse=True) and weights[-1] < 1e-4


def test_log_n_scale_slows_the_growth_of_entropy_on_random_logits():
    g = torch.Generator().manual_seed(0)
    d, queries, base = 64, 64, 512
    fixed, scaled = {}, {}
    for n in (128, 512, 2048, 8192):
        q = torch.randn(queries, d, generator=g, dtype=torch.float64)
        k = torch.randn(n, d, generator=g, dtype=torch.float64)
        s = q @ k.T / math.sqrt(d)
        fixed[n] = entropy(torch.softmax(s, dim=-1)).mean().item()
        scaled[n] = entropy(torch.softmax(s * math.log(n, base), dim=-1)).mean().item()
    growth_fixed = fixed[8192] - fixed[512]
    growth_scaled = scaled[8192] - scaled[512]
    assert math.isclose(growth_fixed, 2.8, abs_tol=0.1)
    assert math.isclose(growth_fixed, math.log(16), abs_tol=0.1)
    assert math.isclose(growth_scaled, 2.3, abs_tol=0.1)
    text = section_text("train-log-n-scaling")
    assert "2.8" in text and "2.3" in text


# --- train-fp16-softmax --------------------------------------------------------------------------


def test_exp_overflows_fp16_above_log_of_the_largest_half():
    assert torch.finfo(torch.float16).max == FP16_MAX
    assert math.isclose(math.log(FP16_MAX), 11.09, abs_tol=0.001)
    below = torch.tensor(11.0859375, dtype=torch.float16)
    above = torch.tensor(11.09375, dtype=torch.float16)
    assert below.item() == 11.0859375 and above.item() == 11.09375   # adjacent fp16 numbers
    assert torch.isfinite(torch.exp(below)) and torch.isinf(torch.exp(above))
    # computed in fp32 and then cast, the limit is ln(65520), where rounding to fp16 reaches inf
    x = torch.tensor([11.089, 11.091])
    assert torch.exp(x).half().isinf().tolist() == [False, True]


def test_naive_fp16_softmax_gives_nan_and_the_stable_one_matches_float64():
    g = torch.Generator().manual_seed(3)
    logits = (torch.randn(4, 8, generator=g) * 6 + 10).half()
    e = torch.exp(logits)
    naive = e / e.sum(-1, keepdim=True)
    assert torch.isnan(naive).any()
    x32 = logits.float()
    e32 = torch.exp(x32 - x32.amax(-1, keepdim=True))
    assert e32.max() == 1.0
    stable = (e32 / e32.sum(-1, keepdim=True)).half()
    torch.testing.assert_close(stable.double(), torch.softmax(logits.double(), -1),
                               atol=1e-3, rtol=1e-3)


def test_exp_underflows_fp16_below_about_minus_17():
    assert torch.exp(torch.tensor(-17.0, dtype=torch.float16)) > 0
    assert torch.exp(torch.tensor(-17.4, dtype=torch.float16)) == 0
    assert math.isclose(math.log(2**-25), -17.33, abs_tol=0.01)


def test_bf16_has_fp32_range_but_little_precision():
    bf16 = torch.finfo(torch.bfloat16)
    assert bf16.max > 3.3e38 and bf16.eps == 2**-7
    assert torch.isfinite(torch.exp(torch.tensor(80.0, dtype=torch.bfloat16)))
    one = torch.tensor(1.0, dtype=torch.bfloat16)
    assert one + torch.tensor(0.001, dtype=torch.bfloat16) == one


# --- mask-fp16-neg-1e9 (was train-mask-fill-fp16) -------------------------------------------------


def test_masked_fill_minus_1e9_on_fp16_raises_overflow():
    question_text("mask-fp16-neg-1e9")
    scores = torch.zeros(2, 3, dtype=torch.float16)
    with pytest.raises(RuntimeError, match="overflow"):
        scores.masked_fill(torch.ones(2, 3, dtype=torch.bool), -1e9)


def test_minus_1e9_cast_to_fp16_is_minus_inf_and_a_fully_masked_row_gives_nan():
    assert torch.tensor(-1e9).half().item() == -math.inf
    additive = torch.tensor([[0.0, -1e9, 0.0], [-1e9, -1e9, -1e9]]).half()
    weights = torch.softmax(torch.zeros(2, 3, dtype=torch.float16) + additive, dim=-1)
    assert torch.isfinite(weights[0]).all() and torch.isnan(weights[1]).all()


def test_finfo_min_plus_finfo_min_overflows_and_a_fully_masked_row_is_uniform():
    lowest = torch.tensor(torch.finfo(torch.float16).min, dtype=torch.float16)
    assert (lowest + lowest).item() == -math.inf
    row = torch.full((4,), torch.finfo(torch.float16).min, dtype=torch.float16)
    torch.testing.assert_close(torch.softmax(row.float(), -1), torch.full((4,), 0.25))


def test_sdpa_gives_zeros_and_mha_gives_nan_for_a_fully_masked_row():
    g = torch.Generator().manual_seed(4)
    q, k, v = (torch.randn(1, 1, 3, 4, generator=g) for _ in range(3))
    keep = torch.tensor([[True, False, True], [False, False, False], [True, True, True]])
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
    assert (out[0, 0, 1] == 0).all() and torch.isfinite(out).all()
    torch.manual_seed(4)
    mha = nn.MultiheadAttention(4, 1, batch_first=True)
    x = torch.randn(1, 3, 4)
    ignore_all = torch.ones(1, 3, dtype=torch.bool)           # True = ignore, every key
    out, _ = mha(x, x, x, key_padding_mask=ignore_all)
    assert torch.isnan(out).all()


def test_bf16_represents_minus_1e9():
    value = torch.tensor(-1e9, dtype=torch.bfloat16).item()
    assert math.isfinite(value) and math.isclose(value, -9.98e8, rel_tol=1e-3)


# --- fund-attention-dropout (was train-attention-dropout) ---------------------------------------


def test_dropout_rows_sum_to_one_only_in_expectation():
    question_text("fund-attention-dropout")
    g = torch.Generator().manual_seed(5)
    p_drop = 0.3
    weights = torch.softmax(torch.randn(1, 8, generator=g, dtype=torch.float64), -1)
    draws = 20000
    keep = torch.rand(draws, 8, generator=g, dtype=torch.float64) > p_drop
    dropped = weights * keep / (1 - p_drop)
    sums = dropped.sum(-1)
    assert (sums - 1).abs().max() > 0.1
    assert math.isclose(sums.mean().item(), 1.0, abs_tol=0.01)


def test_sdpa_dropout_applies_even_without_grad():
    g = torch.Generator().manual_seed(6)
    q, k, v = (torch.randn(1, 2, 5, 8, generator=g) for _ in range(3))
    with torch.no_grad():
        torch.manual_seed(0)
        first = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
        torch.manual_seed(1)
        second = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert (first - second).abs().max() > 1e-3


def test_mha_returns_post_dropout_weights_in_train_mode():
    torch.manual_seed(7)
    mha = nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = torch.randn(1, 5, 8)
    mha.train()
    _, train_weights = mha(x, x, x, need_weights=True, average_attn_weights=False)
    mha.eval()
    _, eval_weights = mha(x, x, x, need_weights=True, average_attn_weights=False)
    assert (train_weights.sum(-1) - 1).abs().max() > 0.1
    torch.testing.assert_close(eval_weights.sum(-1), torch.ones(1, 2, 5))


# --- train-qk-norm-softcap: QK-Clip and softcap kernels ------------------------------------------


@pytest.mark.parametrize("trial", range(3))
def test_qk_clip_brings_each_offending_head_back_to_tau_and_leaves_the_others(trial):
    text = question_text("train-qk-norm-softcap")
    assert "100" in text and "15.5T" in text and "QK-Clip" in text
    tau = 100.0
    g = torch.Generator().manual_seed(int(torch.seed() % 2**31))
    x = torch.randn(7, 32, generator=g, dtype=torch.float64)
    size = torch.tensor([3.0, 0.2, 2.0], dtype=torch.float64)[:, None, None]
    w_q = torch.randn(3, 8, 32, generator=g, dtype=torch.float64) * size
    w_k = torch.randn(3, 8, 32, generator=g, dtype=torch.float64) * size

    def max_logit(wq, wk):
        return ((x @ wq.transpose(1, 2)) @ (x @ wk.transpose(1, 2)).transpose(1, 2)).amax((1, 2))

    before = max_logit(w_q, w_k)
    gamma = torch.clamp(tau / before, max=1.0).sqrt()[:, None, None]
    after = max_logit(w_q * gamma, w_k * gamma)
    over = before > tau
    torch.testing.assert_close(after[over], torch.full_like(after[over], tau))
    torch.testing.assert_close(after[~over], before[~over])


def test_torch_sdpa_has_no_softcap_argument():
    assert "softcap" in question_text("train-qk-norm-softcap")
    q = torch.randn(1, 1, 3, 4)
    with pytest.raises(TypeError):
        F.scaled_dot_product_attention(q, q, q, softcap=50.0)


# --- train-sigmoid-attention ---------------------------------------------------------------------


@pytest.mark.parametrize("n", [4, 64, 4096])
def test_minus_log_n_bias_puts_a_zero_score_row_near_one(n):
    text = question_text("train-sigmoid-attention")
    assert "n/(n+1)" in text and "n/2" in text and "17%" in text
    zeros = torch.zeros(n, dtype=torch.float64)
    assert math.isclose(torch.sigmoid(zeros - math.log(n)).sum().item(), n / (n + 1), rel_tol=1e-12)
    assert math.isclose(torch.sigmoid(zeros).sum().item(), n / 2, rel_tol=1e-12)


@pytest.mark.parametrize("trial", range(3))
def test_sigmoid_attention_over_key_blocks_adds_up_and_masked_rows_are_zero(trial):
    question_text("train-sigmoid-attention")
    g = torch.Generator().manual_seed(int(torch.seed() % 2**31))
    q, k, v = (torch.randn(2, n, 8, generator=g, dtype=torch.float64) for n in (5, 12, 12))
    bias = -math.log(12)

    def attend(k_, v_, keep=None):
        scores = q @ k_.transpose(-2, -1) / math.sqrt(8) + bias
        if keep is not None:
            scores = scores.masked_fill(~keep, float("-inf"))
        return torch.sigmoid(scores) @ v_

    whole = attend(k, v)
    blocks = sum(attend(k[:, i : i + 5], v[:, i : i + 5]) for i in range(0, 12, 5))
    torch.testing.assert_close(blocks, whole)
    keep = torch.ones(5, 12, dtype=torch.bool)
    keep[2] = False
    masked = attend(k, v, keep)
    assert (masked[:, 2] == 0).all() and torch.isfinite(masked).all()
