"""What an exercise's hidden tests are made of; runs inside the judge's child process.

A test module (``prep/exercises/<name>.py``) defines functions decorated with :func:`case`. Each
takes the learner's namespace, calls the learner's function with inputs *and weights* it builds
itself (never relying on the order layers are created under a seed), and compares with a torch or
float64 reference through :func:`compare`, which turns typical mistakes into messages that point
at them ("rows do not sum to 1 -- softmax over the wrong axis?"). :func:`attach` hands a pair of
weight matrices to the page for the side-by-side heatmap.

The core (cases, ``compare`` and its diagnoses) lives in :mod:`prep.exercises.checks`; this module
re-exports it and adds the attention-specific checks, so a test module imports everything from
here. The judge copies both files (and nothing else of ``prep``) into the jail.
"""

from __future__ import annotations

import types

import numpy as np
import torch

from prep.exercises.checks import (
    ATOL,
    RTOL,
    Case,
    Failed,
    Mistake,
    attach,
    case,
    collect_cases,
    compare,
    entry,
    gen,
    pair,
    randn,
    run_case,
)

__all__ = [
    "ATOL",
    "RTOL",
    "Case",
    "Failed",
    "Mistake",
    "as_tensor",
    "attach",
    "attention_mistakes",
    "case",
    "check_attention_result",
    "collect_cases",
    "compare",
    "entry",
    "gen",
    "np_randn",
    "numpy_only",
    "pair",
    "randn",
    "reference_attention",
    "run_case",
]


def reference_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    keep_mask: torch.Tensor | None = None,
    scale: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Float64 scaled dot-product attention returning (output, weights).

    ``keep_mask`` is bool, True = may attend, broadcastable to (..., L, S). A row with no visible
    key gives zero weights and a zero output, as ``F.scaled_dot_product_attention`` does.
    """
    query, key, value = (t.detach().to(torch.float64) for t in (query, key, value))
    scale = query.shape[-1] ** -0.5 if scale is None else scale
    scores = query @ key.transpose(-2, -1) * scale                  # (..., L, S)
    if keep_mask is not None:
        scores = scores.masked_fill(~keep_mask.to(torch.bool), float("-inf"))
    weights = torch.softmax(scores, dim=-1).nan_to_num(0.0)         # all -inf row -> zeros
    return weights @ value, weights                                  # (..., L, Dv), (..., L, S)


def attention_mistakes(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    keep_mask: torch.Tensor | None = None,
) -> tuple[list[Mistake], list[Mistake]]:
    """Typical wrong attention answers as (weight mistakes, output mistakes)."""
    d_k = query.shape[-1]
    variants = [
        (reference_attention(query, key, value, keep_mask, scale=1.0),
         "缺少缩放：分数没有除以 √d_k。", "Missing scale: the scores were not divided by √d_k."),
        (reference_attention(query, key, value, keep_mask, scale=1.0 / d_k),
         "缩放错了：应除以 √d_k，而不是 d_k。", "Wrong scale: divide by √d_k, not by d_k."),
    ]
    if keep_mask is not None:
        variants += [
            (reference_attention(query, key, value, ~keep_mask.to(torch.bool)),
             "掩码的含义用反了：这里 True 表示可以关注（与 torch 的 SDPA 一致），False 才屏蔽。",
             "The opposite mask convention: here True means 'may attend' (as in torch's SDPA); "
             "False blocks."),
            (reference_attention(query, key, value, None),
             "掩码没有生效：被屏蔽的位置也分到了权重。",
             "The mask was not applied: masked positions got weight too."),
        ]
    weight_mistakes = [Mistake(w, zh, en) for (_, w), zh, en in variants]
    output_mistakes = [Mistake(o, zh, en) for (o, _), zh, en in variants]
    return weight_mistakes, output_mistakes


def check_attention_result(
    result,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    keep_mask: torch.Tensor | None = None,
    *,
    reference: tuple[torch.Tensor, torch.Tensor] | None = None,
    what: str = "the function",
) -> None:
    """Check a learner's ``(output, weights)`` against float64 attention, with diagnoses."""
    out, weights = pair(result, what)
    ref_out, ref_w = reference or reference_attention(query, key, value, keep_mask)
    weight_mistakes, output_mistakes = attention_mistakes(query, key, value, keep_mask)
    if isinstance(weights, torch.Tensor) and weights.dim() >= 2:
        attach(weights.reshape(-1, *weights.shape[-2:])[0], ref_w.reshape(-1, *ref_w.shape[-2:])[0])
    compare("注意力权重", "attention weights", weights, ref_w, mistakes=weight_mistakes,
            weights=True, keep_mask=keep_mask)
    compare("输出", "output", out, ref_out, mistakes=output_mistakes)


# -- NumPy drills: arrays in, arrays out, no torch in the learner's code ----------------------


def numpy_only(ns):
    """Fail when the learner's code brought in torch: this drill is NumPy only."""
    for name, value in ns.items():
        origin = value.__name__ if isinstance(value, types.ModuleType) else \
            getattr(value, "__module__", None)
        if isinstance(origin, str) and origin.split(".")[0] == "torch":
            raise Failed(f"这道题只用 NumPy：代码里引入了 torch（`{name}`）。"
                         "面试时常常没有 torch 可用。",
                         f"NumPy only: the code brings in torch (`{name}`). Interviews often ask "
                         "for this without torch.")


def as_tensor(value, what_zh, what_en):
    """The learner's NumPy array as a float64 tensor (for harness.compare)."""
    if isinstance(value, torch.Tensor) or not isinstance(value, np.ndarray | np.generic):
        raise Failed(f"{what_zh}应是 NumPy 数组（np.ndarray），实际是 {type(value).__name__}。",
                     f"The {what_en} should be a NumPy array (np.ndarray); got "
                     f"{type(value).__name__}.")
    return torch.from_numpy(np.asarray(value, dtype=np.float64).copy())


def np_randn(*shape, generator, scale=1.0):
    """Small float64 NumPy inputs drawn from a seeded torch generator."""
    return randn(*shape, generator=generator, scale=scale).double().numpy()
