"""The one projection path: split/merge, one initialisation for MHA and GQA, project()."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attention import GroupedQueryAttention, MultiHeadAttention, ProjectedAttention
from attention.heads import merge_heads, split_heads


@settings(max_examples=20, deadline=None)
@given(batch=st.integers(1, 3), length=st.integers(1, 5), heads=st.integers(1, 4),
       head_dim=st.integers(1, 4))  # fmt: skip
def test_merge_undoes_split(batch, length, heads, head_dim):
    x = torch.randn(batch, length, heads * head_dim)
    split = split_heads(x, heads)
    assert split.shape == (batch, heads, length, head_dim)
    torch.testing.assert_close(split[:, 1 % heads], x[..., (1 % heads) * head_dim:][..., :head_dim])
    assert torch.equal(merge_heads(split), x)


def test_gqa_initialises_like_mha():
    # Regression: GroupedQueryAttention kept nn.Linear's default init while MHA used Xavier.
    torch.manual_seed(0)
    mha = MultiHeadAttention(64, 4)
    torch.manual_seed(0)
    gqa = GroupedQueryAttention(64, 4, 4)
    for name, parameter in mha.state_dict().items():
        assert torch.equal(parameter, gqa.state_dict()[name]), name
    assert torch.equal(gqa.key_linear.bias, torch.zeros(64))
    bound = (6 / (64 + 64)) ** 0.5  # Xavier-uniform's bound for a 64 x 64 weight
    assert gqa.query_linear.weight.abs().max() <= bound


def test_mha_is_gqa_with_as_many_kv_heads_as_heads():
    torch.manual_seed(1)
    mha = MultiHeadAttention(16, 4).double()
    gqa = GroupedQueryAttention(16, 4, 4).double()
    gqa.load_state_dict(mha.state_dict())
    x = torch.randn(2, 5, 16, dtype=torch.float64)
    for ours, theirs in zip(mha.project(x), gqa.project(x), strict=True):
        assert torch.equal(ours, theirs)
    torch.testing.assert_close(mha(x, is_causal=True).output, gqa(x, is_causal=True).output)
    assert isinstance(mha, ProjectedAttention) and isinstance(gqa, ProjectedAttention)


def test_cache_elements_per_token():
    assert MultiHeadAttention(32, 4).cache_elements_per_token() == 2 * 32
    assert GroupedQueryAttention(32, 4, 2).cache_elements_per_token() == 2 * 2 * 8
