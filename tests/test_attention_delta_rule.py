"""delta_rule: recurrence against a float64 loop, chunkwise = recurrent, implied W, errors."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from attention import delta_rule


def inputs(length=9, batch=(2, 3), key_dim=4, value_dim=5, seed=0, dtype=torch.float64):
    torch.manual_seed(seed)
    q = torch.randn(*batch, length, key_dim, dtype=dtype)
    k = F.normalize(torch.randn(*batch, length, key_dim, dtype=dtype), dim=-1)
    v = torch.randn(*batch, length, value_dim, dtype=dtype)
    beta = torch.rand(*batch, length, dtype=dtype)
    decay = 0.5 + 0.5 * torch.rand(*batch, length, dtype=dtype)
    return q, k, v, beta, decay


def loop_reference(q, k, v, beta, decay):
    """The defining recurrence, literally: S_t = a_t S_{t-1} (I - b_t k k^T) + b_t v k^T."""
    *batch, length, key_dim = k.shape
    outputs = torch.zeros(*batch, length, v.size(-1), dtype=torch.float64)
    for index in torch.cartesian_prod(*[torch.arange(n) for n in batch]).reshape(-1, len(batch)):
        idx = tuple(index.tolist())
        state = torch.zeros(v.size(-1), key_dim, dtype=torch.float64)
        for t in range(length):
            k_t, v_t, b_t = k[idx][t], v[idx][t], beta[idx][t]
            a_t = 1.0 if decay is None else decay[idx][t]
            eye = torch.eye(key_dim, dtype=torch.float64)
            state = a_t * state @ (eye - b_t * torch.outer(k_t, k_t)) + b_t * torch.outer(v_t, k_t)
            outputs[idx][t] = state @ q[idx][t]
    return outputs


@pytest.mark.parametrize("gated", [False, True])
def test_recurrence_matches_the_defining_loop(gated):
    q, k, v, beta, decay = inputs()
    decay = decay if gated else None
    output, weights = delta_rule(q, k, v, beta, decay=decay)
    torch.testing.assert_close(output, loop_reference(q, k, v, beta, decay))
    assert weights is None


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 4, 8, 9, 16])
@pytest.mark.parametrize("gated", [False, True])
def test_chunkwise_equals_recurrent_for_every_chunk_size(chunk_size, gated):
    q, k, v, beta, decay = inputs(length=9)
    decay = decay if gated else None
    recurrent = delta_rule(q, k, v, beta, decay=decay)
    chunked = delta_rule(q, k, v, beta, decay=decay, chunk_size=chunk_size)
    torch.testing.assert_close(chunked.output, recurrent.output)


@settings(max_examples=25, deadline=None)
@given(length=st.integers(1, 12), chunk_size=st.integers(1, 12), gated=st.booleans(),
       seed=st.integers(0, 1000))  # fmt: skip
def test_chunkwise_equals_recurrent_property(length, chunk_size, gated, seed):
    q, k, v, beta, decay = inputs(length=length, batch=(1,), seed=seed)
    decay = decay if gated else None
    recurrent = delta_rule(q, k, v, beta, decay=decay, need_weights=True)
    chunked = delta_rule(q, k, v, beta, decay=decay, chunk_size=chunk_size, need_weights=True)
    torch.testing.assert_close(chunked.output, recurrent.output)
    torch.testing.assert_close(chunked.weights, recurrent.weights)


@pytest.mark.parametrize("chunk_size", [None, 4])
def test_implied_matrix_is_lower_triangular_and_reproduces_the_output(chunk_size):
    q, k, v, beta, decay = inputs(length=7)
    output, weights = delta_rule(q, k, v, beta, decay=decay, chunk_size=chunk_size,
                                 need_weights=True)  # fmt: skip
    assert weights.shape == (2, 3, 7, 7)
    assert torch.equal(weights.triu(1), torch.zeros_like(weights))
    torch.testing.assert_close(weights @ v, output)


def test_beta_one_and_orthonormal_keys_recall_the_stored_value_exactly():
    # With beta = 1 the write replaces what key k held: querying k returns v.
    keys = torch.eye(4, dtype=torch.float64)[None]  # (1, 4, 4), orthonormal
    values = torch.randn(1, 4, 3, dtype=torch.float64)
    output, _ = delta_rule(keys, keys, values, torch.ones(1, 4, dtype=torch.float64))
    torch.testing.assert_close(output, values)


def test_float32_input_stays_float32_and_close_to_float64():
    q, k, v, beta, decay = inputs(dtype=torch.float32)
    output = delta_rule(q, k, v, beta, decay=decay, chunk_size=4).output
    assert output.dtype == torch.float32
    expected = delta_rule(q.double(), k.double(), v.double(), beta.double(),
                          decay=decay.double()).output  # fmt: skip
    torch.testing.assert_close(output.double(), expected, atol=1e-5, rtol=1e-5)


def test_rejects_beta_outside_the_unit_interval():
    q, k, v, beta, _ = inputs()
    with pytest.raises(ValueError, match=r"argument `beta`: expected values in \[0, 1\]"):
        delta_rule(q, k, v, beta + 1.5)


def test_rejects_a_zero_decay():
    q, k, v, beta, decay = inputs()
    with pytest.raises(ValueError, match=r"argument `decay`: expected values in \(0, 1\]"):
        delta_rule(q, k, v, beta, decay=decay * 0)


def test_rejects_beta_of_another_shape():
    q, k, v, beta, _ = inputs()
    with pytest.raises(ValueError, match=r"argument `beta`: expected shape \(2, 3, 9\)"):
        delta_rule(q, k, v, beta[..., :4])


def test_rejects_keys_of_another_shape():
    q, k, v, beta, _ = inputs()
    with pytest.raises(ValueError, match=r"argument `key`: expected query's shape"):
        delta_rule(q, k[..., :3], v, beta)


def test_rejects_values_of_another_length():
    q, k, v, beta, _ = inputs()
    with pytest.raises(ValueError, match=r"argument `value`: expected shape \(N\.\.\., L, Dv\)"):
        delta_rule(q, k, v[..., :4, :], beta)


def test_rejects_chunk_size_zero():
    q, k, v, beta, _ = inputs()
    with pytest.raises(ValueError, match=r"argument `chunk_size`: expected a positive integer"):
        delta_rule(q, k, v, beta, chunk_size=0)
