"""GroupedQueryAttention and repeat_kv: against MHA, torch's enable_gqa and repeat_interleave."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from attention import GroupedQueryAttention, MultiHeadAttention, repeat_kv

TOL = {"atol": 1e-5, "rtol": 1e-5}


@pytest.mark.parametrize("n_rep", [1, 2, 3])
def test_repeat_kv_equals_repeat_interleave(n_rep):
    states = torch.randn(2, 3, 5, 4, generator=torch.Generator().manual_seed(n_rep))
    expected = torch.repeat_interleave(states, n_rep, dim=1)
    assert torch.equal(repeat_kv(states, n_rep), expected)


def copy_into_mha(gqa: GroupedQueryAttention) -> MultiHeadAttention:
    mha = MultiHeadAttention(gqa.embed_dim, gqa.num_heads)
    mha.load_state_dict(gqa.state_dict())
    return mha


@settings(max_examples=25, deadline=None)
@given(
    heads=st.sampled_from([1, 2, 3, 4]),
    head_dim=st.integers(1, 4),
    L=st.integers(1, 6),
    S=st.integers(1, 6),
    causal=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_property_gqa_with_as_many_kv_heads_as_heads_equals_mha(
    heads, head_dim, L, S, causal, seed
):
    torch.manual_seed(seed)
    gqa = GroupedQueryAttention(heads * head_dim, heads, heads)
    mha = copy_into_mha(gqa)
    query = torch.randn(2, L, heads * head_dim)
    memory = torch.randn(2, S, heads * head_dim)
    kwargs = {"is_causal": True} if causal else {}
    expected, expected_weights = mha(query, memory, **kwargs)
    output, weights = gqa(query, memory, **kwargs)
    torch.testing.assert_close(output, expected, **TOL)
    torch.testing.assert_close(weights, expected_weights, **TOL)


@pytest.mark.parametrize(("heads", "kv_heads"), [(4, 2), (6, 3), (4, 1)])
def test_gqa_matches_torch_sdpa_with_enable_gqa(heads, kv_heads):
    torch.manual_seed(heads * 10 + kv_heads)
    embed_dim, head_dim = heads * 4, 4
    module = GroupedQueryAttention(embed_dim, heads, kv_heads).eval()
    x = torch.randn(2, 5, embed_dim)
    q = module.query_linear(x).view(2, 5, heads, head_dim).transpose(1, 2)
    k = module.key_linear(x).view(2, 5, kv_heads, head_dim).transpose(1, 2)
    v = module.value_linear(x).view(2, 5, kv_heads, head_dim).transpose(1, 2)
    context = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    expected = module.out_linear(context.transpose(1, 2).reshape(2, 5, embed_dim))
    for need_weights in (True, False):
        output, weights = module(x, is_causal=True, need_weights=need_weights)
        torch.testing.assert_close(output, expected, **TOL)
        assert (weights is None) == (not need_weights)
    assert module(x).weights.shape == (2, heads, 5, 5)


def test_mqa_has_one_key_value_head_shared_by_all_query_heads():
    module = GroupedQueryAttention(8, 4, 1)
    assert module.key_linear.out_features == 2  # one head of size 8 / 4
    x = torch.randn(1, 3, 8, generator=torch.Generator().manual_seed(0))
    _, weights = module(x)
    assert weights.shape == (1, 4, 3, 3)


def test_rejects_num_heads_not_divisible_by_num_kv_heads():
    with pytest.raises(
        ValueError, match=r"argument `num_kv_heads`: expected a divisor of num_heads=6, got 4"
    ):
        GroupedQueryAttention(12, 6, 4)


def test_rejects_non_positive_num_kv_heads_and_n_rep():
    with pytest.raises(
        ValueError, match=r"argument `num_kv_heads`: expected a positive integer, got 0"
    ):
        GroupedQueryAttention(8, 2, 0)
    with pytest.raises(ValueError, match=r"argument `n_rep`: expected a positive integer, got 0"):
        repeat_kv(torch.randn(1, 1, 2, 2), 0)


def test_rejects_mismatched_input_dims():
    module = GroupedQueryAttention(8, 2, 1)
    with pytest.raises(
        ValueError, match=r"argument `key`: expected the last dimension embed_dim = 8, got 4"
    ):
        module(torch.randn(1, 3, 8), torch.randn(1, 3, 4))
