"""Claims of `content/03-multi-head.yaml`, checked against torch (and HF transformers' LLaMA).

Checked claims (question id: claim):
- mh-parameter-count: an MHA layer has 4d^2 + 4d parameters with biases, 4d^2 without, whatever
  the head count; 1,050,624 for d = 512; the GQA count 2d^2 + 2d*g*d_h + 2d + 2g*d_h.
- mh-head-count-what-changes: d_h = 4096 / 32 = 128; the forward FLOPs of MHA are
  8nd^2 + 4n^2d for every head count (counted by torch's FlopCounterMode); each head's logits
  have rank <= d_h; the eager attention weights grow as h * n^2.
- mh-why-multiple-heads: Concat(heads) W_O equals the sum of per-head contributions
  head_i W_O^(i).
- mh-einsum-implementation / fund-tensor-shapes (alias mh-split-heads-bug): the split with
  view(B, L, H, Dh).transpose(1, 2)
  matches nn.MultiheadAttention; view(B, H, L, Dh) runs but does not, and puts token
  (hL + l) // H (often a later one) in row l of head h.
- mh-mqa-gqa: GQA with G = H equals MHA; GQA with G = 1 equals MQA (one K/V head broadcast);
  the KV cache shrinks by H / G.
- mh-repeat-kv: expand + reshape equals repeat_interleave and HF LLaMA's repeat_kv, differs from
  repeat (tiling), and attention with it equals SDPA's enable_gqa=True.
- mh-gqa-uptraining-meanpool: mean-pooling K/V heads is exact when the heads of a group agree
  and the identity when G = H.
- mh-latent-attention-mla: DeepSeek-V2's cache is 512 + 64 = 576 numbers per token per layer
  against 2 * 128 * 128 = 32768 for MHA (about 57x), the size of GQA with 2.25 groups; W^UK and
  W^UV can be absorbed (attention in latent space equals attention on reconstructed K, V).
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from bank_text import bank, question_text
from torch.utils.flop_counter import FlopCounterMode

from attention.positional import apply_rope

SEED = 0


def _heads(t: torch.Tensor, num_heads: int) -> torch.Tensor:
    batch, length, width = t.shape
    return t.view(batch, length, num_heads, width // num_heads).transpose(1, 2)  # (B, H, L, Dh)


@pytest.mark.parametrize(("d", "h"), [(512, 8), (64, 1), (64, 4), (64, 16), (96, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_mha_parameter_count_is_4d2_plus_4d(d, h, bias):
    layer = nn.MultiheadAttention(d, h, bias=bias)
    count = sum(p.numel() for p in layer.parameters())
    assert count == 4 * d * d + (4 * d if bias else 0)


def test_mha_parameter_count_for_512_is_1050624():
    assert sum(p.numel() for p in nn.MultiheadAttention(512, 8).parameters()) == 1_050_624


@pytest.mark.parametrize(("d", "h", "g"), [(64, 8, 2), (64, 8, 1), (64, 8, 8), (96, 6, 3)])
def test_gqa_parameter_count(d, h, g):
    head_dim = d // h
    layers = [nn.Linear(d, d), nn.Linear(d, g * head_dim), nn.Linear(d, g * head_dim),
              nn.Linear(d, d)]
    count = sum(p.numel() for m in layers for p in m.parameters())
    assert count == 2 * d * d + 2 * d * g * head_dim + 2 * d + 2 * g * head_dim


def test_head_dim_of_4096_wide_32_head_model_is_128():
    assert 4096 // 32 == 128


def _mha_forward_flops(d_model: int, num_heads: int, length: int) -> int:
    torch.manual_seed(SEED)
    projections = [nn.Linear(d_model, d_model) for _ in range(4)]
    x = torch.randn(1, length, d_model)
    with FlopCounterMode(display=False) as counter:
        q, k, v = (_heads(p(x), num_heads) for p in projections[:3])  # (1, H, L, Dh)
        scores = q @ k.transpose(-2, -1) / math.sqrt(d_model // num_heads)  # (1, H, L, L)
        context = scores.softmax(-1) @ v  # (1, H, L, Dh)
        projections[3](context.transpose(1, 2).reshape(1, length, d_model))
    return counter.get_total_flops()


def test_mha_flops_are_8nd2_plus_4n2d_for_every_head_count():
    d, n = 64, 48
    expected = 8 * n * d * d + 4 * n * n * d
    assert [_mha_forward_flops(d, h, n) for h in (1, 2, 4, 8, 16)] == [expected] * 5


@pytest.mark.parametrize("num_heads", [2, 4, 8])
def test_per_head_logits_have_rank_at_most_head_dim(num_heads):
    torch.manual_seed(SEED)
    d, n = 32, 40
    x = torch.randn(1, n, d, dtype=torch.float64)
    w_q, w_k = torch.randn(d, d, dtype=torch.float64), torch.randn(d, d, dtype=torch.float64)
    q, k = _heads(x @ w_q, num_heads), _heads(x @ w_k, num_heads)
    logits = q @ k.transpose(-2, -1)  # (1, H, n, n)
    ranks = torch.linalg.matrix_rank(logits[0])
    assert ranks.tolist() == [d // num_heads] * num_heads


def test_eager_attention_weights_grow_with_head_count():
    d, n = 64, 10
    x = torch.randn(1, n, d)
    sizes = []
    for h in (2, 8):
        _, weights = nn.MultiheadAttention(d, h, batch_first=True)(
            x, x, x, need_weights=True, average_attn_weights=False
        )
        sizes.append(weights.numel())
    assert sizes == [2 * n * n, 8 * n * n]


def test_concat_heads_times_w_o_is_sum_of_per_head_contributions():
    torch.manual_seed(SEED)
    batch, length, heads, head_dim = 2, 5, 4, 6
    d = heads * head_dim
    head_outputs = torch.randn(batch, length, heads, head_dim)
    w_o = torch.randn(d, d)  # (in, out) here
    concat = head_outputs.reshape(batch, length, d) @ w_o
    per_head = sum(head_outputs[:, :, i] @ w_o[i * head_dim:(i + 1) * head_dim]
                   for i in range(heads))
    torch.testing.assert_close(concat, per_head)


def _mha_with_split(x, mha: nn.MultiheadAttention, buggy: bool) -> torch.Tensor:
    batch, length, d = x.shape
    h = mha.num_heads
    q, k, v = F.linear(x, mha.in_proj_weight, mha.in_proj_bias).chunk(3, dim=-1)
    if buggy:
        q, k, v = (t.reshape(batch, h, length, d // h) for t in (q, k, v))
    else:
        q, k, v = (_heads(t, h) for t in (q, k, v))
    context = F.scaled_dot_product_attention(q, k, v)  # (B, H, L, Dh)
    merged = context.transpose(1, 2).reshape(batch, length, d)
    return mha.out_proj(merged)


def test_correct_head_split_matches_nn_multihead_attention_and_buggy_one_does_not():
    torch.manual_seed(SEED)
    mha = nn.MultiheadAttention(16, 4, batch_first=True)
    x = torch.randn(2, 6, 16)
    reference, _ = mha(x, x, x, need_weights=False)
    torch.testing.assert_close(_mha_with_split(x, mha, buggy=False), reference)
    assert not torch.allclose(_mha_with_split(x, mha, buggy=True), reference, atol=1e-3)


def _gqa(q, k, v):
    """Reference GQA: query head i uses K/V head i // (H / G)."""
    n_rep = q.shape[1] // k.shape[1]
    return F.scaled_dot_product_attention(
        q, k.repeat_interleave(n_rep, dim=1), v.repeat_interleave(n_rep, dim=1)
    )


