"""Claims in the answers and explanations of content/11-frontier.yaml, each checked by code.

Computed here (question id: claim):
- fr-deepseek-sparse-attention: k = 2048 of 131072 keys is 1/64 of a 128K history.
- fr-dsa-training-warmup: 2.1B and 943.7B tokens follow from the steps x sequences x 128K.
- fr-gated-attention-output-gate: the value-to-output map W_V W_O of one head has rank <= d_h.
- fr-differential-attention / fr-differential-lambda-init: lambda_init is 0.2, about 0.356 and
  tends to 0.8; differential rows sum to 1 - lambda; projections as large as MHA's.
- fr-deltanet-delta-rule: the update is a gradient step; beta = 1 and a unit key overwrite
  (S k = v) where linear attention adds; I - beta k k^T has eigenvalues in [0, 1].
- fr-gated-deltanet-chunkwise: the chunkwise WY/UT form equals the recurrence for every chunk
  size, including ones that do not divide L (float64, DeltaNet without the decay gate).
- fr-mamba2-state-space-duality: the scalar-A recurrence equals (L o C B^T) x; its lower blocks
  have rank <= N.
- fr-hybrid-linear-attention-models: 3:1 leaves 1/4 of the layers with a KV cache (75% less), 1:7
  leaves 1/8.
- fr-why-keep-full-attention: a 128 x 128 state holds as many numbers as 64 cached tokens.
- fr-flashattention-3-hopper: 2 x 128 x 2 = 512 matmul FLOPs per exponential; 989 / (3.9 x 512)
  is about 0.5; a random orthogonal (Hadamard) transform leaves Q K^T unchanged.
- fr-flashattention-4-blackwell: online softmax that rescales only past a threshold is exact.
- fr-kv-quantization-kivi: 2 bits + fp16 scale and zero per 32 numbers is 3 bits (16/3 = 5.3x);
  per-channel grouping quantises keys with outlier channels better than per-token grouping.
- fr-cross-layer-kv-sharing: 131072 bytes = 128 KiB per token, 64 KiB with CLA2, 4 KiB for one
  global cache of 32 layers.
- fr-flexattention: create_block_mask's default block is 128 (its code block checks the rest).
- fr-sigmoid-attention: sigma(-log n) = 1 / (n + 1), rows sum to n / (n + 1); with b = 0 to n / 2.
- fr-softmax-off-by-one-sinks: n / (n + 1); a sink of -inf is plain softmax; a fully masked row
  with a sink gives zeros, not NaN.
- fr-streaming-window-keys-seen: 101, 1022 and 1024 keys, counted on the mask; the formula holds
  for every position.
- fr-qk-clip-muonclip: sqrt(gamma) on W_q and W_k brings the max logit to tau; the MLA split
  (sqrt(gamma) on q^C, k^C, gamma on q^R, shared k^R untouched) scales only the clipped head.
- fr-qk-norm-absorbed-mla: the absorption identity holds; RMSNorm(W c) is scale-invariant, so
  not linear.
- fr-mla-absorbed-mqa: 512 + 64 = 576; absorbed scores equal naive ones with scale
  1 / sqrt(d_h + d_R); 1152 bytes, 278528 FLOPs, about 242 FLOP/B against a ridge near 295.
- fr-disaggregation-kv-transfer: 320 KiB per token, 2.5 GiB, about 54 ms at 50 GB/s, 1.15e15
  FLOPs, 1.16 s and 0.14 s at 989 TFLOP/s; MHA's 2.5 MiB, 20 GiB and 0.43 s; GiB vs GB 7%.

Cited, not measured here (papers or GPUs we do not have; each asserted to appear in the text):
DSA's k = 2048 and its stage lengths; FlashAttention-3's 740 TFLOPs/s, 75%, 1.2 PFLOPs/s, 2.6x,
FA2's 35%, the H100's 989 / 3.9 TFLOPS; FlashAttention-4's 1613 TFLOPs/s, 71%, 1.3x (cuDNN
9.13), 2.7x (Triton); FlashSigmoid's 17%; Kimi Linear's 75% and 6x; Jamba's 1:7; Qwen3-Next's
3:1; K2's tau = 100 and 15.5T tokens; gpt-oss's 128-token window; StreamingLLM's 4 sinks.
"""

from __future__ import annotations

import inspect
import math

import pytest
import torch
import torch.nn.functional as F

