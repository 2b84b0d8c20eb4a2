"""Hidden tests for sdpa-masked: scaled dot-product attention with a bool keep-mask."""

import torch

from prep.exercises.harness import case, check_attention_result, entry, gen, randn

ENTRY = "scaled_dot_product_attention"


@case("无掩码，L ≠ S", "no mask, L != S")
def no_mask(ns):
    g = gen(1)
    q, k, v = randn(2, 3, 8, generator=g), randn(2, 5, 8, generator=g), randn(2, 5, 6, generator=g)
    check_attention_result(entry(ns, ENTRY)(q, k, v), q, k, v)


@case("布尔掩码（True = 可以关注）", "bool mask (True = may attend)")
def bool_mask(ns):
    g = gen(2)
    q, k, v = randn(1, 4, 8, generator=g), randn(1, 6, 8, generator=g), randn(1, 6, 8, generator=g)
    keep = torch.rand(1, 4, 6, generator=g) > 0.4
    keep[..., 0] = True                                   # every query sees at least one key
    check_attention_result(entry(ns, ENTRY)(q, k, v, attn_mask=keep), q, k, v, keep)


@case("整行被屏蔽：权重和输出为 0，不是 NaN", "fully masked row: zeros, not NaN")
def fully_masked_row(ns):
    g = gen(3)
    q, k, v = randn(1, 3, 4, generator=g), randn(1, 5, 4, generator=g), randn(1, 5, 4, generator=g)
    keep = torch.tensor([[True, True, False, False, True],
                         [False, False, False, False, False],
                         [True, False, True, False, True]]).unsqueeze(0)
    check_attention_result(entry(ns, ENTRY)(q, k, v, attn_mask=keep), q, k, v, keep)


@case("(B, H, L, D) 输入，掩码 (1, 1, L, S) 广播",
      "(B, H, L, D) inputs, mask (1, 1, L, S) broadcast")
def heads_and_broadcast(ns):
    g = gen(4)
    q, k, v = (randn(2, 3, 5, 4, generator=g), randn(2, 3, 7, 4, generator=g),
               randn(2, 3, 7, 4, generator=g))
    keep = torch.ones(5, 7, dtype=torch.bool).tril(diagonal=2)[None, None]
    check_attention_result(entry(ns, ENTRY)(q, k, v, attn_mask=keep), q, k, v, keep)
