"""The Lab's logic: a configuration, its URL form, and one run of an `attention` module.

No Streamlit here. The page reads widgets into a :class:`LabConfig`, calls :func:`run`, and draws
the :class:`LabResult` with the figure builders at the bottom of this file.

Inputs are deterministic: a token's embedding depends only on the token's text and the seed, and
every module's parameters are drawn from a generator seeded with the seed (normal, std
1/sqrt(fan_in), zero biases), so a link reproduces exactly what its author saw.

Shape legend: B batch (always 1 here), H query heads, G key/value heads, L queries, S keys,
E embed dim, D = E / H head dim.
"""

from __future__ import annotations

import base64
import functools
import html
import inspect
import math
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import plotly.graph_objects as go
import torch

import attention
from attention import masks, positional, viz
from attention.functional import masked_softmax
from attention.linear import elu_feature_map

# --- the modules offered, keyed by the name used in the URL -------------------------------------

SDPA = "scaled_dot_product_attention"
MHA = "MultiHeadAttention"
CROSS = "InteractiveAttention"
GQA = "GroupedQueryAttention"
ADDITIVE = "AdditiveAttention"
SLIDING = "sliding_window"
ROPE = "rope"
ALIBI = "alibi"
TILED = "tiled_attention"
LINEAR = "linear_attention"

MODULES: tuple[str, ...] = (SDPA, MHA, CROSS, GQA, ADDITIVE, SLIDING, ROPE, ALIBI, TILED, LINEAR)

MODULE_LABELS: dict[str, tuple[str, str]] = {
    SDPA: ("缩放点积注意力", "Scaled dot-product"),
    MHA: ("多头自注意力", "Multi-head self-attention"),
    CROSS: ("交叉注意力", "Cross-attention"),
    GQA: ("分组查询 / 多查询 (GQA / MQA)", "Grouped-query / multi-query (GQA / MQA)"),
    ADDITIVE: ("加性注意力 (Bahdanau)", "Additive (Bahdanau)"),
    SLIDING: ("滑动窗口", "Sliding window"),
    ROPE: ("旋转位置编码 (RoPE)", "Rotary positions (RoPE)"),
    ALIBI: ("ALiBi 线性偏置", "ALiBi linear biases"),
    TILED: ("分块注意力 (FlashAttention 算法)", "Tiled attention (FlashAttention algorithm)"),
    LINEAR: ("线性注意力", "Linear attention"),
}

# Other names a link may use (exports of `attention` and short forms) -> a Lab module.
MODULE_ALIASES: dict[str, str] = {
    "sdpa": SDPA,
    "mha": MHA,
    "SelfAttention": MHA,
    "self": MHA,
    "cross": CROSS,
    "gqa": GQA,
    "mqa": GQA,
    "additive": ADDITIVE,
    "bahdanau": ADDITIVE,
    "sliding_window_mask": SLIDING,
    "sliding": SLIDING,
    "apply_rope": ROPE,
    "alibi_bias": ALIBI,
    "alibi_slopes": ALIBI,
    "tiled": TILED,
    "flash": TILED,
    "linear": LINEAR,
    "causal_mask": SDPA,
    "padding_mask": SDPA,
    "masks": SDPA,
    "positional": ROPE,
    "sinusoidal_encoding": SDPA,
    "repeat_kv": GQA,
}

# Modules that run the functional core on per-head Q, K, V of our own projections.
_FUNCTIONAL = frozenset({SDPA, SLIDING, ROPE, ALIBI, TILED})

# Which settings a module uses; the page disables the others.
FEATURES: dict[str, frozenset[str]] = {
    SDPA: frozenset({"heads", "mask", "scale", "rope", "alibi"}),
    MHA: frozenset({"heads", "mask"}),
    CROSS: frozenset({"heads", "mask", "text2"}),
    GQA: frozenset({"heads", "kv_heads", "mask"}),
    ADDITIVE: frozenset({"mask"}),
    SLIDING: frozenset({"heads", "mask", "scale", "rope", "alibi"}),
    ROPE: frozenset({"heads", "mask", "scale", "rope", "alibi"}),
    ALIBI: frozenset({"heads", "mask", "scale", "rope", "alibi"}),
    TILED: frozenset({"heads", "mask", "scale", "rope", "alibi", "block_size"}),
    LINEAR: frozenset({"heads", "mask"}),
}

MASKS: tuple[str, ...] = ("none", "causal", "padding", "sliding")
MASK_LABELS: dict[str, tuple[str, str]] = {
    "none": ("无", "none"),
    "causal": ("因果", "causal"),
    "padding": ("填充", "padding"),
    "sliding": ("滑动窗口", "sliding window"),
}
TOKEN_SOURCES: tuple[str, ...] = ("text", "random")

# --- limits offered by the page (and checked here) ----------------------------------------------

