"""Answer functions of the numeric questions (``content/12-numbers.yaml``).

Each takes the question's parameters as keyword arguments and returns a
:class:`~prep.numeric.core.Solution`: the value in the question's unit and the worked steps in
both languages. Conventions: GiB = 2**30 bytes; a multiply-add is 2 FLOPs; dtype sizes fp32 = 4,
bf16 = fp16 = 2, fp8 = 1 byte. Each function is tested against an independent computation
(``tests/test_numeric.py``): masks counted, parameter tensors summed, torch RoPE angles.
"""

from __future__ import annotations

import math

from prep.i18n import Text
from prep.numeric.core import Solution, fmt, register

DTYPE_BYTES = {"fp32": 4, "bf16": 2, "fp16": 2, "fp8": 1}
GIB = 2**30


def _bytes_of(dtype: str) -> int:
    if dtype not in DTYPE_BYTES:
        raise ValueError(f"dtype: expected one of {sorted(DTYPE_BYTES)}, got {dtype!r}")
    return DTYPE_BYTES[dtype]


def _kv_steps(per_token: int, per_token_zh: str, per_token_en: str, total: float) -> tuple:
    return (
        Text(f"每个词元每层缓存 {per_token_zh} = {fmt(per_token)} 个数。",
             f"Each token caches {per_token_en} = {fmt(per_token)} numbers per layer."),
        Text(f"总字节数 = {fmt(total)} B = {fmt(total / GIB)} GiB。",
             f"Total = {fmt(total)} B = {fmt(total / GIB)} GiB."),
    )


@register
def kv_cache_gib(layers: int, kv_heads: int, head_dim: int, seq_len: int, batch: int,
                 dtype: str) -> Solution:
    """KV cache of MHA (kv_heads = heads) or GQA: ``2 * layers * G * d_h * T * B * bytes``."""
    per_token = 2 * kv_heads * head_dim
    total = per_token * layers * seq_len * batch * _bytes_of(dtype)
    return Solution(total / GIB, (
        *_kv_steps(per_token, f"K 和 V：2 × {kv_heads} × {head_dim}",
                   f"K and V: 2 × {kv_heads} × {head_dim}", total),
        Text(f"乘以层数 {layers}、长度 {seq_len}、批大小 {batch}、{dtype} 每个数 "
             f"{_bytes_of(dtype)} 字节。",
             f"Times {layers} layers, {seq_len} tokens, batch {batch}, {_bytes_of(dtype)} bytes "
             f"per {dtype} number."),
    ))


@register
def mla_cache_gib(layers: int, latent_dim: int, rope_dim: int, seq_len: int, batch: int,
                  dtype: str) -> Solution:
    """MLA caches one latent ``c_KV`` and one shared RoPE key per token and layer."""
    per_token = latent_dim + rope_dim
    total = per_token * layers * seq_len * batch * _bytes_of(dtype)
    return Solution(total / GIB, (
        *_kv_steps(per_token, f"潜向量 {latent_dim} + 共享 RoPE 键 {rope_dim}",
                   f"the latent {latent_dim} + the shared RoPE key {rope_dim}", total),
        Text(f"乘以层数 {layers}、长度 {seq_len}、批大小 {batch}、每个数 {_bytes_of(dtype)} 字节；"
             "不再乘以 2，也不乘以头数。",
             f"Times {layers} layers, {seq_len} tokens, batch {batch}, {_bytes_of(dtype)} bytes "
             "each; no factor 2 and no head count."),
    ))


@register
def mla_vs_mha_ratio(heads: int, head_dim: int, latent_dim: int, rope_dim: int) -> Solution:
    """How many times smaller MLA's cache is than MHA's: ``2 H d_h / (d_c + d_R)``."""
    mha, mla = 2 * heads * head_dim, latent_dim + rope_dim
    return Solution(mha / mla, (
        Text(f"MHA 每词元每层：2 × {heads} × {head_dim} = {fmt(mha)}。",
             f"MHA per token and layer: 2 × {heads} × {head_dim} = {fmt(mha)}."),
        Text(f"MLA：{latent_dim} + {rope_dim} = {mla}；比值 {fmt(mha / mla)}。",
             f"MLA: {latent_dim} + {rope_dim} = {mla}; ratio {fmt(mha / mla)}."),
    ))


