r"""The delta rule: linear attention whose state is corrected, not only added to.

.. math::

    S_t = \alpha_t\, S_{t-1} \left(I - \beta_t k_t k_t^\top\right) + \beta_t v_t k_t^\top,
    \qquad o_t = S_t q_t

``S`` is a ``Dv x Dk`` fast-weight memory. Each step first removes what the memory returned for
``k_t`` (a step of size ``beta_t`` on ``||S k_t - v_t||^2``), then writes ``v_t``; ``alpha_t``
(``decay``) forgets. Without ``decay`` this is DeltaNet (Schlag et al., 2021,
https://arxiv.org/abs/2102.11174; Yang et al., 2024, https://arxiv.org/abs/2406.06484); with it,
Gated DeltaNet (Yang et al., 2024, https://arxiv.org/abs/2412.06464), the linear layer of
Qwen3-Next. Nothing is scaled or normalised inside: callers L2-normalise keys (then, with beta in
[0, 1], ``I - beta k k^T`` is a contraction and the recurrence is stable) and scale queries.

Chunkwise-parallel form (``chunk_size``): inside a chunk with state ``S_0`` at its start and
cumulative decay ``gamma_t = alpha_1 ... alpha_t``, write
``S_t = gamma_t S_0 + sum_{i<=t} (gamma_t / gamma_i) u_i k_i^T``. The pseudo-values ``u`` solve
one unit lower-triangular system (the UT transform of the WY representation)

.. math::

    (I + \mathrm{diag}(\beta) A)\, U = \mathrm{diag}(\beta)\,(V - \mathrm{diag}(\gamma) K S_0^\top),
    \qquad A_{ti} = \tfrac{\gamma_t}{\gamma_i}\, k_t \cdot k_i \ (i < t), \ 0 \text{ otherwise}

and then ``O = diag(gamma) Q S_0^T + (Gamma * Q K^T)_{i<=t} U``: matrix products instead of L
sequential rank-one updates. Any chunk size gives the same result; the last chunk may be shorter.

The output is linear in the values: ``output = W @ value`` for a lower-triangular ``L x L``
matrix ``W`` that depends on q, k, beta and decay only; ``need_weights=True`` returns it (found by
running the same computation with the identity as values), to draw beside softmax attention.

Shape legend:
    N... batch dimensions, L sequence length, Dk query/key features, Dv value features,
    C chunk length.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from attention._checks import argument_error, check_positive_int, check_tensor, shape_str
from attention.functional import AttentionOutput


def delta_rule(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    beta: Tensor,
    *,
    decay: Tensor | None = None,
    chunk_size: int | None = None,
    need_weights: bool = False,
) -> AttentionOutput:
    """Causal (Gated) DeltaNet over a sequence, recurrent or chunkwise.

    Args:
        query, key: ``(N..., L, Dk)``.
        value: ``(N..., L, Dv)``.
        beta: ``(N..., L)``, writing strengths in [0, 1].
        decay: ``(N..., L)`` in (0, 1], the forget gates alpha_t; None means 1 (DeltaNet).
        chunk_size: None runs the recurrence step by step; an int runs the chunkwise form.
        need_weights: also return the implied ``(N..., L, L)`` lower-triangular mixing matrix.
    Returns:
        ``AttentionOutput(output (N..., L, Dv), weights (N..., L, L) or None)``, in query's dtype
        (computed in float32 at least).
    """
    query = check_tensor("query", query, min_ndim=2)
    key = check_tensor("key", key, min_ndim=2)
    value = check_tensor("value", value, min_ndim=2)
    if key.shape != query.shape:
        raise argument_error("key", f"query's shape {shape_str(query.shape)}",
                             shape_str(key.shape))  # fmt: skip
    if value.shape[:-1] != query.shape[:-1]:
        raise argument_error("value", f"shape (N..., L, Dv) with (N..., L) = "
                             f"{shape_str(query.shape[:-1])}", shape_str(value.shape))  # fmt: skip
    beta = _check_gate("beta", beta, query.shape[:-1], "in [0, 1]", lambda g: (g >= 0) & (g <= 1))
    if decay is not None:
        decay = _check_gate("decay", decay, query.shape[:-1], "in (0, 1]",
                            lambda g: (g > 0) & (g <= 1))  # fmt: skip
    if chunk_size is not None:
        chunk_size = check_positive_int("chunk_size", chunk_size)
    dtype = torch.promote_types(query.dtype, torch.float32)
    q, k, v, b = (t.to(dtype) for t in (query, key, value, beta))
    log_decay = torch.zeros_like(b) if decay is None else decay.to(dtype).log()  # (N..., L)
    run = _recurrent if chunk_size is None else _chunkwise
    output = run(q, k, v, b, log_decay, chunk_size).to(query.dtype)  # (N..., L, Dv)
    weights = None
    if need_weights:
        length = query.size(-2)
        identity = torch.eye(length, dtype=dtype, device=query.device)
        identity = identity.expand(*query.shape[:-1], length)  # (N..., L, L) as values
        weights = run(q, k, identity, b, log_decay, chunk_size).to(query.dtype)  # (N..., L, L)
    return AttentionOutput(output, weights)


def _check_gate(
    name: str, gate: object, shape: torch.Size, expected: str, valid: Callable[[Tensor], Tensor]
) -> Tensor:
    gate = check_tensor(name, gate)
    if gate.shape != shape:
        raise argument_error(name, f"shape {shape_str(shape)} (query's N..., L)",
                             shape_str(gate.shape))  # fmt: skip
    if not bool(valid(gate).all()):
        raise argument_error(name, f"values {expected}",
                             f"min {gate.min().item():.4g}, max {gate.max().item():.4g}")
    return gate


def _recurrent(q: Tensor, k: Tensor, v: Tensor, b: Tensor, log_decay: Tensor,
               chunk_size: int | None) -> Tensor:  # fmt: skip
    """One rank-one update per token: ``S = a S + beta (v - a S k) k^T``, ``o = S q``."""
    *batch, length, key_dim = k.shape
    state = k.new_zeros(*batch, v.size(-1), key_dim)  # (N..., Dv, Dk)
    alpha = log_decay.exp()  # (N..., L)
    outputs = []
    for t in range(length):
        state = state * alpha[..., t, None, None]  # forget: (N..., Dv, Dk)
        k_t = k[..., t, :]  # (N..., Dk)
        recalled = (state @ k_t[..., None])[..., 0]  # (N..., Dv, Dk) @ (N..., Dk, 1) -> (N..., Dv)
        correction = b[..., t, None] * (v[..., t, :] - recalled)  # (N..., Dv)
        state = state + correction[..., :, None] * k_t[..., None, :]  # (N..., Dv, Dk)
        outputs.append((state @ q[..., t, :, None])[..., 0])  # (N..., Dv)
    return torch.stack(outputs, dim=-2)  # (N..., L, Dv)


def _chunkwise(q: Tensor, k: Tensor, v: Tensor, b: Tensor, log_decay: Tensor,
               chunk_size: int | None) -> Tensor:  # fmt: skip
    """The same outputs, one chunk of C tokens at a time (see the module docstring)."""
    *batch, length, key_dim = k.shape
    state = k.new_zeros(*batch, v.size(-1), key_dim)  # S_0: (N..., Dv, Dk)
    outputs = []
    for start in range(0, length, chunk_size or length):
        end = min(start + (chunk_size or length), length)
        q_c, k_c, v_c, b_c = q[..., start:end, :], k[..., start:end, :], v[..., start:end, :], \
            b[..., start:end]  # fmt: skip
        size = end - start
        log_gamma = log_decay[..., start:end].cumsum(dim=-1)  # (N..., C): log gamma_t
        gamma = log_gamma.exp()  # (N..., C)
        # Gamma_ti = gamma_t / gamma_i for i <= t; exp of a masked difference never overflows.
        lower = torch.ones(size, size, dtype=torch.bool, device=k.device).tril()  # (C, C)
        log_ratio = log_gamma[..., :, None] - log_gamma[..., None, :]  # (N..., C, C)
        ratio = torch.where(lower, log_ratio, torch.full_like(log_ratio, float("-inf"))).exp()
        strict = ratio.masked_fill(torch.eye(size, dtype=torch.bool, device=k.device), 0.0)
        # A = strictly lower (Gamma * K K^T): (N..., C, Dk) @ (N..., Dk, C) -> (N..., C, C)
        system = torch.eye(size, dtype=k.dtype, device=k.device) + b_c[..., :, None] * (
            strict * (k_c @ k_c.transpose(-2, -1)))  # fmt: skip
        # Right side: diag(beta) (V - diag(gamma) K S_0^T): (N..., C, Dv)
        recalled = gamma[..., :, None] * (k_c @ state.transpose(-2, -1))  # (N..., C, Dv)
        rhs = b_c[..., :, None] * (v_c - recalled)  # (N..., C, Dv)
        pseudo_values = torch.linalg.solve_triangular(system, rhs, upper=False,
                                                      unitriangular=True)  # (N..., C, Dv)
        # O = diag(gamma) Q S_0^T + (Gamma * Q K^T) U, Gamma lower-triangular incl. diagonal
        inter = gamma[..., :, None] * (q_c @ state.transpose(-2, -1))  # (N..., C, Dv)
        intra = (ratio * (q_c @ k_c.transpose(-2, -1))) @ pseudo_values  # (N..., C, Dv)
        outputs.append(inter + intra)
        # S_C = gamma_C S_0 + sum_i (gamma_C / gamma_i) u_i k_i^T: (N..., Dv, C) @ (N..., C, Dk)
        to_end = ratio[..., -1, :]  # (N..., C): gamma_C / gamma_i
        state = gamma[..., -1, None, None] * state + (
            pseudo_values * to_end[..., :, None]).transpose(-2, -1) @ k_c  # fmt: skip
    return torch.cat(outputs, dim=-2)  # (N..., L, Dv)