from prep import settings
from prep.bank import load_bank

BANK = load_bank(settings.content_dir() / "11-frontier.yaml")
KIB, MIB, GIB = 2**10, 2**20, 2**30
F64 = torch.float64


def text(question_id: str) -> str:
    q = BANK.question(question_id)
    assert q is not None, f"{question_id} was renamed or deleted"
    fields = ("question", "answer", "explanation")
    return "\n".join(getattr(q, f)[lang] for f in fields for lang in ("zh", "en"))


def cited(question_id: str, *numbers: str) -> None:
    """A figure quoted from a paper or a GPU spec: it must appear in the question's text."""
    body = text(question_id)
    missing = [n for n in numbers if n not in body]
    assert not missing, f"{question_id} no longer quotes {missing}"


def test_bank_file_loads_without_problems_other_than_pending_lab_modules():
    pending = {"kv_cache", "mla", "sink", "differential", "gated", "delta_rule", "block_sparse"}
    others = [p for p in BANK.problems
              if not (p.field == "lab" and any(f"'{m}'" in p.message for m in pending))]
    assert others == [], "\n".join(map(str, others))


# --- sparse attention --------------------------------------------------------------------------

def test_fr_deepseek_sparse_attention_2048_of_128k_is_one_64th():
    assert 2048 / 131072 == 1 / 64
    cited("fr-deepseek-sparse-attention", "2048", "131072", "1/64")  # k = 2048: DeepSeek-V3.2


def test_fr_dsa_training_warmup_token_counts_follow_from_steps():
    # Cited, not measured here: the report's 1000 steps of 16 x 128K and 15000 steps of 480 x 128K.
    assert round(1000 * 16 * 131072 / 1e9, 1) == 2.1
    assert round(15000 * 480 * 131072 / 1e9, 1) == 943.7
    cited("fr-dsa-training-warmup", "1000", "2.1B", "15000", "943.7B", "2048")


# --- gated and differential attention ----------------------------------------------------------

def test_fr_gated_attention_output_gate_value_to_output_map_has_rank_at_most_head_dim():
    torch.manual_seed(0)
    d_model, head_dim = 64, 8
    w_v, w_o = torch.randn(d_model, head_dim, dtype=F64), torch.randn(head_dim, d_model, dtype=F64)
    assert torch.linalg.matrix_rank(w_v @ w_o).item() == head_dim < d_model
    # The gate sigma(x W) multiplies elementwise: the map from values to output is no longer linear.
    x = torch.randn(3, d_model, dtype=F64)
    w_gate = torch.randn(d_model, head_dim, dtype=F64)

    def gated(values: torch.Tensor) -> torch.Tensor:
        return (values @ w_v) * torch.sigmoid(values @ w_gate) @ w_o

    assert not torch.allclose(gated(2 * x), 2 * gated(x))


def lambda_init(depth: int) -> float:
    return 0.8 - 0.6 * math.exp(-0.3 * (depth - 1))


def test_fr_differential_lambda_init_values():
    assert lambda_init(1) == pytest.approx(0.2)
    assert lambda_init(2) == pytest.approx(0.356, abs=5e-4)
    assert 0.6 * math.exp(-0.3) == pytest.approx(0.444, abs=5e-4)
    assert lambda_init(100) == pytest.approx(0.8, abs=1e-9)
    assert 0.8 - 0.6 * math.exp(0.3) < 0  # counting layers from 0 goes negative
    cited("fr-differential-lambda-init", "0.2", "0.356", "0.444", "0.8")


def test_fr_differential_rows_sum_to_one_minus_lambda_and_can_be_negative():
    torch.manual_seed(0)
    lam = lambda_init(3)
    s1, s2 = torch.randn(2, 4, 6, 6, dtype=F64)
    diff = s1.softmax(-1) - lam * s2.softmax(-1)
    torch.testing.assert_close(diff.sum(-1), torch.full((4, 6), 1 - lam, dtype=F64))
    assert (diff < 0).any()
    assert "1-\\lambda" in text("fr-differential-lambda-init")


def test_fr_differential_attention_projections_as_large_as_mha():
    d_model, heads_mha = 512, 8
    head_dim = d_model // heads_mha // 2           # d: each of the two query/key maps
    heads = d_model // (2 * head_dim)               # h = d_model / 2d
    assert heads == heads_mha
    diff_params = d_model * heads * 2 * head_dim * 2 + d_model * heads * 2 * head_dim  # Q, K, V
    assert diff_params == 3 * d_model * d_model
    assert "d_{model}/2d" in text("fr-differential-attention")


