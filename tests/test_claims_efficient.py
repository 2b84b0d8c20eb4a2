"""Claims of `content/05-efficient.yaml`, checked against torch and float64 references.

Checked claims (question id: claim):
- eff-attention-memory-flops: attention itself costs 4 N^2 d FLOPs (torch's FlopCounterMode);
  32 heads x 8192^2 fp16 scores are 4 GiB; one fp32 logsumexp per row is 1 MiB; 4 N^2 d at
  N = 8192, d = 4096 is about 1.1e12, as are the projections 8 N d^2.
- eff-online-softmax-tiled / eff-flash-attention-io: the online softmax recurrence (m, l, O with
  rescaling) over any block split equals softmax and SDPA, also for large logits; FlashAttention's
  extra state is O(N) (one max and one sum per row).
- eff-flash-attention-2-3: deferring the division by l to the end (FA2) gives the same result as
  renormalising at every block (FA1).
- eff-flash-backward-recompute: P = exp(S - L) recovers the softmax from the saved logsumexp;
  rowsum(dO * O) = rowsum(P * dP); the recomputation formulas for dQ, dK, dV equal autograd.
- eff-sliding-window-sparse: with window w (the w keys 0 <= i - j < w, as
  attention.masks.sliding_window_mask), l layers reach l * (w - 1) tokens back; Mistral's
  32 x 4096 = 131072 positions back (W = 4096 is w = 4097 keys; 131073 tokens with the
  query); a rolling buffer of W slots holds exactly the last W keys, 8x smaller than a full
  cache at 32K tokens.
- eff-linear-attention-rnn: the causal prefix-sum (RNN) form equals the masked quadratic form;
  its state has a fixed size; non-causal linear attention's FLOPs grow linearly in n.
- eff-performer-linformer: positive random features are an unbiased, always positive estimate of
  exp(q . k), whereas trigonometric features can give negative estimates; Linformer's sequence
  projection makes an early output depend on later tokens (not causal).
- eff-reformer-lsh: angular LSH puts vectors with closer directions in the same bucket more often.
- eff-ring-attention: merging per-block (output, logsumexp) pairs gives exact attention for any
  number of devices.
- eff-sdpa-backends-is-causal: is_causal with L != S is top-left aligned (one query sees only key
  0); causal_lower_right / no mask gives decoding equal to full recomputation; on CPU in torch 2.13
  passing attn_mask with is_causal applies both without raising; sdpa_kernel with an unusable
  backend raises instead of falling back; SDPA's bool True means attend while
  nn.MultiheadAttention's True means blocked.
"""

from __future__ import annotations

import math
import re

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from bank_text import bank, question_text
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.nn.attention.bias import causal_lower_right
from torch.utils.flop_counter import FlopCounterMode

from attention.masks import sliding_window_mask

SEED = 0
GIB, MIB = 2**30, 2**20





def test_attention_flops_are_4_n2_d():
    torch.manual_seed(SEED)
    batch, heads, head_dim, n = 2, 4, 16, 64
    q, k, v = (torch.randn(batch, heads, n, head_dim) for _ in range(3))
    with FlopCounterMode(display=False) as counter:
        (q @ k.transpose(-2, -1) / math.sqrt(head_dim)).softmax(-1) @ v
    assert counter.get_total_flops() == 4 * batch * n * n * heads * head_dim


def test_memory_and_flop_numbers_for_8192_tokens_32_heads():
    heads, head_dim, n = 32, 128, 8192
    d = heads * head_dim
    scores = torch.empty(1, heads, n, n, dtype=torch.float16, device="meta")
    assert scores.numel() * scores.element_size() == 4 * GIB
    lse = torch.empty(1, heads, n, dtype=torch.float32, device="meta")
    assert lse.numel() * lse.element_size() == 1 * MIB
    assert 4 * n * n * d == pytest.approx(1.1e12, rel=0.01)
    assert 8 * n * d * d == pytest.approx(1.1e12, rel=0.01)


def _online_softmax_stats(scores: torch.Tensor, block: int) -> tuple[torch.Tensor, torch.Tensor]:
    m = torch.full(scores.shape[:-1], float("-inf"), dtype=scores.dtype)
    denom = torch.zeros(scores.shape[:-1], dtype=scores.dtype)
    for start in range(0, scores.shape[-1], block):
        s = scores[..., start:start + block]
        m_new = torch.maximum(m, s.amax(-1))
        denom = torch.exp(m - m_new) * denom + torch.exp(s - m_new[..., None]).sum(-1)
        m = m_new
    return m, denom


