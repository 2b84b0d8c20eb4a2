"""The core of the hidden tests (cases, comparison with diagnoses); runs in the judge's child.

Test modules import all of it through :mod:`prep.exercises.harness`, which adds the
attention-specific checks.

A test module (``prep/exercises/<name>.py``) defines functions decorated with :func:`case`. Each
takes the learner's namespace, calls the learner's function with inputs *and weights* it builds
itself (never relying on the order layers are created under a seed), and compares with a torch or
float64 reference through :func:`compare`, which turns typical mistakes into messages that point
at them ("rows do not sum to 1 -- softmax over the wrong axis?"). :func:`attach` hands a pair of
weight matrices to the page for the side-by-side heatmap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

ATOL = 1e-4
RTOL = 1e-4
_ROUND = 5                      # decimals of the weights sent to the heatmap
_MAX_HEATMAP_SIDE = 64          # larger matrices are not sent


@dataclass(frozen=True)
class Case:
    title: dict[str, str]
    func: Callable[[Mapping[str, Any]], None]


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer, computed by the test, and what to tell the learner who gives it."""

    value: torch.Tensor
    zh: str
    en: str


class Failed(Exception):
    """A check failed: the learner's answer is wrong (not an exception in the learner's code)."""

    def __init__(self, zh: str, en: str, max_abs_diff: float | None = None):
        super().__init__(en)
        self.message = {"zh": zh, "en": en}
        self.max_abs_diff = max_abs_diff


@dataclass
class _Attached:
    learner: list | None = None
    reference: list | None = None
    figure: dict | None = None
    extra: dict = field(default_factory=dict)


_CURRENT = _Attached()


def case(zh: str, en: str):
    """Mark a function ``f(namespace)`` as a hidden test with a bilingual title."""

    def mark(func):
        func.case_title = {"zh": zh, "en": en}
        return func

    return mark


def collect_cases(module) -> list[Case]:
    """The module's cases in definition order."""
    return [
        Case(value.case_title, value)
        for value in vars(module).values()
        if callable(value) and hasattr(value, "case_title")
    ]


def _matrix(value) -> list | None:
    if value is None:
        return None
    matrix = torch.as_tensor(value).detach().to(torch.float64)
    if matrix.dim() != 2 or max(matrix.shape) > _MAX_HEATMAP_SIDE:
        return None
    matrix = torch.nan_to_num(matrix, nan=0.0, posinf=1.0, neginf=0.0)
    return [[round(x, _ROUND) for x in row] for row in matrix.tolist()]


def attach(learner=None, reference=None, *, figure: dict | None = None) -> None:
    """Send a learner / reference weight matrix pair (2-D) or a figure to the page."""
    if learner is not None:
        _CURRENT.learner = _matrix(learner)
    if reference is not None:
        _CURRENT.reference = _matrix(reference)
    if figure is not None:
        _CURRENT.figure = figure


def run_case(
    case_: Case,
    namespace: Mapping[str, Any],
    describe: Callable[[BaseException], tuple[dict[str, str], bool]],
) -> dict[str, Any]:
    """Run one case; ``describe(exc)`` turns an exception into (message, is_memory)."""
    global _CURRENT
    _CURRENT = _Attached()
    event: dict[str, Any] = {"name": case_.title}
    try:
        case_.func(namespace)
    except Failed as failed:
        event.update(status="failed", message=failed.message, max_abs_diff=failed.max_abs_diff)
    except BaseException as exc:  # the learner's code raised (or exited)
        message, memory = describe(exc)
        event.update(status="error", message=message, memory=memory)
    else:
        event.update(status="passed", message={"zh": "", "en": ""},
                     max_abs_diff=_CURRENT.extra.get("max_abs_diff"))
    event.update(learner_weights=_CURRENT.learner, reference_weights=_CURRENT.reference,
                 figure=_CURRENT.figure)
    return event


# --------------------------------------------------------------------------------------------
# Helpers for the test modules
# --------------------------------------------------------------------------------------------

