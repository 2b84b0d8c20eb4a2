"""Hidden tests for rope: rotary position embedding, half-split pairing (LLaMA's rotate_half)."""

import torch

from prep.exercises.harness import Failed, Mistake, case, compare, entry, gen, randn

ENTRY = "apply_rope"


def reference(x, positions=None, base=10000.0, *, pairing="half", sign=1.0):
    x = x.double()
    n, d = x.shape[-2], x.shape[-1]
    pos = torch.arange(n, dtype=torch.float64) if positions is None else positions.double()
    inv_freq = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)      # (D/2,)
    angle = sign * pos[:, None] * inv_freq[None, :]                            # (L, D/2)
    cos, sin = torch.cos(angle), torch.sin(angle)
    if pairing == "half":
        x1, x2 = x[..., : d // 2], x[..., d // 2:]
        return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)   # (..., L, D)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], -1).flatten(-2)


def _check(ns, x, positions=None):
    got = entry(ns, ENTRY)(x) if positions is None else entry(ns, ENTRY)(x, positions)
    mistakes = [
        Mistake(reference(x, positions, pairing="interleaved"),
                "配对方式不对：本题用 LLaMA 的“前后两半”配对 (x_i, x_{i+D/2})（rotate_half），"
                "你用的是相邻配对 (x_{2i}, x_{2i+1})（RoFormer 原文）。两者等价但权重不能混用。",
                "The wrong pairing: this exercise pairs the halves (x_i, x_{i+D/2}) as LLaMA's "
                "rotate_half does; you paired neighbours (x_{2i}, x_{2i+1}) as the RoFormer paper "
                "does. Both are valid, but checkpoints are not interchangeable."),
        Mistake(reference(x, positions, sign=-1.0),
                "旋转方向反了：第一半是 x1·cos − x2·sin，第二半是 x1·sin + x2·cos。",
                "Rotated the wrong way: the first half is x1*cos - x2*sin, the second x1*sin + "
                "x2*cos."),
        Mistake(x.double(), "没有旋转：输出等于输入。",
                "Nothing was rotated: the output equals the input."),
    ]
    compare("旋转后的向量", "rotated vectors", got, reference(x, positions), mistakes=mistakes,
            atol=1e-5)
    return got


@case("(B, H, L, D) = (2, 2, 5, 8)", "(B, H, L, D) = (2, 2, 5, 8)")
def basic(ns):
    _check(ns, randn(2, 2, 5, 8, generator=gen(81)))


@case("给定位置 positions（例如解码时从 7 开始）", "explicit positions (decoding from position 7)")
def explicit_positions(ns):
    _check(ns, randn(1, 3, 4, generator=gen(82)), torch.arange(7, 10))


@case("分数只取决于相对位置：q·k 平移后不变",
      "scores depend only on the offset: shifting both keeps q.k")
def relative(ns):
    g = gen(83)
    q, k = randn(1, 8, generator=g), randn(1, 8, generator=g)
    fn = entry(ns, ENTRY)
    near = (fn(q, torch.tensor([2])) * fn(k, torch.tensor([5]))).sum()
    far = (fn(q, torch.tensor([12])) * fn(k, torch.tensor([15]))).sum()
    if not torch.allclose(near.double(), far.double(), atol=1e-4):
        raise Failed(f"位置 (2, 5) 与 (12, 15) 的 q·k 不同（{float(near):.4f} 与 "
                     f"{float(far):.4f}）："
                     "RoPE 的分数应只取决于位置差。",
                     f"q.k at positions (2, 5) and (12, 15) differ ({float(near):.4f} vs "
                     f"{float(far):.4f}): RoPE scores must depend only on the offset.")