@pytest.mark.parametrize("block", [1, 3, 16, 100])
def test_online_softmax_statistics_equal_max_and_sum_of_exp(block):
    torch.manual_seed(SEED)
    scores = torch.randn(5, 37, dtype=torch.float64) * 10
    m, denom = _online_softmax_stats(scores, block)
    torch.testing.assert_close(m, scores.amax(-1))
    torch.testing.assert_close(denom, torch.exp(scores - scores.amax(-1, keepdim=True)).sum(-1))
    torch.testing.assert_close(m + denom.log(), torch.logsumexp(scores, -1))  # the saved L


def _tiled(q, k, v, block, defer_normalisation=True):
    scale = 1 / math.sqrt(q.shape[-1])
    m = torch.full(q.shape[:-1], float("-inf"), dtype=q.dtype)
    denom = torch.zeros(q.shape[:-1], dtype=q.dtype)
    o = torch.zeros_like(q)
    for start in range(0, k.shape[-2], block):
        s = q @ k[..., start:start + block, :].transpose(-2, -1) * scale
        m_new = torch.maximum(m, s.amax(-1))
        p = torch.exp(s - m_new[..., None])
        denom_new = torch.exp(m - m_new) * denom + p.sum(-1)
        pv = p @ v[..., start:start + block, :]
        if defer_normalisation:  # FA2: unnormalised O, one division at the end
            o = torch.exp(m - m_new)[..., None] * o + pv
        else:  # FA1: O stays normalised after every block
            o = ((denom * torch.exp(m - m_new))[..., None] * o + pv) / denom_new[..., None]
        m, denom = m_new, denom_new
    return o / denom[..., None] if defer_normalisation else o


@pytest.mark.parametrize("block", [1, 7, 16, 64])
@pytest.mark.parametrize("logit_scale", [1.0, 50.0])
def test_tiled_online_softmax_attention_equals_sdpa(block, logit_scale):
    torch.manual_seed(SEED)
    q, k, v = (torch.randn(2, 3, 29, 8) for _ in range(3))
    q = q * logit_scale
    expected = F.scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(_tiled(q, k, v, block), expected)
    torch.testing.assert_close(_tiled(q, k, v, block, defer_normalisation=False), expected)


def test_backward_from_saved_logsumexp_equals_autograd():
    torch.manual_seed(SEED)
    q, k, v, grad_o = (torch.randn(2, 2, 11, 8, dtype=torch.float64) for _ in range(4))
    scale = 1 / math.sqrt(8)
    s = q @ k.transpose(-2, -1) * scale
    lse = torch.logsumexp(s, -1)
    p = torch.exp(s - lse[..., None])
    torch.testing.assert_close(p, s.softmax(-1))
    o = p @ v
    grad_p = grad_o @ v.transpose(-2, -1)
    delta = (grad_o * o).sum(-1, keepdim=True)
    torch.testing.assert_close(delta, (p * grad_p).sum(-1, keepdim=True))
    grad_s = p * (grad_p - delta)
    leaves = [t.clone().requires_grad_() for t in (q, k, v)]
    F.scaled_dot_product_attention(*leaves).backward(grad_o)
    torch.testing.assert_close(grad_s @ k * scale, leaves[0].grad)
    torch.testing.assert_close(grad_s.transpose(-2, -1) @ q * scale, leaves[1].grad)
    torch.testing.assert_close(p.transpose(-2, -1) @ grad_o, leaves[2].grad)


def _window_mask(n: int, window: int) -> torch.Tensor:
    """The one definition of issue 12: query i sees the `window` keys with 0 <= i - j < window."""
    i, j = torch.arange(n)[:, None], torch.arange(n)[None, :]
    return (j <= i) & (i - j < window)


@pytest.mark.parametrize(("window", "layers"), [(3, 1), (3, 4), (5, 6), (8, 2)])
def test_sliding_window_reach_is_layers_times_window_minus_one(window, layers):
    n = 64
    assert torch.equal(_window_mask(n, window), sliding_window_mask(n, window))
    reach = torch.linalg.matrix_power(_window_mask(n, window).double(), layers)[-1] > 0
    assert n - 1 - int(reach.nonzero().min()) == layers * (window - 1)
    text = question_text("eff-sliding-window-sparse")
    assert "\\ell(w-1)+1" in text and "sliding_window_mask" in text


