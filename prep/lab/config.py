"""The Lab's configuration, its URL form, and the allowed values every URL value is fitted to.

A link is untrusted input: :func:`parse_url` reads it, and :func:`fit` moves every value to the
nearest allowed one (a head count that divides E, a temperature on the slider's grid, ...) and
says what it moved, so that nothing from a URL can put a widget out of range or crash the page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

import prep.lab.registry as registry
from prep.i18n import Text

TOKEN_SOURCES: tuple[str, ...] = ("text", "random")
EMBED_DIMS: tuple[int, ...] = (8, 12, 16, 24, 32, 48, 64, 96, 128, 256, 512)
MAX_HEADS = 16
MAX_TOKENS = 256
MAX_SEED = 2**31 - 1
MIN_TEMPERATURE = 0.05
MAX_TEMPERATURE = 10.0
TEMPERATURE_STEP = 0.05
DEFAULT_MODULE = "MultiHeadAttention"
# The 2024-26 modules' settings (their runners live in runners_modern.py).
MODEL_SIZES: tuple[str, ...] = ("deepseek-v2", "llama-3-70b", "lab")  # KV bytes per token
LATENT_CHOICES: tuple[int, ...] = (2, 4, 8, 16, 32, 64, 128)  # MLA's kv_lora_rank
MAX_SINK_LOGIT = 10.0
SINK_LOGIT_STEP = 0.5
MAX_DEPTH = 32
MAX_DECODED = 64  # KV cache: decode steps after the prefill (each one is a module call)
MIN_DECAY = 0.5
DECAY_STEP = 0.05
B_PREFIX = "b_"          # configuration B of compare mode: b_heads=1, ...
COMPARE_PARAM = "compare"


@dataclass(frozen=True)
class LabConfig:
    """Everything one Lab run depends on; each field is also a URL query parameter."""

    module: str = DEFAULT_MODULE          # a registered module's name
    tokens: str = "text"                  # "text": the typed sentence; "random": random tokens
    text: str = "the cat sat on the mat because the mat was warm"
    text2: str = "le chat est sur le tapis"  # keys and values of cross-attention
    seq_len: int = 12                     # number of random tokens
    embed_dim: int = 32                   # E
    heads: int = 4                        # H, query heads
    kv_heads: int = 2                     # G, key/value heads (GQA; 1 is MQA)
    mask: str = "none"                    # one of registry.MASKS
    window: int = 3                       # sliding window width: query i sees keys i-window+1..i
    pad: int = 2                          # padding: the last `pad` keys are padding
    scaled: bool = True                   # divide scores by sqrt(D)
    temperature: float = 1.0              # and by this temperature
    rope: bool = False                    # rotate Q and K by position (RoPE)
    alibi: bool = False                   # add ALiBi's linear distance bias
    block_size: int = 4                   # tiled attention's block
    seed: int = 0
    head: int = 0                         # the head of the step-by-step view
    query: int = 0                        # the query token whose row is drawn as bars
    sinks: int = 1                        # streaming mask: the first `sinks` keys stay visible
    sink_logit: float = 0.0               # sink attention: the middle of the per-head sink logits
    top_k: int = 1                        # block-sparse: earlier blocks each query selects
    prefill: int = 4                      # KV cache: prompt tokens processed in one block
    decoded: int = 0                      # KV cache: tokens decoded one at a time after it
    model_size: str = "deepseek-v2"       # KV cache: the model whose bytes per token are drawn
    latent: int = 16                      # MLA: kv_lora_rank, the cached latent's size
    depth: int = 1                        # differential: the layer's depth l (lambda_init)
    decay: float = 1.0                    # delta rule: forget gate alpha (1 = plain DeltaNet)
    chunk_size: int = 0                   # delta rule: 0 runs the recurrence, n the chunkwise form

    def to_query_params(self, base: LabConfig | None = None, prefix: str = "") -> dict[str, str]:
        """The URL form; with ``base``, only the fields that differ from it."""
        params = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if base is not None and getattr(base, f.name) == value:
                continue
            params[prefix + f.name] = format_value(value)
        return params

    @classmethod
    def from_query_params(
        cls, params: Mapping[str, Any], base: LabConfig | None = None, prefix: str = ""
    ) -> LabConfig:
        """Read a URL; unknown or unreadable values fall back to ``base`` (or the module's
        defaults). Impossible combinations are kept (use :func:`parse_url` to fit them)."""
        return read_params(params, base, prefix, [])


FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(LabConfig))


def defaults_for(module: str) -> LabConfig:
    """The default configuration of a module (what a picker change or a bare link shows)."""
    return replace(LabConfig(module=module), **registry.get(module).defaults)


def uses(config: LabConfig, feature: str) -> bool:
    """Whether the configured module takes this setting into account."""
    return feature in registry.get(config.module).controls


def head_count(config: LabConfig) -> int:
    return config.heads if uses(config, "heads") else 1


def divisors(n: int, top: int = MAX_HEADS) -> tuple[int, ...]:
    """The head counts 1..top that divide n."""
    return tuple(h for h in range(1, top + 1) if n % h == 0)


def head_choices(embed_dim: int) -> tuple[int, ...]:
    """Head counts the heads slider offers at this E (each divides E)."""
    return divisors(embed_dim) or (1,)


def kv_head_choices(heads: int) -> tuple[int, ...]:
    """Key/value head counts that divide the query heads (1 is MQA)."""
    return divisors(heads, heads)


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _first(value: Any) -> str | None:
    if isinstance(value, list | tuple):
        return str(value[0]) if value else None
    return None if value is None else str(value)


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


def _unreadable(name: str, raw: str, kept: Any) -> Text:
    return Text(f"链接中的 {name} = {raw!r} 无法读取，使用 {format_value(kept)}。",
                f"The link's {name} = {raw!r} could not be read; using {format_value(kept)}.")


def read_params(params: Mapping[str, Any], base: LabConfig | None, prefix: str,
          notes: list[Text]) -> LabConfig:
    module_value = _first(params.get(prefix + "module"))
    module = registry.resolve_module(module_value)
    if module_value is not None and module is None:
        kept = base.module if base is not None else DEFAULT_MODULE
        notes.append(_unreadable(prefix + "module", module_value, kept))
    if base is None:
        base = defaults_for(module or DEFAULT_MODULE)
    elif module is not None:
        base = replace(base, module=module)
    changes: dict[str, Any] = {}
    for name in FIELD_NAMES[1:]:
        raw = _first(params.get(prefix + name))
        if raw is None:
            continue
        parsed = _parse_value(raw, type(getattr(base, name)))
        if parsed is None:
            notes.append(_unreadable(prefix + name, raw, getattr(base, name)))
        else:
            changes[name] = parsed
    return replace(base, **changes)