EMBED_DIMS: tuple[int, ...] = (8, 12, 16, 24, 32, 48, 64, 96, 128, 256, 512)
MAX_HEADS = 16
MAX_TOKENS = 256
MAX_SEED = 2**31 - 1
MIN_TEMPERATURE = 0.05
MAX_TEMPERATURE = 10.0
MAX_STEP_TOKENS = 32     # the step-by-step view shows at most this many rows and columns
COLORSCALE = viz.DEFAULT_COLORSCALE
AVERAGE_MARKER = "#E69F00"  # Okabe-Ito orange: distinct from Viridis for colour-blind readers
PANEL_PX = 260              # height of a small figure, in pixels
RANDOM_VOCAB: tuple[str, ...] = (
    "the", "a", "cat", "dog", "sat", "on", "mat", "ran", "to", "park", "and", "it", "was", "big",
    "red", "ball", "he", "she", "saw", "bird", "in", "tree", "of", "sun", "day", "we", "go", "home",
)


@dataclass(frozen=True)
class LabConfig:
    """Everything one Lab run depends on; each field is also a URL query parameter."""

    module: str = MHA                     # a key of MODULES
    tokens: str = "text"                  # "text": the typed sentence; "random": random tokens
    text: str = "the cat sat on the mat because the mat was warm"
    text2: str = "le chat est sur le tapis"  # keys and values of cross-attention
    seq_len: int = 12                     # number of random tokens
    embed_dim: int = 32                   # E
    heads: int = 4                        # H, query heads
    kv_heads: int = 2                     # G, key/value heads (GQA; 1 is MQA)
    mask: str = "none"                    # one of MASKS
    window: int = 3                       # sliding window width: query i sees keys i-window+1..i
    pad: int = 2                          # padding: the last `pad` tokens are padding
    scaled: bool = True                   # divide scores by sqrt(D)
    temperature: float = 1.0              # and by this temperature
    rope: bool = False                    # rotate Q and K by position (RoPE)
    alibi: bool = False                   # add ALiBi's linear distance bias
    block_size: int = 4                   # tiled attention's block
    seed: int = 0
    head: int = 0                         # the head of the step-by-step view
    query: int = 0                        # the query token whose row is drawn as bars

    def to_query_params(self, base: LabConfig | None = None, prefix: str = "") -> dict[str, str]:
        """The URL form; with ``base``, only the fields that differ from it."""
        params = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if base is not None and getattr(base, f.name) == value:
                continue
            params[prefix + f.name] = _format_value(value)
        return params

    @classmethod
    def from_query_params(
        cls, params: Mapping[str, Any], base: LabConfig | None = None, prefix: str = ""
    ) -> LabConfig:
        """Read a URL; unknown or unreadable values fall back to ``base`` (or the module's
        defaults). Impossible combinations are kept, so that run() can say what is wrong."""
        module_value = _first(params.get(prefix + "module"))
        if base is None:
            base = defaults_for(resolve_module(module_value) or MHA)
        elif module_value is not None and resolve_module(module_value):
            base = replace(base, module=resolve_module(module_value))
        changes: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "module":
                continue
            raw = _first(params.get(prefix + f.name))
            if raw is None:
                continue
            parsed = _parse_value(raw, type(getattr(base, f.name)))
            if parsed is not None:
                changes[f.name] = parsed
        return replace(base, **changes)


def _first(value: Any) -> str | None:
    if isinstance(value, list | tuple):
        return str(value[0]) if value else None
    return None if value is None else str(value)


def _format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _parse_value(raw: str, kind: type) -> Any:
    try:
        if kind is bool:
            lowered = raw.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
            return None
        if kind is int:
            return int(raw)
        if kind is float:
            value = float(raw)
            return value if math.isfinite(value) else None
        return raw
    except ValueError:
        return None


def resolve_module(name: str | None) -> str | None:
    """The Lab module for a URL value or an `attention` export name; None if unknown."""
    if name is None:
        return None
    if name in MODULES:
        return name
    return MODULE_ALIASES.get(name) or MODULE_ALIASES.get(name.lower())


def defaults_for(module: str) -> LabConfig:
    """The default configuration of a module (what a picker change or a bare link shows)."""
    config = LabConfig(module=module)
    if module == GQA:
        return replace(config, heads=8, kv_heads=2)
    if module == SLIDING:
        return replace(config, mask="sliding", window=3)
    if module == ROPE:
        return replace(config, rope=True)
    if module == ALIBI:
        return replace(config, alibi=True, mask="causal")
    if module == TILED:
        return replace(config, mask="causal")
    if module == ADDITIVE:
        return replace(config, heads=1)
    return config


def uses(config: LabConfig, feature: str) -> bool:
    """Whether the configured module takes this setting into account."""
    return feature in FEATURES[config.module]


def head_count(config: LabConfig) -> int:
    return config.heads if uses(config, "heads") else 1


# --- tokens and embeddings -----------------------------------------------------------------------


# CJK ideographs, CJK punctuation and full-width forms: one token each (Chinese is written
# without spaces, so whitespace alone would make a whole Chinese sentence a single token).
_CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_TOKEN = re.compile(f"[{_CJK}]|[^\\s{_CJK}]+")
MAX_TICK_CHARS = 12  # a longer token is shortened in tick labels (hover keeps it whole)


def tokenize(text: str) -> list[str]:
    """Whitespace tokens; each Chinese character (or CJK punctuation mark) is its own token."""
    return _TOKEN.findall(text)


