"""Hidden tests for delta-rule: the DeltaNet recurrence against ``attention.delta_rule``."""

import torch

from attention import delta_rule
from prep.exercises.harness import Failed, Mistake, attach, case, compare, entry, gen, randn

ENTRY = "delta_rule"


def formula(q, k, v, beta, *, erase_beta=True, transpose=False, read_before=False, erase=True):
    """Float64 recurrence; the flags build the typical mistakes."""
    q, k, v, beta = (t.double() for t in (q, k, v, beta))
    dv, dk = v.shape[-1], k.shape[-1]
    state = k.new_zeros(*k.shape[:-2], dk if transpose else dv, dv if transpose else dk)
    outputs = []
    for t in range(k.shape[-2]):
        k_t, v_t, b_t = k[..., t, :], v[..., t, :], beta[..., t, None]
        recalled = (state @ k_t[..., None])[..., 0] if erase else 0.0
        if read_before:
            outputs.append((state @ q[..., t, :, None])[..., 0])
        correction = b_t * (v_t - recalled) if erase_beta else b_t * v_t - recalled
        if transpose:
            state = state + k_t[..., :, None] * correction[..., None, :]
        else:
            state = state + correction[..., :, None] * k_t[..., None, :]
        if not read_before:
            outputs.append((state @ q[..., t, :, None])[..., 0])
    return torch.stack(outputs, dim=-2)


def inputs(seed, length=6, dk=4, dv=4, heads=2):
    """Small inputs with L2-normalised keys and beta in (0, 1)."""
    g = gen(seed)
    q = randn(2, heads, length, dk, generator=g, scale=0.5)
    k = torch.nn.functional.normalize(randn(2, heads, length, dk, generator=g), dim=-1)
    v = randn(2, heads, length, dv, generator=g)
    beta = torch.rand(2, heads, length, generator=g)
    return q, k, v, beta


def mistakes(q, k, v, beta):
    variants = [
        ({"erase_beta": False},
         "擦除项漏了 β：修正量是 β·(v − S k)，β 要乘在擦除项 S k 上，不只是乘在 v 上。",
         "β is missing from the erase term: the correction is β(v - S k); β multiplies the erase "
         "term S k too, not only v."),
        ({"transpose": True},
         "外积转置了：状态是 Dv × Dk，写入 (v − S k) k^T，也就是 correction[:, None] * k[None, :]；"
         "写成 k (v − S k)^T 就转置了。",
         "The outer product is transposed: the state is Dv x Dk and the write is (v - S k) k^T, "
         "i.e. correction[:, None] * k[None, :]; k (v - S k)^T is its transpose."),
        ({"read_before": True},
         "读早了一步：o_t = S_t q_t 用写入 v_t 之后的状态，而不是 S_{t-1}。",
         "Read one step early: o_t = S_t q_t uses the state after writing v_t, not S_{t-1}."),
        ({"erase": False},
         "没有擦除：这是普通线性注意力 S += β v k^T。delta 规则先减去状态对 k 的旧记忆 S k。",
         "Nothing was erased: that is plain linear attention, S += β v k^T. The delta rule first "
         "subtracts what the state recalls for k, S k."),
    ]
    return [Mistake(formula(q, k, v, beta, **flags), zh, en) for flags, zh, en in variants
            if not (flags.get("transpose") and k.shape[-1] != v.shape[-1])]


def attach_mixing(fn, q, k, beta):
    """Learner's and reference's implied L x L mixing matrices (values = identity), first head."""
    length = q.shape[-2]
    eye = torch.eye(length).expand(*q.shape[:-1], length)
    reference = delta_rule(q.double(), k.double(), eye.double(), beta.double()).output
    try:
        learner = fn(q, k, eye.clone(), beta)
    except Exception:            # the learner's error shows in the checks that follow
        learner = None
    ok = isinstance(learner, torch.Tensor) and learner.shape == reference.shape
    attach(learner[0, 0] if ok else None, reference[0, 0])


def _check(ns, q, k, v, beta):
    fn = entry(ns, ENTRY)
    attach_mixing(fn, q, k, beta)
    got = fn(q, k, v, beta)
    expected = delta_rule(q.double(), k.double(), v.double(), beta.double()).output
    compare("输出", "output", got, expected, mistakes=mistakes(q, k, v, beta))
    return got


@case("L = 6，Dk = Dv = 4", "L = 6, Dk = Dv = 4")
def square(ns):
    _check(ns, *inputs(201))


@case("Dk = 4，Dv = 3，三个头", "Dk = 4, Dv = 3, three heads")
def rectangular(ns):
    _check(ns, *inputs(202, length=5, dk=4, dv=3, heads=3))


@case("β = 1 时同一个 key 写两次，第二次覆盖第一次",
      "with β = 1, writing a key twice replaces the first value")
def overwrite(ns):
    q, k, v, beta = inputs(203, length=4)
    k[..., 2, :] = k[..., 0, :]                       # the same key at t = 0 and t = 2
    q[..., 2, :] = k[..., 0, :]                       # and read it back at t = 2
    beta = torch.ones_like(beta)
    got = _check(ns, q, k, v, beta)
    if isinstance(got, torch.Tensor) and got.shape == v.shape:
        recalled = got[..., 2, :].double()
        if not torch.allclose(recalled, v[..., 2, :].double(), atol=1e-4):
            raise Failed("β = 1 时第二次写入同一个 key 应完全替换旧值：S k = v。",
                         "With β = 1 a second write to the same key should replace the old value: "
                         "S k = v.")
