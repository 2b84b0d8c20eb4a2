"""attention.scaled_dot_product_attention against torch's SDPA and a float64 reference."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from attention import AttentionOutput, scaled_dot_product_attention
from attention.functional import masked_softmax

TOL = {"atol": 1e-5, "rtol": 1e-5}
FEW = settings(max_examples=30, deadline=None)


def reference64(query, key, value, keep=None, additive=None, scale=None):
    """Textbook attention in float64, written independently of the package."""
    q, k, v = query.double(), key.double(), value.double()
    scale = 1 / math.sqrt(q.size(-1)) if scale is None else scale
    scores = q @ k.transpose(-2, -1) * scale
    if additive is not None:
        scores = scores + additive.double()
    if keep is not None:
        scores = scores.masked_fill(~keep, float("-inf"))
    weights = torch.softmax(scores, dim=-1).nan_to_num(0.0)
    return weights @ v, weights


def rand(*shape, seed=None):
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    return torch.randn(*shape, generator=generator)


def test_returns_named_tuple_with_weights_shape():
    result = scaled_dot_product_attention(rand(2, 3, 4, 8), rand(2, 3, 6, 8), rand(2, 3, 6, 5))
    assert isinstance(result, AttentionOutput)
    assert result.output.shape == (2, 3, 4, 5)
    assert result.weights.shape == (2, 3, 4, 6)


@pytest.mark.parametrize("mask_kind", ["none", "bool", "float", "causal"])
@pytest.mark.parametrize(("L", "S"), [(5, 5), (3, 7), (7, 3)])
def test_matches_torch_sdpa(mask_kind, L, S):
    torch.manual_seed(L * 10 + S)
    q, k, v = rand(2, 3, L, 8), rand(2, 3, S, 8), rand(2, 3, S, 4)
    kwargs = {}
    if mask_kind == "bool":
        kwargs["attn_mask"] = torch.rand(2, 1, L, S) > 0.3
    elif mask_kind == "float":
        kwargs["attn_mask"] = torch.randn(L, S)
    elif mask_kind == "causal":
        kwargs["is_causal"] = True
    ours = scaled_dot_product_attention(q, k, v, **kwargs).output
    torch.testing.assert_close(ours, F.scaled_dot_product_attention(q, k, v, **kwargs), **TOL)


def test_fully_masked_rows_give_zero_weights_and_output_like_torch():
    q, k, v = rand(1, 2, 4, 8, seed=1), rand(1, 2, 5, 8, seed=2), rand(1, 2, 5, 3, seed=3)
    keep = torch.ones(4, 5, dtype=torch.bool)
    keep[1] = False  # query 1 may attend to nothing
    additive = torch.zeros(4, 5)
    additive[2] = float("-inf")  # query 2 neither, through a float mask
    for mask in (keep, additive):
        output, weights = scaled_dot_product_attention(q, k, v, attn_mask=mask)
        assert not torch.isnan(output).any() and not torch.isnan(weights).any()
        torch.testing.assert_close(output, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))
    output, weights = scaled_dot_product_attention(q, k, v, attn_mask=keep)
    assert torch.equal(weights[..., 1, :], torch.zeros(1, 2, 5))
    assert torch.equal(output[..., 1, :], torch.zeros(1, 2, 3))


@pytest.mark.parametrize(("q_heads", "kv_heads"), [(4, 2), (6, 3), (4, 1), (4, 4)])
def test_enable_gqa_matches_torch(q_heads, kv_heads):
    torch.manual_seed(q_heads + kv_heads)
    q, k, v = rand(2, q_heads, 5, 8), rand(2, kv_heads, 7, 8), rand(2, kv_heads, 7, 3)
    mask = torch.rand(5, 7) > 0.4
    mask[0] = False
    for kwargs in ({}, {"attn_mask": mask}, {"is_causal": True}):
        ours, weights = scaled_dot_product_attention(q, k, v, enable_gqa=True, **kwargs)
        theirs = F.scaled_dot_product_attention(q, k, v, enable_gqa=True, **kwargs)
        torch.testing.assert_close(ours, theirs, **TOL)
        assert weights.shape == (2, q_heads, 5, 7)


def test_matches_float64_reference_with_scale_and_masks():
    q, k, v = rand(3, 6, 16, seed=4), rand(3, 9, 16, seed=5), rand(3, 9, 7, seed=6)
    keep = torch.rand(3, 6, 9, generator=torch.Generator().manual_seed(7)) > 0.3
    additive = rand(6, 9, seed=8)
    for kwargs, ref_kwargs in (
        ({"attn_mask": keep, "scale": 0.3}, {"keep": keep, "scale": 0.3}),
        ({"attn_mask": additive}, {"additive": additive}),
    ):
        output, weights = scaled_dot_product_attention(q, k, v, **kwargs)
        ref_output, ref_weights = reference64(q, k, v, **ref_kwargs)
        torch.testing.assert_close(output.double(), ref_output, **TOL)
        torch.testing.assert_close(weights.double(), ref_weights, **TOL)


@pytest.mark.parametrize("grad", [True, False])
def test_float64_inputs_stay_float64_accurate(grad):
    q, k, v = (rand(2, 5, 8, seed=s).double().requires_grad_(grad) for s in (1, 2, 3))
    keep = torch.rand(5, 5, generator=torch.Generator().manual_seed(4)) > 0.3
    output, weights = scaled_dot_product_attention(q, k, v, attn_mask=keep)
    ref_output, ref_weights = reference64(q.detach(), k.detach(), v.detach(), keep=keep)
    assert weights.dtype == torch.float64
    torch.testing.assert_close(weights.detach(), ref_weights, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(output.detach(), ref_output, atol=1e-12, rtol=1e-12)


def test_unbatched_2d_inputs_like_torch():
    q, k, v = rand(3, 4, seed=1), rand(5, 4, seed=2), rand(5, 6, seed=3)
    output, weights = scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(output, F.scaled_dot_product_attention(q, k, v), **TOL)
    assert weights.shape == (3, 5)


def test_float16_inputs_keep_dtype_and_mask_with_minus_inf_not_minus_1e9():
    q, k, v = (rand(1, 2, 4, 8, seed=s).half() for s in (1, 2, 3))
    keep = torch.tensor([[True, False, True, False]]).expand(4, 4)
    output, weights = scaled_dot_product_attention(q, k, v, attn_mask=keep)
    assert output.dtype == torch.float16 and weights.dtype == torch.float16
    assert torch.equal(weights[..., 1], torch.zeros_like(weights[..., 1]))  # exactly zero
    ref_output, _ = reference64(q, k, v, keep=keep)
    torch.testing.assert_close(output.double(), ref_output, atol=2e-3, rtol=2e-3)


def test_dropout_one_zeroes_everything_and_zero_changes_nothing():
    q = rand(1, 1, 4, 8, seed=9)
    output, weights = scaled_dot_product_attention(q, q, q, dropout_p=1.0)
    assert torch.equal(weights, torch.zeros_like(weights))
    assert torch.equal(output, torch.zeros_like(output))
    plain = scaled_dot_product_attention(q, q, q).output
    torch.testing.assert_close(scaled_dot_product_attention(q, q, q, dropout_p=0.0).output, plain)


def test_gradients_flow_and_match_float64_reference():
    q, k, v = (rand(2, 3, 5, 4, seed=s).requires_grad_() for s in (1, 2, 3))
    keep = torch.rand(5, 5, generator=torch.Generator().manual_seed(0)) > 0.3
    keep[:, 0] = True
    output, _ = scaled_dot_product_attention(q, k, v, attn_mask=keep)
    output.square().sum().backward()
    q64, k64, v64 = (t.detach().double().requires_grad_() for t in (q, k, v))
    reference64(q64, k64, v64, keep=keep)[0].square().sum().backward()
    for ours, ref in ((q, q64), (k, k64), (v, v64)):
        torch.testing.assert_close(ours.grad.double(), ref.grad, **TOL)


@pytest.mark.parametrize("grad", [True, False])
def test_a_float64_mask_keeps_float32_weights(grad):
    q = rand(1, 2, 4, 8, seed=3)
    with torch.set_grad_enabled(grad):
        _, weights = scaled_dot_product_attention(
            q, q, q, attn_mask=torch.zeros(4, 4, dtype=torch.float64)
        )
    assert weights.dtype == torch.float32


def test_a_learned_float_mask_gets_gradients():
    """A trainable bias (relative positions, ALiBi-like) must not break in-place softmax."""
    q = rand(1, 2, 4, 8, seed=4)
    bias = torch.zeros(4, 4, requires_grad=True)
    output, _ = scaled_dot_product_attention(q, q, q, attn_mask=bias)
    output.sum().backward()
    assert bias.grad is not None and bias.grad.shape == (4, 4)


def test_masked_softmax_does_not_touch_its_input_unless_asked():
    scores = rand(2, 3, 4, seed=5)
    before = scores.clone()
    masked_softmax(scores, scores > 0)
    assert torch.equal(scores, before)


shapes = st.tuples(
    st.integers(1, 2), st.integers(1, 3), st.integers(1, 6), st.integers(1, 6), st.integers(1, 5)
)


@FEW
@given(shape=shapes, seed=st.integers(0, 2**16), density=st.floats(0.0, 1.0))
def test_property_rows_sum_to_one_or_zero_when_fully_masked(shape, seed, density):
    batch, heads, L, S, E = shape
    generator = torch.Generator().manual_seed(seed)
    q = torch.randn(batch, heads, L, E, generator=generator)
    k = torch.randn(batch, heads, S, E, generator=generator)
    keep = torch.rand(batch, 1, L, S, generator=generator) < density
    _, weights = scaled_dot_product_attention(q, k, k, attn_mask=keep)
    sums = weights.sum(dim=-1)
    expected = keep.any(dim=-1).expand_as(sums).to(sums.dtype)  # 1 if any key, else 0
    torch.testing.assert_close(sums, expected, **TOL)
    assert (weights[~keep.expand_as(weights)] == 0).all()


@FEW
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_property_causal_weights_are_zero_above_the_diagonal(shape, seed):
    batch, heads, L, S, E = shape
    generator = torch.Generator().manual_seed(seed)
    q = torch.randn(batch, heads, L, E, generator=generator)
    k = torch.randn(batch, heads, S, E, generator=generator)
    _, weights = scaled_dot_product_attention(q, k, k, is_causal=True)
    above = torch.ones(L, S, dtype=torch.bool).triu(diagonal=1)  # key j > query i
    assert (weights[..., above] == 0).all()
    torch.testing.assert_close(weights.sum(-1), torch.ones(batch, heads, L), **TOL)


# ---- bad input: one test per ValueError, each matching its message ----


def test_rejects_a_mask_that_does_not_broadcast():
    q = rand(2, 4, 5, 8)
    with pytest.raises(
        ValueError,
        match=r"argument `attn_mask`: expected a shape that broadcasts to \(2, 4, 5, 5\), "
        r"got \(3, 5\)",
    ):
        scaled_dot_product_attention(q, q, q, attn_mask=torch.ones(3, 5, dtype=torch.bool))


def test_rejects_a_mask_that_would_grow_the_scores():
    q = rand(4, 5, 8)
    with pytest.raises(ValueError, match=r"argument `attn_mask`: expected a shape that broadcasts"):
        scaled_dot_product_attention(q, q, q, attn_mask=torch.ones(2, 4, 5, 5, dtype=torch.bool))


def test_rejects_both_attn_mask_and_is_causal():
    q = rand(1, 3, 4)
    with pytest.raises(
        ValueError, match=r"argument `attn_mask`: expected None when is_causal=True"
    ):
        scaled_dot_product_attention(
            q, q, q, attn_mask=torch.ones(3, 3, dtype=torch.bool), is_causal=True
        )


def test_rejects_mismatched_query_and_key_dims():
    with pytest.raises(
        ValueError, match=r"argument `key`: expected the last dimension \(E\) of query = 8, got 6"
    ):
        scaled_dot_product_attention(rand(1, 3, 8), rand(1, 4, 6), rand(1, 4, 8))


def test_rejects_value_length_different_from_key_length():
    with pytest.raises(
        ValueError, match=r"argument `value`: expected the length \(S\) of key = 4, got 5"
    ):
        scaled_dot_product_attention(rand(1, 3, 8), rand(1, 4, 8), rand(1, 5, 8))


def test_rejects_gqa_heads_that_do_not_divide():
    with pytest.raises(
        ValueError,
        match=r"argument `key`: expected a number of heads that divides the query's 4, got 3",
    ):
        scaled_dot_product_attention(
            rand(1, 4, 3, 8), rand(1, 3, 3, 8), rand(1, 3, 3, 8), enable_gqa=True
        )


def test_rejects_an_integer_mask():
    q = rand(3, 4)
    with pytest.raises(
        ValueError, match=r"argument `attn_mask`: expected a bool .* got dtype torch.int64"
    ):
        scaled_dot_product_attention(q, q, q, attn_mask=torch.ones(3, 3, dtype=torch.long))


def test_rejects_dropout_outside_zero_one():
    q = rand(3, 4)
    with pytest.raises(
        ValueError, match=r"argument `dropout_p`: expected a probability in \[0, 1\], got 1.5"
    ):
        scaled_dot_product_attention(q, q, q, dropout_p=1.5)


def test_rejects_non_tensor_and_one_dimensional_input():
    with pytest.raises(ValueError, match=r"argument `query`: expected a torch.Tensor, got list"):
        scaled_dot_product_attention([[1.0]], rand(1, 1), rand(1, 1))
    with pytest.raises(
        ValueError, match=r"argument `query`: expected a tensor with at least 2 dimensions"
    ):
        scaled_dot_product_attention(rand(4), rand(1, 4), rand(1, 4))
