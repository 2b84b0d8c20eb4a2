"""MultiHeadAttention, SelfAttention and InteractiveAttention against nn.MultiheadAttention."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from attention import (
    InteractiveAttention,
    MultiHeadAttention,
    SelfAttention,
    masks,
    scaled_dot_product_attention,
)

TOL = {"atol": 1e-5, "rtol": 1e-5}


def torch_mha(embed_dim, num_heads, *, kdim=None, vdim=None, bias=True, seed=0):
    torch.manual_seed(seed)
    module = nn.MultiheadAttention(
        embed_dim, num_heads, kdim=kdim, vdim=vdim, bias=bias, batch_first=True
    ).eval()
    if bias:  # torch starts its biases at zero; random ones test that they are copied
        with torch.no_grad():
            module.in_proj_bias.normal_()
            module.out_proj.bias.normal_()
    return module


# (embed_dim, num_heads, kdim, vdim, L, S): packed and separate projections, odd sizes
CASES = [
    (8, 2, None, None, 5, 5),  # packed in_proj_weight, self-attention
    (15, 5, None, None, 3, 7),  # odd sizes, L != S
    (12, 3, 5, 7, 4, 6),  # separate q/k/v_proj_weight: cross-attention with other widths
    (9, 3, 9, 4, 6, 2),  # separate, L > S
]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize(("embed_dim", "num_heads", "kdim", "vdim", "L", "S"), CASES)
def test_from_torch_gives_equal_output_and_per_head_weights(
    embed_dim, num_heads, kdim, vdim, L, S, bias
):
    reference = torch_mha(embed_dim, num_heads, kdim=kdim, vdim=vdim, bias=bias)
    ours = MultiHeadAttention.from_torch(reference)
    generator = torch.Generator().manual_seed(L * S)
    query = torch.randn(2, L, embed_dim, generator=generator)
    key = torch.randn(2, S, kdim or embed_dim, generator=generator)
    value = torch.randn(2, S, vdim or embed_dim, generator=generator)
    expected, expected_weights = reference(
        query, key, value, need_weights=True, average_attn_weights=False
    )
    output, weights = ours(query, key, value)
    torch.testing.assert_close(output, expected, **TOL)
    torch.testing.assert_close(weights, expected_weights, **TOL)
    assert weights.shape == (2, num_heads, L, S)
    fused, no_weights = ours(query, key, value, need_weights=False)
    assert no_weights is None
    torch.testing.assert_close(fused, expected, **TOL)


@pytest.mark.parametrize("mask_dtype", [torch.bool, torch.float32])
def test_from_torch_with_key_padding_and_attn_masks(mask_dtype):
    reference = torch_mha(12, 3, seed=1)
    ours = MultiHeadAttention.from_torch(reference)
    generator = torch.Generator().manual_seed(2)
    query = torch.randn(2, 4, 12, generator=generator)
    memory = torch.randn(2, 6, 12, generator=generator)
    ignore = torch.zeros(2, 6, dtype=torch.bool)
    ignore[0, 4:] = True  # item 0 has 2 padding keys
    torch_attn_mask = torch.rand(4, 6, generator=generator) > 0.7  # True = ignore (torch's MHA)
    torch_attn_mask[:, 0] = False  # every query keeps a key: torch's MHA gives NaN otherwise
    if mask_dtype != torch.bool:
        ignore = torch.zeros(2, 6).masked_fill(ignore, float("-inf"))
        torch_attn_mask = torch.zeros(4, 6).masked_fill(torch_attn_mask, float("-inf"))
    expected, expected_weights = reference(
        query,
        memory,
        memory,
        key_padding_mask=ignore,
        attn_mask=torch_attn_mask,
        average_attn_weights=False,
    )
    ours_mask = masks.combine_masks(
        masks.from_key_padding_mask(ignore), masks.from_torch_attn_mask(torch_attn_mask)
    )
    for need_weights in (True, False):
        output, weights = ours(query, memory, attn_mask=ours_mask, need_weights=need_weights)
        torch.testing.assert_close(output, expected, **TOL)
        if need_weights:
            torch.testing.assert_close(weights, expected_weights, **TOL)


def test_from_torch_with_a_3d_per_head_mask():
    reference = torch_mha(8, 2, seed=3)
    ours = MultiHeadAttention.from_torch(reference)
    x = torch.randn(3, 5, 8, generator=torch.Generator().manual_seed(4))
    blocked = torch.rand(3 * 2, 5, 5, generator=torch.Generator().manual_seed(5)) > 0.6
    blocked[..., 0] = False
    expected, expected_weights = reference(x, x, x, attn_mask=blocked, average_attn_weights=False)
    output, weights = ours(x, attn_mask=masks.from_torch_attn_mask(blocked, num_heads=2))
    torch.testing.assert_close(output, expected, **TOL)
    torch.testing.assert_close(weights, expected_weights, **TOL)


def test_causal_self_attention_matches_torch_is_causal():
    reference = torch_mha(16, 4, seed=6)
    ours = MultiHeadAttention.from_torch(reference)
    x = torch.randn(2, 7, 16, generator=torch.Generator().manual_seed(7))
    causal = nn.Transformer.generate_square_subsequent_mask(7)  # float, -inf above diagonal
    expected, expected_weights = reference(x, x, x, attn_mask=causal, average_attn_weights=False)
    for need_weights in (True, False):
        output, _ = ours(x, is_causal=True, need_weights=need_weights)
        torch.testing.assert_close(output, expected, **TOL)
    torch.testing.assert_close(ours(x, is_causal=True).weights, expected_weights, **TOL)


def test_from_torch_keeps_dtype_and_training_mode():
    reference = nn.MultiheadAttention(8, 2, batch_first=True).double().train()
    ours = MultiHeadAttention.from_torch(reference)
    assert ours.training
    assert ours.query_linear.weight.dtype == torch.float64


def test_dropout_applies_in_training_only():
    module = MultiHeadAttention(8, 2, dropout=0.5)
    x = torch.randn(1, 6, 8, generator=torch.Generator().manual_seed(0))
    module.eval()
    first, second = module(x), module(x)
    torch.testing.assert_close(first.output, second.output)
    module.train()
    torch.manual_seed(0)
    weights = module(x).weights
    assert (weights == 0).any()  # some weights dropped...
    assert weights.max() > 1.0 / 6  # ...the others scaled up by 1 / (1 - p)
    module.eval()
    torch.testing.assert_close(module(x).weights.sum(-1), torch.ones(1, 2, 6), **TOL)


def test_self_attention_equals_torch_mha_with_shared_weights():
    reference = torch_mha(16, 4, seed=8)
    ours = SelfAttention(16, 4)
    ours.load_state_dict(MultiHeadAttention.from_torch(reference).state_dict())
    x = torch.randn(2, 5, 16, generator=torch.Generator().manual_seed(9))
    expected, expected_weights = reference(x, x, x, average_attn_weights=False)
    output, weights = ours(x)
    torch.testing.assert_close(output, expected, **TOL)
    torch.testing.assert_close(weights, expected_weights, **TOL)


def test_interactive_attention_dims_16_and_4_heads_has_no_shape_error_seed_bug():
    """The seed's InteractiveAttention raised RuntimeError: shape '[2, -1, 4, 4]' is invalid."""
    torch.manual_seed(0)
    module = InteractiveAttention(16, 16, 16, 4)
    query, key, value = torch.randn(2, 3, 16), torch.randn(2, 5, 16), torch.randn(2, 5, 16)
    output, weights = module(query, key, value)
    assert output.shape == (2, 3, 16)
    assert weights.shape == (2, 4, 3, 5)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 4, 3), **TOL)