def token_labels(tokens: list[str]) -> list[str]:
    """Unique axis labels: repeated tokens stay distinct rows and columns ("3:the")."""
    return [f"{i}:{token}" for i, token in enumerate(tokens)]


def random_tokens(count: int, seed: int) -> list[str]:
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(len(RANDOM_VOCAB), (count,), generator=generator)
    return [RANDOM_VOCAB[i] for i in ids.tolist()]


def embed(tokens: list[str], dim: int, seed: int) -> torch.Tensor:
    """(1, L, dim): each distinct token text gets one N(0, 1) vector drawn from (seed, text)."""
    vectors: dict[str, torch.Tensor] = {}
    for token in tokens:
        if token not in vectors:
            token_seed = (seed * 1_000_003 + zlib.crc32(token.encode("utf-8"))) % MAX_SEED
            generator = torch.Generator().manual_seed(token_seed)
            vectors[token] = torch.randn(dim, generator=generator)
    return torch.stack([vectors[t] for t in tokens]).unsqueeze(0)  # (1, L, dim)


def _init_parameters(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Deterministic, thread-safe parameters: normal(0, 1/fan_in) matrices, zero vectors."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, parameter in sorted(module.named_parameters()):
            if parameter.dim() >= 2:
                std = 1.0 / math.sqrt(parameter.shape[-1])
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * std)
            else:
                parameter.zero_()
    return module.eval()


# --- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One step of the step-by-step view, for one head."""

    key: str                      # "q", "k", "v", "raw", "scaled", "masked", "softmax", "output"
    title: tuple[str, str]        # (zh, en)
    formula: str                  # LaTeX
    shape: tuple[int, ...]        # shape of the full tensor (all heads)
    values: np.ndarray            # (rows, cols) float32, this head only
    row_labels: list[str]
    col_labels: list[str]
    note: tuple[str, str] | None = None  # (zh, en) words that explain the formula


@dataclass(frozen=True)
class LabResult:
    config: LabConfig
    query_tokens: list[str]
    key_tokens: list[str]
    query_labels: list[str]                # unique: "3:the"
    key_labels: list[str]
    weights: np.ndarray                    # (H, L, S) float32, one heatmap per head
    output_shape: tuple[int, ...]
    entropy: np.ndarray                    # (H,) mean entropy (nats) of the rows that attend
    row_sums: np.ndarray                   # (H, L)
    steps: list[Step]
    source: str                            # the code that ran, read from the package
    source_names: list[str]
    notes: list[tuple[str, str]] = field(default_factory=list)  # (zh, en)

    @property
    def head_average(self) -> np.ndarray:
        return self.weights.mean(axis=0)

    @property
    def masked_rows(self) -> np.ndarray:
        """(H,) number of fully masked query rows (all weights zero)."""
        return (self.row_sums == 0).sum(axis=-1)

    @property
    def clamped_query(self) -> int:
        return min(max(self.config.query, 0), len(self.query_labels) - 1)

    @property
    def clamped_head(self) -> int:
        return min(max(self.config.head, 0), self.weights.shape[0] - 1)


def entropy(weights: np.ndarray) -> np.ndarray:
    """(H,) mean over rows of -sum p ln p (nats), skipping fully masked rows (all zeros)."""
    p = torch.from_numpy(np.ascontiguousarray(weights, dtype=np.float32))   # (H, L, S)
    row_entropy = -torch.special.xlogy(p, p).sum(dim=-1)                     # (H, L); 0 ln 0 = 0
    attends = p.sum(dim=-1) > 0                                              # (H, L)
    counts = attends.sum(dim=-1).clamp(min=1)                                # (H,)
    return (torch.where(attends, row_entropy, 0.0).sum(dim=-1) / counts).numpy()


# --- one run -------------------------------------------------------------------------------------


def _check_lab_settings(config: LabConfig) -> None:
    """The Lab's own inputs (everything else is checked by the `attention` package)."""
    if config.module not in MODULES:
        raise ValueError(f"module must be one of {', '.join(MODULES)}; got {config.module!r}")
    if config.tokens not in TOKEN_SOURCES:
        raise ValueError(f"tokens must be 'text' or 'random'; got {config.tokens!r}")
    if config.mask not in MASKS:
        raise ValueError(f"mask must be one of {', '.join(MASKS)}; got {config.mask!r}")
    if not 1 <= config.seq_len <= MAX_TOKENS:
        raise ValueError(f"seq_len must be between 1 and {MAX_TOKENS}; got {config.seq_len}")
    if not 1 <= config.heads <= MAX_HEADS:
        raise ValueError(f"heads must be between 1 and {MAX_HEADS}; got {config.heads}")
    if config.embed_dim < 1:
        raise ValueError(f"embed_dim must be positive; got {config.embed_dim}")
    if config.pad < 0:
        raise ValueError(f"pad must be 0 or more; got {config.pad}")
    if not MIN_TEMPERATURE <= config.temperature <= MAX_TEMPERATURE:
        raise ValueError(
            f"temperature must be between {MIN_TEMPERATURE} and {MAX_TEMPERATURE}; "
            f"got {config.temperature}"
        )
    if not 0 <= config.seed <= MAX_SEED:
        raise ValueError(f"seed must be between 0 and {MAX_SEED}; got {config.seed}")