def test_sliding_window_question_and_code_sliding_window_use_the_package_definition():
    for question_id in ("eff-sliding-window-sparse", "code-sliding-window"):
        q = bank().question(question_id)
        assert q is not None, question_id
        namespace: dict = {}
        exec(compile(q.code, f"<{question_id}>", "exec"), namespace)
    eff = bank().question("eff-sliding-window-sparse")
    namespace = {}
    exec(compile(eff.code, "<eff>", "exec"), namespace)
    for n, w in ((9, 1), (9, 3), (12, 12), (7, 20)):
        assert torch.equal(namespace["sliding_window_causal_mask"](n, w), sliding_window_mask(n, w))


def test_mistral_theoretical_span_and_rolling_cache():
    window, layers, tokens = 4096, 32, 32 * 1024
    assert layers * window == 131_072                       # the paper's "about 131K"
    # Review fix: Mistral's W counts the tokens before the query (positions i - W .. i), so in the
    # bank's w-keys definition its window is w = W + 1, not w = W (131041 was the wrong count).
    w = window + 1
    assert layers * (w - 1) == 131_072 and layers * (w - 1) + 1 == 131_073
    text = question_text("eff-sliding-window-sparse")
    assert "131073" in text and "4097" in text and "131041" not in text
    assert tokens // window == 8
    # A rolling buffer: position i goes to slot i % W and holds exactly the last W keys.
    small_window = 4
    cache: list[int | None] = [None] * small_window
    for position in range(11):
        cache[position % small_window] = position
    assert sorted(cache) == list(range(11 - small_window, 11))


def _phi(x):
    return F.elu(x) + 1


def test_causal_linear_attention_prefix_sum_equals_masked_quadratic_form():
    torch.manual_seed(SEED)
    n, d, dv = 25, 6, 5
    q, k = torch.randn(n, d, dtype=torch.float64), torch.randn(n, d, dtype=torch.float64)
    v = torch.randn(n, dv, dtype=torch.float64)
    state = torch.zeros(d, dv, dtype=torch.float64)
    normaliser = torch.zeros(d, dtype=torch.float64)
    rnn = []
    for i in range(n):
        state = state + torch.outer(_phi(k[i]), v[i])
        normaliser = normaliser + _phi(k[i])
        rnn.append(_phi(q[i]) @ state / (_phi(q[i]) @ normaliser))
        assert state.shape == (d, dv)  # fixed-size state
    similarity = (_phi(q) @ _phi(k).T).tril()
    quadratic = similarity @ v / similarity.sum(-1, keepdim=True)
    torch.testing.assert_close(torch.stack(rnn), quadratic)


def _linear_attention_flops(n: int, d: int = 16) -> int:
    q, k, v = (torch.rand(n, d) for _ in range(3))
    with FlopCounterMode(display=False) as counter:
        kv = k.T @ v  # (d, d)
        q @ kv
    return counter.get_total_flops()


def test_linear_attention_flops_grow_linearly_in_length():
    assert _linear_attention_flops(256) == 2 * _linear_attention_flops(128)
    assert _linear_attention_flops(128) == 2 * (2 * 128 * 16 * 16)


def test_positive_random_features_are_unbiased_and_positive():
    torch.manual_seed(SEED)
    d, m = 6, 200_000
    q, k = torch.randn(d, dtype=torch.float64) * 0.5, torch.randn(d, dtype=torch.float64) * 0.5
    omega = torch.randn(m, d, dtype=torch.float64)

    def phi(x):
        return torch.exp(omega @ x - x @ x / 2)

    assert bool((phi(q) > 0).all())
    torch.testing.assert_close((phi(q) * phi(k)).mean(), torch.exp(q @ k), rtol=0.02, atol=0)


def test_trigonometric_features_can_estimate_a_negative_kernel():
    # exp(q.k) = exp(|q|^2/2) exp(|k|^2/2) E[cos(w.(q - k))]; with few features and a small
    # kernel value the cos estimate goes negative, the positive estimate never does.
    torch.manual_seed(SEED)
    d, m = 4, 8
    q = torch.full((d,), 1.0, dtype=torch.float64)
    k = -q
    trig_negative, positive_negative = 0, 0
    for _ in range(200):
        omega = torch.randn(m, d, dtype=torch.float64)
        trig = torch.exp(q @ q / 2 + k @ k / 2) * torch.cos(omega @ (q - k)).mean()
        positive = (torch.exp(omega @ q - q @ q / 2) * torch.exp(omega @ k - k @ k / 2)).mean()
        trig_negative += int(trig < 0)
        positive_negative += int(positive < 0)
    assert trig_negative > 0
    assert positive_negative == 0