# --- delta rule, chunkwise form, SSD ----------------------------------------------------------

def delta_recurrence(q, k, v, beta):
    """S_t = S_{t-1} (I - beta_t k_t k_t^T) + beta_t v_t k_t^T; o_t = S_t q_t. (L, D) inputs."""
    state = torch.zeros(v.shape[-1], k.shape[-1], dtype=F64)     # (Dv, Dk)
    eye = torch.eye(k.shape[-1], dtype=F64)
    outs = []
    for t in range(q.shape[0]):
        write = beta[t] * torch.outer(v[t], k[t])
        state = state @ (eye - beta[t] * torch.outer(k[t], k[t])) + write
        outs.append(state @ q[t])
    return torch.stack(outs), state


def delta_chunkwise(q, k, v, beta, chunk):
    """The WY / UT form, per chunk: U = T (V - K S^T) with
    T = (I + tril(diag(beta) K K^T, -1))^-1 diag(beta); O = Q S^T + tril(Q K^T) U."""
    state = torch.zeros(v.shape[-1], k.shape[-1], dtype=F64)     # (Dv, Dk)
    outs = []
    for start in range(0, q.shape[0], chunk):
        qc, kc, vc, bc = (x[start:start + chunk] for x in (q, k, v, beta))
        n = qc.shape[0]
        strict = torch.tril(torch.diag(bc) @ kc @ kc.T, diagonal=-1)           # (C, C)
        t_mat = torch.linalg.solve(torch.eye(n, dtype=F64) + strict, torch.diag(bc))
        u = t_mat @ (vc - kc @ state.T)                                        # (C, Dv)
        outs.append(qc @ state.T + torch.tril(qc @ kc.T) @ u)                  # (C, Dv)
        state = state + u.T @ kc
    return torch.cat(outs), state


@pytest.mark.parametrize("chunk", [1, 3, 4, 5, 13, 64])
def test_fr_gated_deltanet_chunkwise_equals_the_recurrence(chunk):
    torch.manual_seed(chunk)
    length, d_k, d_v = 13, 6, 5
    q, k = torch.randn(2, length, d_k, dtype=F64)
    k = F.normalize(k, dim=-1)
    v = torch.randn(length, d_v, dtype=F64)
    beta = torch.rand(length, dtype=F64)
    out_r, state_r = delta_recurrence(q, k, v, beta)
    out_c, state_c = delta_chunkwise(q, k, v, beta, chunk)
    torch.testing.assert_close(out_c, out_r)
    torch.testing.assert_close(state_c, state_r)


def test_fr_deltanet_overwrites_where_linear_attention_adds():
    torch.manual_seed(1)
    k = F.normalize(torch.randn(8, dtype=F64), dim=0)
    v_old, v_new = torch.randn(2, 4, dtype=F64)
    delta = torch.outer(v_old, k)
    delta = delta @ (torch.eye(8, dtype=F64) - torch.outer(k, k)) + torch.outer(v_new, k)
    linear = torch.outer(v_old, k) + torch.outer(v_new, k)
    torch.testing.assert_close(delta @ k, v_new)
    torch.testing.assert_close(linear @ k, v_old + v_new)
    for beta in (0.0, 0.3, 1.0):
        eig = torch.linalg.eigvalsh(torch.eye(8, dtype=F64) - beta * torch.outer(k, k))
        assert eig.min() >= -1e-12 and eig.max() <= 1 + 1e-12


def test_fr_mamba2_scalar_a_recurrence_is_a_masked_semiseparable_product():
    torch.manual_seed(2)
    length, state_dim = 10, 3
    a = torch.rand(length, dtype=F64) * 0.5 + 0.5
    b, c = torch.randn(2, length, state_dim, dtype=F64)
    x = torch.randn(length, dtype=F64)
    h = torch.zeros(state_dim, dtype=F64)
    ys = []
    for t in range(length):
        h = a[t] * h + b[t] * x[t]           # A_t = a_t I
        ys.append(c[t] @ h)
    log_cum = torch.cumsum(torch.log(a), 0)
    decay = torch.exp(log_cum[:, None] - log_cum[None, :])     # L_ji = a_{i+1} ... a_j
    mask = torch.tril(decay)
    m = mask * (c @ b.T)                                      # (L, S) semiseparable
    torch.testing.assert_close(m @ x, torch.stack(ys))
    block = m[5:, :5]                                         # strictly below the diagonal
    assert torch.linalg.matrix_rank(block).item() <= state_dim