def _tokens(config: LabConfig) -> tuple[list[str], list[str]]:
    if config.tokens == "random":
        queries = random_tokens(config.seq_len, config.seed)
        keys = random_tokens(config.seq_len, config.seed + 1)
    else:
        queries = tokenize(config.text)
        keys = tokenize(config.text2)
        if not queries:
            raise ValueError("text must contain at least one token; got an empty sentence")
    if uses(config, "text2") and not keys:
        raise ValueError("text2 must contain at least one token; got an empty sentence")
    for name, tokens in (("text", queries), ("text2", keys)):
        if len(tokens) > MAX_TOKENS:
            raise ValueError(f"{name} must have at most {MAX_TOKENS} tokens; got {len(tokens)}")
    return queries, (keys if uses(config, "text2") else queries)


def token_counts(config: LabConfig) -> tuple[int, int]:
    """(L, S): the number of queries and keys the configuration gives."""
    queries, keys = _tokens(config)
    return len(queries), len(keys)


def _keep_mask(config: LabConfig, length: int, key_length: int) -> torch.Tensor | None:
    """(L, S) bool, True = attend; None for no mask. Built with `attention.masks`."""
    if config.mask == "none":
        return None
    if config.mask == "causal":
        return masks.causal_mask(length, key_length)
    if config.mask == "sliding":
        if length != key_length:
            raise ValueError(
                f"mask 'sliding' needs as many queries as keys; got {length} and {key_length}"
            )
        return masks.sliding_window_mask(length, config.window)
    # padding: the last `pad` keys are padding; in self-attention their query rows are too,
    # so those rows are fully masked and get zero weights (as torch's SDPA gives).
    valid_keys = max(key_length - config.pad, 0)
    keys = masks.padding_mask(torch.tensor([valid_keys]), key_length)[0, 0]  # (1, S)
    if uses(config, "text2"):
        return keys.expand(length, key_length)
    valid_queries = max(length - config.pad, 0)
    queries = masks.padding_mask(torch.tensor([valid_queries]), length)[0, 0]  # (1, L)
    return queries.transpose(0, 1) & keys  # (L, S)


def _scale(config: LabConfig, head_dim: int) -> float:
    base = 1.0 / math.sqrt(head_dim) if config.scaled else 1.0
    return base / config.temperature


def _source_of(objects: list[Any]) -> tuple[str, list[str]]:
    names = [f"{obj.__module__}.{obj.__qualname__}" for obj in objects]
    return "\n\n".join(_source(obj) for obj in objects), names


@functools.cache
def _source(obj: Any) -> str:
    """inspect.getsource parses the file (tens of ms for a class); the package does not change
    while the server runs."""
    return inspect.getsource(obj)


def _finish(
    config: LabConfig,
    queries: list[str],
    keys: list[str],
    weights: torch.Tensor,
    output: torch.Tensor,
    steps: list[Step],
    sources: list[Any],
    notes: list[tuple[str, str]] | None = None,
) -> LabResult:
    per_head = weights.detach()[0].to(torch.float32).numpy()  # (H, L, S)
    source, names = _source_of(sources)
    notes = list(notes or [])
    if len(set(queries)) < len(queries) and config.mask == "none" and not (
            uses(config, "rope") and (config.rope or config.alibi)):
        # Only suggest RoPE where this module offers it (the toggle is disabled elsewhere).
        try_zh, try_en = (("打开 RoPE 或因果掩码", "Turn on RoPE or a causal mask")
                          if uses(config, "rope") else ("换成因果掩码", "Switch to a causal mask"))
        notes.append((
            "重复的词元在这里得到完全相同的行：没有位置信息（没有 RoPE / ALiBi，也没有掩码）时，"
            f"注意力分不清位置，它对排列是等变的。{try_zh}看看差别。",
            "Repeated tokens get identical rows here: without positional information (no RoPE "
            "or ALiBi, no mask) attention cannot tell positions apart; it is permutation-"
            f"equivariant. {try_en} to see the difference.",
        ))
    return LabResult(
        config=config,
        query_tokens=list(queries),
        key_tokens=list(keys),
        query_labels=token_labels(queries),
        key_labels=token_labels(keys),
        weights=per_head,
        output_shape=tuple(output.shape),
        entropy=entropy(per_head),
        row_sums=per_head.sum(axis=-1, dtype=np.float64).astype(np.float32),
        steps=steps,
        source=source,
        source_names=names,
        notes=notes,
    )