def test_linformer_projection_is_not_causal():
    torch.manual_seed(SEED)
    n, d, proj = 12, 8, 4
    e, f = torch.randn(proj, n), torch.randn(proj, n)
    q, k, v = (torch.randn(n, d) for _ in range(3))

    def linformer(k, v):
        return ((q @ (e @ k).T) / math.sqrt(d)).softmax(-1) @ (f @ v)

    k_changed, v_changed = k.clone(), v.clone()
    k_changed[-1], v_changed[-1] = torch.randn(d), torch.randn(d)  # change the last token only
    assert not torch.allclose(linformer(k, v)[0], linformer(k_changed, v_changed)[0])


def test_angular_lsh_collides_more_for_closer_directions():
    torch.manual_seed(SEED)
    d, buckets, trials = 16, 8, 2000
    x = torch.randn(d)
    near = x + 0.2 * torch.randn(d)
    far = torch.randn(d)

    def bucket(vec, rotation):
        projected = vec @ rotation
        return int(torch.argmax(torch.cat([projected, -projected])))

    near_hits = far_hits = 0
    for _ in range(trials):
        rotation = torch.randn(d, buckets // 2)
        near_hits += bucket(x, rotation) == bucket(near, rotation)
        far_hits += bucket(x, rotation) == bucket(far, rotation)
    assert near_hits > 2 * far_hits


@pytest.mark.parametrize("devices", [1, 2, 3, 8])
def test_ring_attention_block_merge_is_exact(devices):
    torch.manual_seed(SEED)
    n, d = 48, 8
    q, k, v = (torch.randn(n, d) for _ in range(3))
    outputs = []
    for q_block in q.chunk(devices):
        out, lse = None, None
        for k_block, v_block in zip(k.chunk(devices), v.chunk(devices), strict=True):
            s = q_block @ k_block.T / math.sqrt(d)
            block_lse = torch.logsumexp(s, -1)
            block_out = torch.exp(s - block_lse[:, None]) @ v_block
            if out is None:
                out, lse = block_out, block_lse
            else:
                new_lse = torch.logaddexp(lse, block_lse)
                out = (torch.exp(lse - new_lse)[:, None] * out
                       + torch.exp(block_lse - new_lse)[:, None] * block_out)
                lse = new_lse
        outputs.append(out)
    expected = F.scaled_dot_product_attention(q[None], k[None], v[None])[0]
    torch.testing.assert_close(torch.cat(outputs), expected)


def test_is_causal_is_top_left_aligned_when_query_is_shorter():
    torch.manual_seed(SEED)
    t = 7
    q_all, k, v = (torch.randn(1, 2, t, 8) for _ in range(3))
    full = F.scaled_dot_product_attention(q_all, k, v, is_causal=True)
    last = q_all[..., -1:, :]
    torch.testing.assert_close(
        F.scaled_dot_product_attention(last, k, v, is_causal=True), v[..., :1, :]
    )
    torch.testing.assert_close(F.scaled_dot_product_attention(last, k, v), full[..., -1:, :])
    torch.testing.assert_close(
        F.scaled_dot_product_attention(q_all[..., -3:, :], k, v,
                                       attn_mask=causal_lower_right(3, t)),
        full[..., -3:, :],
    )
    explicit = torch.ones(3, t, dtype=torch.bool).tril(diagonal=t - 3)
    torch.testing.assert_close(
        F.scaled_dot_product_attention(q_all[..., -3:, :], k, v, attn_mask=explicit),
        full[..., -3:, :],
    )


def test_cpu_sdpa_with_attn_mask_and_is_causal_applies_both_without_raising():
    # The docs say passing both raises; torch 2.13 on CPU intersects them instead.
    torch.manual_seed(SEED)
    q, k, v = (torch.randn(1, 1, 6, 8) for _ in range(3))
    keep = torch.rand(6, 6) > 0.4
    keep[:, 0] = True
    causal = torch.ones(6, 6, dtype=torch.bool).tril()
    both = F.scaled_dot_product_attention(q, k, v, attn_mask=keep, is_causal=True)
    intersection = F.scaled_dot_product_attention(q, k, v, attn_mask=keep & causal)
    torch.testing.assert_close(both, intersection)
    assert not torch.allclose(both, F.scaled_dot_product_attention(q, k, v, attn_mask=keep))


def test_sdpa_kernel_with_an_unusable_backend_raises_instead_of_falling_back():
    q = torch.randn(1, 2, 8, 16)
    with sdpa_kernel([SDPBackend.MATH]):
        F.scaled_dot_product_attention(q, q, q)
    with pytest.raises(RuntimeError), sdpa_kernel([SDPBackend.EFFICIENT_ATTENTION]):
        F.scaled_dot_product_attention(q, q, q)  # not available on CPU


def test_sdpa_true_means_attend_and_multihead_attention_true_means_blocked():
    torch.manual_seed(SEED)
    mha = nn.MultiheadAttention(8, 1, batch_first=True, bias=False)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.eye(8).repeat(3, 1))
        mha.out_proj.weight.copy_(torch.eye(8))
    x = torch.randn(1, 4, 8)
    keep = torch.tensor([[True, True, False, False]])  # SDPA: True = take part
    sdpa = F.scaled_dot_product_attention(x, x, x, attn_mask=keep[:, None, :])
    mha_out, _ = mha(x, x, x, key_padding_mask=~keep)  # MHA: True = ignore
    torch.testing.assert_close(mha_out, sdpa)