def test_interactive_attention_with_different_widths_matches_torch():
    reference = torch_mha(12, 4, kdim=6, vdim=10, seed=10)
    ours = InteractiveAttention(12, 6, 10, 4)
    ours.load_state_dict(MultiHeadAttention.from_torch(reference).state_dict())
    generator = torch.Generator().manual_seed(11)
    query = torch.randn(2, 3, 12, generator=generator)
    key = torch.randn(2, 5, 6, generator=generator)
    value = torch.randn(2, 5, 10, generator=generator)
    expected, expected_weights = reference(query, key, value, average_attn_weights=False)
    output, weights = ours(query, key, value)
    torch.testing.assert_close(output, expected, **TOL)
    torch.testing.assert_close(weights, expected_weights, **TOL)


def test_module_equals_float64_functional_reference():
    module = MultiHeadAttention(12, 3).double()
    x = torch.randn(2, 4, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(12))
    q = module.query_linear(x).view(2, 4, 3, 4).transpose(1, 2)
    k = module.key_linear(x).view(2, 4, 3, 4).transpose(1, 2)
    v = module.value_linear(x).view(2, 4, 3, 4).transpose(1, 2)
    scores = q @ k.transpose(-2, -1) / 2.0  # sqrt(D) = sqrt(4)
    weights = scores.softmax(-1)
    expected = module.out_linear((weights @ v).transpose(1, 2).reshape(2, 4, 12))
    output, ours_weights = module(x)
    torch.testing.assert_close(output, expected)
    torch.testing.assert_close(ours_weights, weights)
    assert scaled_dot_product_attention(q, k, v).output.dtype == torch.float64