def _split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    batch, length, width = x.shape
    return x.view(batch, length, heads, width // heads).transpose(1, 2)  # (B, heads, L, D)


def _sdpa_steps(
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
        Step("q", ("查询 Q", "queries Q"), q_formula, tuple(q.shape), _np(qh), q_labels, d_labels),
        Step("k", ("键 K", "keys K"), k_formula, tuple(k.shape), _np(kh), k_labels, d_labels),
        Step("v", ("值 V", "values V"), v_formula, tuple(v.shape), _np(vh), k_labels, d_labels),
        Step("raw", ("原始分数", "raw scores"), r"S = Q K^\top", full_scores, _np(raw),
             q_labels, k_labels),
        Step("scaled", ("缩放", "scaled"), rf"S' = S \cdot {scale_text}", full_scores,
             _np(scaled), q_labels, k_labels),
        Step("masked", ("掩码", "masked"), r"S'' = S' + M" + (r" + B" if config.alibi else ""),
             full_scores, _np(masked), q_labels, k_labels, note=(
                 "M_ij = 0（可以关注）或 −∞（被遮住）" + ("；B 为 ALiBi 的线性距离偏置"
                                                     if config.alibi else "") + "。",
                 "M_ij = 0 (may attend) or −∞ (masked)" + ("; B is ALiBi's linear distance bias"
                                                          if config.alibi else "") + ".")),
        Step("softmax", ("softmax", "softmax"),
             r"P_{ij} = \frac{e^{S''_{ij}}}{\sum_{j'} e^{S''_{ij'}}}",
             full_scores, _np(softmax), q_labels, k_labels,
             note=("整行都被遮住时，这一行为 0（不是 NaN）。",
                   "A fully masked row gives 0 (not NaN).")),
        Step("output", ("输出", "output"), r"O = P V", (batch, heads, length, v.shape[3]),
             _np(output), q_labels, d_labels),
    ]


def _np(x: torch.Tensor) -> np.ndarray:
    return x.detach().to(torch.float32).numpy()


def _projector(config: LabConfig) -> torch.nn.Module:
    """The package module whose Q, K, V projections feed the functional paths; its constructor
    checks the sizes and raises the package's own ValueError."""
    heads = config.heads
    kv_heads = config.kv_heads if uses(config, "kv_heads") else heads
    if kv_heads != heads:
        module = attention.GroupedQueryAttention(config.embed_dim, heads, kv_heads)
    else:
        module = attention.MultiHeadAttention(config.embed_dim, heads)
    return _init_parameters(module, config.seed)


def _run_functional(config: LabConfig, queries: list[str], keys: list[str]) -> LabResult:
    """SDPA, sliding window, RoPE, ALiBi and tiled: the functional core on per-head Q, K, V."""
    projector = _projector(config)
    heads, head_dim = config.heads, config.embed_dim // config.heads
    x = embed(queries, config.embed_dim, config.seed)                        # (1, L, E)
    q, k, v = _module_projections(projector, x, x)           # (1, H, L, D), (1, G, S, D) x2
    kv_heads = k.shape[1]
    length = q.shape[2]
    sources: list[Any] = []
    q_formula, k_formula = r"Q = X W_Q", r"K = X W_K"
    if config.rope:
        q, k = positional.apply_rope(q), positional.apply_rope(k)
        sources.append(positional.apply_rope)
        q_formula = r"Q = \operatorname{RoPE}(X W_Q)"
        k_formula = r"K = \operatorname{RoPE}(X W_K)"
    keep = _keep_mask(config, length, length)                                # (L, S) or None
    if config.mask == "sliding":
        sources.append(masks.sliding_window_mask)
    float_mask = None                                                        # (1, H, L, S)
    if config.alibi:
        bias = positional.alibi_bias(heads, length, length).to(q.dtype)
        float_mask = bias.reshape(1, heads, length, length).clone()
        sources.append(positional.alibi_bias)
    if keep is not None:
        float_mask = masks.combine_masks(float_mask, masks.to_additive(keep))  # (1|H.., L, S)
        float_mask = float_mask.expand(1, heads, length, length)
    scale = _scale(config, head_dim)
    exact = attention.scaled_dot_product_attention(
        q, k, v, attn_mask=float_mask, scale=scale, enable_gqa=kv_heads != heads
    )
    notes: list[tuple[str, str]] = []
    output = exact.output
    if config.module == TILED:
        tiled = attention.tiled_attention(
            q, k, v, attn_mask=float_mask, scale=scale, block_size=config.block_size
        )
        output = tiled.output
        difference = (tiled.output - exact.output).abs().max().item()
        notes.append((
            f"分块注意力从不构建 L×S 权重矩阵（返回的 weights 为 None）；热力图是同一输入上"
            f"精确注意力的权重。分块输出与精确输出的最大差：{difference:.2e}。",
            f"Tiled attention never builds the L×S weight matrix (it returns weights=None); the "
            f"heatmaps show exact attention's weights on the same inputs. Largest difference "
            f"between the tiled and the exact output: {difference:.2e}.",
        ))
        sources.append(attention.tiled_attention)
    else:
        sources.append(attention.scaled_dot_product_attention)
    steps = _sdpa_steps(config, q, k, v, float_mask, scale, token_labels(queries),
                        token_labels(keys), q_formula, k_formula)
    return _finish(config, queries, keys, exact.weights, output, steps, sources, notes)


def _run_linear(config: LabConfig, queries: list[str], keys: list[str]) -> LabResult:
    embed_dim, heads = config.embed_dim, config.heads
    if config.mask not in {"none", "causal"}:
        raise ValueError(
            f"mask must be 'none' or 'causal' for linear attention; got {config.mask!r}"
        )
    projector = _projector(config)
    x = embed(queries, embed_dim, config.seed)                               # (1, L, E)
    q, k, v = _module_projections(projector, x, x)                           # (1, H, L, D)
    causal = config.mask == "causal"
    result = attention.linear_attention(q, k, v, is_causal=causal)           # the linear path
    # The same attention through the L x S matrix it implies, to draw its weights.
    implied = attention.linear_attention(q, k, v, is_causal=causal, need_weights=True)
    weights = implied.weights                                                # (1, H, L, S)
    difference = (implied.output - result.output).abs().max().item()
    phi_q, phi_k = elu_feature_map(q), elu_feature_map(k)                    # (1, H, L|S, D)
    scores = phi_q @ phi_k.transpose(-2, -1)                                 # (1, H, L, S)
    if causal:
        scores = scores.masked_fill(~masks.causal_mask(q.shape[2], k.shape[2]), 0.0)
    head = min(max(config.head, 0), heads - 1)
    labels = token_labels(queries)
    d_labels = [f"d{i}" for i in range(q.shape[-1])]
    full = tuple(scores.shape)
    steps = [
        Step("q", ("特征 φ(Q)", "features φ(Q)"), r"\phi(Q) = \operatorname{elu}(X W_Q) + 1",
             tuple(q.shape), _np(phi_q[0, head]), labels, d_labels),
        Step("k", ("特征 φ(K)", "features φ(K)"), r"\phi(K) = \operatorname{elu}(X W_K) + 1",
             tuple(k.shape), _np(phi_k[0, head]), labels, d_labels),
        Step("v", ("值 V", "values V"), r"V = X W_V", tuple(v.shape), _np(v[0, head]),
             labels, d_labels),
        Step("raw", ("核分数", "kernel scores"), r"A = \phi(Q)\,\phi(K)^\top", full,
             _np((phi_q @ phi_k.transpose(-2, -1))[0, head]), labels, labels),
        Step("masked", ("掩码（乘 0）", "masked (times 0)"),
             r"A_{ij} = 0 \quad (j > i)" if causal else r"A", full,
             _np(scores[0, head]), labels, labels,
             note=None if causal else ("没有掩码。", "No mask.")),
        Step("softmax", ("归一化（不是 softmax）", "normalised (not softmax)"),
             r"P_{ij} = \frac{A_{ij}}{\sum_{j'} A_{ij'}}", full, _np(weights[0, head]),
             labels, labels),
        Step("output", ("输出", "output"),
             r"O_i = \frac{\phi(q_i)^\top \sum_j \phi(k_j) v_j^\top}"
             r"{\phi(q_i)^\top \sum_j \phi(k_j)}",
             tuple(result.output.shape), _np(result.output[0, head]), labels, d_labels),
    ]
    notes = [(
        f"线性注意力按 φ(Q)(φ(K)ᵀV) 的顺序计算，复杂度随长度线性增长，不需要 L×S 矩阵；热力图画的是"
        f"它隐含的权重 P。P·V 与线性计算的输出最大差：{difference:.2e}。",
        f"Linear attention computes φ(Q)(φ(K)ᵀV), linear in length, without an L×S matrix; the "
        f"heatmaps draw the weights P it implies. Largest difference between P·V and the "
        f"linear-time output: {difference:.2e}.",
    )]
    return _finish(config, queries, keys, weights, result.output, steps,
                   [attention.linear_attention], notes)


def _module_steps(
    config: LabConfig, module: torch.nn.Module, x: torch.Tensor, context: torch.Tensor,
    keep: torch.Tensor | None, queries: list[str], keys: list[str],
) -> list[Step]:
    """Step by step for the multi-head modules, recomputed from the module's own projections."""
    q, k, v = _module_projections(module, x, context)
    head_dim = q.shape[-1]
    float_mask = None
    if keep is not None:
        float_mask = masks.to_additive(keep).expand(1, q.shape[1], *keep.shape)  # (1, H, L, S)
    plain = replace(config, scaled=True, temperature=1.0, alibi=False)
    return _sdpa_steps(plain, q, k, v, float_mask, 1.0 / math.sqrt(head_dim),
                       token_labels(queries), token_labels(keys))


def _module_projections(
    module: torch.nn.Module, x: torch.Tensor, context: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-head q (B, H, L, D), k and v (B, G, S, D) from the module's projection layers."""
    heads = module.num_heads
    kv_heads = getattr(module, "num_kv_heads", heads)
    q = _split_heads(module.query_linear(x), heads)                          # (B, H, L, D)
    k = _split_heads(module.key_linear(context), kv_heads)                   # (B, G, S, D)
    v = _split_heads(module.value_linear(context), kv_heads)                 # (B, G, S, D)
    return q, k, v


def _additive_steps(
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
        Step("q", ("投影查询", "projected queries"), r"Q' = X W_q", (1, *q.shape), _np(q),
             q_labels, a_labels),
        Step("k", ("投影键", "projected keys"), r"K' = X W_k + b", (1, *k.shape), _np(k),
             k_labels, a_labels),
        Step("v", ("值 V", "values V"), r"V = X", (1, *v.shape), _np(v), k_labels, d_labels),
        Step("raw", ("加性分数", "additive scores"), r"e_{ij} = w^\top \tanh(Q'_i + K'_j)",
             full, _np(raw), q_labels, k_labels),
        Step("masked", ("掩码", "masked"), r"e'_{ij} = e_{ij} + M_{ij},\ M_{ij} \in \{0,-\infty\}",
             full, _np(masked), q_labels, k_labels),
        Step("softmax", ("softmax", "softmax"), r"\alpha_{ij} = \operatorname{softmax}_j(e'_{ij})",
             full, _np(weights), q_labels, k_labels),
        Step("output", ("输出", "output"), r"c_i = \sum_j \alpha_{ij} V_j", (1, *output.shape),
             _np(output), q_labels, d_labels),
    ]


def _run_module(config: LabConfig, queries: list[str], keys: list[str]) -> LabResult:
    """MultiHeadAttention, InteractiveAttention, GroupedQueryAttention, AdditiveAttention."""
    embed_dim = config.embed_dim
    x = embed(queries, embed_dim, config.seed)                               # (1, L, E)
    context = embed(keys, embed_dim, config.seed) if uses(config, "text2") else x  # (1, S, E)
    keep = _keep_mask(config, x.shape[1], context.shape[1])                  # (L, S) or None
    attn_mask = None if keep is None else keep.view(1, 1, *keep.shape)       # (1, 1, L, S)
    module: torch.nn.Module
    if config.module == MHA:
        module = attention.MultiHeadAttention(embed_dim, config.heads)
    elif config.module == CROSS:
        module = attention.InteractiveAttention(embed_dim, embed_dim, embed_dim, config.heads)
    elif config.module == GQA:
        module = attention.GroupedQueryAttention(embed_dim, config.heads, config.kv_heads)
    else:
        module = attention.AdditiveAttention(embed_dim, embed_dim, embed_dim)
    _init_parameters(module, config.seed)
    with torch.no_grad():
        if config.module == ADDITIVE:
            output, weights = module(x, context, context, attn_mask=keep)    # keep: (L, S)
            weights = weights.unsqueeze(1)                                   # (B, 1, L, S)
            steps = _additive_steps(module, x, context, keep, queries, keys)
        else:
            if config.module == MHA:
                output, weights = module(x, attn_mask=attn_mask)
            else:
                output, weights = module(x, context, context, attn_mask=attn_mask)
            steps = _module_steps(config, module, x, context, keep, queries, keys)
    return _finish(config, queries, keys, weights, output, steps, [type(module)])


def size_hint(config: LabConfig) -> tuple[str, str] | None:
    """(zh, en) choices that fix a head count that does not divide E (or KV heads that do not
    divide the heads); None when the sizes fit."""
    def divisors(n: int) -> str:
        return ", ".join(str(h) for h in range(1, MAX_HEADS + 1) if n % h == 0)

    heads, dim = config.heads, config.embed_dim
    if uses(config, "heads") and dim % heads:
        dims = ", ".join(str(d) for d in EMBED_DIMS if d % heads == 0) or "-"
        return (f"E = {dim} 时可选的头数：{divisors(dim)}；H = {heads} 时可选的 E：{dims}。",
                f"With E = {dim}, heads can be {divisors(dim)}; with H = {heads}, E can be {dims}.")
    if uses(config, "kv_heads") and heads % config.kv_heads:
        return (f"H = {heads} 时可选的键值头数：{divisors(heads)}。",
                f"With H = {heads}, KV heads can be {divisors(heads)}.")
    return None


def run(config: LabConfig) -> LabResult:
    """Run the configured module; ValueError (the package's own message) if impossible."""
    _check_lab_settings(config)
    queries, keys = _tokens(config)
    with torch.no_grad():
        if config.module in _FUNCTIONAL:
            return _run_functional(config, queries, keys)
        if config.module == LINEAR:
            return _run_linear(config, queries, keys)
        return _run_module(config, queries, keys)


# --- figures -------------------------------------------------------------------------------------

PLOTLY_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "filename": "attention", "scale": 2},
}


