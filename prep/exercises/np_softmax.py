"""Hidden tests for np-softmax: a numerically stable NumPy softmax against ``torch.softmax``
in float64 (the package computes its weights with it)."""


import numpy as np
import torch

from prep.exercises.harness import (
    Mistake,
    as_tensor,
    case,
    compare,
    entry,
    gen,
    np_randn,
    numpy_only,
)

ENTRY = "softmax"


def _mistakes(x, axis):
    """Typical wrong softmaxes, computed in float64 NumPy (warnings silenced)."""
    with np.errstate(all="ignore"):
        naive = np.exp(x) / np.exp(x).sum(axis=axis, keepdims=True)
        shifted = np.exp(x - x.max())
        global_max = shifted / shifted.sum(axis=axis, keepdims=True)
        other_axis = np.exp(x) / np.exp(x).sum(axis=0 if axis != 0 else -1, keepdims=True)
        variants = [
            (naive,
             "数值溢出（overflow）：直接 exp(x)，x 很大时得到 inf，inf / inf 就是 nan。"
             "先减去每组的最大值。",
             "An overflow: exp(x) of large inputs is inf, and inf / inf is nan. Subtract each "
             "group's maximum first."),
            (global_max,
             "减去的是整个数组的最大值，不是每一行的：数值小的那一行会全部下溢成 0（0 / 0 = nan）。"
             "用 x.max(axis=axis, keepdims=True)。",
             "Subtracted the maximum of the whole array, not of each row: a row of small values "
             "underflows to zeros (0 / 0 = nan). Use x.max(axis=axis, keepdims=True)."),
            (other_axis,
             "归一化的维度不对：要沿 axis 参数指定的维度求和（keepdims=True）。",
             "Normalised along the wrong axis: sum along the `axis` argument (keepdims=True)."),
        ]
        if x.ndim == 2 and x.shape[0] == x.shape[1] and axis in (-1, 1):
            no_keepdims = np.exp(x - x.max(axis=axis)) / np.exp(x - x.max(axis=axis)).sum(
                axis=axis, keepdims=True)
            variants.append((
                no_keepdims,
                "最大值没有 keepdims=True：形状 (n,) 沿最后一维广播，减到了列上而不是行上。",
                "The maximum lacks keepdims=True: its shape (n,) broadcasts along the last "
                "dimension, so it is subtracted per column, not per row."))
    return [Mistake(torch.from_numpy(np.asarray(w, dtype=np.float64)), zh, en)
            for w, zh, en in variants]


def _check(ns, x, axis=None):
    numpy_only(ns)
    fn = entry(ns, ENTRY)
    got = fn(x.copy()) if axis is None else fn(x.copy(), axis=axis)
    axis = -1 if axis is None else axis
    expected = torch.softmax(torch.from_numpy(x), dim=axis)
    with np.errstate(all="ignore"):
        compare("softmax 结果", "softmax", as_tensor(got, "softmax 结果", "softmax"), expected,
                mistakes=_mistakes(x, axis), atol=1e-10, rtol=1e-7)


@case("普通输入，形状 (4, 6)，axis = -1", "ordinary inputs, shape (4, 6), axis = -1")
def ordinary(ns):
    _check(ns, np_randn(4, 6, generator=gen(261)))


@case("大输入：一行约 1000，一行约 −1000，一行相差 1e4",
      "large inputs: a row near 1000, a row near -1000, a row spanning 1e4")
def large(ns):
    g = gen(262)
    x = np_randn(3, 5, generator=g)
    x[0] += 1000.0
    x[1] -= 1000.0
    x[2] *= 1e4
    _check(ns, x)


@case("方阵，各行数量级不同（检查 keepdims）", "a square array with rows of different magnitudes")
def square(ns):
    g = gen(263)
    x = np_randn(4, 4, generator=g)
    x += np.array([[0.0], [800.0], [-5.0], [40.0]])
    _check(ns, x)


@case("axis = 0，以及三维数组 axis = 1", "axis = 0, and a 3-D array with axis = 1")
def other_axes(ns):
    g = gen(264)
    _check(ns, np_randn(5, 3, generator=g) * 30.0, axis=0)
    _check(ns, np_randn(2, 4, 3, generator=g) * 30.0, axis=1)
