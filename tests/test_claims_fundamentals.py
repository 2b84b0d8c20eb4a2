"""Claims stated in content/01-fundamentals.yaml, checked by running them.

Checked claims (question id: claim):
- fund-why-sqrt-dk: for q, k with independent unit-variance components, Var(q.k) = d_k
  (d_k in 4, 16, 64, 256, 1024), and dividing by sqrt(d_k) brings it back to 1; at d_k = 512 the
  standard deviation is about 22.6.
- fund-why-sqrt-dk: without the scale, softmax over 32 keys saturates as d_k grows (mean largest
  weight > 0.9, entropy near 0 for d_k >= 256); with the scale the weights stay spread and their
  entropy does not depend on d_k.
- fund-why-sqrt-dk / fund-softmax-jacobian: the softmax Jacobian shrinks without the scale
  (vanishing gradient) and stays put with it.
- fund-softmax-jacobian: J = diag(p) - p p^T equals autograd's Jacobian; it is symmetric, its rows
  sum to 0, it is positive semi-definite with rank n - 1; it goes to 0 near a one-hot p; the O(n)
  backward p * (g - <g, p>) equals autograd.
- fund-stable-softmax: exp overflows float32 between 88.7 and 88.8; the naive softmax gives NaN on
  very large and on very negative rows; the max-subtracted one matches torch.softmax.
- fund-attention-cost: nn.MultiheadAttention costs 8 n d^2 FLOPs in its projections and 4 n^2 d in
  QK^T and AV whatever the number of heads; the two are equal at n = 2d; the worked example
  (d = 1024, 16 heads, n = 8192) gives 6.9e10, 2.7e11 FLOPs (ratio 4) and 2 GiB of fp16 scores.
- fund-how-attention-helps: the same 2 GiB of fp16 scores for 16 heads at n = 8192.
- fund-attention-limitations: the KV-cache size formula 2 x layers x kv_heads x d_h x tokens x
  bytes matches the bytes of real cache tensors; 32 layers, 8 KV heads, d_h = 128, fp16 give
  128 KiB per token and 4 GiB for 32k tokens.
- fund-why-output-projection: nn.MultiheadAttention(d, h) has 4 d^2 + 4 d parameters for any h
  (2,362,368 at d = 768); Concat(heads) W_O equals the sum over heads of head_i W_O^(i).
- fund-qkv-roles: tying W_Q = W_K makes the score matrix symmetric with a non-negative diagonal;
  untied projections do not.
- fund-permutation-equivariance: self-attention without positions satisfies f(PX) = P f(X);
  with a causal mask it does not.
- fund-attention-dropout: inverted dropout scales kept weights by exactly 1 / (1 - p) and rows no
  longer sum to 1; F.scaled_dot_product_attention with dropout_p > 0 is random even under
  torch.no_grad(); nn.MultiheadAttention in eval() is deterministic with rows summing to 1.
- fund-tensor-shapes: a direct view(B, H, L, d_h) gives silently wrong results; view after
  transpose raises.
- fund-self-vs-cross-attention: cross-attention weights are (B, L, S) and the output follows the
  queries' length L.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from bank_text import question_text
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

N_SAMPLES = 20_000
N_KEYS = 32
N_QUERIES = 256
GIB = 2**30
KIB = 2**10
FP16_BYTES = 2


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _softmax_stats(d_k: int, scaled: bool) -> tuple[float, float, float]:
    """Mean largest weight, mean entropy and mean Jacobian norm of softmax(q k^T [/ sqrt(d_k)])."""
    g = _gen(d_k)
    q = torch.randn(N_QUERIES, d_k, generator=g, dtype=torch.float64)
    k = torch.randn(N_KEYS, d_k, generator=g, dtype=torch.float64)
    scores = q @ k.T
    if scaled:
        scores = scores / math.sqrt(d_k)
    p = scores.softmax(dim=-1)
    entropy = -(p * p.clamp_min(1e-300).log()).sum(-1)
    jac = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
    return (
        p.max(-1).values.mean().item(),
        entropy.mean().item(),
        torch.linalg.matrix_norm(jac).mean().item(),
    )


# ------------------------------------------------------------------------- fund-why-sqrt-dk


@pytest.mark.parametrize("d_k", [4, 16, 64, 256, 1024])
def test_variance_of_q_dot_k_is_d_k_and_scaling_restores_one(d_k):
    g = _gen(d_k)
    q = torch.randn(N_SAMPLES, d_k, generator=g, dtype=torch.float64)
    k = torch.randn(N_SAMPLES, d_k, generator=g, dtype=torch.float64)
    dots = (q * k).sum(-1)
    assert dots.var().item() == pytest.approx(d_k, rel=0.05)
    assert dots.mean().item() == pytest.approx(0.0, abs=4 * math.sqrt(d_k / N_SAMPLES))
    assert (dots / math.sqrt(d_k)).var().item() == pytest.approx(1.0, rel=0.05)


def test_std_of_unscaled_logits_at_d_k_512_is_about_22_6():
    d_k = 512
    g = _gen(7)
    q = torch.randn(N_SAMPLES, d_k, generator=g, dtype=torch.float64)
    k = torch.randn(N_SAMPLES, d_k, generator=g, dtype=torch.float64)
    assert (q * k).sum(-1).std().item() == pytest.approx(22.6, rel=0.05)
    assert math.sqrt(d_k) == pytest.approx(22.6, abs=0.05)


@pytest.mark.parametrize("d_k", [256, 1024])
def test_softmax_saturates_without_the_scale(d_k):
    max_weight, entropy, _ = _softmax_stats(d_k, scaled=False)
    assert max_weight > 0.9
    assert entropy < 0.1 * math.log(N_KEYS)


@pytest.mark.parametrize("d_k", [16, 64, 256, 1024])
def test_softmax_stays_spread_with_the_scale(d_k):
    max_weight, entropy, _ = _softmax_stats(d_k, scaled=True)
    assert max_weight < 0.3
    assert entropy > 0.8 * math.log(N_KEYS)


def test_scaled_entropy_does_not_depend_on_d_k_and_unscaled_entropy_falls():
    scaled = [_softmax_stats(d, scaled=True)[1] for d in (16, 64, 256, 1024)]
    unscaled = [_softmax_stats(d, scaled=False)[1] for d in (16, 64, 256, 1024)]
    assert max(scaled) - min(scaled) < 0.1
    assert unscaled == sorted(unscaled, reverse=True)


def test_softmax_jacobian_vanishes_without_the_scale():
    unscaled = [_softmax_stats(d, scaled=False)[2] for d in (16, 64, 256, 1024)]
    scaled = [_softmax_stats(d, scaled=True)[2] for d in (16, 64, 256, 1024)]
    assert unscaled == sorted(unscaled, reverse=True)
    assert unscaled[-1] < 0.5 * scaled[-1]
    assert max(scaled) - min(scaled) < 0.05


# -------------------------------------------------------------------- fund-softmax-jacobian


def test_softmax_jacobian_formula_and_properties():
    s = torch.randn(6, generator=_gen(1), dtype=torch.float64)
    p = s.softmax(-1)
    jac = torch.diag(p) - torch.outer(p, p)
    torch.testing.assert_close(jac, torch.autograd.functional.jacobian(lambda t: t.softmax(-1), s))
    torch.testing.assert_close(jac, jac.T)
    torch.testing.assert_close(jac.sum(-1), torch.zeros(6, dtype=torch.float64))
    eigenvalues = torch.linalg.eigvalsh(jac)
    assert eigenvalues.min().item() > -1e-12
    assert torch.linalg.matrix_rank(jac).item() == 5


def test_softmax_backward_without_jacobian_matches_autograd():
    g = _gen(2)
    s = torch.randn(3, 7, generator=g, dtype=torch.float64, requires_grad=True)
    upstream = torch.randn(3, 7, generator=g, dtype=torch.float64)
    (expected,) = torch.autograd.grad(s.softmax(-1), s, upstream)
    p = s.detach().softmax(-1)
    torch.testing.assert_close(p * (upstream - (upstream * p).sum(-1, keepdim=True)), expected)


def test_softmax_jacobian_goes_to_zero_near_one_hot():
    p = torch.tensor([60.0, 0.0, 0.0, 0.0], dtype=torch.float64).softmax(-1)
    jac = torch.diag(p) - torch.outer(p, p)
    assert jac.abs().max().item() < 1e-20


# ---------------------------------------------------------------------- fund-stable-softmax


def test_exp_overflows_float32_between_88_7_and_88_8():
    assert torch.isfinite(torch.exp(torch.tensor(88.7)))
    assert torch.isinf(torch.exp(torch.tensor(88.8)))


def test_naive_softmax_gives_nan_and_stable_softmax_does_not():
    x = torch.tensor([[1000.0, 999.0, 998.0], [-1000.0, -1001.0, -1002.0]])
    naive = torch.exp(x) / torch.exp(x).sum(-1, keepdim=True)
    assert torch.isnan(naive).all()
    shifted = torch.exp(x - x.amax(-1, keepdim=True))
    stable = shifted / shifted.sum(-1, keepdim=True)
    torch.testing.assert_close(stable, torch.softmax(x, -1))
    torch.testing.assert_close(stable[0], stable[1])


# ------------------------------------------------------- fund-attention-cost, seed 1.3 fixes


def _mha_flops(n: int, d: int, heads: int) -> dict[str, int]:
    torch.manual_seed(0)
    mha = nn.MultiheadAttention(d, heads, batch_first=True)
    x = torch.randn(1, n, d)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        mha(x, x, x, need_weights=True)
    counts = counter.get_flop_counts()["Global"]
    return {str(op).split(".")[-1]: c for op, c in counts.items()}


@pytest.mark.parametrize(("n", "d", "heads"), [(64, 32, 4), (48, 64, 8), (128, 16, 2)])
def test_mha_flops_are_8nd2_for_projections_and_4n2d_for_the_core(n, d, heads):
    flops = _mha_flops(n, d, heads)
    assert flops["addmm"] == 8 * n * d * d
    assert flops["bmm"] == 4 * n * n * d


def test_core_flops_do_not_depend_on_heads_and_equal_projections_at_n_2d():
    d = 32
    assert _mha_flops(64, d, 1)["bmm"] == _mha_flops(64, d, 8)["bmm"]
    at_crossover = _mha_flops(2 * d, d, 4)
    assert at_crossover["bmm"] == at_crossover["addmm"]


def test_worked_cost_example_d1024_h16_n8192():
    n, d, heads = 8192, 1024, 16
    projections, core = 8 * n * d * d, 4 * n * n * d
    assert projections == pytest.approx(6.9e10, rel=0.01)
    assert core == pytest.approx(2.7e11, rel=0.02)
    assert core / projections == n / (2 * d) == 4
    assert heads * n * n == pytest.approx(1.07e9, rel=0.01)
    assert heads * n * n * FP16_BYTES == 2 * GIB


# ------------------------------------------------------------- fund-attention-limitations


def _kv_cache_bytes(layers: int, kv_heads: int, head_dim: int, tokens: int, batch: int,
                    bytes_per_value: int) -> int:
    return 2 * layers * kv_heads * head_dim * tokens * batch * bytes_per_value


def test_kv_cache_formula_matches_real_cache_tensors():
    layers, kv_heads, head_dim, tokens, batch = 3, 2, 8, 5, 2
    cache = [
        (torch.zeros(batch, kv_heads, tokens, head_dim, dtype=torch.float16),
         torch.zeros(batch, kv_heads, tokens, head_dim, dtype=torch.float16))
        for _ in range(layers)
    ]
    actual = sum(k.nbytes + v.nbytes for k, v in cache)
    assert actual == _kv_cache_bytes(layers, kv_heads, head_dim, tokens, batch, FP16_BYTES)


def test_kv_cache_example_is_128_kib_per_token_and_4_gib_at_32k():
    per_token = _kv_cache_bytes(32, 8, 128, 1, 1, FP16_BYTES)
    assert per_token == 131072 == 128 * KIB
    assert _kv_cache_bytes(32, 8, 128, 32 * 1024, 1, FP16_BYTES) == 4 * GIB


# ------------------------------------------------------------ fund-why-output-projection


@pytest.mark.parametrize(("d", "heads"), [(16, 1), (16, 4), (64, 8), (768, 12)])
def test_mha_parameter_count_is_4d2_plus_4d(d, heads):
    mha = nn.MultiheadAttention(d, heads)
    assert sum(p.numel() for p in mha.parameters()) == 4 * d * d + 4 * d


def test_bert_base_attention_parameter_count():
    assert 4 * 768**2 + 4 * 768 == 2_362_368


def test_concat_then_w_o_equals_sum_of_per_head_projections():
    g = _gen(3)
    B, L, heads, d_h = 2, 5, 4, 3
    d = heads * d_h
    head_outputs = torch.randn(B, heads, L, d_h, generator=g, dtype=torch.float64)
    w_o = torch.randn(d, d, generator=g, dtype=torch.float64)          # (in = d, out = d)
    concat = head_outputs.transpose(1, 2).reshape(B, L, d) @ w_o
    per_head = sum(head_outputs[:, i] @ w_o[i * d_h:(i + 1) * d_h] for i in range(heads))
    torch.testing.assert_close(concat, per_head)


# ------------------------------------------------------------------------ fund-qkv-roles


def test_tied_query_and_key_projections_give_symmetric_scores_with_nonnegative_diagonal():
    g = _gen(4)
    n, d, d_k = 7, 16, 8
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    w = torch.randn(d, d_k, generator=g, dtype=torch.float64)
    tied = (x @ w) @ (x @ w).T
    torch.testing.assert_close(tied, tied.T)
    assert (tied.diagonal() >= 0).all()
    w_k = torch.randn(d, d_k, generator=g, dtype=torch.float64)
    untied = (x @ w) @ (x @ w_k).T
    assert not torch.allclose(untied, untied.T)


# ------------------------------------------------------------ fund-permutation-equivariance


def test_self_attention_is_permutation_equivariant_without_a_mask_only():
    g = _gen(5)
    n, d = 8, 6
    x = torch.randn(1, n, d, generator=g, dtype=torch.float64)
    w_q, w_k, w_v = (torch.randn(d, d, generator=g, dtype=torch.float64) for _ in range(3))
    perm = torch.randperm(n, generator=g)

    def f(inp, causal=False):
        return F.scaled_dot_product_attention(inp @ w_q, inp @ w_k, inp @ w_v, is_causal=causal)

    torch.testing.assert_close(f(x[:, perm]), f(x)[:, perm])
    assert not torch.allclose(f(x[:, perm], causal=True), f(x, causal=True)[:, perm])


# -------------------------------------------------------------------- fund-attention-dropout


def test_inverted_dropout_scales_kept_weights_and_breaks_row_sums():
    p_drop = 0.25
    weights = torch.softmax(torch.randn(4, 6, generator=_gen(6)), dim=-1)
    torch.manual_seed(0)
    dropped = F.dropout(weights, p=p_drop, training=True)
    kept = dropped != 0
    assert kept.any() and not kept.all()
    torch.testing.assert_close(dropped[kept], weights[kept] / (1 - p_drop))
    assert not torch.allclose(dropped.sum(-1), torch.ones(4))


def test_functional_sdpa_applies_dropout_even_under_no_grad():
    g = _gen(8)
    q, k, v = (torch.randn(1, 2, 6, 4, generator=g) for _ in range(3))
    with torch.no_grad():
        torch.manual_seed(0)
        first = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
        torch.manual_seed(1)
        second = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
        no_dropout = F.scaled_dot_product_attention(q, k, v, dropout_p=0.0)
    assert not torch.allclose(first, second)
    assert not torch.allclose(first, no_dropout)


def test_mha_in_eval_mode_is_deterministic_and_rows_sum_to_one():
    torch.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = torch.randn(2, 5, 8)
    mha.eval()
    with torch.no_grad():
        out1, w1 = mha(x, x, x)
        out2, _ = mha(x, x, x)
    torch.testing.assert_close(out1, out2)
    torch.testing.assert_close(w1.sum(-1), torch.ones(2, 5))


# ------------------------------------------------------------------------ fund-tensor-shapes


def test_direct_view_into_heads_is_silently_wrong_and_view_after_transpose_raises():
    torch.manual_seed(0)
    B, L, d, H = 2, 6, 12, 3
    d_h = d // H
    mha = nn.MultiheadAttention(d, H, batch_first=True)
    x = torch.randn(B, L, d)
    q, k, v = (F.linear(x, w, b) for w, b in zip(
        mha.in_proj_weight.chunk(3), mha.in_proj_bias.chunk(3), strict=True))   # (B, L, d) each

    def attend(split):
        o = F.scaled_dot_product_attention(split(q), split(k), split(v))   # (B, H, L, d_h)
        return mha.out_proj(o.transpose(1, 2).reshape(B, L, d))

    reference, _ = mha(x, x, x)
    right = attend(lambda t: t.view(B, L, H, d_h).transpose(1, 2))
    wrong = attend(lambda t: t.view(B, H, L, d_h))
    torch.testing.assert_close(right, reference)
    assert wrong.shape == reference.shape
    assert not torch.allclose(wrong, reference)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        q.view(B, L, H, d_h).transpose(1, 2).view(B, L, d)


# ------------------------------------------------------------ fund-self-vs-cross-attention


def test_cross_attention_weights_are_l_by_s_and_output_follows_queries():
    torch.manual_seed(0)
    B, L, S, d = 2, 3, 7, 8
    mha = nn.MultiheadAttention(d, 2, batch_first=True)
    decoder_states, encoder_out = torch.randn(B, L, d), torch.randn(B, S, d)
    out, weights = mha(decoder_states, encoder_out, encoder_out)
    assert out.shape == (B, L, d)
    assert weights.shape == (B, L, S)


# ============================================================ bank v2 (issue 12) claims
# Each test below names the question whose text states the claim; a renamed or deleted id fails
# here loudly (through _question_text), and so does a number that is no longer in the text.



# -------------------------------------------------------------- fund-design-attention-model
# An 8B-class decoder: d = 4096, 32 layers, 32 query heads, 8 KV heads, d_h = 128, SwiGLU hidden
# 14336, vocabulary 128256, no biases. Parameters are counted on the meta device (no memory).

D8B, LAYERS8B, HEADS8B, KV8B, DH8B, FFN8B, VOCAB8B = 4096, 32, 32, 8, 128, 14336, 128256


class _SwiGLUBlock(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.q = nn.Linear(D8B, HEADS8B * DH8B, bias=False)
        self.k = nn.Linear(D8B, KV8B * DH8B, bias=False)
        self.v = nn.Linear(D8B, KV8B * DH8B, bias=False)
        self.o = nn.Linear(HEADS8B * DH8B, D8B, bias=False)
        self.gate = nn.Linear(D8B, FFN8B, bias=False)
        self.up = nn.Linear(D8B, FFN8B, bias=False)
        self.down = nn.Linear(FFN8B, D8B, bias=False)


def _count(module: nn.Module, prefixes: tuple[str, ...]) -> int:
    return sum(p.numel() for n, p in module.named_parameters() if n.startswith(prefixes))


def test_design_budget_parameter_counts():
    with torch.device("meta"):
        block = _SwiGLUBlock()
        embeddings = nn.Embedding(VOCAB8B, D8B)
    attention_params = _count(block, ("q", "k", "v", "o"))
    ffn_params = _count(block, ("gate", "up", "down"))
    assert attention_params == 2 * D8B**2 + 2 * D8B * KV8B * DH8B == 41_943_040      # ~41.9M
    assert ffn_params == 3 * D8B * FFN8B == 176_160_768                              # ~176.2M
    layers = LAYERS8B * (attention_params + ffn_params)
    assert round(layers / 1e9, 2) == 6.98
    embedding = sum(p.numel() for p in embeddings.parameters())
    assert round(embedding / 1e9, 2) == 0.53
    assert round((layers + 2 * embedding) / 1e9, 2) == 8.03
    text = question_text("fund-design-attention-model")
    for figure in ("41.9", "176.2", "6.98", "0.53", "8.03"):
        assert figure in text


def test_design_budget_flops_per_token_and_attention_core():
    torch.manual_seed(0)
    n_params = LAYERS8B * (2 * D8B**2 + 2 * D8B * KV8B * DH8B + 3 * D8B * FFN8B)
    assert round(2 * n_params / 1e9, 1) == 14.0                       # 2N forward FLOPs per token
    core_per_layer = 4 * 8192 * D8B                                   # QK^T and AV, one token
    assert round(core_per_layer / 1e9, 3) == 0.134
    assert round(LAYERS8B * core_per_layer / 1e9, 1) == 4.3
    # The 4 n d attention-core count, measured by torch's FLOP counter on a small case.
    n, heads, d_h = 64, 4, 8
    q = torch.randn(1, heads, 1, d_h)
    k, v = torch.randn(1, heads, n, d_h), torch.randn(1, heads, n, d_h)
    with FlopCounterMode(display=False) as counter:
        torch.softmax(q @ k.transpose(-2, -1) / d_h**0.5, dim=-1) @ v   # (1, H, 1, d_h)
    assert counter.get_total_flops() == 4 * n * heads * d_h
    text = question_text("fund-design-attention-model")
    for figure in ("14.0", "0.134", "4.3"):
        assert figure in text


def test_design_budget_kv_cache_bytes():
    per_token = 2 * LAYERS8B * KV8B * DH8B * 2                        # K and V, bf16
    cache = [torch.empty(2, KV8B, 1, DH8B, dtype=torch.bfloat16, device="meta")
             for _ in range(LAYERS8B)]
    assert sum(t.numel() * t.element_size() for t in cache) == per_token == 128 * 2**10
    assert per_token * 8192 == 2**30                                  # 1 GiB per 8192 tokens
    mha = 2 * LAYERS8B * HEADS8B * DH8B * 2
    assert mha == 4 * per_token and mha * 8192 == 4 * 2**30           # MHA: 4x, 4 GiB
    text = question_text("fund-design-attention-model")
    assert "128 KiB" in text and "1 GiB" in text and "4 GiB" in text


def test_swiglu_at_8_over_3_d_matches_a_4d_gelu_ffn_and_llama3_uses_3_5_d():
    d = 3 * 512
    assert 3 * d * (8 * d // 3) == 2 * d * (4 * d)                  # same parameter count
    assert FFN8B == 3.5 * D8B
    text = question_text("fund-design-attention-model")
    assert "14336" in text and "3.5d" in text and "\\tfrac{8}{3}d" in text


def test_design_no_longer_recommends_rope_for_extrapolation():
    text = question_text("fund-design-attention-model")
    assert "preferred when length extrapolation matters" not in text
    assert "RoPE does not extrapolate by itself" in text and "RoPE 不能直接外推" in text


# ----------------------------------------------------------------- fund-attention-filtering


def test_bahdanau_is_dated_arxiv_2014_iclr_2015_everywhere_in_fundamentals():
    for question_id in ("fund-attention-filtering", "fund-additive-vs-dot-product"):
        text = question_text(question_id)
        assert "arXiv 2014" in text and "ICLR 2015" in text, question_id
        assert "Bahdanau 2015" not in text and "Bahdanau (2014)" not in text, question_id


# ------------------------------------------------------------------- fund-attention-dropout
# (merged from train-attention-dropout)


def test_bert_attention_dropout_default_is_0_1():
    from transformers import BertConfig

    assert BertConfig().attention_probs_dropout_prob == 0.1
    assert "0.1" in question_text("fund-attention-dropout")


def test_mha_returns_weights_after_dropout_in_training_mode():
    torch.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = torch.randn(2, 6, 8)
    mha.train()
    _, weights = mha(x, x, x)
    assert not torch.allclose(weights.sum(-1), torch.ones(2, 6))
    mha.eval()
    _, weights = mha(x, x, x)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 6))
    assert "eval()" in question_text("fund-attention-dropout")


# ------------------------------------------------------------ fund-permutation-equivariance
# (merged from pos-permutation-equivariance)


def test_a_whole_encoder_layer_without_positions_is_permutation_equivariant():
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, dropout=0.0, batch_first=True)
    layer.eval()
    x = torch.randn(1, 7, 16)
    perm = torch.randperm(7)
    torch.testing.assert_close(layer(x[:, perm]), layer(x)[:, perm])
    pooled = layer(x).mean(1)                                          # invariant after pooling
    torch.testing.assert_close(layer(x[:, perm]).mean(1), pooled)
    assert "FFN" in question_text("fund-permutation-equivariance")


# --------------------------------------------------------------------- fund-tensor-shapes
# (merged from mh-split-heads-bug)


def test_wrong_head_split_puts_a_later_token_into_an_earlier_causal_row():
    B, L, H, d_h = 1, 8, 4, 2
    token_of = torch.arange(L)[None, :, None].expand(B, L, H * d_h).float()   # value = token index
    wrong = token_of.reshape(B, H, L, d_h)                                     # view(B, H, L, d_h)
    for h in range(H):
        for row in range(L):
            assert int(wrong[0, h, row, 0]) == (h * L + row) // H
    assert int(wrong[0, H - 1, 0, 0]) > 0                       # row 0 holds a later token
    only_token0 = torch.zeros(B, L, H * d_h)
    only_token0[:, 0] = 1.0
    right = only_token0.view(B, L, H, d_h).transpose(1, 2)
    assert right[:, :, 1:].abs().sum() == 0                     # the token-0 trick passes
    assert only_token0.view(B, H, L, d_h)[:, 1:].abs().sum() == 0   # ...and exposes the bug:
    assert only_token0.view(B, H, L, d_h)[:, 0, 1].abs().sum() > 0  # token 0 spills into row 1
    assert "(hL + l)/H" in question_text("fund-tensor-shapes")
