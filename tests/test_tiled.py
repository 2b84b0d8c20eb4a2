"""tiled_attention (online softmax, FlashAttention algorithm) equals exact attention."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from attention import scaled_dot_product_attention, tiled_attention

TOL = {"atol": 1e-5, "rtol": 1e-5}


@settings(max_examples=40, deadline=None)
@given(
    L=st.integers(1, 13),
    S=st.integers(1, 13),
    block_size=st.integers(1, 16),
    mask_kind=st.sampled_from(["none", "causal", "bool", "float", "key_padding"]),
    seed=st.integers(0, 2**16),
)
def test_property_tiled_equals_exact_for_any_block_size(L, S, block_size, mask_kind, seed):
    generator = torch.Generator().manual_seed(seed)
    q = torch.randn(2, 2, L, 4, generator=generator)
    k = torch.randn(2, 2, S, 4, generator=generator)
    v = torch.randn(2, 2, S, 3, generator=generator)
    kwargs = {}
    if mask_kind == "causal":
        kwargs["is_causal"] = True
    elif mask_kind == "bool":
        kwargs["attn_mask"] = torch.rand(2, 1, L, S, generator=generator) > 0.5  # some rows empty
    elif mask_kind == "float":
        kwargs["attn_mask"] = torch.randn(L, S, generator=generator)
    elif mask_kind == "key_padding":
        kwargs["attn_mask"] = torch.rand(2, 1, 1, S, generator=generator) > 0.3
    output, weights = tiled_attention(q, k, v, block_size=block_size, **kwargs)
    assert weights is None
    expected = scaled_dot_product_attention(q, k, v, **kwargs).output
    torch.testing.assert_close(output, expected, **TOL)


def test_tiled_matches_torch_sdpa_on_a_longer_causal_sequence():
    generator = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(1, 3, 100, 8, generator=generator) for _ in range(3))
    output, _ = tiled_attention(q, k, v, is_causal=True, block_size=17)
    expected = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(output, expected, **TOL)


def test_tiled_fully_masked_rows_are_zero_not_nan():
    q = torch.randn(1, 4, 8, generator=torch.Generator().manual_seed(2))
    keep = torch.ones(4, 4, dtype=torch.bool)
    keep[2] = False
    output, _ = tiled_attention(q, q, q, attn_mask=keep, block_size=3)
    assert torch.equal(output[0, 2], torch.zeros(8))
    torch.testing.assert_close(output, F.scaled_dot_product_attention(q, q, q, attn_mask=keep))


def test_tiled_survives_scores_that_overflow_a_naive_exp():
    q = torch.full((1, 3, 2), 30.0)  # scores of 900 * scale: exp() overflows without the max
    output, _ = tiled_attention(q, q, q, block_size=1, scale=1.0)
    assert torch.isfinite(output).all()
    torch.testing.assert_close(output, F.scaled_dot_product_attention(q, q, q, scale=1.0))


def test_tiled_float64_is_exact_to_float64_precision():
    generator = torch.Generator().manual_seed(4)
    q, k, v = (torch.randn(2, 9, 4, generator=generator, dtype=torch.float64) for _ in range(3))
    output, _ = tiled_attention(q, k, v, is_causal=True, block_size=4)
    assert output.dtype == torch.float64
    expected = scaled_dot_product_attention(q, k, v, is_causal=True).output
    torch.testing.assert_close(output, expected, atol=1e-12, rtol=1e-12)


def test_tiled_keeps_half_precision_dtype():
    q = torch.randn(1, 5, 8, generator=torch.Generator().manual_seed(3)).half()
    output, _ = tiled_attention(q, q, q, block_size=2)
    assert output.dtype == torch.float16
    expected = scaled_dot_product_attention(q.float(), q.float(), q.float()).output
    torch.testing.assert_close(output.float(), expected, atol=2e-3, rtol=2e-3)


@pytest.mark.parametrize("block_size", [0, -3])
def test_rejects_block_size_below_one(block_size):
    q = torch.randn(1, 4, 8)
    with pytest.raises(
        ValueError, match=rf"argument `block_size`: expected a positive integer, got {block_size}"
    ):
        tiled_attention(q, q, q, block_size=block_size)


def test_rejects_both_attn_mask_and_is_causal():
    q = torch.randn(1, 4, 8)
    with pytest.raises(
        ValueError, match=r"argument `attn_mask`: expected None when is_causal=True"
    ):
        tiled_attention(q, q, q, attn_mask=torch.ones(4, 4, dtype=torch.bool), is_causal=True)


def test_rejects_a_mask_that_does_not_broadcast():
    q = torch.randn(1, 4, 8)
    with pytest.raises(ValueError, match=r"argument `attn_mask`: expected a shape that broadcasts"):
        tiled_attention(q, q, q, attn_mask=torch.ones(3, 4, dtype=torch.bool))
