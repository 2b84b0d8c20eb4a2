"""sink_attention against a float64 reference with an explicit sink column; streaming_mask."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from attention import sink_attention
from attention.masks import causal_mask, sliding_window_mask, streaming_mask


def reference(q, k, v, sinks, keep):
    """Append the sink as a key column, softmax the row, drop the column."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    scores = scores.masked_fill(~keep, -math.inf)
    sink_column = sinks[:, None, None].expand(*scores.shape[:-1], 1)
    full = torch.cat([scores, sink_column], -1).softmax(-1)[..., :-1]
    return full @ v, full


def qkv(batch=2, heads=3, length=5, source=5, dim=4, seed=0):
    torch.manual_seed(seed)
    return (torch.randn(batch, heads, length, dim, dtype=torch.float64),
            torch.randn(batch, heads, source, dim, dtype=torch.float64),
            torch.randn(batch, heads, source, 6, dtype=torch.float64))  # fmt: skip


@settings(max_examples=25, deadline=None)
@given(length=st.integers(1, 6), causal=st.booleans(), sink=st.floats(-5, 5))
def test_matches_the_float64_reference(length, causal, sink):
    q, k, v = qkv(length=length, source=length)
    sinks = torch.tensor([sink, 0.0, -sink], dtype=torch.float64)
    keep = causal_mask(length) if causal else torch.ones(length, length, dtype=torch.bool)
    output, weights = sink_attention(q, k, v, sinks, is_causal=causal)
    ref_output, ref_weights = reference(q, k, v, sinks, keep)
    torch.testing.assert_close(output, ref_output)
    torch.testing.assert_close(weights, ref_weights)
    assert (weights.sum(-1) < 1).all()


def test_sink_logit_minus_infinity_is_plain_softmax():
    q, k, v = qkv()
    sinks = torch.full((3,), -math.inf, dtype=torch.float64)
    output, weights = sink_attention(q, k, v, sinks, is_causal=True)
    torch.testing.assert_close(output, F.scaled_dot_product_attention(q, k, v, is_causal=True))
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, 5, dtype=torch.float64))


def test_fully_masked_row_gives_zeros_even_with_a_minus_infinity_sink():
    q, k, v = qkv()
    keep = torch.ones(5, 5, dtype=torch.bool)
    keep[2] = False
    for sink in (0.0, -math.inf):
        output, weights = sink_attention(q, k, v, torch.full((3,), sink, dtype=torch.float64),
                                         attn_mask=keep)  # fmt: skip
        assert torch.equal(weights[..., 2, :], torch.zeros_like(weights[..., 2, :]))
        assert torch.equal(output[..., 2, :], torch.zeros_like(output[..., 2, :]))


def test_float_mask_is_added_and_a_large_sink_takes_the_mass():
    q, k, v = qkv()
    bias = torch.randn(5, 5, dtype=torch.float64)
    _, weights = sink_attention(q, k, v, torch.zeros(3, dtype=torch.float64), attn_mask=bias)
    scores = q @ k.transpose(-2, -1) / 2 + bias
    expected = scores.exp() / (scores.exp().sum(-1, keepdim=True) + 1)
    torch.testing.assert_close(weights, expected)
    _, swamped = sink_attention(q, k, v, torch.full((3,), 60.0, dtype=torch.float64))
    assert swamped.sum(-1).max() < 1e-20


def test_rejects_sink_logits_of_the_wrong_shape():
    q, k, v = qkv()
    with pytest.raises(ValueError, match=r"argument `sink_logits`: expected shape \(3,\)"):
        sink_attention(q, k, v, torch.zeros(4, dtype=torch.float64))


def test_rejects_a_query_without_heads():
    q = torch.randn(5, 4)
    message = r"argument `query`: expected a tensor \(N\.\.\., H, L, D\)"
    with pytest.raises(ValueError, match=message):
        sink_attention(q, q, q, torch.zeros(1))


@settings(max_examples=40, deadline=None)
@given(length=st.integers(1, 12), window=st.integers(1, 12), sinks=st.integers(0, 12))
def test_streaming_mask_matches_its_definition(length, window, sinks):
    mask = streaming_mask(length, window, sinks)
    for i in range(length):
        for j in range(length):
            assert bool(mask[i, j]) == (j <= i and (j < sinks or i - j < window))


def test_streaming_mask_without_sinks_is_the_sliding_window():
    assert torch.equal(streaming_mask(9, 3, 0), sliding_window_mask(9, 3))


def test_streaming_mask_rejects_negative_sinks():
    with pytest.raises(ValueError, match=r"argument `num_sinks`: expected a non-negative integer"):
        streaming_mask(4, 2, -1)


def test_streaming_mask_rejects_a_zero_window():
    with pytest.raises(ValueError, match=r"argument `window`: expected a positive integer, got 0"):
        streaming_mask(4, 0, 1)