@register
def kv_cache_max_tokens(budget_gib: int, layers: int, kv_heads: int, head_dim: int,
                        dtype: str) -> Solution:
    """Tokens (summed over the batch) whose KV cache fits in ``budget_gib``: floor division."""
    per_token = 2 * layers * kv_heads * head_dim * _bytes_of(dtype)
    tokens = budget_gib * GIB // per_token
    return Solution(float(tokens), (
        Text(f"每个词元（所有层）：2 × {layers} × {kv_heads} × {head_dim} × {_bytes_of(dtype)} = "
             f"{fmt(per_token)} B。",
             f"Per token (all layers): 2 × {layers} × {kv_heads} × {head_dim} × "
             f"{_bytes_of(dtype)} = {fmt(per_token)} B."),
        Text(f"{budget_gib} GiB = {fmt(budget_gib * GIB)} B，向下取整得 {fmt(tokens)} 个词元。",
             f"{budget_gib} GiB = {fmt(budget_gib * GIB)} B; rounded down, {fmt(tokens)} tokens."),
    ))


@register
def attention_core_gflops(seq_len: int, d_model: int) -> Solution:
    """FLOPs of ``QK^T`` and ``PV`` for one layer's forward pass, no mask: ``4 n^2 d``."""
    flops = 4 * seq_len**2 * d_model
    return Solution(flops / 1e9, (
        Text(f"QKᵀ：每个头 n² × d_h 次乘加，所有头合计 2 n² d = "
             f"{fmt(2 * seq_len**2 * d_model)} FLOPs。",
             f"QKᵀ: n² × d_h multiply-adds per head, 2 n² d = {fmt(2 * seq_len**2 * d_model)} "
             "FLOPs over all heads."),
        Text(f"PV 同样是 2 n² d；合计 4 n² d = {fmt(flops)} = {fmt(flops / 1e9)} GFLOPs。",
             f"PV is another 2 n² d; together 4 n² d = {fmt(flops)} = {fmt(flops / 1e9)} GFLOPs."),
    ))


@register
def score_matrix_gib(seq_len: int, heads: int, batch: int, dtype: str) -> Solution:
    """Memory of the materialised score (or weight) matrix: ``B * H * n^2 * bytes``."""
    entries = batch * heads * seq_len**2
    total = entries * _bytes_of(dtype)
    return Solution(total / GIB, (
        Text(f"分数矩阵形状 (B, H, n, n) = ({batch}, {heads}, {seq_len}, {seq_len})。",
             f"The scores have shape (B, H, n, n) = ({batch}, {heads}, {seq_len}, {seq_len})."),
        Text(f"{fmt(entries)} 个元素 × {_bytes_of(dtype)} 字节 = {fmt(total)} B"
             f" = {fmt(total / GIB)} GiB。",
             f"{fmt(entries)} entries × {_bytes_of(dtype)} bytes = {fmt(total)} B"
             f" = {fmt(total / GIB)} GiB."),
    ))


@register
def window_keys_seen(position: int, window: int, sinks: int) -> Solution:
    """Keys seen by query ``i`` (0-based): ``min(i+1, w) + max(0, min(s, i+1-w))``."""
    local = min(position + 1, window)
    extra = max(0, min(sinks, position + 1 - window))
    return Solution(float(local + extra), (
        Text(f"窗口内（含自身）：min({position} + 1, {window}) = {local} 个键。",
             f"Inside the window (itself included): min({position} + 1, {window}) = {local} keys."),
        Text(f"窗口之外的 sink：max(0, min({sinks}, {position} + 1 − {window})) = {extra}；"
             f"合计 {local + extra}。",
             f"Sinks outside the window: max(0, min({sinks}, {position} + 1 − {window})) = "
             f"{extra}; total {local + extra}."),
    ))


@register
def window_mask_entries(seq_len: int, window: int) -> Solution:
    """True entries of the causal sliding-window mask: ``sum_i min(i + 1, w)``."""
    w = min(window, seq_len)
    total = w * (w + 1) // 2 + (seq_len - w) * w
    return Solution(float(total), (
        Text(f"前 {w} 行是三角形：{w}·({w}+1)/2 = {fmt(w * (w + 1) // 2)}。",
             f"The first {w} rows form a triangle: {w}·({w}+1)/2 = {fmt(w * (w + 1) // 2)}."),
        Text(f"其余 {seq_len - w} 行每行 {w} 个：合计 {fmt(total)}（完整因果掩码为 "
             f"{fmt(seq_len * (seq_len + 1) // 2)}）。",
             f"The other {seq_len - w} rows have {w} each: {fmt(total)} in all (the full causal "
             f"mask has {fmt(seq_len * (seq_len + 1) // 2)})."),
    ))


