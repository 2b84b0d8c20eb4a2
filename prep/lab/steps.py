"""Step builders of the step-by-step view: the tensors one head goes through, with formulas.

Shape legend: B batch (always 1 here), H query heads, G key/value heads, L queries, S keys,
D head dim, A additive attention's hidden size.
"""

from __future__ import annotations

import torch

from attention import masks
from attention.functional import masked_softmax
from attention.linear import elu_feature_map
from prep.lab.config import LabConfig
from prep.lab.inputs import token_labels
from prep.lab.results import Step, to_numpy


def sdpa_steps(
    config: LabConfig,
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    float_mask: torch.Tensor | None,
    scale: float,
    q_labels: list[str],
    k_labels: list[str],
    q_formula: str = r"Q = X W_Q",
    k_formula: str = r"K = X W_K",
    v_formula: str = r"V = X W_V",
) -> list[Step]:
    """The eight steps for head `config.head` of q (B, H, L, D), k and v (B, G, S, D)."""
    heads, kv_heads = q.shape[1], k.shape[1]
    head = min(max(config.head, 0), heads - 1)
    kv_head = head // (heads // kv_heads)
    qh, kh, vh = q[0, head], k[0, kv_head], v[0, kv_head]         # (L, D), (S, D), (S, D)
    raw = qh @ kh.transpose(0, 1)                                 # (L, S)
    scaled = raw * scale
    head_mask = None if float_mask is None else float_mask[0, head]          # (L, S)
    masked = scaled if head_mask is None else scaled + head_mask
    softmax = masked_softmax(scaled.float(), head_mask)  # (L, S); a fully masked row gives 0
    output = softmax @ vh                                         # (L, D)
    batch, length, width = q.shape[0], q.shape[2], q.shape[3]
    keys = k.shape[2]
    full_scores = (batch, heads, length, keys)
    d_labels = [f"d{i}" for i in range(width)]
    temperature = "" if config.temperature == 1 else r"\,T"
    scale_text = (
        rf"\frac{{1}}{{\sqrt{{d_k}}{temperature}}} = {scale:.4g}" if config.scaled
        else rf"\frac{{1}}{{{config.temperature:g}}} = {scale:.4g}"
    )
    return [
        Step("q", ("查询 Q", "queries Q"), q_formula, tuple(q.shape), to_numpy(qh),
             q_labels, d_labels),
        Step("k", ("键 K", "keys K"), k_formula, tuple(k.shape), to_numpy(kh),
             k_labels, d_labels),
        Step("v", ("值 V", "values V"), v_formula, tuple(v.shape), to_numpy(vh),
             k_labels, d_labels),
        Step("raw", ("原始分数", "raw scores"), r"S = Q K^\top", full_scores, to_numpy(raw),
             q_labels, k_labels),
        Step("scaled", ("缩放", "scaled"), rf"S' = S \cdot {scale_text}", full_scores,
             to_numpy(scaled), q_labels, k_labels),
        Step("masked", ("掩码", "masked"), r"S'' = S' + M" + (r" + B" if config.alibi else ""),
             full_scores, to_numpy(masked), q_labels, k_labels, note=(
                 "M_ij = 0（可以关注）或 −∞（被遮住）" + ("；B 为 ALiBi 的线性距离偏置"
                                                     if config.alibi else "") + "。",
                 "M_ij = 0 (may attend) or −∞ (masked)" + ("; B is ALiBi's linear distance bias"
                                                          if config.alibi else "") + ".")),
        Step("softmax", ("softmax", "softmax"),
             r"P_{ij} = \frac{e^{S''_{ij}}}{\sum_{j'} e^{S''_{ij'}}}",
             full_scores, to_numpy(softmax), q_labels, k_labels,
             note=("整行都被遮住时，这一行为 0（不是 NaN）。",
                   "A fully masked row gives 0 (not NaN).")),
        Step("output", ("输出", "output"), r"O = P V", (batch, heads, length, v.shape[3]),
             to_numpy(output), q_labels, d_labels),
    ]



