"""KVCache: prefill + decode blocks equal one full causal forward (MHA, GQA, MLA); sizes held."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attention import (
    GroupedQueryAttention,
    KVCache,
    MultiHeadAttention,
    MultiHeadLatentAttention,
    SelfAttention,
)
from attention.kv_cache import cache_keep_mask

E, H = 24, 4


def make(kind: str) -> torch.nn.Module:
    if kind == "mha":
        return MultiHeadAttention(E, H).double().eval()
    if kind == "gqa":
        return GroupedQueryAttention(E, H, 2).double().eval()
    return MultiHeadLatentAttention(E, H, kv_lora_rank=8, qk_nope_head_dim=4, qk_rope_head_dim=2,
                                    v_head_dim=5).double().eval()  # fmt: skip


def decode(module, x, blocks, **kwargs):
    cache, outputs, weights, start = KVCache(), [], [], 0
    for size in blocks:
        result = module(x[:, start:start + size], is_causal=True, kv_cache=cache, **kwargs)
        outputs.append(result.output)
        weights.append(result.weights)
        start += size
    return torch.cat(outputs, dim=1), weights, cache


@pytest.mark.parametrize("kind", ["mha", "gqa", "mla"])
@pytest.mark.parametrize("blocks", [[4, 1, 1, 1], [3, 2, 2], [1] * 7, [7]])
def test_prefill_then_decode_equals_full_causal_forward(kind, blocks):
    torch.manual_seed(0)
    module = make(kind)
    x = torch.randn(2, 7, E, dtype=torch.float64)
    full = module(x, is_causal=True)
    output, weights, cache = decode(module, x, blocks)
    torch.testing.assert_close(output, full.output)
    # the last block's weights are the full weights' last rows
    torch.testing.assert_close(weights[-1], full.weights[..., -blocks[-1]:, :])
    assert len(cache) == 7


@pytest.mark.parametrize("kind", ["mha", "gqa"])
def test_decode_without_weights_uses_fused_path_and_agrees(kind):
    torch.manual_seed(1)
    module = make(kind)
    x = torch.randn(1, 6, E, dtype=torch.float64)
    output, weights, _ = decode(module, x, [3, 1, 1, 1], need_weights=False)
    assert all(w is None for w in weights)
    torch.testing.assert_close(output, module(x, is_causal=True).output)


def test_cache_elements_per_token_match_the_contract():
    x = torch.randn(1, 5, E, dtype=torch.float64)
    held = {}
    for kind in ("mha", "gqa", "mla"):
        cache = KVCache()
        make(kind)(x, is_causal=True, kv_cache=cache)
        held[kind] = cache.numel // len(cache)
    assert held == {"mha": 2 * E, "gqa": 2 * 2 * (E // H), "mla": 8 + 2}


def test_attn_mask_with_a_cache_covers_every_key_held():
    torch.manual_seed(2)
    module = make("mha")
    x = torch.randn(1, 5, E, dtype=torch.float64)
    cache = KVCache()
    module(x[:, :3], kv_cache=cache, is_causal=True)
    keep = cache_keep_mask(2, 3)  # (2, 5): bottom-right causal
    masked = module(x[:, 3:], kv_cache=cache, attn_mask=keep).output
    torch.testing.assert_close(masked, module(x, is_causal=True).output[:, 3:])


def test_bottom_right_alignment_differs_from_top_left():
    keep = cache_keep_mask(2, 3)
    assert keep.tolist() == [[True] * 4 + [False], [True] * 5]


def test_self_attention_passes_the_cache_through():
    torch.manual_seed(3)
    module = SelfAttention(E, H).double().eval()
    x = torch.randn(1, 4, E, dtype=torch.float64)
    cache = KVCache()
    first = module(x[:, :3], is_causal=True, kv_cache=cache).output
    last = module(x[:, 3:], is_causal=True, kv_cache=cache).output
    torch.testing.assert_close(torch.cat([first, last], 1), module(x, is_causal=True).output)


@settings(max_examples=15, deadline=None)
@given(
    blocks=st.lists(st.integers(1, 3), min_size=1, max_size=4),
    kv_heads=st.sampled_from([1, 2, 4]),
)
def test_any_split_into_blocks_equals_full_forward(blocks, kv_heads):
    torch.manual_seed(4)
    module = GroupedQueryAttention(E, H, kv_heads).double().eval()
    x = torch.randn(1, sum(blocks), E, dtype=torch.float64)
    output, _, cache = decode(module, x, blocks)
    torch.testing.assert_close(output, module(x, is_causal=True).output)
    assert cache.numel == sum(blocks) * 2 * kv_heads * (E // H)


def test_empty_cache_has_zero_length_and_elements():
    cache = KVCache()
    assert len(cache) == 0 and cache.numel == 0 and cache.parts == ()


def test_rejects_cross_attention_with_a_cache():
    module = make("mha")
    x = torch.randn(1, 2, E)
    with pytest.raises(ValueError, match=r"argument `kv_cache`: expected None for cross-attention"):
        module.float()(x, x, kv_cache=KVCache())


def test_rejects_append_without_parts():
    message = r"argument `parts`: expected at least one tensor, got none"
    with pytest.raises(ValueError, match=message):
        KVCache().append()


def test_rejects_parts_with_different_token_counts():
    with pytest.raises(ValueError, match=r"argument `parts\[1\]`: expected 2 new tokens"):
        KVCache().append(torch.zeros(1, 2, 3), torch.zeros(1, 3, 3))


def test_rejects_a_different_number_of_parts():
    cache = KVCache()
    cache.append(torch.zeros(1, 2, 3), torch.zeros(1, 2, 3))
    with pytest.raises(ValueError, match=r"argument `parts`: expected 2 tensors, as held, got 1"):
        cache.append(torch.zeros(1, 1, 3))


def test_rejects_parts_of_another_shape():
    cache = KVCache()
    cache.append(torch.zeros(1, 2, 3))
    with pytest.raises(ValueError, match=r"argument `parts\[0\]`: expected shape \(\.\.\., L, D\)"):
        cache.append(torch.zeros(1, 1, 4))