@register
def rope_angle(position: int, pair: int, head_dim: int, base: int) -> Solution:
    """RoPE angle of feature pair ``i`` at position ``p``: ``p * base^(-2i/D)`` radians."""
    theta = base ** (-2 * pair / head_dim)
    return Solution(position * theta, (
        Text(f"θ_i = {base}^(−2·{pair}/{head_dim}) = {fmt(theta, 6)} 弧度/位置。",
             f"θ_i = {base}^(−2·{pair}/{head_dim}) = {fmt(theta, 6)} rad per position."),
        Text(f"角度 = p·θ_i = {position} × {fmt(theta, 6)} = {fmt(position * theta, 6)} 弧度"
             "（不取模）。",
             f"Angle = p·θ_i = {position} × {fmt(theta, 6)} = {fmt(position * theta, 6)} rad "
             "(not reduced mod 2π)."),
    ))


@register
def rope_wavelength(pair: int, head_dim: int, base: int) -> Solution:
    """Tokens per full turn of feature pair ``i``: ``2 pi * base^(2i/D)``."""
    wavelength = 2 * math.pi * base ** (2 * pair / head_dim)
    return Solution(wavelength, (
        Text(f"θ_i = {base}^(−2·{pair}/{head_dim})，转一整圈需要 2π/θ_i 个位置。",
             f"θ_i = {base}^(−2·{pair}/{head_dim}); one full turn takes 2π/θ_i positions."),
        Text(f"波长 = 2π·{base}^({2 * pair}/{head_dim}) = {fmt(wavelength, 6)} 个词元。",
             f"Wavelength = 2π·{base}^({2 * pair}/{head_dim}) = {fmt(wavelength, 6)} tokens."),
    ))


def _alibi(heads: int) -> list[float]:
    if math.log2(heads).is_integer():
        return [2.0 ** (-8.0 * h / heads) for h in range(1, heads + 1)]
    power = 2 ** math.floor(math.log2(heads))
    return _alibi(power) + _alibi(2 * power)[0::2][: heads - power]


@register
def alibi_slope(heads: int, head: int) -> Solution:
    """ALiBi slope of head ``h`` (1-based), with the paper's recipe for non-powers of two."""
    if not 1 <= head <= heads:
        raise ValueError(f"head: expected 1..{heads}, got {head}")
    slope = _alibi(heads)[head - 1]
    if math.log2(heads).is_integer():
        how = Text(f"{heads} 是 2 的幂：m_h = 2^(−8h/{heads})。",
                   f"{heads} is a power of two: m_h = 2^(−8h/{heads}).")
    else:
        power = 2 ** math.floor(math.log2(heads))
        how = Text(f"{heads} 不是 2 的幂：前 {power} 个头用 2^(−8h/{power})，"
                   f"其余 {heads - power} 个取 "
                   f"{2 * power} 头序列中的第 1、3、5… 个。",
                   f"{heads} is not a power of two: the first {power} heads use 2^(−8h/{power}); "
                   f"the other {heads - power} take the 1st, 3rd, 5th… of the {2 * power}-head "
                   "sequence.")
    return Solution(slope, (how, Text(f"第 {head} 个头：m = {fmt(slope, 6)}。",
                                      f"Head {head}: m = {fmt(slope, 6)}.")))


@register
def flash_io_speedup(seq_len: int, head_dim: int, block_rows: int) -> Solution:
    """Upper bound on the speedup of a memory-bound attention forward from bytes moved.

    Standard: read Q, K, V, write O (4 n d) and write S, read S, write P, read P (4 n^2).
    Tiled: read Q and write O once (2 n d) and read K, V once per query block (2 n d * n / B_r).
    """
    n, d, br = seq_len, head_dim, block_rows
    standard = 4 * n * d + 4 * n * n
    tiled = 2 * n * d + 2 * n * d * math.ceil(n / br)
    return Solution(standard / tiled, (
        Text(f"标准实现搬运 4nd + 4n² = {fmt(standard)} 个元素（S 和 P 各写一次读一次）。",
             f"Standard moves 4nd + 4n² = {fmt(standard)} elements (S and P written and read "
             "once each)."),
        Text(f"分块：Q 读一次、O 写一次（2nd），K、V 每个查询块读一次（2nd·⌈n/B_r⌉）= "
             f"{fmt(tiled)}。",
             f"Tiled: Q read and O written once (2nd), K and V read once per query block "
             f"(2nd·⌈n/B_r⌉) = {fmt(tiled)}."),
        Text(f"访存受限时加速上限 = {fmt(standard)} / {fmt(tiled)} = {fmt(standard / tiled)}。",
             f"Bound for a memory-bound kernel: {fmt(standard)} / {fmt(tiled)} = "
             f"{fmt(standard / tiled)}."),
    ))


