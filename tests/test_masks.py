"""attention.masks: meaning, alignment with torch's is_causal, conversions from torch's MHA."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from attention import MultiHeadAttention, masks


@pytest.mark.parametrize(("L", "S"), [(4, 4), (3, 6), (6, 3)])
def test_causal_mask_is_aligned_like_torch_is_causal(L, S):
    generator = torch.Generator().manual_seed(L * S)
    q, k, v = torch.randn(1, L, 4, generator=generator), torch.randn(1, S, 4), torch.randn(1, S, 2)
    with_mask = F.scaled_dot_product_attention(q, k, v, attn_mask=masks.causal_mask(L, S))
    torch.testing.assert_close(with_mask, F.scaled_dot_product_attention(q, k, v, is_causal=True))
    keep = masks.causal_mask(L, S)
    assert keep.dtype == torch.bool and keep.shape == (L, S)
    assert all(keep[i, j] == (j <= i) for i in range(L) for j in range(S))


@pytest.mark.parametrize("window", [1, 2, 3, 10])
def test_sliding_window_mask_definition(window):
    keep = masks.sliding_window_mask(6, window)
    assert keep.shape == (6, 6)
    for i in range(6):
        for j in range(6):
            assert bool(keep[i, j]) == (0 <= i - j < window)
    if window >= 6:
        assert torch.equal(keep, masks.causal_mask(6))


def test_padding_mask_keeps_the_real_tokens_only():
    keep = masks.padding_mask(torch.tensor([3, 1, 0]), max_len=4)
    assert keep.shape == (3, 1, 1, 4)
    assert keep[:, 0, 0].tolist() == [
        [True, True, True, False],
        [True, False, False, False],
        [False, False, False, False],
    ]
    assert torch.equal(masks.padding_mask([2], 3), torch.tensor([[[[True, True, False]]]]))


def test_from_key_padding_mask_flips_torch_meaning_and_matches_torch_mha():
    torch.manual_seed(0)
    reference = nn.MultiheadAttention(8, 2, batch_first=True).eval()
    ours = MultiHeadAttention.from_torch(reference)
    x = torch.randn(2, 5, 8)
    lengths = torch.tensor([5, 3])
    ignore = torch.arange(5)[None, :] >= lengths[:, None]  # torch's meaning: True = padding
    keep = masks.from_key_padding_mask(ignore)
    assert torch.equal(keep, masks.padding_mask(lengths, 5))
    expected = reference(x, x, x, key_padding_mask=ignore)[0]
    torch.testing.assert_close(ours(x, attn_mask=keep).output, expected, atol=1e-5, rtol=1e-5)


def test_from_torch_attn_mask_inverts_bool_and_splits_heads():
    blocked = torch.tensor([[False, True], [False, False]])
    assert torch.equal(masks.from_torch_attn_mask(blocked), ~blocked)
    per_head = torch.zeros(2 * 3, 4, 5)
    assert masks.from_torch_attn_mask(per_head, num_heads=3).shape == (2, 3, 4, 5)


def test_to_additive_and_combine_masks():
    keep = torch.tensor([[True, False]])
    additive = masks.to_additive(keep)
    assert additive.tolist() == [[0.0, float("-inf")]]
    causal = masks.causal_mask(3)
    padding = masks.padding_mask([2, 3], 3)
    combined = masks.combine_masks(causal, None, padding)
    assert combined.shape == (2, 1, 3, 3)
    assert torch.equal(combined, causal & padding)
    mixed = masks.combine_masks(causal, torch.ones(3, 3))
    assert mixed.dtype == torch.float32
    assert torch.equal(mixed.isinf(), ~causal)
    assert masks.combine_masks(None, None) is None


def test_masks_reject_non_positive_sizes():
    with pytest.raises(ValueError, match=r"argument `L`: expected a positive integer, got 0"):
        masks.causal_mask(0)
    with pytest.raises(ValueError, match=r"argument `window`: expected a positive integer, got 0"):
        masks.sliding_window_mask(4, 0)
    with pytest.raises(
        ValueError, match=r"argument `max_len`: expected a positive integer, got -1"
    ):
        masks.padding_mask([1], -1)


def test_padding_mask_rejects_lengths_out_of_range():
    with pytest.raises(
        ValueError, match=r"argument `lengths`: expected values in \[0, max_len=3\], got \[4, 1\]"
    ):
        masks.padding_mask([4, 1], 3)


def test_converters_reject_wrong_shapes():
    with pytest.raises(ValueError, match=r"argument `key_padding_mask`: expected a 2-D \(B, S\)"):
        masks.from_key_padding_mask(torch.zeros(3, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"argument `num_heads`: expected the number of heads"):
        masks.from_torch_attn_mask(torch.zeros(4, 2, 2))