def test_fr_hybrid_ratios_leave_a_quarter_and_an_eighth_of_the_cache():
    def cache_share(linear: int, full: int) -> float:
        return full / (linear + full)

    assert cache_share(3, 1) == 0.25 and 1 - cache_share(3, 1) == 0.75
    assert cache_share(7, 1) == 1 / 8
    # Cited, not measured here: Kimi Linear's up to 75% and 6x, Jamba's 1:7, the 3:1 ratios.
    cited("fr-hybrid-linear-attention-models", "1:7", "3:1", "75%", "6x", "1/8", "25%")


def test_fr_why_keep_full_attention_state_equals_64_cached_tokens():
    assert 128 * 128 == 16384 == 2 * 64 * 128
    cited("fr-why-keep-full-attention", "16384", "2\\times64\\times128")


# --- kernels -----------------------------------------------------------------------------------

def test_fr_flashattention_3_exponentials_take_about_half_the_matmul_time():
    flops_per_score = 2 * 128 * 2           # QK^T and PV, 2 FLOPs per multiply-add, d_h = 128
    assert flops_per_score == 512
    ratio = 989 / (3.9 * flops_per_score)   # H100 SXM5: 989 matmul vs 3.9 special-function TFLOPS
    assert ratio == pytest.approx(0.5, abs=0.01)
    # Cited, not measured here (no GPU): FA3's reported figures.
    cited("fr-flashattention-3-hopper", "740", "75%", "1.2", "2.6", "35%", "989", "3.9")


def test_fr_flashattention_3_incoherent_processing_keeps_scores():
    torch.manual_seed(3)
    d = 16
    hadamard = torch.tensor([[1.0]], dtype=F64)
    while hadamard.shape[0] < d:
        hadamard = torch.cat([torch.cat([hadamard, hadamard], 1),
                              torch.cat([hadamard, -hadamard], 1)], 0)
    signs = torch.diag(torch.randint(0, 2, (d,)).to(F64) * 2 - 1)
    m = signs @ hadamard / math.sqrt(d)                       # random orthogonal
    q, k = torch.randn(2, 7, d, dtype=F64)
    torch.testing.assert_close((q @ m) @ (k @ m).T, q @ k.T)


def test_fr_flashattention_4_conditional_rescaling_is_exact():
    torch.manual_seed(4)
    scores = torch.randn(5, 96, dtype=F64) * 3
    values = torch.randn(96, 4, dtype=F64)
    threshold, block = 8.0, 16                # rescale only when the max grows by more than this
    m = torch.full((5,), float("-inf"), dtype=F64)
    denom = torch.zeros(5, dtype=F64)
    acc = torch.zeros(5, 4, dtype=F64)
    skipped = 0
    for start in range(0, 96, block):
        s, v = scores[:, start:start + block], values[start:start + block]
        block_max = s.amax(-1)
        grow = block_max > m + threshold      # first block: m = -inf, always "grows"
        skipped += int((~grow).sum())
        m_new = torch.where(grow, torch.maximum(m, block_max), m)
        factor = torch.exp(m - m_new)         # 1 where the stale max is kept
        p = torch.exp(s - m_new[:, None])
        denom = factor * denom + p.sum(-1)
        acc = factor[:, None] * acc + p @ v
        m = m_new
    assert skipped > 0
    torch.testing.assert_close(acc / denom[:, None], scores.softmax(-1) @ values)
    cited("fr-flashattention-4-blackwell", "1613", "71%", "1.3", "9.13", "2.7")


# --- KV-cache compression and sharing ----------------------------------------------------------

def quantise_dequantise(x: torch.Tensor, dim: int, bits: int = 2) -> torch.Tensor:
    """Asymmetric min-max quantisation with one scale and zero per slice along ``dim``."""
    lo, hi = x.amin(dim, keepdim=True), x.amax(dim, keepdim=True)
    scale = (hi - lo) / (2**bits - 1)
    return torch.round((x - lo) / scale) * scale + lo


