"""Step-by-step views of the 2024-26 modules, for one head: each tensor with its formula.

Shape legend: H heads, L queries, S keys, D head dim, C MLA's latent, Dr its RoPE part,
nb key blocks.
"""

from __future__ import annotations

import torch

from prep.lab.results import Step, to_numpy


def _d(width: int, prefix: str = "d") -> list[str]:
    return [f"{prefix}{i}" for i in range(width)]


def mla_steps(module, x: torch.Tensor, weights: torch.Tensor, head: int,
              labels: list[str]) -> list[Step]:
    """What MLA caches and how keys and values come back from it (public seams only)."""
    positions = torch.arange(x.shape[1])
    latent, k_rope = module.latent(x, positions)                # (1, L, C), (1, L, Dr)
    w_uk, w_uv = module.up_weights()                            # (H, Dn, C), (H, Dv, C)
    k_nope = latent[0] @ w_uk[head].T                           # (L, C) @ (C, Dn) -> (L, Dn)
    value = latent[0] @ w_uv[head].T                            # (L, C) @ (C, Dv) -> (L, Dv)
    heads, length = weights.shape[1], x.shape[1]
    return [
        Step("latent", ("潜向量 c（缓存）", "latent c (cached)"),
             r"c^{KV} = \operatorname{RMSNorm}(X W^{DKV})", tuple(latent.shape),
             to_numpy(latent[0]), labels, _d(latent.shape[-1], "c")),
        Step("k_rope", ("共享 RoPE 键（缓存）", "shared RoPE key (cached)"),
             r"k^R = \operatorname{RoPE}(X W^{KR})", tuple(k_rope.shape), to_numpy(k_rope[0]),
             labels, _d(k_rope.shape[-1], "r")),
        Step("k_nope", ("解压出的键（朴素）", "decompressed keys (naive)"),
             r"k^C_h = c^{KV} (W^{UK}_h)^\top", (1, heads, length, k_nope.shape[-1]),
             to_numpy(k_nope), labels, _d(k_nope.shape[-1])),
        Step("v", ("解压出的值（朴素）", "decompressed values (naive)"),
             r"v_h = c^{KV} (W^{UV}_h)^\top", (1, heads, length, value.shape[-1]),
             to_numpy(value), labels, _d(value.shape[-1])),
        Step("softmax", ("权重", "weights"),
             r"P = \operatorname{softmax}\!\Big(\frac{q^C_h {k^C_h}^\top + q^R_h {k^R}^\top}"
             r"{\sqrt{d_{nope} + d_{rope}}}\Big)", tuple(weights.shape),
             to_numpy(weights[0, head]), labels, labels,
             note=("吸收形式把 W^UK 并进查询：q^C_h k^C_h = (q^C_h W^UK_h) c，直接给潜向量打分。",
                   "The absorbed form folds W^UK into the query: q^C_h k^C_h = (q^C_h W^UK_h) c "
                   "scores the latent directly.")),
    ]


def sink_steps(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, logits: torch.Tensor,
               keep: torch.Tensor | None, head: int, labels: list[str]) -> list[Step]:
    """Scores, the sink column joined, softmax over L + 1 columns, the sink dropped."""
    qh, kh, vh = q[0, head], k[0, head], v[0, head]             # (L, D) each
    scale = qh.shape[-1] ** -0.5
    scores = (qh @ kh.T) * scale                                # (L, S)
    masked = scores if keep is None else scores.masked_fill(~keep, float("-inf"))
    sink = torch.full((scores.shape[0], 1), float(logits[head]))  # (L, 1)
    joined = torch.cat([sink, masked], dim=-1)                  # (L, 1 + S)
    probabilities = torch.softmax(joined, dim=-1)               # (L, 1 + S)
    weights = probabilities[:, 1:]                              # (L, S)
    sink_labels = ["∅ sink", *labels]
    full = (1, q.shape[1], *scores.shape)
    return [
        Step("q", ("查询 Q", "queries Q"), r"Q = X W_Q", tuple(q.shape), to_numpy(qh), labels,
             _d(qh.shape[-1])),
        Step("k", ("键 K", "keys K"), r"K = X W_K", tuple(k.shape), to_numpy(kh), labels,
             _d(kh.shape[-1])),
        Step("masked", ("缩放并遮住", "scaled and masked"),
             r"z_{ij} = q_i \cdot k_j / \sqrt{d} + M_{ij}",
             full, to_numpy(masked), labels, labels),
        Step("joined", ("加上汇点列", "the sink column joined"),
             rf"[\,s_h = {float(logits[head]):.2f}"
             r"\ \big|\ z_{i\cdot}\,]", (1, q.shape[1], scores.shape[0], scores.shape[1] + 1),
             to_numpy(joined), labels, sink_labels,
             note=("每一行多出一个没有值的“键”：汇点 logit s_h（每个头一个）。",
                   "Each row gets one more, value-less key: the sink logit s_h (one per head).")),
        Step("softmax", ("对 L+1 列做 softmax", "softmax over L + 1 columns"),
             r"p_{ij} = \frac{e^{z_{ij}}}{e^{s_h} + \sum_{j'} e^{z_{ij'}}}",
             (1, q.shape[1], scores.shape[0], scores.shape[1] + 1), to_numpy(probabilities),
             labels, sink_labels),
        Step("weights", ("去掉汇点列：行和 < 1", "sink dropped: rows sum below 1"),
             r"w_{ij} = p_{ij}\ (j \ge 0), \quad \sum_j w_{ij} = 1 - p_{i,\mathrm{sink}}", full,
             to_numpy(weights), labels, labels),
        Step("output", ("输出", "output"), r"O = W V", tuple(v.shape), to_numpy(weights @ vh),
             labels, _d(vh.shape[-1])),
    ]


