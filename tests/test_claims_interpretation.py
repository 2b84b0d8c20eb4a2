"""Claims of content/09-interpretation.yaml that code can check, each on fresh random inputs
against torch or a float64 reference (the questions' own code blocks run in test_content.py).

Checked claims, by question id:
- interp-read-heatmap: each row of softmax weights sums to 1 while column sums are free and add up
  to L; a fully masked row gives zero weights and zero output (SDPA); under a causal mask the upper
  triangle is 0 and row 0 is exactly A_00 = 1.
- interp-head-entropy: a uniform row over S keys has entropy log S (about 2.303 for S = 10), a
  one-hot row 0, every row lies in [0, log S]; raising the temperature drives it to log S and
  lowering it drives it to 0; `p * p.log()` is NaN at p = 0 while `xlogy` gives 0.
- interp-induction-heads: a previous-token head followed by an induction head (hand-built) predicts
  every token of a repeated random sequence; the induction head's weight from position i goes to
  the token after the earlier occurrence. MiniLM-L6's layer 0, head 2 is an almost pure
  previous-token head (mean a_{i,i-1} > 0.9).
- interp-attention-rollout-flow: rollout rows are distributions; with identity attention rollout is
  the identity; it equals the float64 product of (0.5 A + 0.5 I) matrices, newer layer on the left;
  multiplying raw head-averaged attention without the identity gives rows that all look alike
  (near rank 1) after 6 layers, while rollout keeps them apart (each token keeps at least
  0.5 ** L of itself).
- interp-averaging-heads: the output of nn.MultiheadAttention equals sum_h A_h V_h W^O_h;
  computing it with the head-averaged map instead is far off; the default returned weights are
  the head average.
- interp-cls-sep-no-op: in MiniLM-L6 (all-MiniLM-L6-v2) most heads of layers 1 to 4 put more than
  0.3 of their attention on [CLS], and far more on [CLS] than on [SEP].
- interp-gradient-attribution: Integrated Gradients is complete (sum = f(x) - f(x')) and matches a
  float64 fine-grid reference; gradient x input is complete for a linear model with a zero
  baseline, and not for a non-linear one.

Not checkable here: BERT-base's share of attention on [SEP] in layers 6 to 10 (Clark et al.), the
StreamingLLM perplexity results, and the other findings the answers cite from papers.
- interp-logit-lens-head-attribution: with the final LayerNorm's sigma frozen, the per-head
  (and embedding, bias) direct contributions sum exactly to the logits of a real
  nn.MultiheadAttention layer, and so does the split of a logit difference.
The attention-sink claims moved with their question to inf-attention-sinks
(tests/test_claims_inference.py).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from attention import scaled_dot_product_attention
from prep import realmodel
from prep.bank import load_bank

TRIALS = range(3)


def fresh_generator() -> torch.Generator:
    return torch.Generator().manual_seed(int(torch.seed() % 2**31))


# -- interp-read-heatmap --------------------------------------------------------------------------


@pytest.mark.parametrize("trial", TRIALS)
def test_rows_sum_to_one_columns_do_not(trial):
    g = fresh_generator()
    length, source, dim = 6, 9, 8
    q = torch.randn(2, 3, length, dim, generator=g)
    k = torch.randn(2, 3, source, dim, generator=g)
    v = torch.randn(2, 3, source, dim, generator=g)
    out, weights = scaled_dot_product_attention(q, k, v)
    reference = torch.softmax(q.double() @ k.double().transpose(-2, -1) / math.sqrt(dim), -1)
    torch.testing.assert_close(weights, reference.float())
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, length))
    columns = weights.sum(-2)
    assert not torch.allclose(columns, torch.ones_like(columns))
    torch.testing.assert_close(columns.sum(-1), torch.full((2, 3), float(length)))
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v))


def test_a_fully_masked_row_gives_zeros():
    g = fresh_generator()
    q, k, v = (torch.randn(1, 1, 4, 8, generator=g) for _ in range(3))
    keep = torch.ones(4, 4, dtype=torch.bool)
    keep[2] = False  # query 2 may attend to nothing
    out, weights = scaled_dot_product_attention(q, k, v, attn_mask=keep)
    assert torch.equal(weights[0, 0, 2], torch.zeros(4))
    assert torch.equal(out[0, 0, 2], torch.zeros(8))
    torch.testing.assert_close(F.scaled_dot_product_attention(q, k, v, attn_mask=keep)[0, 0, 2],
                               torch.zeros(8))


def test_causal_upper_triangle_is_zero_and_row_zero_is_one_hot():
    g = fresh_generator()
    q, k, v = (torch.randn(1, 2, 7, 8, generator=g) for _ in range(3))
    _, weights = scaled_dot_product_attention(q, k, v, is_causal=True)
    assert torch.equal(weights.triu(1), torch.zeros_like(weights))
    assert torch.equal(weights[..., 0, 0], torch.ones(1, 2))


# -- interp-head-entropy -------------------------------------------------------------------------


def entropy(weights: torch.Tensor) -> torch.Tensor:
    return -torch.special.xlogy(weights, weights).sum(-1)


def test_uniform_row_has_entropy_log_s_and_one_hot_zero():
    for keys in (2, 10, 37):
        assert entropy(torch.full((keys,), 1 / keys, dtype=torch.float64)).item() == pytest.approx(
            math.log(keys)
        )
        assert entropy(torch.eye(keys, dtype=torch.float64)[0]).item() == 0.0
    assert round(math.log(10), 3) == 2.303


@pytest.mark.parametrize("trial", TRIALS)
def test_entropy_is_between_zero_and_log_s_and_follows_temperature(trial):
    g = fresh_generator()
    keys = 12
    logits = torch.randn(50, keys, generator=g, dtype=torch.float64)
    rows = torch.softmax(logits, -1)
    reference = torch.distributions.Categorical(probs=rows).entropy()
    torch.testing.assert_close(entropy(rows), reference)
    assert ((entropy(rows) >= 0) & (entropy(rows) <= math.log(keys))).all()
    hot = entropy(torch.softmax(logits / 1e4, -1))  # temperature -> infinity
    cold = entropy(torch.softmax(logits * 1e9, -1))  # temperature -> 0
    torch.testing.assert_close(hot, torch.full_like(hot, math.log(keys)), atol=1e-6, rtol=0)
    torch.testing.assert_close(cold, torch.zeros_like(cold), atol=1e-6, rtol=0)
    temperatures = torch.tensor([0.25, 0.5, 1.0, 2.0, 4.0], dtype=torch.float64)
    means = torch.stack([entropy(torch.softmax(logits / t, -1)).mean() for t in temperatures])
    assert (means.diff() > 0).all()


def test_naive_p_log_p_is_nan_at_zero_and_xlogy_is_not():
    row = torch.tensor([0.0, 0.5, 0.5])
    assert torch.isnan(-(row * row.log()).sum())
    assert entropy(row).item() == pytest.approx(math.log(2))


# -- interp-induction-heads ----------------------------------------------------------------------


@pytest.mark.parametrize("trial", TRIALS)
def test_hand_built_induction_head_predicts_the_repeat(trial):
    g = fresh_generator()
    vocab, beta = 20, 20.0
    n = int(torch.randint(3, 10, (1,), generator=g))
    bos = vocab
    first = torch.randperm(vocab, generator=g)[:n]
    tokens = torch.cat([torch.tensor([bos]), first, first])
    length = tokens.numel()
    current = F.one_hot(tokens, vocab + 1).float()
    position = torch.eye(length)
    causal = torch.ones(length, length, dtype=torch.bool).tril()
    # Layer 1: previous-token head.
    q1 = position[(torch.arange(length) - 1).clamp(min=0)]
    previous, prev_weights = scaled_dot_product_attention(q1, position, current, scale=beta)
    prev_score = prev_weights.diagonal(-1).mean()
    # Layer 2: induction head.
    out, weights = scaled_dot_product_attention(current, previous, current, attn_mask=causal,
                                                scale=beta)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(
        current, previous, current, attn_mask=causal, scale=beta))
    second = torch.arange(n + 1, length - 1)
    assert prev_score > 0.99
    assert torch.equal(out.argmax(-1)[second], tokens[second + 1])
    assert (weights[second, second - n + 1] > 0.99).all()  # induction score ~ 1


@pytest.fixture(scope="module")
def minilm_statistics():
    model = realmodel.load()
    sentences = [
        ("The animal didn't cross the street because it was too tired.", None),
        ("Interviewers often ask candidates to derive scaled dot-product attention.", None),
        ("Where is the cat?", "The cat is on the mat."),
    ]
    return [realmodel.attend(a, b, model=model).statistics() for a, b in sentences]


def test_minilm_layer_0_head_2_is_a_previous_token_head(minilm_statistics):
    for stats in minilm_statistics:
        assert stats.to_previous[0, 2] > 0.9


# -- interp-cls-sep-no-op ------------------------------------------------------------------------


def test_minilm_middle_layers_park_attention_on_cls_not_sep(minilm_statistics):
    for stats in minilm_statistics:
        middle_cls, middle_sep = stats.to_cls[1:5], stats.to_sep[1:5]  # layers 1 to 4
        assert (middle_cls > 0.3).mean() > 0.5
        assert middle_cls.mean() > 5 * middle_sep.mean()


# -- interp-attention-rollout-flow ---------------------------------------------------------------


def rollout(attentions: np.ndarray, residual: float = 0.5) -> np.ndarray:
    """float64 reference: product of row-normalised (residual I + (1 - residual) mean_h A)."""
    tokens = attentions.shape[-1]
    result = np.eye(tokens)
    for layer in attentions.astype(np.float64):
        mixed = residual * np.eye(tokens) + (1 - residual) * layer.mean(0)
        mixed /= mixed.sum(-1, keepdims=True)
        result = mixed @ result
    return result


def random_attention(g, layers=6, heads=12, tokens=9, sharpness=2.0) -> torch.Tensor:
    return torch.softmax(
        sharpness * torch.randn(layers, heads, tokens, tokens, generator=g, dtype=torch.float64), -1
    )


@pytest.mark.parametrize("trial", TRIALS)
def test_rollout_is_a_row_stochastic_product_newer_layer_left(trial):
    g = fresh_generator()
    attn = random_attention(g)
    layers, _, tokens, _ = attn.shape
    expected = torch.eye(tokens, dtype=torch.float64)
    for layer in range(layers):
        mixed = 0.5 * attn[layer].mean(0) + 0.5 * torch.eye(tokens, dtype=torch.float64)
        expected = mixed @ expected
    result = rollout(attn.numpy())
    np.testing.assert_allclose(result, expected.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(result.sum(-1), np.ones(tokens), rtol=1e-12)
    identity = np.broadcast_to(np.eye(tokens), (layers, 12, tokens, tokens))
    np.testing.assert_allclose(rollout(identity), np.eye(tokens))


def spread(matrix: np.ndarray) -> float:
    """How far the rows are from their mean row: 0 when all rows are alike (rank 1)."""
    return float(np.abs(matrix - matrix.mean(0)).max())


@pytest.mark.parametrize("trial", TRIALS)
def test_raw_attention_products_collapse_to_alike_rows_rollout_does_not(trial):
    g = fresh_generator()
    attn = random_attention(g).numpy()
    raw = np.eye(attn.shape[-1])
    for layer in attn:
        raw = layer.mean(0) @ raw
    result = rollout(attn)
    assert spread(raw) < 1e-3
    assert spread(result) > 100 * spread(raw)
    # Each step keeps half of a token's own share: the diagonal is at least 0.5 ** layers.
    assert (np.diagonal(result) >= 0.5 ** attn.shape[0]).all()


# -- interp-averaging-heads ----------------------------------------------------------------------


@pytest.mark.parametrize("trial", TRIALS)
def test_mha_output_is_the_sum_over_heads_and_the_average_map_is_not_it(trial):
    torch.manual_seed(int(torch.seed() % 2**31))
    embed, heads, tokens = 24, 4, 7
    head_dim = embed // heads
    mha = nn.MultiheadAttention(embed, heads, batch_first=True, dtype=torch.float64).eval()
    x = torch.randn(2, tokens, embed, dtype=torch.float64)
    with torch.no_grad():
        out, per_head = mha(x, x, x, average_attn_weights=False)
        _, averaged_default = mha(x, x, x)
        value = (x @ mha.in_proj_weight[2 * embed :].T + mha.in_proj_bias[2 * embed :])
        value = value.view(2, tokens, heads, head_dim).transpose(1, 2)  # (B, H, T, D)
        w_o = mha.out_proj.weight.view(embed, heads, head_dim)  # (E, H, D)

        def combine(weights):  # sum over heads of A_h V_h W^O_h
            return torch.einsum("bhtd,ehd->bte", weights @ value, w_o) + mha.out_proj.bias

        torch.testing.assert_close(combine(per_head), out)
        torch.testing.assert_close(averaged_default, per_head.mean(1))
        averaged = combine(per_head.mean(1, keepdim=True).expand(-1, heads, -1, -1))
    assert (averaged - out).abs().max() > 1e-2


# -- interp-gradient-attribution ------------------------------------------------------------------


def integrated_gradients(f, x, baseline, steps):
    alphas = (torch.arange(steps, dtype=x.dtype) + 0.5) / steps
    path = baseline + alphas[:, None, None] * (x - baseline)
    return (x - baseline) * torch.func.vmap(torch.func.grad(f))(path).mean(0)


@pytest.mark.parametrize("trial", TRIALS)
def test_integrated_gradients_is_complete_and_gradient_times_input_is_not(trial):
    g = fresh_generator()
    tokens, dim = 5, 6
    w_score = torch.randn(dim, generator=g, dtype=torch.float64)
    w_out = torch.randn(dim, generator=g, dtype=torch.float64)

    def model(x):
        return (torch.softmax(x @ w_score, 0) @ x) @ w_out

    x = torch.randn(tokens, dim, generator=g, dtype=torch.float64)
    baseline = torch.zeros_like(x)
    gap = model(x) - model(baseline)
    coarse = integrated_gradients(model, x, baseline, steps=256)
    fine = integrated_gradients(model, x, baseline, steps=8192)
    torch.testing.assert_close(coarse.sum(), gap, rtol=1e-3, atol=1e-4)
    torch.testing.assert_close(fine.sum(), gap, rtol=1e-6, atol=1e-8)
    torch.testing.assert_close(coarse, fine, rtol=1e-3, atol=1e-4)
    grad_times_input = x * torch.func.grad(model)(x)
    assert (grad_times_input.sum() - gap).abs() > 1e-6

    def linear(x):
        return (x * w_out).sum()

    torch.testing.assert_close((x * torch.func.grad(linear)(x)).sum(), linear(x) - linear(baseline))


# -- interp-logit-lens-head-attribution -----------------------------------------------------------


def interp_question(question_id: str):
    q = load_bank(Path(__file__).resolve().parents[1] / "content").question(question_id)
    assert q is not None, f"question {question_id} is gone: update this claim test"
    return q


@pytest.mark.parametrize("trial", TRIALS)
def test_direct_logit_attribution_with_frozen_sigma_is_exact_also_for_a_logit_difference(trial):
    q = interp_question("interp-logit-lens-head-attribution")
    assert "8" in q.answer["en"] and "8 " in q.answer["zh"]
    g = fresh_generator()
    tokens, width, heads, vocab = 6, 12, 3, 7
    head_dim = width // heads
    x0 = torch.randn(tokens, width, generator=g, dtype=torch.float64)
    mha = nn.MultiheadAttention(width, heads, batch_first=True, dtype=torch.float64)
    gamma = torch.rand(width, generator=g, dtype=torch.float64) + 0.5
    beta = torch.randn(width, generator=g, dtype=torch.float64)
    w_u = torch.randn(width, vocab, generator=g, dtype=torch.float64)
    with torch.no_grad():
        y = F.layer_norm(x0, (width,))[None]
        attn, _ = mha(y, y, y, need_weights=False)
        x = x0 + attn[0]
        logits = (gamma * F.layer_norm(x, (width,)) + beta) @ w_u
        # Per-head outputs through the head's own block of W_O.
        w_q, w_k, w_v = mha.in_proj_weight.chunk(3)
        b_q, b_k, b_v = mha.in_proj_bias.chunk(3)
        qh, kh, vh = ((y[0] @ w.T + b).view(tokens, heads, head_dim).transpose(0, 1)
                      for w, b in ((w_q, b_q), (w_k, b_k), (w_v, b_v)))
        per_head = F.scaled_dot_product_attention(qh, kh, vh)            # (H, T, d)
        w_o = mha.out_proj.weight.T.view(heads, head_dim, width)
        components = [x0, *(per_head @ w_o), mha.out_proj.bias.expand(tokens, width)]
    torch.testing.assert_close(sum(components), x)
    sigma = (x.var(-1, unbiased=False, keepdim=True) + 1e-5).sqrt()
    dla = torch.stack([(c - c.mean(-1, keepdim=True)) / sigma for c in components]) @ (
        gamma[:, None] * w_u)                                            # (components, T, V)
    torch.testing.assert_close(dla.sum(0) + beta @ w_u, logits)
    diff = dla[..., 0] - dla[..., 1]                                     # a logit difference
    constant = beta @ (w_u[:, 0] - w_u[:, 1])
    torch.testing.assert_close(diff.sum(0) + constant, logits[:, 0] - logits[:, 1])
