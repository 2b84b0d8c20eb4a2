"""Hidden tests for gqa: repeat_kv and grouped-query attention."""

import torch
import torch.nn.functional as F

from prep.exercises.harness import (
    Mistake,
    case,
    check_attention_result,
    compare,
    entry,
    gen,
    randn,
    reference_attention,
)

REPEAT = "repeat_kv"
ATTENTION = "grouped_query_attention"

_TILED_ZH = ("key/value 头的顺序错了：第 j 个 key/value 头应服务第 j·g 到 (j+1)·g−1 个 query 头"
             "（相邻重复，repeat_interleave），而不是把整组平铺（repeat）。")
_TILED_EN = ("Key/value heads in the wrong order: kv head j must serve query heads j*g .. "
             "(j+1)*g-1 "
             "(adjacent copies, as repeat_interleave gives), not the whole group tiled (repeat).")


@case("repeat_kv：(2, 2, 3, 4)，n_rep = 3", "repeat_kv: (2, 2, 3, 4), n_rep = 3")
def repeat_basic(ns):
    g = gen(51)
    x = randn(2, 2, 3, 4, generator=g)
    got = entry(ns, REPEAT)(x, 3)
    compare("repeat_kv 的结果", "repeat_kv result", got, x.repeat_interleave(3, dim=1),
            mistakes=[Mistake(x.repeat(1, 3, 1, 1), _TILED_ZH, _TILED_EN)])


@case("repeat_kv：n_rep = 1 原样返回", "repeat_kv: n_rep = 1 returns the input")
def repeat_identity(ns):
    x = randn(1, 4, 2, 3, generator=gen(52))
    compare("repeat_kv 的结果", "repeat_kv result", entry(ns, REPEAT)(x, 1), x)


def _check_gqa(ns, hq, hkv, seed):
    g = gen(seed)
    q = randn(2, hq, 4, 8, generator=g)
    k, v = randn(2, hkv, 6, 8, generator=g), randn(2, hkv, 6, 8, generator=g)
    group = hq // hkv
    reference = reference_attention(q, k.repeat_interleave(group, 1), v.repeat_interleave(group, 1))
    torch_out = F.scaled_dot_product_attention(q.double(), k.double(), v.double(), enable_gqa=True)
    assert torch.allclose(reference[0], torch_out)  # the reference agrees with torch
    result = entry(ns, ATTENTION)(q, k, v)
    tiled = reference_attention(q, k.repeat(1, group, 1, 1), v.repeat(1, group, 1, 1))
    weights = result[1] if isinstance(result, tuple) and len(result) == 2 else None
    if group > 1 and isinstance(weights, torch.Tensor) and weights.shape == tiled[1].shape and \
            torch.allclose(weights.double(), tiled[1], atol=1e-4):
        compare("注意力权重", "attention weights", weights, reference[1],
                mistakes=[Mistake(tiled[1], _TILED_ZH, _TILED_EN)])
    check_attention_result(result, q, k.repeat_interleave(group, 1), v.repeat_interleave(group, 1),
                           reference=reference)


@case("GQA：8 个 query 头，2 个 key/value 头", "GQA: 8 query heads, 2 key/value heads")
def gqa(ns):
    _check_gqa(ns, 8, 2, 53)


@case("MQA：只有 1 个 key/value 头", "MQA: a single key/value head")
def mqa(ns):
    _check_gqa(ns, 4, 1, 54)


@case("头数相等时就是 MHA", "equal head counts: plain MHA")
def mha(ns):
    _check_gqa(ns, 3, 3, 55)
