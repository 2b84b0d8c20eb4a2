"""Runners of the 2024-26 modules: KV cache, MLA, sinks, differential, gated, delta rule and
block-sparse. Each returns the usual LabResult (the heatmap grid, statistics, steps, source) and a
:class:`~prep.lab.module_view.ModuleView` with what teaches that mechanism; every number in it is
the package's own (``cache_elements_per_token()``, ``KVCache.numel``, ``lambda_value()``, ...).

Shape legend: H heads, G key/value heads, L queries (= keys, self-attention), E embed dim,
D = E / H head dim, C MLA's latent, nb key blocks.
"""

from __future__ import annotations

import math
from dataclasses import replace

import torch
from torch import nn

import attention
import prep.lab.kv_bytes as kv_bytes
import prep.lab.steps_modern as steps_modern
from attention.kv_cache import cache_keep_mask
from prep.i18n import Text
from prep.lab.config import LabConfig
from prep.lab.inputs import embed, init_parameters, keep_mask, token_labels
from prep.lab.module_view import Metric, ModuleView, Panel, short
from prep.lab.results import LabResult, finish, to_numpy
from prep.lab.runners import projector
from prep.lab.steps import sdpa_steps


def _init(module: nn.Module, seed: int) -> nn.Module:
    """The Lab's seeded parameters, norms' gains back at 1 (init_parameters zeroes vectors)."""
    init_parameters(module, seed)
    with torch.no_grad():
        for part in module.modules():
            if isinstance(part, nn.RMSNorm) and part.weight is not None:
                part.weight.fill_(1.0)
    return module


def _head(config: LabConfig, heads: int) -> int:
    return min(max(config.head, 0), heads - 1)


def _plain(config: LabConfig) -> LabConfig:
    return replace(config, scaled=True, temperature=1.0, alibi=False)


def _diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max())


def _attention_module(config: LabConfig) -> nn.Module:
    """MHA, or GQA when fewer key/value heads are chosen (both fill a KVCache)."""
    if config.kv_heads != config.heads:
        return attention.GroupedQueryAttention(config.embed_dim, config.heads, config.kv_heads)
    return attention.MultiHeadAttention(config.embed_dim, config.heads)


# --- KV cache ------------------------------------------------------------------------------------


def run_kv_cache(config: LabConfig, queries: list[str], keys: list[str]) -> LabResult:
    """Prefill ``config.prefill`` tokens in one block, then decode ``config.decoded`` tokens one
    at a time through a KVCache; the grid assembles each step's rows (bottom-right causal)."""
    module = _init(_attention_module(config), config.seed)
    x = embed(queries, config.embed_dim, config.seed)                        # (1, L, E)
    length = x.shape[1]
    prefill = min(config.prefill, length)
    seen = min(prefill + config.decoded, length)
    cache = attention.KVCache()
    blocks = [(0, prefill)] + [(t, t + 1) for t in range(prefill, seen)]
    weights = torch.zeros(1, config.heads, seen, seen)                       # (1, H, n, n)
    outputs, growth = [], []
    for start, stop in blocks:
        out, w = module(x[:, start:stop], is_causal=True, kv_cache=cache)  # w (1, H, l, stop)
        weights[:, :, start:stop, :stop] = w
        outputs.append(out)
        growth.append(cache.numel)
    full = module(x[:, :seen], is_causal=True)                               # one causal forward
    difference = max(_diff(torch.cat(outputs, dim=1), full.output), _diff(weights, full.weights))
    start, stop = blocks[-1]
    q, _, _ = module.project(x[:, start:stop])                               # (1, H, l, D)
    k_all, v_all = cache.parts                                               # (1, G, n, D) x2
    keep = cache_keep_mask(stop - start, start)                              # (l, n)
    float_mask = attention.masks.to_additive(keep).expand(1, config.heads, *keep.shape)
    labels = token_labels(queries[:seen])
    steps = sdpa_steps(_plain(config), q, k_all, v_all, float_mask, 1 / math.sqrt(q.shape[-1]),
                       labels[start:stop], labels, k_formula=r"K = [K_{cache};\ X_{new} W_K]",
                       v_formula=r"V = [V_{cache};\ X_{new} W_V]")
    per_token = module.cache_elements_per_token()
    view = ModuleView("kv_cache", Text("KV cache：逐个词元解码",
                                       "KV cache: decoding token by token"),
                      metrics=[
        Metric("len", Text("缓存的词元 len(cache)", "tokens held len(cache)"), len(cache),
               str(len(cache))),
        Metric("numel", Text("缓存的元素 cache.numel", "elements held cache.numel"), cache.numel,
               short(cache.numel)),
        Metric("per_token", Text("每个词元的元素", "elements per token"), per_token,
               str(per_token), Text("= module.cache_elements_per_token()",
                                     "= module.cache_elements_per_token()")),
        Metric("full_difference", Text("与一次完整因果前向的最大差",
                                       "max diff vs one full causal pass"),
               difference, short(difference)),
    ], bars=[kv_bytes.growth_bars(growth, [stop for _, stop in blocks]),
             kv_bytes.bytes_bars(config)],
        intro=Text(f"先一次 prefill {prefill} 个词元，再每次解码 1 个。第 {start}–{stop - 1} 个查询"
                   f"（最新一步）位于绝对位置 len(cache) + i，所以因果掩码右下对齐。",
                   f"Prefill {prefill} tokens in one block, then decode one at a time. The newest "
                   f"step's queries ({start}–{stop - 1}) sit at absolute position len(cache) + i, "
                   "so the causal mask is aligned bottom-right."))
    result = finish(config, queries[:seen], queries[:seen], weights, full.output, steps,
                    [attention.KVCache, cache_keep_mask, type(module)])
    return replace(result, view=view)