def test_fr_kv_quantization_kivi_bits_and_key_grouping():
    bits = (32 * 2 + 16 + 16) / 32
    assert bits == 3 and round(16 / bits, 1) == 5.3
    cited("fr-kv-quantization-kivi", "3", "5.3", "16/2 = 8")
    torch.manual_seed(5)
    keys = torch.randn(32, 64, dtype=F64)               # (tokens, channels)
    keys[:, [3, 17]] *= 20                              # fixed outlier channels
    per_channel = quantise_dequantise(keys, dim=0)      # one group per channel, over 32 tokens
    per_token = quantise_dequantise(keys, dim=1)        # one group per token
    error_channel, error_token = (per_channel - keys).pow(2), (per_token - keys).pow(2)
    normal = [c for c in range(64) if c not in (3, 17)]
    assert error_channel.mean() < error_token.mean() / 2
    assert error_channel[:, normal].mean() < error_token[:, normal].mean() / 50


def test_fr_cross_layer_kv_sharing_worked_example():
    per_token = 2 * 32 * 8 * 128 * 2
    assert per_token == 131072 == 128 * KIB
    assert per_token // 2 == 64 * KIB                   # CLA2
    assert per_token // 32 == 4 * KIB                   # one global cache instead of 32
    cited("fr-cross-layer-kv-sharing", "131072", "128 KiB", "64 KiB", "4 KiB")


# --- FlexAttention, sigmoid, sinks --------------------------------------------------------------

def test_fr_flexattention_default_block_is_128():
    from torch.nn.attention.flex_attention import create_block_mask

    assert inspect.signature(create_block_mask).parameters["BLOCK_SIZE"].default == 128
    cited("fr-flexattention", "128", "25%")


@pytest.mark.parametrize("n", [4, 128, 4096])
def test_fr_sigmoid_attention_bias_minus_log_n_keeps_row_sums_near_one(n):
    assert torch.sigmoid(torch.tensor(-math.log(n), dtype=F64)).item() == pytest.approx(1 / (1 + n))
    zero_scores = torch.zeros(n, dtype=F64)
    assert torch.sigmoid(zero_scores - math.log(n)).sum().item() == pytest.approx(n / (n + 1))
    assert torch.sigmoid(zero_scores).sum().item() == pytest.approx(n / 2)
    cited("fr-sigmoid-attention", "17%")                # FlashSigmoid on H100: cited


def sink_softmax(scores: torch.Tensor, sink: float) -> torch.Tensor:
    col = torch.full((*scores.shape[:-1], 1), sink, dtype=scores.dtype)
    return torch.cat([scores, col], -1).softmax(-1)[..., :-1]


def test_fr_softmax_off_by_one_row_sums_and_limits():
    n = 7
    assert sink_softmax(torch.zeros(n, dtype=F64), 0.0).sum().item() == pytest.approx(n / (n + 1))
    scores = torch.randn(3, n, dtype=F64)
    torch.testing.assert_close(sink_softmax(scores, float("-inf")), scores.softmax(-1))
    assert sink_softmax(torch.full((n,), -30.0, dtype=F64), 0.0).sum().item() < 1e-11
    masked = sink_softmax(torch.full((n,), float("-inf"), dtype=F64), 0.5)
    assert torch.equal(masked, torch.zeros(n, dtype=F64))
    cited("fr-softmax-off-by-one-sinks", "128")          # gpt-oss's banded window: cited


def streaming_keep(length: int, window: int, sinks: int) -> torch.Tensor:
    i = torch.arange(length)
    causal = i[None, :] <= i[:, None]
    return causal & ((i[None, :] < sinks) | (i[:, None] - i[None, :] < window))


def keys_seen(i: int, window: int, sinks: int) -> int:
    return min(i + 1, window) + max(0, min(sinks, i + 1 - window))


def test_fr_streaming_window_keys_seen_examples_and_formula():
    keep = streaming_keep(2048, 1020, 4)
    assert keep[100].sum().item() == 101 == keys_seen(100, 1020, 4)
    assert keep[1021].sum().item() == 1022 == keys_seen(1021, 1020, 4)
    assert keep[2047].sum().item() == 1024
    assert keys_seen(10**5, 1020, 4) == 1024
    small = streaming_keep(40, 6, 3)
    assert [small[i].sum().item() for i in range(40)] == [keys_seen(i, 6, 3) for i in range(40)]
    cited("fr-streaming-window-keys-seen", "101", "1022", "1024", "4")


