"""Hidden tests for delta-rule-chunkwise: the chunkwise form against ``attention.delta_rule``
(whose recurrent and chunkwise paths agree)."""

import torch

from attention import delta_rule
from prep.exercises.harness import Mistake, attach, case, compare, entry, gen, randn

ENTRY = "delta_rule_chunkwise"


def formula(q, k, v, beta, chunk_size, *, beta_in_system=True, carry=True, diagonal=True,
            transpose_state=False):
    """Float64 chunkwise delta rule; the flags build the typical mistakes."""
    q, k, v, beta = (t.double() for t in (q, k, v, beta))
    state = k.new_zeros(*k.shape[:-2], v.shape[-1], k.shape[-1])       # (B, H, Dv, Dk)
    outputs = []
    for start in range(0, k.shape[-2], chunk_size):
        chunk = slice(start, start + chunk_size)
        qc, kc, vc, b = q[..., chunk, :], k[..., chunk, :], v[..., chunk, :], beta[..., chunk, None]
        c = kc.shape[-2]
        strict = torch.ones(c, c, dtype=torch.bool).tril(diagonal=-1)
        lower = torch.ones(c, c, dtype=torch.bool).tril(diagonal=0 if diagonal else -1)
        a = (kc @ kc.transpose(-2, -1)).masked_fill(~strict, 0.0)
        system = torch.eye(c, dtype=kc.dtype) + (b * a if beta_in_system else a)
        u = torch.linalg.solve_triangular(system, b * (vc - kc @ state.transpose(-2, -1)),
                                          upper=False)
        qk = (qc @ kc.transpose(-2, -1)).masked_fill(~lower, 0.0)
        outputs.append(qc @ state.transpose(-2, -1) + qk @ u)
        if carry:
            update = u.transpose(-2, -1) @ kc
            state = state + (update.transpose(-2, -1) if transpose_state else update)
    return torch.cat(outputs, dim=-2)


def _inputs(seed, length, dk=4, dv=4):
    g = gen(seed)
    q = randn(2, 2, length, dk, generator=g, scale=0.5)
    k = torch.nn.functional.normalize(randn(2, 2, length, dk, generator=g), dim=-1)
    v = randn(2, 2, length, dv, generator=g)
    beta = torch.rand(2, 2, length, generator=g)
    return q, k, v, beta


def _check(ns, seed, length, chunk_size, dk=4, dv=4):
    q, k, v, beta = _inputs(seed, length, dk, dv)
    fn = entry(ns, ENTRY)
    eye = torch.eye(length).expand(2, 2, length, length)
    reference_mixing = delta_rule(q.double(), k.double(), eye.double(), beta.double()).output
    try:
        learner_mixing = fn(q, k, eye.clone(), beta, chunk_size)
    except Exception:            # the learner's error shows in the checks that follow
        learner_mixing = None
    ok = isinstance(learner_mixing, torch.Tensor) and learner_mixing.shape == eye.shape
    attach(learner_mixing[0, 0] if ok else None, reference_mixing[0, 0])
    got = fn(q, k, v, beta, chunk_size)
    expected = delta_rule(q.double(), k.double(), v.double(), beta.double()).output
    args = (q, k, v, beta, chunk_size)
    variants = [
        ({"beta_in_system": False},
         "方程组里漏了 β：擦除项是 β_t (S_{t-1} k_t)，所以系数矩阵是 I + diag(β) A，不是 I + A。",
         "β is missing from the system (the erase term): it is β_t S_{t-1} k_t, so the matrix is "
         "I + diag(β) A, not I + A."),
        ({"carry": False},
         "状态没有带到下一块：每块都从 0 开始了。块末要更新 S = S + U^T K。",
         "The state was not carried to the next chunk: every chunk started from 0. Update "
         "S = S + U^T K at the end of each chunk."),
        ({"diagonal": False},
         "块内输出的掩码去掉了对角线：o_t = S_t q_t 包含刚写入的 u_t，应取 i ≤ t。",
         "The in-chunk output mask excludes the diagonal: o_t = S_t q_t includes the u_t just "
         "written, so keep i <= t."),
        ({"transpose_state": True},
         "状态更新转置了：状态是 Dv × Dk，增量是 U^T K，不是 K^T U。",
         "The state update is transposed: the state is Dv x Dk and the increment is U^T K, not "
         "K^T U."),
    ]
    mistakes = [Mistake(formula(*args, **flags), zh, en) for flags, zh, en in variants
                if not (flags.get("transpose_state") and dk != dv)]
    compare("输出", "output", got, expected, mistakes=mistakes)


@case("L = 7，块长 3（最后一块只有 1 个）", "L = 7, chunks of 3 (the last holds 1)")
def ragged(ns):
    _check(ns, 211, 7, 3)


@case("块长 2，Dk = 4，Dv = 3", "chunks of 2, Dk = 4, Dv = 3")
def rectangular(ns):
    _check(ns, 212, 6, 2, dv=3)


@case("块长 1 和块长 = L 都等于逐步递推", "chunk size 1 and chunk size L both equal the recurrence")
def extremes(ns):
    _check(ns, 213, 5, 1)
    _check(ns, 214, 5, 5)
