"""block_sparse_attention: all blocks = dense, selection semantics, ties, float64 reference."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from attention import block_selection, block_sparse_attention


def qkv(length=11, source=None, seed=0):
    torch.manual_seed(seed)
    source = length if source is None else source
    return (torch.randn(2, 3, length, 4, dtype=torch.float64),
            torch.randn(2, 3, source, 4, dtype=torch.float64),
            torch.randn(2, 3, source, 5, dtype=torch.float64))  # fmt: skip


def reference(q, k, v, block_size, top_k, causal):
    """One query at a time, from the contract's words."""
    length, source = q.size(-2), k.size(-2)
    blocks = [list(range(s, min(s + block_size, source))) for s in range(0, source, block_size)]
    weights = torch.zeros(*q.shape[:-1], source, dtype=torch.float64)
    for index in torch.cartesian_prod(torch.arange(2), torch.arange(3)):
        b, h = index.tolist()
        for i in range(length):
            q_i = q[b, h, i] / math.sqrt(q.size(-1))
            scores = [float(q_i @ k[b, h, block].mean(0)) for block in blocks]
            own = i // block_size if causal else None
            candidates = [n for n in range(len(blocks)) if not causal or n < own]
            # highest score first; equal scores: earlier block first
            chosen = sorted(candidates, key=lambda n: (-scores[n], n))[:top_k]
            if causal and own < len(blocks):
                chosen.append(own)
            keys = [j for n in chosen for j in blocks[n] if not causal or j <= i]
            row = (k[b, h, keys] @ q_i).softmax(0)
            weights[b, h, i, keys] = row
    return weights @ v, weights


@settings(max_examples=30, deadline=None)
@given(length=st.integers(1, 10), block_size=st.integers(1, 4), top_k=st.integers(1, 4),
       causal=st.booleans(), seed=st.integers(0, 1000))  # fmt: skip
def test_matches_the_reference_from_the_definition(length, block_size, top_k, causal, seed):
    q, k, v = qkv(length, seed=seed)
    output, weights = block_sparse_attention(q, k, v, block_size=block_size, top_k=top_k,
                                             is_causal=causal)  # fmt: skip
    ref_output, ref_weights = reference(q, k, v, block_size, top_k, causal)
    torch.testing.assert_close(weights, ref_weights)
    torch.testing.assert_close(output, ref_output)


@pytest.mark.parametrize("block_size", [1, 3, 4, 11, 20])
def test_all_blocks_equal_dense_causal_attention(block_size):
    q, k, v = qkv()
    output, _ = block_sparse_attention(q, k, v, block_size=block_size, top_k=11)
    torch.testing.assert_close(output, F.scaled_dot_product_attention(q, k, v, is_causal=True))


def test_all_blocks_without_causal_equal_dense_attention():
    q, k, v = qkv()
    output, _ = block_sparse_attention(q, k, v, block_size=3, top_k=4, is_causal=False)
    torch.testing.assert_close(output, F.scaled_dot_product_attention(q, k, v))


def test_causal_query_keeps_its_own_block_and_top_k_earlier_ones():
    q, k, _ = qkv(length=12)
    chosen = block_selection(q, k, block_size=3, top_k=2)  # (2, 3, 12, 4)
    for i in range(12):
        own = i // 3
        assert chosen[..., i, own].all()
        assert not chosen[..., i, own + 1:].any()
        assert (chosen[..., i, :own].sum(-1) == min(2, own)).all()


def test_ties_go_to_the_earlier_block():
    query = torch.ones(1, 7, 2, dtype=torch.float64)
    key = torch.ones(1, 7, 2, dtype=torch.float64)  # every block scores the same
    chosen = block_selection(query, key, block_size=2, top_k=1)
    assert chosen[0, 6].tolist() == [True, False, False, True]
    free = block_selection(query, key, block_size=2, top_k=2, is_causal=False)
    assert free[0, 0].tolist() == [True, True, False, False]


def test_weights_are_zero_outside_the_chosen_blocks_and_rows_sum_to_one():
    q, k, v = qkv()
    _, weights = block_sparse_attention(q, k, v, block_size=2, top_k=1)
    chosen = block_selection(q, k, block_size=2, top_k=1)
    outside = ~chosen[..., torch.arange(11) // 2]
    assert torch.equal(weights[outside], torch.zeros_like(weights[outside]))
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, 11, dtype=torch.float64))


def test_rejects_top_k_zero():
    q, k, v = qkv()
    with pytest.raises(ValueError, match=r"argument `top_k`: expected a positive integer, got 0"):
        block_sparse_attention(q, k, v, block_size=2, top_k=0)


def test_rejects_block_size_zero():
    q, k, v = qkv()
    message = r"argument `block_size`: expected a positive integer, got 0"
    with pytest.raises(ValueError, match=message):
        block_sparse_attention(q, k, v, block_size=0, top_k=1)


def test_rejects_values_of_another_length():
    q, k, v = qkv()
    with pytest.raises(ValueError, match=r"argument `value`: expected the length \(S\) of key"):
        block_sparse_attention(q, k, v[..., :5, :], block_size=2, top_k=1)


@pytest.mark.parametrize(("length", "source"), [(4, 9), (9, 4)])
@pytest.mark.parametrize("causal", [True, False])
def test_more_or_fewer_keys_than_queries_match_the_reference(length, source, causal):
    q, k, v = qkv(length, source)
    output, weights = block_sparse_attention(q, k, v, block_size=2, top_k=2, is_causal=causal)
    ref_output, ref_weights = reference(q, k, v, 2, 2, causal)
    torch.testing.assert_close(weights, ref_weights)
    torch.testing.assert_close(output, ref_output)
