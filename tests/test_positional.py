"""attention.positional: sinusoidal encoding, RoPE and ALiBi against their papers' formulas."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attention import positional


@pytest.mark.parametrize(("L", "D"), [(5, 8), (3, 7), (1, 1)])
def test_sinusoidal_encoding_matches_the_paper_formula(L, D):
    encoding = positional.sinusoidal_encoding(L, D)
    assert encoding.shape == (L, D) and encoding.dtype == torch.float32
    for pos in range(L):
        for feature in range(D):
            angle = pos / 10000 ** ((feature - feature % 2) / D)
            expected = math.sin(angle) if feature % 2 == 0 else math.cos(angle)
            assert encoding[pos, feature].item() == pytest.approx(expected, abs=1e-6)


def rope64(x, positions, base=10000.0):
    """Half-split RoPE in float64 with an explicit 2x2 rotation per pair (i, i + D/2)."""
    half = x.size(-1) // 2
    out = x.double().clone()
    for i in range(half):
        theta = base ** (-2 * i / x.size(-1))
        angle = positions.double() * theta
        a, b = x[..., i].double(), x[..., i + half].double()
        out[..., i] = a * torch.cos(angle) - b * torch.sin(angle)
        out[..., i + half] = a * torch.sin(angle) + b * torch.cos(angle)
    return out


def test_apply_rope_matches_explicit_rotation_and_keeps_norms():
    x = torch.randn(2, 3, 5, 8, generator=torch.Generator().manual_seed(0))
    rotated = positional.apply_rope(x)
    torch.testing.assert_close(rotated.double(), rope64(x, torch.arange(5)), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(rotated.norm(dim=-1), x.norm(dim=-1), atol=1e-5, rtol=1e-5)
    offsets = torch.arange(10, 15)
    torch.testing.assert_close(
        positional.apply_rope(x, offsets).double(), rope64(x, offsets), atol=1e-5, rtol=1e-5
    )


@settings(max_examples=30, deadline=None)
@given(
    half=st.integers(1, 6),
    m=st.integers(0, 40),
    n=st.integers(0, 40),
    shift=st.integers(-20, 60),
    seed=st.integers(0, 2**16),
)
def test_property_rope_scores_depend_only_on_the_offset(half, m, n, shift, seed):
    generator = torch.Generator().manual_seed(seed)
    q = torch.randn(1, 2 * half, generator=generator, dtype=torch.float64).float()
    k = torch.randn(1, 2 * half, generator=generator, dtype=torch.float64).float()
    shift = max(shift, -min(m, n))  # keep positions non-negative

    def score(p_q, p_k):
        rq = positional.apply_rope(q, torch.tensor([p_q]))
        rk = positional.apply_rope(k, torch.tensor([p_k]))
        return (rq * rk).sum().item()

    assert score(m, n) == pytest.approx(score(m + shift, n + shift), abs=1e-4)


def test_alibi_slopes_power_of_two_is_the_geometric_sequence():
    slopes = positional.alibi_slopes(8)
    expected = torch.tensor([2.0 ** -(h + 1) for h in range(8)])
    torch.testing.assert_close(slopes, expected)


def test_alibi_slopes_not_power_of_two_follow_the_reference_recipe():
    # 6 heads: the 4 slopes of 4 heads (2^-2, 2^-4, 2^-6, 2^-8), then every other slope of
    # 8 heads (2^-1, 2^-3, ...) for the 2 missing ones: 2^-1, 2^-3.
    expected = torch.tensor([2.0**-2, 2.0**-4, 2.0**-6, 2.0**-8, 2.0**-1, 2.0**-3])
    torch.testing.assert_close(positional.alibi_slopes(6), expected)
    assert positional.alibi_slopes(12).shape == (12,)
    assert positional.alibi_slopes(1).tolist() == [2.0**-8]


def test_alibi_bias_is_minus_slope_times_distance():
    bias = positional.alibi_bias(2, 4, 5)
    slopes = positional.alibi_slopes(2)
    assert bias.shape == (2, 4, 5)
    for h in range(2):
        for i in range(4):
            for j in range(i + 1):  # keys at or before the query: the paper's bias
                assert bias[h, i, j].item() == pytest.approx(-slopes[h].item() * (i - j))
    assert torch.equal(bias[:, 0, 0], torch.zeros(2))


def test_rejects_odd_rope_dim_and_wrong_positions():
    with pytest.raises(ValueError, match=r"argument `x`: expected an even last dimension D"):
        positional.apply_rope(torch.randn(3, 5))
    with pytest.raises(ValueError, match=r"argument `positions`: expected a tensor whose last"):
        positional.apply_rope(torch.randn(3, 4), torch.arange(4))


def test_rejects_non_positive_sizes():
    with pytest.raises(ValueError, match=r"argument `D`: expected a positive integer, got 0"):
        positional.sinusoidal_encoding(4, 0)
    with pytest.raises(ValueError, match=r"argument `num_heads`: expected a positive integer"):
        positional.alibi_slopes(0)