def plotly_config(filename: str) -> dict[str, Any]:
    """The chart toolbar: download as PNG (no server-side renderer needed)."""
    return {**PLOTLY_CONFIG, "toImageButtonOptions": {
        **PLOTLY_CONFIG["toImageButtonOptions"], "filename": filename}}


def _safe(tokens: list[str]) -> list[str]:
    """Typed (or linked) text as Plotly text: Plotly renders a few HTML tags (<a href>, <b>) in
    labels, so escape them; Plotly shows the entities as the characters typed."""
    return [html.escape(token, quote=False) for token in tokens]


def heads_figure(
    result: LabResult, titles: list[str], hover: tuple[str, str, str],
    max_columns: int = viz.MAX_COLUMNS, zmax: float | None = None,
) -> go.Figure:
    """One heatmap per head (attention.viz), sent as whole percents: one byte a cell, hover
    exact to 0.01; ``hover`` names (query, key, weight) in the page's language; ``zmax`` the
    top of the colour scale (a weight; default this result's largest), so that two figures
    side by side can share one scale."""
    columns = min(len(titles), max_columns)
    figure = viz.heatmaps(result.weights, _safe(result.query_tokens), _safe(result.key_tokens),
                          titles,
                          columns=columns, z_format="percent", zmax=zmax, hover=hover)
    _short_ticks(figure, result)
    rows = math.ceil(len(titles) / columns)
    # Token labels only left of the first column and under the last row: elsewhere they run
    # into the next head and its title.
    for column in range(2, columns + 1):
        figure.update_yaxes(showticklabels=False, col=column)
    for row in range(1, rows):
        figure.update_xaxes(showticklabels=False, row=row)
    return figure


