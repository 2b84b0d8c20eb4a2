"""MultiHeadLatentAttention: float64 reference, absorbed = naive, relative positions, errors."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attention import MultiHeadLatentAttention
from attention.positional import apply_rope

E, H, C, DN, DR, DV = 24, 3, 8, 4, 6, 5


def make(q_lora_rank=None):
    torch.manual_seed(0)
    return MultiHeadLatentAttention(E, H, kv_lora_rank=C, qk_nope_head_dim=DN,
                                    qk_rope_head_dim=DR, v_head_dim=DV,
                                    q_lora_rank=q_lora_rank).double()  # fmt: skip


def rms(x, norm):
    return x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + norm.eps) * norm.weight


def reference(module, x, positions):
    """Written from DeepSeek-V2's equations (9)-(19), one head at a time, in float64."""
    if module.q_lora_rank is None:
        q_all = x @ module.query_linear.weight.T
    else:
        q_all = rms(x @ module.q_down.weight.T, module.q_norm) @ module.q_up.weight.T
    compressed = x @ module.kv_down.weight.T
    c_kv = rms(compressed[..., :C], module.kv_norm)
    k_rope = apply_rope(compressed[..., C:], positions)
    kv = c_kv @ module.kv_up.weight.T  # (B, S, H * (DN + DV))
    heads = []
    weights = []
    for h in range(H):
        q_h = q_all[..., h * (DN + DR):(h + 1) * (DN + DR)]
        q = torch.cat([q_h[..., :DN], apply_rope(q_h[..., DN:], positions)], -1)
        kv_h = kv[..., h * (DN + DV):(h + 1) * (DN + DV)]
        k = torch.cat([kv_h[..., :DN], k_rope], -1)
        scores = q @ k.transpose(-2, -1) / math.sqrt(DN + DR)
        length = x.size(1)
        scores = scores.masked_fill(~torch.ones(length, length, dtype=torch.bool).tril(), -math.inf)
        w = scores.softmax(-1)
        weights.append(w)
        heads.append(w @ kv_h[..., DN:])
    return torch.cat(heads, -1) @ module.out_linear.weight.T, torch.stack(weights, 1)


@pytest.mark.parametrize("q_lora_rank", [None, 7])
@pytest.mark.parametrize("absorb", [False, True])
def test_matches_the_float64_reference(q_lora_rank, absorb):
    module = make(q_lora_rank)
    x = torch.randn(2, 6, E, dtype=torch.float64)
    output, weights = module(x, is_causal=True, absorb=absorb)
    ref_output, ref_weights = reference(module, x, torch.arange(6))
    torch.testing.assert_close(output, ref_output)
    torch.testing.assert_close(weights, ref_weights)


def test_scale_is_one_over_sqrt_of_nope_plus_rope():
    assert make().scale == pytest.approx(1 / math.sqrt(DN + DR))


@settings(max_examples=20, deadline=None)
@given(length=st.integers(1, 7), causal=st.booleans(), q_lora=st.sampled_from([None, 5]))
def test_absorbed_equals_naive(length, causal, q_lora):
    module = make(q_lora)
    x = torch.randn(1, length, E, dtype=torch.float64)
    naive = module(x, is_causal=causal)
    absorbed = module(x, is_causal=causal, absorb=True)
    torch.testing.assert_close(absorbed.output, naive.output)
    torch.testing.assert_close(absorbed.weights, naive.weights)


@settings(max_examples=15, deadline=None)
@given(shift=st.integers(1, 500))
def test_scores_depend_only_on_relative_positions(shift):
    module = make()
    x = torch.randn(1, 5, E, dtype=torch.float64)
    base = module(x, positions=torch.arange(5)).weights
    shifted = module(x, positions=torch.arange(5) + shift).weights
    torch.testing.assert_close(shifted, base)


def test_positions_change_the_weights():
    module = make()
    x = torch.randn(1, 5, E, dtype=torch.float64)
    reversed_positions = module(x, positions=torch.arange(5).flip(0)).weights
    assert not torch.allclose(reversed_positions, module(x).weights)


def test_batched_positions_match_one_row_each():
    module = make()
    x = torch.randn(2, 4, E, dtype=torch.float64)
    positions = torch.tensor([[0, 1, 2, 3], [5, 6, 7, 8]])
    both = module(x, positions=positions).output
    torch.testing.assert_close(both[1:], module(x[1:], positions=positions[1]).output)


def test_need_weights_false_returns_none():
    module = make()
    assert module(torch.randn(1, 3, E, dtype=torch.float64), need_weights=False).weights is None


def test_cache_elements_per_token():
    assert make().cache_elements_per_token() == C + DR


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"qk_rope_head_dim": 3}, r"argument `qk_rope_head_dim`: expected an even size"),
        ({"kv_lora_rank": 0}, r"argument `kv_lora_rank`: expected a positive integer, got 0"),
        ({"q_lora_rank": -1}, r"argument `q_lora_rank`: expected a positive integer, got -1"),
        ({"rope_base": 1.0}, r"argument `rope_base`: expected a number greater than 1, got 1.0"),
    ],
)
def test_rejects_bad_construction(kwargs, message):
    arguments = {"kv_lora_rank": C, "qk_nope_head_dim": DN, "qk_rope_head_dim": DR,
                 "v_head_dim": DV} | kwargs  # fmt: skip
    with pytest.raises(ValueError, match=message):
        MultiHeadLatentAttention(E, H, **arguments)


def test_rejects_input_of_another_width():
    message = r"argument `x`: expected the last dimension embed_dim = 24, got 5"
    with pytest.raises(ValueError, match=message):
        make()(torch.randn(1, 3, 5, dtype=torch.float64))


def test_rejects_positions_of_another_length():
    message = r"argument `positions`: expected an integer tensor \(L,\)"
    with pytest.raises(ValueError, match=message):
        make()(torch.randn(1, 3, E, dtype=torch.float64), positions=torch.arange(4))


def test_rejects_a_mask_together_with_is_causal():
    message = r"argument `attn_mask`: expected None when is_causal=True"
    keep = torch.ones(3, 3, dtype=torch.bool)
    with pytest.raises(ValueError, match=message):
        make()(torch.randn(1, 3, E, dtype=torch.float64), attn_mask=keep, is_causal=True)