# --- MLA -----------------------------------------------------------------------------------------


def mla_module(config: LabConfig) -> attention.MultiHeadLatentAttention:
    head_dim = config.embed_dim // config.heads
    rope_dim = max(2, head_dim // 2 // 2 * 2)
    module = attention.MultiHeadLatentAttention(
        config.embed_dim, config.heads, kv_lora_rank=config.latent, qk_nope_head_dim=head_dim,
        qk_rope_head_dim=rope_dim, v_head_dim=head_dim)
    return _init(module, config.seed)


def run_mla(config: LabConfig, queries: list[str], keys: list[str]) -> LabResult:
    """Naive (keys and values decompressed) and absorbed (W_UK into the query, W_UV into the
    output) on the same input, and their difference."""
    module = mla_module(config)
    x = embed(queries, config.embed_dim, config.seed)                        # (1, L, E)
    causal = config.mask == "causal"
    naive = module(x, is_causal=causal)
    absorbed = module(x, is_causal=causal, absorb=True)
    head = _head(config, config.heads)
    labels = token_labels(queries)
    gap = (absorbed.weights - naive.weights)[0, head]                        # (L, L)
    per_token = module.cache_elements_per_token()
    mha = 2 * config.embed_dim
    view = ModuleView("mla", Text("MLA：朴素形式与吸收形式", "MLA: naive and absorbed forms"),
                      metrics=[
        Metric("weights_difference", Text("权重最大差", "max |Δ weights|"),
               _diff(absorbed.weights, naive.weights),
               short(_diff(absorbed.weights, naive.weights))),
        Metric("output_difference", Text("输出最大差", "max |Δ output|"),
               _diff(absorbed.output, naive.output), short(_diff(absorbed.output, naive.output))),
        Metric("per_token", Text("每词元缓存元素（MLA）", "cache elements per token (MLA)"),
               per_token, f"{per_token} = {module.kv_lora_rank} + {module.qk_rope_head_dim}"),
        Metric("mha_per_token", Text("同尺寸 MHA", "MHA at this size"), mha, f"{mha} = 2·E"),
        Metric("scale", Text("softmax 缩放", "softmax scale"), module.scale,
               f"1/√({module.qk_nope_head_dim}+{module.qk_rope_head_dim}) = {module.scale:.4f}"),
    ], panels=[
        Panel("naive", Text(f"朴素（头 {head + 1}）", f"naive (head {head + 1})"),
              to_numpy(naive.weights[0, head]), labels, labels),
        Panel("absorbed", Text(f"吸收（头 {head + 1}）", f"absorbed (head {head + 1})"),
              to_numpy(absorbed.weights[0, head]), labels, labels),
        Panel("difference", Text("吸收 − 朴素", "absorbed − naive"), to_numpy(gap), labels, labels,
              signed=True, caption=Text("只差浮点舍入：两种形式是同一个函数。",
                                        "Only floating-point rounding: both forms are one "
                                        "function.")),
    ], intro=Text("缓存只存潜向量 c 和共享的 RoPE 键；"
                  "吸收形式用 q W_UK 直接给潜向量打分，不再解压出键和值。",
                  "The cache holds only the latent c and the shared RoPE key; the absorbed form "
                  "scores the latent directly with q W_UK, never decompressing keys and values."))
    steps = steps_modern.mla_steps(module, x, naive.weights, head, labels)
    result = finish(config, queries, keys, naive.weights, naive.output, steps,
                    [attention.MultiHeadLatentAttention], encodes_positions=True)
    return replace(result, view=view)


# --- sinks ---------------------------------------------------------------------------------------


def sink_logits(config: LabConfig) -> torch.Tensor:
    """(H,): the chosen logit, spread by ±2 across the heads so that they can be compared."""
    spread = torch.linspace(-2.0, 2.0, config.heads) if config.heads > 1 else torch.zeros(1)
    return config.sink_logit + spread


def run_sink(config: LabConfig, queries: list[str], keys: list[str]) -> LabResult:
    x = embed(queries, config.embed_dim, config.seed)                        # (1, L, E)
    q, k, v = projector(config).project(x)                                   # (1, H, L, D)
    length = q.shape[2]
    keep = keep_mask(config, length, length)                                 # (L, L) or None
    logits = sink_logits(config)                                             # (H,)
    result = attention.sink_attention(q, k, v, logits, attn_mask=keep)
    share = 1.0 - result.weights.sum(dim=-1)[0]                              # (H, L)
    head = _head(config, config.heads)
    labels = token_labels(queries)
    with_sink = torch.cat([share[head, :, None], result.weights[0, head]], dim=-1)  # (L, 1 + L)
    panels = [Panel("with_sink", Text(f"头 {head + 1}：第 0 列是汇点", f"head {head + 1}: column 0 "
                                      "is the sink"), to_numpy(with_sink), labels,
                    ["∅ sink", *labels], caption=Text("汇点列 = 1 − 行和："
                                                      "这一行“不看任何键”的份额。",
                                                      "Sink column = 1 − row sum: the share of "
                                                      "the row that attends to nothing."))]
    sources = [attention.sink_attention]
    if config.mask == "streaming":
        panels.append(Panel("keep", Text("流式掩码（1 = 保留）", "streaming mask (1 = kept)"),
                            to_numpy(keep.float()), labels, labels))
        sources.append(attention.masks.streaming_mask)
    sums = result.weights.sum(dim=-1)[0]                                     # (H, L)
    view = ModuleView("sink", Text("注意力汇点：行和小于 1", "Attention sinks: rows sum below 1"),
                      metrics=[
        Metric("max_row_sum", Text("最大行和", "largest row sum"), float(sums.max()),
               f"{float(sums.max()):.4f}"),
        Metric("mean_sink_share", Text("汇点平均份额", "mean sink share"), float(share.mean()),
               f"{float(share.mean()):.4f}"),
    ], panels=panels, table={
        Text("头", "head"): list(range(1, config.heads + 1)),
        Text("汇点 logit", "sink logit"): [round(float(s), 2) for s in logits],
        Text("汇点份额（平均）", "sink share (mean)"): [round(float(s), 4) for s in share.mean(-1)],
        Text("行和（最小）", "row sum (min)"): [round(float(s), 4) for s in sums.min(-1).values],
    })
    steps = steps_modern.sink_steps(q, k, v, logits, keep, head, labels)
    lab_result = finish(config, queries, keys, result.weights, result.output, steps, sources)
    return replace(lab_result, view=view)


# --- differential --------------------------------------------------------------------------------


def run_differential(config: LabConfig, queries: list[str], keys: list[str]) -> LabResult:
    """The module's two softmax maps, lambda and their difference (the weights it returns)."""
    module = _init(attention.DifferentialAttention(config.embed_dim, config.heads,
                                                   depth=config.depth), config.seed)
    x = embed(queries, config.embed_dim, config.seed)                        # (1, L, E)
    causal = config.mask == "causal"
    result = module(x, is_causal=causal)
    first, second, lam = module.maps(x, is_causal=causal)                   # (1, H, L, L) x2, ()
    head = _head(config, config.heads)
    labels = token_labels(queries)
    sums = result.weights.sum(dim=-1)[0]                                     # (H, L)
    lam = float(lam)
    view = ModuleView("differential", Text("差分注意力：两张图相减", "Differential attention: "
                                           "one map minus another"), metrics=[
        Metric("lambda", Text("λ", "λ"), lam, f"{lam:.4f}"),
        Metric("lambda_init", Text(f"λ_init（第 {config.depth} 层）", f"λ_init (depth "
                                   f"{config.depth})"), module.lambda_init,
               f"{module.lambda_init:.4f}", Text("0.8 − 0.6·exp(−0.3·(l−1))",
                                                  "0.8 − 0.6·exp(−0.3·(l−1))")),
        Metric("row_sum", Text("行和（= 1 − λ）", "row sums (= 1 − λ)"), float(sums.mean()),
               f"{float(sums.min()):.4f} … {float(sums.max()):.4f}"),
        Metric("map_difference", Text("max |W − (A₁ − λA₂)|", "max |W − (A₁ − λA₂)|"),
               _diff(result.weights, first - lam * second),
               short(_diff(result.weights, first - lam * second))),
    ], panels=[
        Panel("first", Text(f"A₁（头 {head + 1}）", f"A₁ (head {head + 1})"),
              to_numpy(first[0, head]), labels, labels),
        Panel("second", Text(f"A₂（头 {head + 1}）", f"A₂ (head {head + 1})"),
              to_numpy(second[0, head]), labels, labels),
        Panel("difference", Text(f"W = A₁ − {lam:.3f}·A₂", f"W = A₁ − {lam:.3f}·A₂"),
              to_numpy(result.weights[0, head]), labels, labels, signed=True,
              caption=Text("两张图共有的部分相互抵消；负值表示第二张图更强。",
                           "What both maps share cancels; negative cells are where the second "
                           "map is stronger.")),
    ], intro=Text("热力图网格画的是差分图 W（可以为负，所以颜色从最小值开始）。"
                  "熵对有正有负的图没有定义。",
                  "The grid draws the differential map W (it can be negative, so the colour "
                  "scale starts at its minimum). Entropy is not defined for a signed map."))
    steps = steps_modern.differential_steps(first, second, lam, module.lambda_init, head, labels)
    lab_result = finish(config, queries, keys, result.weights, result.output, steps,
                        [attention.DifferentialAttention, attention.differential_attention])
    return replace(lab_result, view=view)


# --- gated ---------------------------------------------------------------------------------------


def run_gated(config: LabConfig, queries: list[str], keys: list[str]) -> LabResult:
    module = _init(attention.GatedAttention(config.embed_dim, config.heads), config.seed)
    x = embed(queries, config.embed_dim, config.seed)                        # (1, L, E)
    keep = keep_mask(config, x.shape[1], x.shape[1])                         # (L, L) or None
    result = module(x, attn_mask=keep)
    gates = module.gates(x)[0]                                               # (H, L, D)
    labels = token_labels(queries)
    head_labels = [f"h{h + 1}" for h in range(config.heads)]
    view = ModuleView("gated", Text("门控注意力：每个头的输出门", "Gated attention: each head's "
                                    "output gate"), metrics=[
        Metric("mean_gate", Text("平均门值", "mean gate"), float(gates.mean()),
               f"{float(gates.mean()):.3f}"),
        Metric("closed", Text("门值 < 0.1 的比例", "share of gates < 0.1"),
               float((gates < 0.1).float().mean()), f"{float((gates < 0.1).float().mean()):.1%}"),
    ], panels=[
        Panel("gate_positions", Text("平均门值：头 × 位置", "mean gate: head x position"),
              to_numpy(gates.mean(dim=-1)), head_labels, labels),
        Panel("gate_channels", Text("平均门值：头 × 通道", "mean gate: head x channel"),
              to_numpy(gates.mean(dim=1)), head_labels,
              [f"d{i}" for i in range(gates.shape[-1])]),
    ], intro=Text("权重就是普通 softmax；门 σ(X W_G) 在输出投影之前逐头、逐通道地缩放注意力输出，"
                  "接近 0 的门让一个头“什么都不输出”，不必把注意力堆到第一个词元上。",
                  "The weights are the plain softmax; the gate σ(X W_G) scales each head's "
                  "attention output per feature before the output projection. A gate near 0 lets "
                  "a head output nothing, without parking attention on the first token."))
    q, k, v = module.project(x)                                              # (1, H, L, D)
    float_mask = None if keep is None else attention.masks.to_additive(keep).expand(
        1, config.heads, *keep.shape)
    steps = sdpa_steps(_plain(config), q, k, v, float_mask, 1 / math.sqrt(q.shape[-1]),
                       labels, labels)
    steps += steps_modern.gate_steps(gates, steps[-1], _head(config, config.heads))
    lab_result = finish(config, queries, keys, result.weights, result.output, steps,
                        [attention.GatedAttention])
    return replace(lab_result, view=view)