@settings(max_examples=25, deadline=None)
@given(length=st.integers(2, 7), heads=st.sampled_from([1, 2, 4]), seed=st.integers(0, 2**16))
def test_property_self_attention_without_positions_is_permutation_equivariant(length, heads, seed):
    torch.manual_seed(seed)
    module = MultiHeadAttention(8, heads).eval()
    x = torch.randn(1, length, 8)
    permutation = torch.randperm(length)
    output, weights = module(x)
    permuted_output, permuted_weights = module(x[:, permutation])
    torch.testing.assert_close(permuted_output, output[:, permutation], **TOL)
    torch.testing.assert_close(
        permuted_weights, weights[:, :, permutation][:, :, :, permutation], **TOL
    )


# ---- bad input ----


def test_rejects_embed_dim_not_divisible_by_num_heads():
    with pytest.raises(
        ValueError, match=r"argument `embed_dim`: expected a multiple of num_heads=4, got 10"
    ):
        MultiHeadAttention(10, 4)


def test_interactive_attention_rejects_query_dim_not_divisible_by_num_heads():
    with pytest.raises(
        ValueError, match=r"argument `query_dim`: expected a multiple of num_heads=4, got 18"
    ):
        InteractiveAttention(18, 16, 16, 4)


@pytest.mark.parametrize(
    ("kwargs", "name", "value"),
    [
        ({"embed_dim": 0, "num_heads": 1}, "embed_dim", "0"),
        ({"embed_dim": 8, "num_heads": -2}, "num_heads", "-2"),
        ({"embed_dim": 8, "num_heads": 2, "kdim": 0}, "kdim", "0"),
    ],
)
def test_rejects_non_positive_sizes(kwargs, name, value):
    with pytest.raises(
        ValueError, match=rf"argument `{name}`: expected a positive integer, got {value}"
    ):
        MultiHeadAttention(**kwargs)


def test_rejects_mismatched_input_dims():
    module = MultiHeadAttention(8, 2, kdim=5)
    with pytest.raises(
        ValueError, match=r"argument `query`: expected the last dimension embed_dim = 8, got 6"
    ):
        module(torch.randn(1, 3, 6), torch.randn(1, 4, 5), torch.randn(1, 4, 8))
    with pytest.raises(
        ValueError, match=r"argument `key`: expected the last dimension kdim = 5, got 8"
    ):
        module(torch.randn(1, 3, 8))
    with pytest.raises(ValueError, match=r"argument `value`: expected the length S of key = 4"):
        module(torch.randn(1, 3, 8), torch.randn(1, 4, 5), torch.randn(1, 2, 8))


def test_rejects_a_mask_that_does_not_broadcast_in_both_paths():
    module = MultiHeadAttention(8, 2)
    x = torch.randn(2, 3, 8)
    bad = torch.ones(4, 3, dtype=torch.bool)
    for need_weights in (True, False):
        with pytest.raises(
            ValueError,
            match=r"argument `attn_mask`: expected a shape that broadcasts to \(2, 2, 3, 3\), "
            r"got \(4, 3\)",
        ):
            module(x, attn_mask=bad, need_weights=need_weights)


def test_rejects_attn_mask_together_with_is_causal_in_both_paths():
    module = MultiHeadAttention(8, 2)
    x = torch.randn(1, 3, 8)
    for need_weights in (True, False):
        with pytest.raises(ValueError, match=r"argument `attn_mask`: expected None when is_causal"):
            module(
                x,
                attn_mask=masks.causal_mask(3),
                is_causal=True,
                need_weights=need_weights,
            )


def test_from_torch_rejects_unsupported_modules():
    with pytest.raises(ValueError, match=r"argument `module`: expected an nn.MultiheadAttention"):
        MultiHeadAttention.from_torch(nn.Linear(2, 2))
    with_bias_kv = nn.MultiheadAttention(8, 2, add_bias_kv=True)
    with pytest.raises(ValueError, match=r"without add_bias_kv / add_zero_attn"):
        MultiHeadAttention.from_torch(with_bias_kv)
