"""linear_attention (elu + 1 feature map) against the quadratic formula in float64."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from attention import linear_attention

TOL = {"atol": 1e-5, "rtol": 1e-5}


def reference64(query, key, value, causal):
    """out_i = sum_j phi(q_i).phi(k_j) v_j / sum_j phi(q_i).phi(k_j), over j <= i if causal."""
    phi_q, phi_k = F.elu(query.double()) + 1, F.elu(key.double()) + 1
    similarity = phi_q @ phi_k.transpose(-2, -1)
    if causal:
        L, S = similarity.shape[-2:]
        similarity = similarity * torch.ones(L, S, dtype=torch.float64).tril()
    weights = similarity / similarity.sum(-1, keepdim=True)
    return weights @ value.double(), weights


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize(("L", "S"), [(6, 6), (4, 7), (7, 4)])
def test_linear_path_matches_float64_reference(causal, L, S):
    generator = torch.Generator().manual_seed(L * 10 + S)
    q = torch.randn(2, 3, L, 5, generator=generator)
    k = torch.randn(2, 3, S, 5, generator=generator)
    v = torch.randn(2, 3, S, 4, generator=generator)
    output, weights = linear_attention(q, k, v, is_causal=causal)
    assert weights is None  # the linear path never builds the L x S matrix
    expected, _ = reference64(q, k, v, causal)
    torch.testing.assert_close(output.double(), expected, **TOL)


@pytest.mark.parametrize("causal", [False, True])
def test_need_weights_returns_the_normalised_matrix_and_the_same_output(causal):
    generator = torch.Generator().manual_seed(5)
    q, k, v = (torch.randn(1, 2, 6, 4, generator=generator) for _ in range(3))
    output, weights = linear_attention(q, k, v, is_causal=causal, need_weights=True)
    expected, expected_weights = reference64(q, k, v, causal)
    torch.testing.assert_close(weights.double(), expected_weights, **TOL)
    torch.testing.assert_close(output.double(), expected, **TOL)
    torch.testing.assert_close(output, linear_attention(q, k, v, is_causal=causal).output, **TOL)
    torch.testing.assert_close(weights.sum(-1), torch.ones(1, 2, 6), **TOL)
    if causal:
        assert (weights.triu(diagonal=1) == 0).all()


def test_rejects_mismatched_dims():
    with pytest.raises(ValueError, match=r"argument `key`: expected the last dimension \(E\)"):
        linear_attention(torch.randn(1, 3, 4), torch.randn(1, 3, 5), torch.randn(1, 3, 5))