def average_figure(result: LabResult, title: str, hover: tuple[str, str, str]) -> go.Figure:
    figure = viz.heatmaps(result.head_average, _safe(result.query_tokens),
                          _safe(result.key_tokens), [title],
                          z_format="percent", hover=hover)
    _short_ticks(figure, result)
    return figure


def _shorten(token: str) -> str:
    return token if len(token) <= MAX_TICK_CHARS else token[: MAX_TICK_CHARS - 1] + "…"


def _short_ticks(figure: go.Figure, result: LabResult) -> None:
    """Long tokens shortened in the tick labels (a whole sentence typed without spaces ran
    into the next head); the axis values, and so the hover, keep the whole token."""
    for tokens, update in ((result.key_tokens, figure.update_xaxes),
                           (result.query_tokens, figure.update_yaxes)):
        if len(tokens) <= viz.MAX_LABELLED_TICKS and any(len(t) > MAX_TICK_CHARS for t in tokens):
            update(ticktext=_safe([_shorten(t) for t in tokens]))


def matrix_figure(
    values: np.ndarray, row_labels: list[str], col_labels: list[str], title: str
) -> go.Figure:
    """A small heatmap of exact float values (for the step-by-step view)."""
    rows, cols = min(len(row_labels), MAX_STEP_TOKENS), min(len(col_labels), MAX_STEP_TOKENS)
    shown = values[:rows, :cols].astype(np.float32)
    shown = np.where(np.isfinite(shown), shown, np.nan)     # -inf (masked) drawn as blank
    # Layout given to the constructor: several times faster than update_layout afterwards.
    return go.Figure(
        data=[go.Heatmap(
            z=shown, x=_safe(col_labels[:cols]), y=_safe(row_labels[:rows]), colorscale=COLORSCALE,
            hovertemplate="%{y}, %{x}: %{z:.4f}<extra></extra>",
        )],
        layout={
            "title": {"text": title}, "height": PANEL_PX + 40,
            "margin": {"l": 60, "r": 20, "t": 40 if title else 10, "b": 40},
            "xaxis": {"type": "category", "tickangle": -60, "tickfont": {"size": 9}},
            "yaxis": {"type": "category", "autorange": "reversed", "tickfont": {"size": 9}},
        },
    )


