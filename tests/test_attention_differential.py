"""Differential attention: functional form against float64, module's lambda, rows, errors."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attention import DifferentialAttention, differential_attention, lambda_init_for


def softmax_reference(q, k, keep):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    return scores.masked_fill(~keep, -math.inf).softmax(-1)


@settings(max_examples=20, deadline=None)
@given(length=st.integers(1, 6), lam=st.floats(0.0, 1.0), causal=st.booleans())
def test_functional_matches_the_float64_reference(length, lam, causal):
    torch.manual_seed(0)
    q1, k1, q2, k2 = (torch.randn(2, 3, length, 4, dtype=torch.float64) for _ in range(4))
    v = torch.randn(2, 3, length, 8, dtype=torch.float64)
    keep = torch.ones(length, length, dtype=torch.bool)
    keep = keep.tril() if causal else keep
    expected = softmax_reference(q1, k1, keep) - lam * softmax_reference(q2, k2, keep)
    output, weights = differential_attention(q1, k1, q2, k2, v, lam, is_causal=causal)
    torch.testing.assert_close(weights, expected)
    torch.testing.assert_close(output, expected @ v)
    torch.testing.assert_close(weights.sum(-1), torch.full((2, 3, length), 1 - lam,
                                                           dtype=torch.float64))  # fmt: skip


def test_lambda_zero_is_plain_attention_of_the_first_map():
    torch.manual_seed(1)
    q1, k1, q2, k2 = (torch.randn(1, 2, 5, 4, dtype=torch.float64) for _ in range(4))
    v = torch.randn(1, 2, 5, 3, dtype=torch.float64)
    output, _ = differential_attention(q1, k1, q2, k2, v, 0.0)
    torch.testing.assert_close(output, torch.nn.functional.scaled_dot_product_attention(q1, k1, v))


@pytest.mark.parametrize("depth", [1, 2, 5, 24])
def test_lambda_init_follows_the_paper(depth):
    assert lambda_init_for(depth) == pytest.approx(0.8 - 0.6 * math.exp(-0.3 * (depth - 1)))
    assert DifferentialAttention(16, 2, depth=depth).lambda_init == lambda_init_for(depth)


def test_module_rows_sum_to_one_minus_lambda_and_maps_are_softmaxes():
    torch.manual_seed(2)
    module = DifferentialAttention(32, 4, depth=3).double()
    x = torch.randn(2, 6, 32, dtype=torch.float64)
    output, weights = module(x, is_causal=True)
    assert output.shape == (2, 6, 32) and weights.shape == (2, 4, 6, 6)
    lam = module.lambda_value().item()
    torch.testing.assert_close(weights.sum(-1), torch.full((2, 4, 6), 1 - lam, dtype=torch.float64))
    first, second, lam_tensor = module.maps(x, is_causal=True)
    torch.testing.assert_close(first - lam_tensor * second, weights)
    torch.testing.assert_close(first.sum(-1), torch.ones(2, 4, 6, dtype=torch.float64))


def test_module_matches_a_float64_reference():
    torch.manual_seed(3)
    module = DifferentialAttention(16, 2, depth=2).double()
    x = torch.randn(1, 5, 16, dtype=torch.float64)
    d = 4
    q = x @ module.query_linear.weight.T
    k = x @ module.key_linear.weight.T
    v = x @ module.value_linear.weight.T
    first = math.exp((module.lambda_q1 @ module.lambda_k1).item())
    second = math.exp((module.lambda_q2 @ module.lambda_k2).item())
    lam = first - second + module.lambda_init
    keep = torch.ones(5, 5, dtype=torch.bool).tril()
    heads = []
    for h in range(2):
        q1, q2 = q[..., (2 * h) * d:(2 * h + 1) * d], q[..., (2 * h + 1) * d:(2 * h + 2) * d]
        k1, k2 = k[..., (2 * h) * d:(2 * h + 1) * d], k[..., (2 * h + 1) * d:(2 * h + 2) * d]
        w = softmax_reference(q1, k1, keep) - lam * softmax_reference(q2, k2, keep)
        head = w @ v[..., h * 2 * d:(h + 1) * 2 * d]
        rms = torch.sqrt(head.pow(2).mean(-1, keepdim=True) + 1e-5)
        head = head / rms * module.head_norm.weight
        heads.append(head * (1 - module.lambda_init))
    expected = torch.cat(heads, -1) @ module.out_linear.weight.T
    torch.testing.assert_close(module(x, is_causal=True).output, expected)


def test_lambda_is_learnable():
    module = DifferentialAttention(16, 2, depth=1)
    module(torch.randn(1, 3, 16)).output.sum().backward()
    assert module.lambda_q1.grad is not None and module.lambda_q1.grad.abs().sum() > 0


def test_rejects_an_embed_dim_not_a_multiple_of_twice_the_heads():
    message = r"argument `embed_dim`: expected a multiple of 2 \* num_heads=4, got 6"
    with pytest.raises(ValueError, match=message):
        DifferentialAttention(6, 2, depth=1)


def test_rejects_depth_zero():
    with pytest.raises(ValueError, match=r"argument `depth`: expected a positive integer, got 0"):
        DifferentialAttention(8, 2, depth=0)


def test_rejects_a_lambda_that_is_not_a_number():
    q = torch.randn(1, 3, 4)
    with pytest.raises(ValueError, match=r"argument `lam`: expected a number or a tensor, got str"):
        differential_attention(q, q, q, q, q, "0.5")


def test_rejects_second_map_of_another_shape():
    q = torch.randn(1, 3, 4)
    with pytest.raises(ValueError, match=r"argument `q2`: expected q1's shape"):
        differential_attention(q, q, torch.randn(1, 2, 4), q, q, 0.5)


def test_rejects_input_of_another_width():
    with pytest.raises(ValueError, match=r"argument `x`: expected a tensor \(B, L, 8\)"):
        DifferentialAttention(8, 2, depth=1)(torch.randn(1, 3, 4))


def test_a_fully_masked_row_gives_zeros():
    torch.manual_seed(4)
    q1, k1, q2, k2 = (torch.randn(1, 4, 3, dtype=torch.float64) for _ in range(4))
    keep = torch.ones(4, 4, dtype=torch.bool)
    keep[1] = False
    output, weights = differential_attention(q1, k1, q2, k2, q1, 0.3, attn_mask=keep)
    assert torch.equal(weights[:, 1], torch.zeros(1, 4, dtype=torch.float64))
    assert torch.equal(output[:, 1], torch.zeros(1, 3, dtype=torch.float64))