def differential_steps(first: torch.Tensor, second: torch.Tensor, lam: float, lambda_init: float,
                       head: int, labels: list[str]) -> list[Step]:
    shape = tuple(first.shape)
    a1, a2 = first[0, head], second[0, head]                    # (L, S) each
    difference = a1 - lam * a2                                  # (L, S)
    sums = difference.sum(dim=-1, keepdim=True)                 # (L, 1)
    return [
        Step("first", ("第一张图 A₁", "first map A₁"),
             r"A_1 = \operatorname{softmax}(Q_1 K_1^\top / \sqrt{d})", shape, to_numpy(a1),
             labels, labels),
        Step("second", ("第二张图 A₂", "second map A₂"),
             r"A_2 = \operatorname{softmax}(Q_2 K_2^\top / \sqrt{d})", shape, to_numpy(a2),
             labels, labels),
        Step("scaled_second", ("λ·A₂", "λ·A₂"),
             rf"\lambda = e^{{\lambda_{{q1}}\cdot\lambda_{{k1}}}} - e^{{\lambda_{{q2}}\cdot"
             rf"\lambda_{{k2}}}} + \lambda_{{init}} = {lam:.4f}", shape, to_numpy(lam * a2),
             labels, labels, note=(f"λ_init = 0.8 − 0.6·e^(−0.3(l−1)) = {lambda_init:.4f}。",
                                   f"λ_init = 0.8 − 0.6·e^(−0.3(l−1)) = {lambda_init:.4f}.")),
        Step("difference", ("差分图 W", "differential map W"), r"W = A_1 - \lambda A_2", shape,
             to_numpy(difference), labels, labels),
        Step("row_sums", ("行和", "row sums"), rf"\sum_j W_{{ij}} = 1 - \lambda = {1 - lam:.4f}",
             (*shape[:-1], 1), to_numpy(sums), labels, ["Σ"]),
    ]


def gate_steps(gates: torch.Tensor, output: Step, head: int) -> list[Step]:
    """After the softmax attention's output: the head's gate and the gated output."""
    gate = gates[head]                                          # (L, D)
    full = (1, *gates.shape)
    return [
        Step("gate", ("门", "gate"), r"G_h = \sigma(X W^G_h)", full, to_numpy(gate),
             output.row_labels, output.col_labels),
        Step("gated", ("门控后的输出", "gated output"), r"O'_h = O_h \odot G_h", full,
             output.values * to_numpy(gate), output.row_labels, output.col_labels,
             note=("之后才是输出投影 W_O：门在 W_V 和 W_O 之间加了一个非线性。",
                   "Only then the output projection W_O: the gate adds a non-linearity between "
                   "W_V and W_O.")),
    ]


def delta_steps(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, beta: torch.Tensor,
                weights: torch.Tensor, output: torch.Tensor, head: int,
                labels: list[str]) -> list[Step]:
    width = _d(q.shape[-1])
    return [
        Step("q", ("查询（L2 归一化）", "queries (L2-normalised)"), r"q_t = \hat{q}_t",
             tuple(q.shape),
             to_numpy(q[0, head]), labels, width),
        Step("k", ("键（L2 归一化）", "keys (L2-normalised)"), r"k_t = \hat{k}_t", tuple(k.shape),
             to_numpy(k[0, head]), labels, width),
        Step("beta", ("写入强度 β", "writing strength β"), r"\beta_t = \sigma(x_t \cdot w_\beta)",
             tuple(beta.shape), to_numpy(beta[0, head][None, :]), ["β"], labels),
        Step("w", ("隐含矩阵 W", "implied matrix W"),
             r"S_t = S_{t-1}(I - \beta_t k_t k_t^\top) + \beta_t v_t k_t^\top,\ o_t = S_t q_t"
             r" = \sum_j W_{tj} v_j", tuple(weights.shape), to_numpy(weights[0, head]), labels,
             labels),
        Step("output", ("输出", "output"), r"O = W V", tuple(output.shape),
             to_numpy(output[0, head]), labels, _d(v.shape[-1])),
    ]


def block_steps(q: torch.Tensor, scores: torch.Tensor, chosen: torch.Tensor,
                weights: torch.Tensor, head: int, labels: list[str],
                blocks: list[str]) -> list[Step]:
    return [
        Step("q", ("查询 Q", "queries Q"), r"Q = X W_Q", tuple(q.shape), to_numpy(q[0, head]),
             labels, _d(q.shape[-1])),
        Step("block_scores", ("块分数", "block scores"),
             r"g_{ib} = q_i \cdot \bar{k}_b / \sqrt{d},\ "
             r"\bar{k}_b = \operatorname{mean}_{j\in b} k_j",
             tuple(scores.shape), to_numpy(scores[0, head]), labels, blocks),
        Step("selection", ("选中的块", "chosen blocks"),
             r"\mathcal{B}_i = \{b(i)\} \cup \operatorname{topk}_{b < b(i)}\, g_{ib}",
             tuple(chosen.shape), to_numpy(chosen[0, head].float()), labels, blocks),
        Step("softmax", ("块内 softmax", "softmax inside the chosen blocks"),
             r"P_{ij} = \operatorname{softmax}_{j \in \mathcal{B}_i,\, j \le i}"
             r"(q_i k_j / \sqrt{d})",
             tuple(weights.shape), to_numpy(weights[0, head]), labels, labels),
    ]