def additive_steps(
    module: torch.nn.Module, x: torch.Tensor, context: torch.Tensor,
    keep: torch.Tensor | None, queries: list[str], keys: list[str],
) -> list[Step]:
    """Bahdanau's steps, recomputed from the module's own layers."""
    q = module.query_linear(x)[0]                                            # (L, A)
    k = module.key_linear(context)[0]                                        # (S, A)
    v = context[0]                                                           # (S, Dv)
    hidden = torch.tanh(q[:, None, :] + k[None, :, :])                       # (L, S, A)
    raw = module.score(hidden).squeeze(-1)                                   # (L, S)
    masked = raw if keep is None else raw + masks.to_additive(keep)
    weights = masked_softmax(raw, keep)                                      # (L, S)
    output = weights @ v                                                     # (L, Dv)
    q_labels, k_labels = token_labels(queries), token_labels(keys)
    a_labels = [f"a{i}" for i in range(q.shape[-1])]
    d_labels = [f"d{i}" for i in range(v.shape[-1])]
    length, source = q.shape[0], k.shape[0]
    full = (1, length, source)
    return [
        Step("q", ("投影查询", "projected queries"), r"Q' = X W_q", (1, *q.shape), to_numpy(q),
             q_labels, a_labels),
        Step("k", ("投影键", "projected keys"), r"K' = X W_k + b", (1, *k.shape), to_numpy(k),
             k_labels, a_labels),
        Step("v", ("值 V", "values V"), r"V = X", (1, *v.shape), to_numpy(v), k_labels, d_labels),
        Step("raw", ("加性分数", "additive scores"), r"e_{ij} = w^\top \tanh(Q'_i + K'_j)",
             full, to_numpy(raw), q_labels, k_labels),
        Step("masked", ("掩码", "masked"), r"e'_{ij} = e_{ij} + M_{ij},\ M_{ij} \in \{0,-\infty\}",
             full, to_numpy(masked), q_labels, k_labels),
        Step("softmax", ("softmax", "softmax"), r"\alpha_{ij} = \operatorname{softmax}_j(e'_{ij})",
             full, to_numpy(weights), q_labels, k_labels),
        Step("output", ("输出", "output"), r"c_i = \sum_j \alpha_{ij} V_j", (1, *output.shape),
             to_numpy(output), q_labels, d_labels),
    ]


def linear_steps(
    config: LabConfig, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
    weights: torch.Tensor, output: torch.Tensor, queries: list[str],
) -> list[Step]:
    """Linear attention's steps for head `config.head` of q (B, H, L, D), k and v (B, H, S, D);
    ``weights`` (B, H, L, S) are the normalised weights ``linear_attention(need_weights=True)``
    returned, ``output`` its linear-time output."""
    heads = q.shape[1]
    causal = config.mask == "causal"
    phi_q, phi_k = elu_feature_map(q), elu_feature_map(k)                    # (1, H, L|S, D)
    kernel = phi_q @ phi_k.transpose(-2, -1)                                 # (1, H, L, S)
    scores = kernel
    if causal:
        scores = kernel.masked_fill(~masks.causal_mask(q.shape[2], k.shape[2]), 0.0)
    head = min(max(config.head, 0), heads - 1)
    labels = token_labels(queries)
    d_labels = [f"d{i}" for i in range(q.shape[-1])]
    full = tuple(scores.shape)
    return [
        Step("q", ("特征 φ(Q)", "features φ(Q)"), r"\phi(Q) = \operatorname{elu}(X W_Q) + 1",
             tuple(q.shape), to_numpy(phi_q[0, head]), labels, d_labels),
        Step("k", ("特征 φ(K)", "features φ(K)"), r"\phi(K) = \operatorname{elu}(X W_K) + 1",
             tuple(k.shape), to_numpy(phi_k[0, head]), labels, d_labels),
        Step("v", ("值 V", "values V"), r"V = X W_V", tuple(v.shape), to_numpy(v[0, head]),
             labels, d_labels),
        Step("raw", ("核分数", "kernel scores"), r"A = \phi(Q)\,\phi(K)^\top", full,
             to_numpy(kernel[0, head]), labels, labels),
        Step("masked", ("掩码（乘 0）", "masked (times 0)"),
             r"A_{ij} = 0 \quad (j > i)" if causal else r"A", full,
             to_numpy(scores[0, head]), labels, labels,
             note=None if causal else ("没有掩码。", "No mask.")),
        Step("softmax", ("归一化（不是 softmax）", "normalised (not softmax)"),
             r"P_{ij} = \frac{A_{ij}}{\sum_{j'} A_{ij'}}", full, to_numpy(weights[0, head]),
             labels, labels),
        Step("output", ("输出", "output"),
             r"O_i = \frac{\phi(q_i)^\top \sum_j \phi(k_j) v_j^\top}"
             r"{\phi(q_i)^\top \sum_j \phi(k_j)}",
             tuple(output.shape), to_numpy(output[0, head]), labels, d_labels),
    ]
