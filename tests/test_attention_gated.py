"""GatedAttention: float64 reference, gate 1 = ungated attention, weights = softmax."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attention import GatedAttention, GroupedQueryAttention


def test_matches_a_float64_reference():
    torch.manual_seed(0)
    module = GatedAttention(12, 3).double()
    x = torch.randn(2, 5, 12, dtype=torch.float64)
    q, k, v = module.project(x)
    weights = torch.softmax(q @ k.transpose(-2, -1) / 2, -1)
    gate = torch.sigmoid(x @ module.gate_linear.weight.T + module.gate_linear.bias)  # (B, L, E)
    context = (weights @ v).transpose(1, 2).reshape(2, 5, 12) * gate
    expected = context @ module.out_linear.weight.T + module.out_linear.bias
    output, ours = module(x)
    torch.testing.assert_close(output, expected)
    torch.testing.assert_close(ours, weights)


@settings(max_examples=10, deadline=None)
@given(kv_heads=st.sampled_from([1, 2, 4]), causal=st.booleans())
def test_an_open_gate_is_plain_grouped_query_attention(kv_heads, causal):
    torch.manual_seed(1)
    module = GatedAttention(16, 4, num_kv_heads=kv_heads).double()
    plain = GroupedQueryAttention(16, 4, kv_heads).double()
    plain.load_state_dict({n: p for n, p in module.state_dict().items() if "gate" not in n})
    with torch.no_grad():
        module.gate_linear.weight.zero_()
        module.gate_linear.bias.fill_(50.0)  # sigmoid(50) == 1 in float64 to 1e-22
    x = torch.randn(1, 6, 16, dtype=torch.float64)
    expected = plain(x, is_causal=causal).output
    torch.testing.assert_close(module(x, is_causal=causal).output, expected)


def test_gates_are_per_head_and_in_the_unit_interval():
    module = GatedAttention(16, 4)
    gates = module.gates(torch.randn(2, 3, 16))
    assert gates.shape == (2, 4, 3, 4)
    assert ((gates > 0) & (gates < 1)).all()


def test_need_weights_false_returns_none():
    assert GatedAttention(8, 2)(torch.randn(1, 3, 8), need_weights=False).weights is None


def test_rejects_kv_heads_that_do_not_divide_heads():
    message = r"argument `num_kv_heads`: expected a divisor of num_heads=4, got 3"
    with pytest.raises(ValueError, match=message):
        GatedAttention(16, 4, num_kv_heads=3)