def row_figure(
    result: LabResult, names: tuple[str, str],
    hover: tuple[str, str, str] = viz.HOVER_NAMES,
) -> go.Figure:
    """The chosen query token's row: bars for the chosen head (attention.viz), and a line of
    markers for the head average. ``names``: (chosen head, average); ``hover`` names (query,
    key, weight) in the page's language."""
    query, head = result.clamped_query, result.clamped_head
    query_word, key_word, weight_word = hover
    figure = viz.query_bars(
        result.weights[head], query, _safe(result.key_tokens), _safe(result.query_tokens),
        title=f"{query_word} {_safe(result.query_labels)[query]}",
    )
    figure.update_traces(name=names[0], showlegend=True,
                         hovertemplate=f"{key_word} %{{x}}<br>{weight_word} %{{y:.3f}}"
                                       "<extra>%{fullData.name}</extra>")
    figure.add_trace(go.Scatter(
        x=figure.data[0].x, y=result.head_average[query], mode="markers", name=names[1],
        marker={"color": AVERAGE_MARKER, "size": 9, "symbol": "diamond"},
        hovertemplate=f"{key_word} %{{x}}<br>{weight_word} %{{y:.3f}}"
                      "<extra>%{fullData.name}</extra>",
    ))
    # The legend above the bars: below them it covered the rotated key labels.
    return figure.update_layout(
        height=PANEL_PX + 60, yaxis_title_text=weight_word,
        margin={"t": 70},
        legend={"orientation": "h", "x": 1.0, "xanchor": "right", "y": 1.02,
                "yanchor": "bottom"},
    )


def count_heatmaps(spec: Mapping[str, Any]) -> int:
    """Heatmap traces in a figure's JSON (used by tests and the benchmark)."""
    return sum(1 for trace in spec.get("data", []) if trace.get("type") == "heatmap")


def decode_z(trace: Mapping[str, Any]) -> np.ndarray:
    """A heatmap trace's z from plotly JSON (a base64 typed array or nested lists)."""
    z = trace["z"]
    if isinstance(z, Mapping) and "bdata" in z:
        raw = np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"]))
        shape = tuple(int(n) for n in str(z.get("shape", len(raw))).split(","))
        return raw.reshape(shape)
    return np.asarray(z, dtype=np.float64)

