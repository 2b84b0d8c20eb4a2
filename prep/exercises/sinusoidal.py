"""Hidden tests for sinusoidal: the positional encoding of "Attention Is All You Need"."""

import torch

from prep.exercises.harness import Failed, Mistake, attach, case, compare, entry

ENTRY = "sinusoidal_encoding"
BASE = 10000.0


def reference(length, dim, *, exponent_step=2, layout="interleaved", swap=False):
    pos = torch.arange(length, dtype=torch.float64)[:, None]                 # (L, 1)
    i = torch.arange(dim // 2, dtype=torch.float64)[None, :]                 # (1, D/2)
    angle = pos / BASE ** (exponent_step * i / dim)                          # (L, D/2)
    first, second = torch.sin(angle), torch.cos(angle)
    if swap:
        first, second = second, first
    if layout == "halves":
        return torch.cat([first, second], dim=-1)                           # (L, D)
    return torch.stack([first, second], dim=-1).reshape(length, dim)        # (L, D) interleaved


def _check(ns, length, dim):
    got = entry(ns, ENTRY)(length, dim)
    expected = reference(length, dim)
    if isinstance(got, torch.Tensor) and got.dim() == 2:
        attach(got, expected)
    mistakes = [
        Mistake(reference(length, dim, layout="halves"),
                "sin 和 cos 拼成了两半 [sin | cos]：论文里是交错的，偶数维 sin、奇数维 cos。",
                "sin and cos concatenated as halves [sin | cos]: the paper interleaves them, sin "
                "on even and cos on odd dimensions."),
        Mistake(reference(length, dim, swap=True),
                "sin 和 cos 放反了：偶数维（2i）是 sin，奇数维（2i+1）是 cos。",
                "sin and cos swapped: even dimensions (2i) take sin, odd ones (2i+1) cos."),
        Mistake(reference(length, dim, exponent_step=1),
                "频率的指数错了：分母是 10000^(2i/d_model)，i 是维度对的序号，不是 "
                "10000^(i/d_model)。",
                "Wrong frequency exponent: the denominator is 10000^(2i/d_model) with i the pair "
                "index, not 10000^(i/d_model)."),
    ]
    compare("位置编码", "positional encoding", got, expected, mistakes=mistakes, atol=1e-5)


@case("L = 6，D = 8", "L = 6, D = 8")
def small(ns):
    _check(ns, 6, 8)


@case("L = 50，D = 16：远处的位置", "L = 50, D = 16: far positions")
def longer(ns):
    _check(ns, 50, 16)


@case("位置 0 是 [0, 1, 0, 1, ...]", "position 0 is [0, 1, 0, 1, ...]")
def position_zero(ns):
    got = entry(ns, ENTRY)(1, 6)
    if not isinstance(got, torch.Tensor) or got.shape != (1, 6):
        raise Failed("sinusoidal_encoding(1, 6) 的形状应为 (1, 6)。",
                     "sinusoidal_encoding(1, 6) should have shape (1, 6).")
    compare("位置 0 的编码", "encoding of position 0", got,
            torch.tensor([[0.0, 1.0, 0.0, 1.0, 0.0, 1.0]]), atol=1e-6)