def entry(namespace: Mapping[str, Any], name: str):
    """The learner's function or class ``name``."""
    value = namespace.get(name)
    if value is None or not callable(value):
        raise Failed(
            f"没有找到 `{name}`：请保留起始代码里的名字和签名。",
            f"No `{name}` found: keep the name and signature from the starter code.",
        )
    return value


def pair(result, what: str = "the function") -> tuple[Any, Any]:
    """Unpack ``(output, weights)`` from a learner's return value."""
    if not isinstance(result, tuple | list) or len(result) != 2:
        got_zh = got_en = type(result).__name__
        if isinstance(result, tuple | list):  # say how many items came back
            got_zh = f"含 {len(result)} 个元素的 {got_en}"
            got_en = f"a {got_en} of {len(result)} items"
        raise Failed(
            f"{what} 应返回 (output, weights) 二元组，实际返回了 {got_zh}。",
            f"{what} should return a pair (output, weights); it returned {got_en}.",
        )
    return result[0], result[1]


def randn(*shape: int, generator: torch.Generator, scale: float = 1.0) -> torch.Tensor:
    """Small float32 inputs: large values saturate softmax and hide a missing scale."""
    return torch.randn(*shape, generator=generator, dtype=torch.float64).mul(scale).float()


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _fmt_shape(shape: Iterable[int]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


def compare(
    what_zh: str,
    what_en: str,
    got,
    expected: torch.Tensor,
    *,
    mistakes: Iterable[Mistake] = (),
    weights: bool = False,
    keep_mask: torch.Tensor | None = None,
    atol: float = ATOL,
    rtol: float = RTOL,
) -> float:
    """Compare the learner's tensor with the reference; raise :class:`Failed` with a diagnosis.

    ``weights=True`` adds the checks that make sense for attention weights (rows sum to 1, zero at
    masked positions, zero rows where every key is masked). Returns the largest absolute difference.
    """
    if not isinstance(got, torch.Tensor):
        raise Failed(
            f"{what_zh}应是 torch.Tensor，实际是 {type(got).__name__}。",
            f"The {what_en} should be a torch.Tensor; got {type(got).__name__}.",
        )
    expected = expected.detach().to(torch.float64)
    got64 = got.detach().to(torch.float64)
    if got64.shape != expected.shape:
        hint_zh = hint_en = ""
        if expected.dim() >= 2 and got64.shape == expected.transpose(-2, -1).shape:
            hint_zh = "：最后两维反了，忘了转置？"
            hint_en = ": the last two dims are swapped — a missing transpose?"
        elif got64.numel() == expected.numel():
            hint_zh, hint_en = "：元素个数对，排列不对——检查 view / transpose 的顺序。", (
                ": same number of elements, wrong layout — check the order of view / transpose."
            )
        raise Failed(
            f"{what_zh}形状为 {_fmt_shape(got64.shape)}，应为 "
            f"{_fmt_shape(expected.shape)}{hint_zh}",
            f"The {what_en} has shape {_fmt_shape(got64.shape)}, expected "
            f"{_fmt_shape(expected.shape)}{hint_en}",
        )
    for mistake in mistakes:
        candidate = mistake.value.detach().to(torch.float64)
        if candidate.shape == got64.shape and not torch.allclose(
            torch.nan_to_num(got64), expected, atol=atol, rtol=rtol
        ) and torch.allclose(
            torch.nan_to_num(got64), torch.nan_to_num(candidate), atol=atol, rtol=rtol
        ):
            raise Failed(mistake.zh, mistake.en, _max_diff(got64, expected))
    bad = ~torch.isfinite(got64) & torch.isfinite(expected)
    if bad.any():
        if weights and _fully_masked_rows(expected).any():
            raise Failed(
                f"{what_zh}里有 NaN：某一行的所有 key 都被屏蔽了，softmax 全是 -inf 就会得到 NaN。"
                "这样的行应当输出全 0（与 torch 的 SDPA 一致）。",
                f"NaN in the {what_en}: a row whose keys are all masked makes softmax of all -inf "
                "NaN. Such a row should give zeros (as torch's SDPA does).",
            )
        if not weights and expected.dim() >= 2 and (expected == 0).all(dim=-1).any():
            raise Failed(
                f"{what_zh}里有 NaN：所有 key 都被屏蔽的那一行应输出 0（与 torch 的 SDPA 一致）。",
                f"NaN in the {what_en}: a query whose keys are all masked should give zeros "
                "(as torch's SDPA does).",
            )
        raise Failed(
            f"{what_zh}里有 NaN 或 inf：数值溢出？softmax 前先减去每行的最大值。",
            f"NaN or inf in the {what_en}: an overflow? Subtract each row's maximum before exp.",
        )
    diff = _max_diff(got64, expected)
    _CURRENT.extra["max_abs_diff"] = max(diff, _CURRENT.extra.get("max_abs_diff", 0.0))
    if torch.allclose(got64, expected, atol=atol, rtol=rtol):
        return diff
    if weights:
        _diagnose_weights(what_zh, what_en, got64, expected, keep_mask, diff)
    raise Failed(
        f"{what_zh}与参考答案不同：最大绝对误差 {diff:.3g}（容差 {atol:g}）。",
        f"The {what_en} differ from the reference: largest absolute difference {diff:.3g} "
        f"(tolerance {atol:g}).",
        diff,
    )


def _max_diff(got: torch.Tensor, expected: torch.Tensor) -> float:
    if not got.numel():
        return 0.0
    return float((torch.nan_to_num(got, nan=float("inf")) - expected).abs().max())


def _fully_masked_rows(expected: torch.Tensor) -> torch.Tensor:
    return (expected == 0).all(dim=-1)


def _diagnose_weights(what_zh, what_en, got, expected, keep_mask, diff) -> None:
    empty = _fully_masked_rows(expected)
    row_sums = got.sum(dim=-1)
    target = torch.where(empty, torch.zeros_like(row_sums), torch.ones_like(row_sums))
    rows_ok = torch.allclose(row_sums, target, atol=1e-3)
    if not rows_ok:
        col_sums = got.sum(dim=-2)
        if got.shape[-1] > 1 and torch.allclose(col_sums, torch.ones_like(col_sums), atol=1e-3):
            raise Failed(
                f"{what_zh}不对：每一行的和不是 1，每一列的和却是 1——softmax 的维度取错了？"
                "应在 key 维（dim=-1）上归一化。",
                f"The {what_en} are wrong: rows do not sum to 1 but columns do — softmax over the "
                "wrong axis? Normalise over the keys (dim=-1).",
                diff,
            )
        if empty.any() and not torch.allclose(row_sums[empty], target[empty], atol=1e-3):
            raise Failed(
                f"{what_zh}不对：所有 key 都被屏蔽的行应当全为 0。",
                f"The {what_en} are wrong: a row whose keys are all masked should be all zeros.",
                diff,
            )
        raise Failed(
            f"{what_zh}不对：每一行的和应为 1（softmax 之后），实际不是。",
            f"The {what_en} are wrong: each row should sum to 1 after softmax, and does not.",
            diff,
        )
    if keep_mask is not None:
        keep = keep_mask.to(torch.bool).expand_as(got)
        leaked = got.masked_fill(keep, 0.0).abs().max()
        if leaked > 1e-6:
            inside = got.masked_fill(~keep, 0.0).abs().max()
            if inside < 1e-6:
                raise Failed(
                    f"{what_zh}不对：权重全落在被屏蔽的位置上，可见位置反而为 0——掩码的含义用反了？"
                    "这里 True 表示可以关注（与 torch 的 SDPA 一致）。",
                    f"The {what_en} are wrong: all the weight sits on masked positions and none "
                    "on visible ones — the opposite mask convention? Here True means 'may attend' "
                    "(as in torch's SDPA).",
                    diff,
                )
            raise Failed(
                f"{what_zh}不对：被屏蔽的位置上有非零权重（最大 "
                f"{float(leaked):.3g}）——掩码没有生效？",
                f"The {what_en} are wrong: masked positions have non-zero weight (up to "
                f"{float(leaked):.3g}) — was the mask applied?",
                diff,
            )