@register
def mha_params(d_model: int) -> Solution:
    """Parameters of MHA with biases: four ``d x d`` projections and four biases, ``4d^2 + 4d``."""
    total = 4 * d_model**2 + 4 * d_model
    return Solution(float(total), (
        Text(f"W_Q、W_K、W_V、W_O 各 {d_model}² = {fmt(d_model**2)}，偏置各 {d_model}。",
             f"W_Q, W_K, W_V, W_O: {d_model}² = {fmt(d_model**2)} each, plus a bias of {d_model}."),
        Text(f"4d² + 4d = {fmt(total)}；与头数无关。",
             f"4d² + 4d = {fmt(total)}; the head count does not enter."),
    ))


@register
def gqa_param_savings(d_model: int, heads: int, kv_heads: int) -> Solution:
    """Parameters GQA saves over MHA (biases included): ``2 (d + 1)(d - G d / H)``."""
    kv_dim = kv_heads * d_model // heads
    saved = 2 * (d_model + 1) * (d_model - kv_dim)
    return Solution(float(saved), (
        Text(f"K、V 投影的输出宽度从 d = {d_model} 变为 G·d_h = {kv_heads} × "
             f"{d_model // heads} = {kv_dim}。",
             f"The K and V projections shrink from d = {d_model} outputs to G·d_h = {kv_heads} × "
             f"{d_model // heads} = {kv_dim}."),
        Text(f"每个投影少 (d + 1)(d − {kv_dim})（含偏置），两个合计 {fmt(saved)}。",
             f"Each loses (d + 1)(d − {kv_dim}) (bias included); both together {fmt(saved)}."),
    ))


@register
def decode_attention_intensity(heads: int, kv_heads: int, dtype: str) -> Solution:
    """FLOPs per byte of KV cache read by one decode step: ``2 H / (G * bytes)``."""
    intensity = 2 * heads / (kv_heads * _bytes_of(dtype))
    return Solution(intensity, (
        Text("每个键：H 个查询头各做 QKᵀ 和 PV 两次乘加 = 4·H·d_h FLOPs。",
             "Per key: H query heads each do a QKᵀ and a PV multiply-add = 4·H·d_h FLOPs."),
        Text(f"读入 K 和 V：2·G·d_h·{_bytes_of(dtype)} 字节；比值 = 2H/(G·字节) = "
             f"{fmt(intensity)} FLOP/B。",
             f"It reads K and V: 2·G·d_h·{_bytes_of(dtype)} bytes; ratio 2H/(G·bytes) = "
             f"{fmt(intensity)} FLOP/B."),
    ))


@register
def decode_batch_for_ridge(peak_tflops: int, bandwidth_tbs: float, dtype: str) -> Solution:
    """Batch at which a decode matmul ``(B, d) @ (d, d)`` reaches the ridge point:
    intensity ``2B / bytes`` equals ``peak / bandwidth``."""
    ridge = peak_tflops / bandwidth_tbs
    batch = ridge * _bytes_of(dtype) / 2
    return Solution(batch, (
        Text(f"拐点 = {peak_tflops} TFLOP/s ÷ {bandwidth_tbs} TB/s = {fmt(ridge)} FLOP/B。",
             f"Ridge point = {peak_tflops} TFLOP/s ÷ {bandwidth_tbs} TB/s = {fmt(ridge)} FLOP/B."),
        Text(f"批大小 B 时每读一个权重（{_bytes_of(dtype)} 字节）做 2B FLOPs：B = {fmt(ridge)} × "
             f"{_bytes_of(dtype)} / 2 = {fmt(batch)}。",
             f"With batch B each weight read ({_bytes_of(dtype)} bytes) does 2B FLOPs: B = "
             f"{fmt(ridge)} × {_bytes_of(dtype)} / 2 = {fmt(batch)}."),
    ))


@register
def decode_step_ms(params_b: int, kv_cache_gib: int, bandwidth_tbs: float, dtype: str) -> Solution:
    """Lower bound on one decode step: read every weight and the KV cache once from HBM."""
    weights = params_b * 1e9 * _bytes_of(dtype)
    cache = kv_cache_gib * GIB
    ms = (weights + cache) / (bandwidth_tbs * 1e12) * 1e3
    return Solution(ms, (
        Text(f"权重 {params_b}B × {_bytes_of(dtype)} 字节 = {fmt(weights / 1e9)} GB，"
             f"KV 缓存 {kv_cache_gib} GiB = {fmt(cache / 1e9)} GB。",
             f"Weights {params_b}B × {_bytes_of(dtype)} bytes = {fmt(weights / 1e9)} GB; "
             f"KV cache {kv_cache_gib} GiB = {fmt(cache / 1e9)} GB."),
        Text(f"÷ {bandwidth_tbs} TB/s = {fmt(ms)} ms（每个解码步至少这么久）。",
             f"÷ {bandwidth_tbs} TB/s = {fmt(ms)} ms (every decode step takes at least this)."),
    ))