# --- QK-Clip, QK-norm and absorbed MLA ---------------------------------------------------------

def test_fr_qk_clip_rescale_brings_max_logit_to_tau():
    torch.manual_seed(6)
    x = torch.randn(12, 16, dtype=F64)
    w_q, w_k = torch.randn(2, 16, 8, dtype=F64) * 3
    tau = 100.0

    def max_logit(wq, wk):
        return ((x @ wq) @ (x @ wk).T / math.sqrt(8)).max().item()

    s_max = max_logit(w_q, w_k)
    assert s_max > tau
    gamma = tau / s_max
    assert max_logit(w_q * math.sqrt(gamma), w_k * math.sqrt(gamma)) == pytest.approx(tau)
    cited("fr-qk-clip-muonclip", "100", "15.5T")         # K2's tau and token count: cited


def test_fr_qk_clip_mla_split_scales_only_the_clipped_head():
    torch.manual_seed(7)
    gamma = 0.3
    q_c, k_c, q_r = torch.randn(3, 5, 6, dtype=F64)      # head A: content and RoPE queries
    k_r = torch.randn(5, 6, dtype=F64)                   # RoPE key shared by all heads
    q_c_other, k_c_other, q_r_other = torch.randn(3, 5, 6, dtype=F64)

    def logits(qc, kc, qr, kr):
        return qc @ kc.T + qr @ kr.T

    before = logits(q_c, k_c, q_r, k_r)
    after = logits(q_c * math.sqrt(gamma), k_c * math.sqrt(gamma), q_r * gamma, k_r)
    torch.testing.assert_close(after, gamma * before)
    other = logits(q_c_other, k_c_other, q_r_other, k_r)   # k_r untouched: other heads unchanged
    torch.testing.assert_close(other, logits(q_c_other, k_c_other, q_r_other, k_r))


def test_fr_qk_norm_absorbed_mla_identity_holds_and_rmsnorm_is_not_linear():
    torch.manual_seed(8)
    d_c, d_h = 16, 4
    w_uk = torch.randn(d_h, d_c, dtype=F64)
    q, c = torch.randn(d_h, dtype=F64), torch.randn(d_c, dtype=F64)
    assert torch.dot(q, w_uk @ c).item() == pytest.approx(torch.dot(w_uk.T @ q, c).item())

    def rms_norm(x):
        return x / x.pow(2).mean().sqrt()

    torch.testing.assert_close(rms_norm(w_uk @ (2 * c)), rms_norm(w_uk @ c))  # f(2c) = f(c)
    assert not torch.allclose(rms_norm(w_uk @ (2 * c)), 2 * rms_norm(w_uk @ c))


def test_fr_mla_absorbed_scores_equal_naive_with_the_192_scale():
    torch.manual_seed(9)
    heads, d_c, d_h, d_r, tokens = 4, 32, 8, 4, 6
    w_uk = torch.randn(heads, d_h, d_c, dtype=F64)
    w_uv = torch.randn(heads, d_h, d_c, dtype=F64)
    c = torch.randn(tokens, d_c, dtype=F64)                 # cached latents
    k_r = torch.randn(tokens, d_r, dtype=F64)               # shared RoPE key
    q_c, q_r = torch.randn(heads, d_h, dtype=F64), torch.randn(heads, d_r, dtype=F64)
    scale = 1 / math.sqrt(d_h + d_r)
    keys = torch.einsum("hdc,tc->htd", w_uk, c)             # naive: per-head keys (H, T, d_h)
    naive = (torch.einsum("hd,htd->ht", q_c, keys) + q_r @ k_r.T) * scale
    shared_key = torch.cat([c, k_r], -1)                    # (T, d_c + d_r): one key for all heads
    absorbed_q = torch.cat([torch.einsum("hdc,hd->hc", w_uk, q_c), q_r], -1)
    absorbed = absorbed_q @ shared_key.T * scale
    torch.testing.assert_close(absorbed, naive)
    values = torch.einsum("hdc,tc->htd", w_uv, c)
    out_naive = torch.einsum("ht,htd->hd", naive.softmax(-1), values)
    out_absorbed = torch.einsum("hdc,hc->hd", w_uv, absorbed.softmax(-1) @ c)  # value = latent
    torch.testing.assert_close(out_absorbed, out_naive)


