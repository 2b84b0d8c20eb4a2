"""Hidden tests for tiled: exact attention block by block with an online softmax."""

import math

import torch
from torch.overrides import TorchFunctionMode

from prep.exercises.harness import (
    Failed,
    Mistake,
    case,
    compare,
    entry,
    gen,
    randn,
    reference_attention,
)

ENTRY = "tiled_attention"


class _Watch(TorchFunctionMode):
    """Records the shapes of every tensor torch functions return while the learner's code runs."""

    def __init__(self):
        super().__init__()
        self.shapes = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        if isinstance(result, torch.Tensor):
            self.shapes.append(tuple(result.shape))
        return result


def _no_rescale(q, k, v, block):
    """The classic bug: the running sum and output are not rescaled when the running max grows."""
    q, k, v = q.double(), k.double(), v.double()
    scale = 1 / math.sqrt(q.shape[-1])
    row_max = torch.full((*q.shape[:-1], 1), float("-inf"), dtype=torch.float64)
    row_sum = torch.zeros_like(row_max)
    acc = torch.zeros((*q.shape[:-1], v.shape[-1]), dtype=torch.float64)
    for start in range(0, k.shape[-2], block):
        s = q @ k[..., start:start + block, :].transpose(-2, -1) * scale
        row_max = torch.maximum(row_max, s.amax(-1, keepdim=True))
        p = torch.exp(s - row_max)
        row_sum = row_sum + p.sum(-1, keepdim=True)
        acc = acc + p @ v[..., start:start + block, :]
    return acc / row_sum


def _check(ns, n_q, n_k, block, seed, scale_inputs=1.0):
    g = gen(seed)
    q = randn(2, n_q, 8, generator=g, scale=scale_inputs)
    k, v = randn(2, n_k, 8, generator=g, scale=scale_inputs), randn(2, n_k, 8, generator=g)
    watch = _Watch()
    with watch:
        got = entry(ns, ENTRY)(q, k, v, block_size=block)
    if isinstance(got, tuple):
        got = got[0]
    if block < n_k and any(len(s) >= 2 and s[-2:] == (n_q, n_k) for s in watch.shapes):
        raise Failed(f"算出了完整的 {n_q}×{n_k} 分数矩阵：分块注意力每次只应处理 block_size 个 "
                     "key。",
                     f"The full {n_q}x{n_k} score matrix was built: tiled attention should handle "
                     "block_size keys at a time.")
    ref = reference_attention(q, k, v)[0]
    mistakes = [
        Mistake(_no_rescale(q, k, v, block),
                "运行最大值变大时没有重新缩放：之前累加的分母和输出都要乘以 exp(旧最大值 − "
                "新最大值)。",
                "Not rescaled when the running max grows: multiply the running sum and output by "
                "exp(old max - new max)."),
        Mistake(reference_attention(q, k, v, scale=1.0)[0],
                "缺少缩放：分数没有除以 "
                "√d_k。", "Missing scale: the scores were not divided by √d_k."),
    ]
    compare("输出", "output", got, ref, mistakes=mistakes)


@case("block_size = 4，整除长度", "block_size = 4, divides the length")
def divides(ns):
    _check(ns, 6, 16, 4, 71)


@case("block_size = 3，不整除长度（最后一块更短）",
      "block_size = 3, does not divide (a short last block)")
def ragged(ns):
    _check(ns, 5, 10, 3, 72)


@case("block_size = 1 和 block_size > S", "block_size = 1 and block_size > S")
def extremes(ns):
    _check(ns, 3, 5, 1, 73)
    _check(ns, 3, 5, 8, 74)


@case("大分数下的数值稳定性（减去运行最大值）",
      "numerical stability with large scores (subtract the running max)")
def large_scores(ns):
    _check(ns, 4, 12, 4, 75, scale_inputs=6.0)
