"""AdditiveAttention (Bahdanau) against a float64 reference written from the paper's formula."""

from __future__ import annotations

import pytest
import torch

from attention import AdditiveAttention

TOL = {"atol": 1e-5, "rtol": 1e-5}


def reference64(module, query, key, value, keep=None):
    """e_ij = v^T tanh(W_q q_i + W_k k_j + b), loops over i and j, float64."""
    w_q = module.query_linear.weight.double()
    w_k, b_k = module.key_linear.weight.double(), module.key_linear.bias.double()
    v_score = module.score.weight.double()[0]
    batch, length, source = query.size(0), query.size(1), key.size(1)
    scores = torch.empty(batch, length, source, dtype=torch.float64)
    for b in range(batch):
        for i in range(length):
            for j in range(source):
                hidden = torch.tanh(w_q @ query[b, i].double() + w_k @ key[b, j].double() + b_k)
                scores[b, i, j] = v_score @ hidden
    if keep is not None:
        scores = scores.masked_fill(~keep, float("-inf"))
    weights = scores.softmax(-1).nan_to_num(0.0)
    return weights @ value.double(), weights


@pytest.mark.parametrize("masked", [False, True])
def test_matches_float64_reference(masked):
    torch.manual_seed(0)
    module = AdditiveAttention(query_dim=5, key_dim=3, hidden_dim=7)
    query, key, value = torch.randn(2, 4, 5), torch.randn(2, 6, 3), torch.randn(2, 6, 2)
    keep = None
    if masked:
        keep = torch.rand(2, 4, 6) > 0.4
        keep[0, 1] = False  # a query with no key: zero weights, zero output
    output, weights = module(query, key, value, attn_mask=keep)
    expected, expected_weights = reference64(module, query, key, value, keep)
    torch.testing.assert_close(output.double(), expected, **TOL)
    torch.testing.assert_close(weights.double(), expected_weights, **TOL)
    assert weights.shape == (2, 4, 6)


def test_value_defaults_to_key_and_rows_sum_to_one():
    torch.manual_seed(1)
    module = AdditiveAttention(4, 4, 8)
    query, key = torch.randn(1, 3, 4), torch.randn(1, 5, 4)
    output, weights = module(query, key)
    torch.testing.assert_close(output, weights @ key, **TOL)
    torch.testing.assert_close(weights.sum(-1), torch.ones(1, 3), **TOL)


def test_rejects_mismatched_dims_and_bad_masks():
    module = AdditiveAttention(4, 3, 8)
    with pytest.raises(
        ValueError, match=r"argument `key`: expected the last dimension key_dim = 3, got 4"
    ):
        module(torch.randn(1, 2, 4), torch.randn(1, 5, 4))
    with pytest.raises(ValueError, match=r"argument `attn_mask`: expected a shape that broadcasts"):
        module(
            torch.randn(1, 2, 4), torch.randn(1, 5, 3), attn_mask=torch.ones(3, 5, dtype=torch.bool)
        )


def test_rejects_non_positive_hidden_dim():
    with pytest.raises(
        ValueError, match=r"argument `hidden_dim`: expected a positive integer, got 0"
    ):
        AdditiveAttention(4, 4, 0)