def test_fr_mla_absorbed_mqa_decode_intensity_near_the_ridge():
    assert 512 + 64 == 576 and 128 + 64 == 192
    bytes_per_token = 576 * 2
    flops = 128 * (2 * 576 + 2 * 512)
    assert bytes_per_token == 1152 and flops == 278528
    assert round(flops / bytes_per_token) == 242
    assert round(989 / 3.35) == 295                          # H100 ridge, as in 12-numbers
    cited("fr-mla-absorbed-mqa", "576", "512", "192", "1152", "278528", "242", "295", "128")


# --- disaggregation ----------------------------------------------------------------------------

def test_fr_disaggregation_kv_transfer_numbers():
    per_token = 2 * 80 * 8 * 128 * 2
    assert per_token == 327680 == 320 * KIB
    total = per_token * 8192
    assert total == 2.5 * GIB and round(total / 1e9, 2) == 2.68
    assert round(total / 50e9 * 1000) == 54
    prefill = 2 * 70e9 * 8192
    assert prefill == pytest.approx(1.15e15, rel=0.01)
    assert round(prefill / 989e12, 2) == 1.16 and round(prefill / 989e12 / 8, 2) == 0.14
    mha = 2 * 80 * 64 * 128 * 2
    assert mha == 2.5 * MIB and mha * 8192 == 20 * GIB
    assert round(mha * 8192 / 50e9, 2) == 0.43
    assert round((GIB / 1e9 - 1) * 100) == 7
    cited("fr-disaggregation-kv-transfer", "327680", "320", "2.5", "2.68", "54", "1.15", "1.16",
          "0.14", "20", "0.43", "7%", "989")


# --- complexities stated in the answers ---------------------------------------------------------

def test_fr_deepseek_sparse_attention_main_attention_is_l_times_k():
    length, top_k = 512, 64
    torch.manual_seed(10)
    index = torch.randn(length, length).masked_fill(
        torch.ones(length, length).triu(1).bool(), float("-inf"))            # causal scores
    kept = torch.zeros(length, length, dtype=torch.bool)
    chosen = index.topk(top_k, dim=-1).indices                               # (L, k)
    kept.scatter_(1, chosen, True)
    kept &= torch.ones(length, length).tril().bool()                         # rows < k see < k keys
    assert kept.sum().item() == sum(min(i + 1, top_k) for i in range(length))
    assert kept.sum().item() <= length * top_k < length * (length + 1) // 2
    assert "O(Lk)" in text("fr-deepseek-sparse-attention")


def chunkwise_flops(length: int, chunk: int, dim: int = 8) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    q, k, v = torch.randn(3, length, dim, dtype=F64)
    beta = torch.rand(length, dtype=F64)
    with FlopCounterMode(display=False) as counter:
        delta_chunkwise(q, F.normalize(k, dim=-1), v, beta, chunk)
    return counter.get_total_flops()


def test_fr_gated_deltanet_chunkwise_cost_is_linear_in_length():
    small, large = chunkwise_flops(64, 16), chunkwise_flops(256, 16)
    assert large == 4 * small                     # O(L C d + L d^2): linear in L at fixed C, d
    assert "O(L C d + L d^2)" in text("fr-gated-deltanet-chunkwise")


def test_fr_hybrid_recurrent_decode_step_cost_does_not_grow_with_length():
    from torch.utils.flop_counter import FlopCounterMode

    torch.manual_seed(11)
    d_k, d_v = 16, 16
    costs, sizes = [], []
    for past in (10, 1000):
        q, k = torch.randn(2, past + 1, d_k, dtype=F64)
        v, beta = torch.randn(past + 1, d_v, dtype=F64), torch.rand(past + 1, dtype=F64)
        _, state = delta_recurrence(q[:past], F.normalize(k[:past], dim=-1), v[:past], beta[:past])
        key = F.normalize(k[past], dim=0)
        with FlopCounterMode(display=False) as counter:   # one decode step after `past` tokens
            step = state @ (torch.eye(d_k, dtype=F64) - beta[past] * torch.outer(key, key))
            (step + beta[past] * torch.outer(v[past], key)) @ q[past]
        costs.append(counter.get_total_flops())
        sizes.append(state.numel())
    assert costs[0] == costs[1] and sizes == [d_k * d_v] * 2
    assert "O(d_k d_v)" in text("fr-hybrid-linear-attention-models")
