"""Hidden tests for padding-mask: a key-padding mask from lengths, and attention with it."""

import torch

from prep.exercises.harness import (
    Failed,
    Mistake,
    case,
    check_attention_result,
    compare,
    entry,
    gen,
    randn,
)

MASK = "padding_mask"
ATTENTION = "padded_attention"


def expected_mask(lengths, max_len):
    return (torch.arange(max_len)[None, :] < lengths[:, None])[:, None, None, :]   # (B, 1, 1, S)


def _check_mask(ns, lengths, max_len):
    got = entry(ns, MASK)(lengths, max_len)
    expected = expected_mask(lengths, max_len)
    if isinstance(got, torch.Tensor) and got.dtype != torch.bool:
        raise Failed(f"掩码应是布尔张量，实际 dtype 是 {got.dtype}。",
                     f"The mask should be a bool tensor; its dtype is {got.dtype}.")
    if isinstance(got, torch.Tensor) and got.shape == expected.shape[::3]:
        raise Failed("形状是 (B, S)，应为 (B, 1, 1, S)，这样才能在头和 query 两个维度上广播。",
                     "The shape is (B, S); it should be (B, 1, 1, S) so that it broadcasts over "
                     "heads and queries.")
    positions = torch.arange(max_len)[None, None, None, :]
    mistakes = [
        Mistake((~expected).double(),
                "掩码的含义用反了：True 表示可以关注（真实 token），填充位置才是 False。",
                "The opposite mask convention: True means 'may attend' (a real token); padding "
                "is False."),
        Mistake((positions <= lengths[:, None, None, None]).double(),
                "差了一位：位置 j 是真实 token 当且仅当 j < length（从 0 开始数），不是 j ≤ "
                "length。",
                "Off by one: position j is a real token when j < length (counting from 0), not "
                "j <= length."),
    ]
    compare("填充掩码", "padding mask", got.double() if isinstance(got, torch.Tensor) else got,
            expected.double(), mistakes=mistakes)


@case("padding_mask([3, 5, 1], 5)", "padding_mask([3, 5, 1], 5)")
def mask_basic(ns):
    _check_mask(ns, torch.tensor([3, 5, 1]), 5)


@case("长度为 0 的序列：整行被屏蔽", "a sequence of length 0: fully masked rows")
def mask_empty(ns):
    _check_mask(ns, torch.tensor([0, 2]), 4)


@case("padded_attention：(B, H, L, D)，屏蔽填充的 key",
      "padded_attention: (B, H, L, D), padded keys masked")
def attention_basic(ns):
    g = gen(41)
    lengths = torch.tensor([4, 2])
    q = randn(2, 2, 3, 4, generator=g)
    k, v = randn(2, 2, 4, 4, generator=g), randn(2, 2, 4, 4, generator=g)
    result = entry(ns, ATTENTION)(q, k, v, lengths)
    check_attention_result(result, q, k, v, expected_mask(lengths, 4))


@case("padded_attention：长度为 0 时权重和输出为 0",
      "padded_attention: zeros for a length-0 sequence")
def attention_empty(ns):
    g = gen(42)
    lengths = torch.tensor([0, 3])
    q = randn(2, 1, 2, 4, generator=g)
    k, v = randn(2, 1, 3, 4, generator=g), randn(2, 1, 3, 4, generator=g)
    result = entry(ns, ATTENTION)(q, k, v, lengths)
    check_attention_result(result, q, k, v, expected_mask(lengths, 3))
