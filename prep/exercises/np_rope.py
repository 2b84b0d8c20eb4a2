"""Hidden tests for np-rope: NumPy RoPE (half-split pairing) against
``attention.positional.apply_rope`` in float64."""


import numpy as np
import torch

from attention.positional import apply_rope
from prep.exercises.harness import (
    Failed,
    Mistake,
    as_tensor,
    case,
    compare,
    entry,
    gen,
    np_randn,
    numpy_only,
)

ENTRY = "apply_rope"


def formula(x, positions, *, pairing="half", exponent="2i/D", sign=1.0, use_positions=True):
    """Float64 RoPE in torch; the flags build the typical mistakes."""
    x = torch.from_numpy(x)
    n, d = x.shape[-2], x.shape[-1]
    pos = torch.from_numpy(positions).double() if use_positions else torch.arange(n).double()
    if exponent == "2i/D":
        inv_freq = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    elif exponent == "i/D":
        inv_freq = 10000.0 ** (-torch.arange(d // 2, dtype=torch.float64) / d)
    else:                                                           # a positive exponent
        inv_freq = 10000.0 ** (torch.arange(0, d, 2, dtype=torch.float64) / d)
    angle = sign * pos[:, None] * inv_freq[None, :]                 # (L, D/2)
    cos, sin = torch.cos(angle), torch.sin(angle)
    if pairing == "half":
        x1, x2 = x[..., : d // 2], x[..., d // 2:]
        return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], -1).flatten(-2)


def _check(ns, x, positions):
    numpy_only(ns)
    got = entry(ns, ENTRY)(x.copy(), positions.copy())
    expected = apply_rope(torch.from_numpy(x), torch.from_numpy(positions))
    variants = [
        ({"pairing": "interleaved"},
         "配对方式不对：本题用 Llama 的前后两半配对 (x_i, x_{i+D/2})（rotate_half），"
         "你用的是相邻配对 "
         "(x_{2i}, x_{2i+1})（RoFormer 原文）。两者都对，但权重不能混用。",
         "The wrong pairing: this drill pairs the halves (x_i, x_{i+D/2}) as Llama's rotate_half "
         "does; you paired neighbours (x_{2i}, x_{2i+1}) as the RoFormer paper does. Both are "
         "valid, but checkpoints are not interchangeable."),
        ({"exponent": "i/D"},
         "频率不对：θ_i = base^(−2i/D)，指数里是 2i（即 np.arange(0, D, 2) / D），不是 i/D。",
         "Wrong frequencies: θ_i = base^(-2i/D), with 2i in the exponent (np.arange(0, D, 2) / "
         "D), not i/D."),
        ({"exponent": "+2i/D"},
         "频率不对：指数应为负，θ_i = base^(−2i/D)，频率从 1 逐渐变小。",
         "Wrong frequencies: the exponent is negative, θ_i = base^(-2i/D), falling from 1."),
        ({"sign": -1.0},
         "旋转方向反了：前一半是 x1·cos − x2·sin，后一半是 x1·sin + x2·cos。",
         "Rotated the wrong way: the first half is x1*cos - x2*sin, the second x1*sin + x2*cos."),
        ({"use_positions": False},
         "没有用 positions 参数：角度要用给定的位置（解码时从缓存长度开始），不是 0..L−1。",
         "The positions argument was ignored: rotate by the given positions (decoding starts at "
         "the cache length), not by 0..L-1."),
    ]
    mistakes = [Mistake(formula(x, positions, **flags), zh, en) for flags, zh, en in variants]
    mistakes.append(Mistake(torch.from_numpy(x), "没有旋转：输出等于输入。",
                            "Nothing was rotated: the output equals the input."))
    compare("旋转后的向量", "rotated vectors", as_tensor(got, "旋转后的向量", "rotated vectors"),
            expected, mistakes=mistakes, atol=1e-8, rtol=1e-8)
    return got


@case("(H, L, D) = (2, 5, 8)，位置 0..4", "(H, L, D) = (2, 5, 8), positions 0..4")
def basic(ns):
    _check(ns, np_randn(2, 5, 8, generator=gen(271)), np.arange(5))


@case("解码时的位置：从 37 开始，D = 16", "decoding positions: from 37, D = 16")
def offset(ns):
    _check(ns, np_randn(3, 16, generator=gen(272)), np.arange(37, 40))


@case("分数只取决于相对位置", "scores depend only on the offset")
def relative(ns):
    g = gen(273)
    q, k = np_randn(1, 8, generator=g), np_randn(1, 8, generator=g)
    _check(ns, q, np.array([2]))
    fn = entry(ns, ENTRY)
    near = float(np.sum(fn(q.copy(), np.array([2])) * fn(k.copy(), np.array([5]))))
    far = float(np.sum(fn(q.copy(), np.array([12])) * fn(k.copy(), np.array([15]))))
    if abs(near - far) > 1e-8:
        raise Failed(f"位置 (2, 5) 与 (12, 15) 的 q·k 不同（{near:.6f} 与 {far:.6f}）："
                     "RoPE 的分数应只取决于位置差。",
                     f"q.k at positions (2, 5) and (12, 15) differ ({near:.6f} vs {far:.6f}): "
                     "RoPE scores must depend only on the offset.")