def test_gqa_with_h_groups_is_mha():
    torch.manual_seed(SEED)
    q, k, v = (torch.randn(2, 8, 7, 4) for _ in range(3))
    torch.testing.assert_close(_gqa(q, k, v), F.scaled_dot_product_attention(q, k, v))


def test_gqa_with_one_group_is_mqa():
    torch.manual_seed(SEED)
    q = torch.randn(2, 8, 7, 4)
    k, v = torch.randn(2, 1, 7, 4), torch.randn(2, 1, 7, 4)
    # MQA written directly: one K/V head broadcast over every query head.
    scores = q @ k.transpose(-2, -1) / 2.0  # (2, 8, 7, 7), broadcast over heads
    mqa = scores.softmax(-1) @ v
    torch.testing.assert_close(_gqa(q, k, v), mqa)


def test_kv_cache_shrinks_by_h_over_g():
    layers, head_dim, tokens, batch, heads = 2, 16, 32, 1, 8
    sizes = {
        g: 2 * layers * torch.empty(batch, g, tokens, head_dim, device="meta").numel()
        for g in (8, 2, 1)
    }
    assert sizes[8] // sizes[2] == 4
    assert sizes[8] // sizes[1] == heads


def _repeat_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    batch, kv_heads, length, head_dim = x.shape
    x = x[:, :, None].expand(batch, kv_heads, n_rep, length, head_dim)
    return x.reshape(batch, kv_heads * n_rep, length, head_dim)