# ============================================================ bank v2 (issue 12) claims


# ---------------------------------------------------------------- eff-window-sinks-keys-seen


def _keys_seen_brute_force(i: int, window: int, sinks: int) -> int:
    return sum(1 for j in range(i + 1) if i - j < window or j < sinks)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_keys_seen_formula_matches_brute_force_and_the_questions_function(seed):
    q = bank().question("eff-window-sinks-keys-seen")
    namespace: dict = {}
    exec(compile(q.code, "<eff-window-sinks-keys-seen>", "exec"), namespace)
    g = torch.Generator().manual_seed(seed)
    for _ in range(200):
        window = int(torch.randint(1, 40, (1,), generator=g))
        sinks = int(torch.randint(0, 8, (1,), generator=g))
        i = int(torch.randint(0, 120, (1,), generator=g))
        formula = min(i + 1, window) + min(sinks, max(0, i - window + 1))
        assert formula == _keys_seen_brute_force(i, window, sinks)
        assert namespace["keys_seen"](i, window, sinks) == formula


def test_keys_seen_worked_answers_and_cache_slots():
    def seen(i):
        return min(i + 1, 4096) + min(4, max(0, i - 4096 + 1))

    assert (seen(100), seen(4097), seen(10000), seen(10**6)) == (101, 4098, 4100, 4100)
    assert 4096 + 4 == 4100 and 10000 + 1 == 10001
    text = question_text("eff-window-sinks-keys-seen")
    for figure in ("101", "4098", "4100", "10001"):
        assert figure in text


# --------------------------------------- eff-sdpa-backends-is-causal / eff-flash-attention-2-3
# FA3 / FA4 need a GPU: these claims are read from torch 2.13's source, not measured here.


def test_torch_lists_opt_in_fa3_and_fa4_with_none_active():
    import torch.nn.attention as attn

    assert attn.list_flash_attention_impls() == ["FA3", "FA4"]
    assert attn.current_flash_attention_impl() is None
    assert callable(attn.activate_flash_attention_impl)
    text = question_text("eff-sdpa-backends-is-causal")
    assert "list_flash_attention_impls" in text and "['FA3', 'FA4']" in text
    assert "not measured on a GPU here" in text


def test_fa3_needs_sm90_and_fa4_sm90_or_sm100_per_torch_source():
    import inspect

    from torch.nn.attention import _fa3, _fa4

    fa3, fa4 = inspect.getsource(_fa3), inspect.getsource(_fa4)
    assert "FA3 requires compute capability 9.0" in fa3
    assert "FA4 requires compute capability 9.0 or 10.0" in fa4
    assert 'module_path: str = "flash_attn_interface"' in fa3
    assert 'module_path: str = "flash_attn.cute.interface"' in fa4
    for question_id in ("eff-sdpa-backends-is-causal", "eff-flash-attention-2-3"):
        text = question_text(question_id)
        assert re.search(r"9\.0 or 10\.0", text), question_id


def test_flash_attention_versions_question_says_gpu_figures_are_cited():
    text = question_text("eff-flash-attention-2-3")
    assert "FlashInfer" in text and "FlashMLA" in text and "FA4" in text
    assert "did not measure them" in text