@pytest.mark.parametrize(("heads", "groups"), [(8, 2), (8, 1), (6, 3), (4, 4)])
def test_repeat_kv_is_repeat_interleave_and_matches_hf_llama(heads, groups):
    from transformers.models.llama.modeling_llama import repeat_kv as hf_repeat_kv

    torch.manual_seed(SEED)
    k = torch.randn(2, groups, 5, 4)
    n_rep = heads // groups
    ours = _repeat_kv(k, n_rep)
    torch.testing.assert_close(ours, torch.repeat_interleave(k, n_rep, dim=1))
    torch.testing.assert_close(ours, hf_repeat_kv(k, n_rep))
    q, v = torch.randn(2, heads, 5, 4), torch.randn(2, groups, 5, 4)
    torch.testing.assert_close(
        F.scaled_dot_product_attention(q, ours, _repeat_kv(v, n_rep)),
        F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
    )


def test_repeat_kv_differs_from_tiling():
    torch.manual_seed(SEED)
    k = torch.randn(1, 2, 5, 4)
    assert not torch.equal(_repeat_kv(k, 4), k.repeat(1, 4, 1, 1))


def _mean_pool(weight, heads, groups):
    head_dim = weight.shape[0] // heads
    return weight.view(groups, heads // groups, head_dim, -1).mean(1).reshape(groups * head_dim, -1)


@pytest.mark.parametrize(("heads", "groups"), [(8, 2), (8, 1), (4, 4), (6, 3)])
def test_mean_pooled_gqa_equals_mha_when_group_heads_agree(heads, groups):
    torch.manual_seed(SEED)
    d, head_dim = 24, 4
    f64 = torch.float64  # unscaled weights give large logits: compare in float64, not float32
    x = torch.randn(2, 5, d, dtype=f64)
    w_q = torch.randn(heads * head_dim, d, dtype=f64)
    per_group_k = torch.randn(groups, 1, head_dim, d, dtype=f64)
    per_group_v = torch.randn(groups, 1, head_dim, d, dtype=f64)
    w_k = per_group_k.expand(groups, heads // groups, head_dim, d).reshape(heads * head_dim, d)
    w_v = per_group_v.expand(groups, heads // groups, head_dim, d).reshape(heads * head_dim, d)
    mha = F.scaled_dot_product_attention(
        _heads(x @ w_q.T, heads), _heads(x @ w_k.T, heads), _heads(x @ w_v.T, heads)
    )
    gqa = F.scaled_dot_product_attention(
        _heads(x @ w_q.T, heads),
        _heads(x @ _mean_pool(w_k, heads, groups).T, groups),
        _heads(x @ _mean_pool(w_v, heads, groups).T, groups),
        enable_gqa=True,
    )
    torch.testing.assert_close(gqa, mha)


def test_mean_pool_with_g_equal_h_is_identity():
    w = torch.randn(8 * 4, 16)
    torch.testing.assert_close(_mean_pool(w, 8, 8), w)


def test_mla_cache_size_of_deepseek_v2():
    heads, head_dim, latent, rope_dim = 128, 128, 512, 64
    assert latent == 4 * head_dim and rope_dim == head_dim // 2
    mha_cache = 2 * heads * head_dim
    mla_cache = latent + rope_dim
    assert (mha_cache, mla_cache) == (32768, 576)
    assert round(mha_cache / mla_cache) == 57
    assert mla_cache / (2 * head_dim) == 2.25  # GQA with 2.25 groups


def test_mla_absorbed_attention_equals_attention_on_reconstructed_kv():
    torch.manual_seed(SEED)
    heads, d_model, latent_dim, head_dim, n = 4, 32, 8, 6, 11
    w_down = torch.randn(latent_dim, d_model, dtype=torch.float64)
    w_up_k = torch.randn(heads, head_dim, latent_dim, dtype=torch.float64)
    w_up_v = torch.randn(heads, head_dim, latent_dim, dtype=torch.float64)
    latent = torch.randn(n, d_model, dtype=torch.float64) @ w_down.T  # (n, d_c)
    q = torch.randn(heads, 3, head_dim, dtype=torch.float64)  # 3 queries per head
    keys = torch.einsum("hdc,nc->hnd", w_up_k, latent)  # (H, n, Dh)
    values = torch.einsum("hdc,nc->hnd", w_up_v, latent)
    reference = F.scaled_dot_product_attention(q, keys, values)  # (H, 3, Dh)
    q_latent = torch.einsum("hqd,hdc->hqc", q, w_up_k)  # W^UK folded into the query
    weights = (q_latent @ latent.T / math.sqrt(head_dim)).softmax(-1)  # (H, 3, n)
    absorbed = torch.einsum("hdc,hqc->hqd", w_up_v, weights @ latent)  # W^UV applied after
    torch.testing.assert_close(absorbed, reference)


def test_buggy_head_split_puts_later_tokens_in_earlier_rows():
    """fund-tensor-shapes (alias mh-split-heads-bug): after view(B, H, L, Dh), row l of head h
    holds token (hL + l) // H."""
    batch, length, d, heads = 1, 8, 16, 4
    x = torch.arange(length, dtype=torch.float32).repeat_interleave(d).view(batch, length, d)
    buggy = x.view(batch, heads, length, d // heads)
    for h in range(heads):
        for row in range(length):
            assert bool((buggy[0, h, row] == (h * length + row) // heads).all())
    assert int(buggy[0, heads - 1, 0, 0]) > 0  # row 0 of the last head is a future token


# ============================================================ bank v2 (issue 12) claims
# Each test below names the question whose text states the claim; a renamed or deleted id fails
# here loudly (through _question_text).



def test_split_heads_question_is_merged_into_fund_tensor_shapes():
    assert "mh-split-heads-bug" in bank().question("fund-tensor-shapes").aliases
    # An alias opens the kept question (old deep links still work); no live question keeps the id.
    assert bank().question("mh-split-heads-bug").id == "fund-tensor-shapes"
    assert "mh-split-heads-bug" not in {x.id for s in bank().sections for x in s.questions}


# ------------------------------------------------------------------ mh-latent-attention-mla


def _mla_setup(seed: int):
    g = torch.Generator().manual_seed(seed)
    H, d_model, d_c, d_h, d_r, n = 4, 32, 12, 8, 4, 9

    def rnd(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64)

    w_dkv, w_kr = rnd(d_c, d_model), rnd(d_r, d_model)
    w_uk, w_uv = rnd(H, d_h, d_c), rnd(H, d_h, d_c)
    hidden = rnd(n, d_model) / math.sqrt(d_model)
    latent = hidden @ w_dkv.T / math.sqrt(d_model)                          # (n, d_c)
    k_rope = apply_rope((hidden @ w_kr.T)[None])[0]                          # (n, d_r) shared
    q_c, q_r = rnd(H, n, d_h), apply_rope(rnd(H, n, d_r))
    return H, d_c, d_h, d_r, n, w_uk, w_uv, latent, k_rope, q_c, q_r


@pytest.mark.parametrize("seed", [1, 2])
def test_mla_with_rope_path_absorbed_as_mqa_equals_explicit_mha_scaled_by_d_h_plus_d_r(seed):
    H, _, d_h, d_r, n, w_uk, w_uv, latent, k_rope, q_c, q_r = _mla_setup(seed)
    # Explicit (training / prefill form): per-head keys [k^C_i ; k^R], scale 1/sqrt(d_h + d_r).
    keys = torch.cat([torch.einsum("hdc,nc->hnd", w_uk, latent), k_rope.expand(H, n, d_r)], -1)
    values = torch.einsum("hdc,nc->hnd", w_uv, latent)
    queries = torch.cat([q_c, q_r], -1)
    scores = queries @ keys.transpose(-2, -1) / math.sqrt(d_h + d_r)
    causal = torch.tril(torch.ones(n, n, dtype=torch.bool))
    reference = torch.softmax(scores.masked_fill(~causal, float("-inf")), -1) @ values
    # Absorbed: one shared key of width d_c + d_r and one shared value of width d_c (MQA).
    q_wide = torch.cat([q_c @ w_uk, q_r], -1)                                # (H, n, d_c + d_r)
    k_wide = torch.cat([latent, k_rope], -1)                                 # (n, d_c + d_r)
    masked = (q_wide @ k_wide.T / math.sqrt(d_h + d_r)).masked_fill(~causal, float("-inf"))
    w = torch.softmax(masked, -1)
    absorbed = torch.einsum("hnc,hdc->hnd", w @ latent, w_uv)
    torch.testing.assert_close(absorbed, reference)
    # Scaling by 1/sqrt(d_h) instead (the old code) gives a different answer.
    masked = (q_wide @ k_wide.T / math.sqrt(d_h)).masked_fill(~causal, float("-inf"))
    wrong = torch.softmax(masked, -1)
    assert not torch.allclose(torch.einsum("hnc,hdc->hnd", wrong @ latent, w_uv), reference)
    text = question_text("mh-latent-attention-mla")
    assert "\\sqrt{192}" in text and "576" in text and "FlashMLA" in text


def test_deepseek_v2_absorbed_key_is_576_wide_value_512_and_explicit_key_192():
    d_h, d_r, d_c = 128, 64, 512
    assert d_c + d_r == 576 and d_h + d_r == 192 and 128 + 64 == 192
    assert math.isclose(1 / math.sqrt(d_h + d_r), 192**-0.5)
    text = question_text("mh-latent-attention-mla")
    assert "512" in text and "192" in text


def test_qk_clip_scaling_rule_caps_a_heads_max_logit_at_tau():
    """Kimi K2's QK-Clip for MLA: q^C, k^C times sqrt(gamma), q^R times gamma, shared k^R kept;
    every logit of the head is then scaled by exactly gamma = min(1, tau / S_max)."""
    g = torch.Generator().manual_seed(3)
    q_c, k_c = 5 * torch.randn(6, 8, generator=g, dtype=torch.float64), 5 * torch.randn(
        6, 8, generator=g, dtype=torch.float64)
    q_r, k_r = 5 * torch.randn(6, 4, generator=g, dtype=torch.float64), 5 * torch.randn(
        6, 4, generator=g, dtype=torch.float64)
    logits = q_c @ k_c.T + q_r @ k_r.T
    tau = 0.5 * logits.max().item()
    gamma = min(1.0, tau / logits.max().item())
    clipped = (math.sqrt(gamma) * q_c) @ (math.sqrt(gamma) * k_c).T + (gamma * q_r) @ k_r.T
    torch.testing.assert_close(clipped, gamma * logits)
    assert math.isclose(clipped.max().item(), tau)
    text = question_text("mh-latent-attention-mla")
    assert "QK-Clip" in text and "\\sqrt{\\gamma_h}" in text


def test_mla_rope_key_shared_keeps_cache_independent_of_heads():
    heads, d_r, d_c = 128, 64, 512
    per_head_rope = d_c + heads * d_r                   # what a per-head RoPE key would cost
    assert per_head_rope == 8704 and d_c + d_r == 576
    assert "128 \\times 64" in question_text("mh-latent-attention-mla")


# ----------------------------------------------------------------------------- mh-mqa-gqa
# (merged from inf-mqa-gqa-cache)


def test_llama2_70b_cache_per_token_is_320_kib_gqa_and_2_5_mib_mha():
    layers, kv_heads, query_heads, d_h, fp16 = 80, 8, 64, 128, 2
    cache = [torch.empty(2, kv_heads, 1, d_h, dtype=torch.float16, device="meta")
             for _ in range(layers)]
    gqa = sum(t.numel() * t.element_size() for t in cache)
    assert gqa == 2 * layers * kv_heads * d_h * fp16 == 320 * 2**10
    assert 2 * layers * query_heads * d_h * fp16 == 2.5 * 2**20 == 8 * gqa
    assert bank().question("mh-mqa-gqa").aliases == ["inf-mqa-gqa-cache"]
    text = question_text("mh-mqa-gqa")
    assert "320 KiB" in text and "2.5 MiB" in text


# ---------------------------------------------------------------- mh-kv-bytes-mha-gqa-mla

V3_LAYERS, V3_HEADS, V3_DH, V3_DC, V3_DR = 61, 128, 128, 512, 64


def _allocated(shape_per_layer: tuple[int, ...], tokens: int) -> int:
    cache = [torch.empty(*shape_per_layer, tokens, dtype=torch.bfloat16, device="meta")
             for _ in range(V3_LAYERS)]
    return sum(t.numel() * t.element_size() for t in cache)


def test_deepseek_v3_kv_bytes_per_token_and_per_128k_sequence():
    per_token = {
        "MHA": _allocated((2, V3_HEADS, V3_DH), 1),
        "GQA-8": _allocated((2, 8, V3_DH), 1),
        "MQA": _allocated((2, 1, V3_DH), 1),
        "MLA": _allocated((V3_DC + V3_DR,), 1),
    }
    assert per_token == {"MHA": 3997696, "GQA-8": 249856, "MQA": 31232, "MLA": 70272}
    assert per_token["MHA"] == 3.8125 * 2**20 and per_token["GQA-8"] == 244 * 2**10
    assert per_token["MQA"] == 30.5 * 2**10 and per_token["MLA"] == 68.625 * 2**10
    tokens = 128 * 1024
    gib = {k: _allocated(s, tokens) / 2**30 for k, s in (
        ("MHA", (2, V3_HEADS, V3_DH)), ("GQA-8", (2, 8, V3_DH)), ("MQA", (2, 1, V3_DH)),
        ("MLA", (V3_DC + V3_DR,)))}
    assert gib == {"MHA": 488.0, "GQA-8": 30.5, "MQA": 3.8125, "MLA": 8.578125}
    assert round(per_token["MHA"] / per_token["MLA"]) == 57
    assert (V3_DC + V3_DR) / (2 * V3_DH) == 2.25
    text = question_text("mh-kv-bytes-mha-gqa-mla")
    for figure in ("3997696", "249856", "31232", "70272", "488 GiB", "30.5 GiB", "3.8125 GiB",
                   "8.58 GiB", "2.25", "57", "68.625 KiB", "244 KiB"):
        assert figure in text, figure
