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
from urllib.parse import urlencode

from prep.i18n import Text
from prep.lab import registry

TOKEN_SOURCES: tuple[str, ...] = ("text", "random")
EMBED_DIMS: tuple[int, ...] = (8, 12, 16, 24, 32, 48, 64, 96, 128, 256, 512)
MAX_HEADS = 16
MAX_TOKENS = 256
MAX_SEED = 2**31 - 1
MIN_TEMPERATURE = 0.05
MAX_TEMPERATURE = 10.0
TEMPERATURE_STEP = 0.05
DEFAULT_MODULE = "MultiHeadAttention"
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
        return _read(params, base, prefix, [])


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


def _read(params: Mapping[str, Any], base: LabConfig | None, prefix: str,
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


def _nearest(value: float, allowed: tuple[Any, ...]) -> Any:
    return min(allowed, key=lambda a: (abs(a - value), a))


def _clamp(value: Any, low: Any, high: Any) -> Any:
    return min(max(value, low), high)


def _allowed(config: LabConfig, query_count: int | None,
             key_count: int | None) -> dict[str, tuple[Any, Text]]:
    """Each field's fitted value and why, computed in order (heads depend on E, ...)."""
    record = registry.REGISTRY.get(config.module)
    module = config.module if record else DEFAULT_MODULE
    masks = registry.get(module).masks
    embed_dim = _nearest(config.embed_dim, EMBED_DIMS)
    heads = _nearest(config.heads, head_choices(embed_dim))
    temperature = _clamp(config.temperature, MIN_TEMPERATURE, MAX_TEMPERATURE)
    temperature = round(round(temperature / TEMPERATURE_STEP) * TEMPERATURE_STEP, 2)
    last_query = (query_count or MAX_TOKENS) - 1
    most_pad = (key_count or MAX_TOKENS + 1) - 1        # at least one key is not padding
    widest = query_count or MAX_TOKENS
    return {
        "module": (module, Text("已注册的模块", "a Lab module")),
        "tokens": (config.tokens if config.tokens in TOKEN_SOURCES else "text",
                   Text("text 或 random", "text or random")),
        "mask": (config.mask if config.mask in masks else masks[0],
                 Text(f"这个模块可用：{', '.join(masks)}",
                      f"this module takes {', '.join(masks)}")),
        "seq_len": (_clamp(config.seq_len, 1, MAX_TOKENS),
                    Text(f"1 到 {MAX_TOKENS}", f"1 to {MAX_TOKENS}")),
        "embed_dim": (embed_dim, Text(f"可选 {EMBED_DIMS}", f"one of {EMBED_DIMS}")),
        "heads": (heads, Text(f"E = {embed_dim} 时头数须整除 E",
                              f"with E = {embed_dim} the head count must divide E")),
        "kv_heads": (_nearest(config.kv_heads, kv_head_choices(heads))
                     if "kv_heads" in registry.get(module).controls else config.kv_heads,
                     Text(f"须整除头数 H = {heads}", f"it must divide the heads H = {heads}")),
        "window": (_clamp(config.window, 1, widest), Text(f"1 到 {widest}", f"1 to {widest}")),
        "pad": (_clamp(config.pad, 0, most_pad), Text(f"0 到 {most_pad}，至少留一个键",
                                                     f"0 to {most_pad}, leaving one key")),
        "temperature": (temperature, Text(
            f"{MIN_TEMPERATURE} 到 {MAX_TEMPERATURE}，步长 {TEMPERATURE_STEP}",
            f"{MIN_TEMPERATURE} to {MAX_TEMPERATURE} in steps of {TEMPERATURE_STEP}")),
        "block_size": (_clamp(config.block_size, 1, MAX_TOKENS),
                       Text(f"1 到 {MAX_TOKENS}", f"1 to {MAX_TOKENS}")),
        "seed": (_clamp(config.seed, 0, MAX_SEED), Text(f"0 到 {MAX_SEED}", f"0 to {MAX_SEED}")),
        "head": (_clamp(config.head, 0, heads - 1), Text(f"0 到 {heads - 1}", f"0 to {heads - 1}")),
        "query": (_clamp(config.query, 0, max(last_query, 0)),
                  Text(f"0 到 {last_query}", f"0 to {last_query}")),
    }


def fit(config: LabConfig, prefix: str = "") -> tuple[LabConfig, list[Text]]:
    """``config`` with every value moved to the nearest allowed one, and a note per move.

    The token counts (L, S), where the text gives them, bound the query picker, the window and
    the padding. Impossible text (an empty sentence, too many tokens) is left to
    :func:`prep.lab.run`, whose message names it.
    """
    from prep.lab.inputs import tokens_of
    query_count = key_count = None
    if config.module in registry.REGISTRY and config.tokens in TOKEN_SOURCES:
        try:
            queries, keys = tokens_of(replace(config, seq_len=_clamp(config.seq_len, 1,
                                                                      MAX_TOKENS)))
            query_count, key_count = len(queries), len(keys)
        except ValueError:
            pass
    notes: list[Text] = []
    changes: dict[str, Any] = {}
    for name, (value, why) in _allowed(config, query_count, key_count).items():
        old = getattr(config, name)
        if value != old:
            changes[name] = value
            notes.append(Text(
                f"{prefix}{name} = {format_value(old)} 不可用（{why.zh}），"
                f"已改为 {format_value(value)}。",
                f"{prefix}{name} = {format_value(old)} is not allowed ({why.en}); using "
                f"{format_value(value)}."))
    return replace(config, **changes), notes


def parse_url(params: Mapping[str, Any], base: LabConfig | None = None,
              prefix: str = "") -> tuple[LabConfig, list[Text]]:
    """A link's configuration, fitted to the allowed values, with a note for each change."""
    notes: list[Text] = []
    config = _read(params, base, prefix, notes)
    config, fitted = fit(config, prefix=prefix)
    return config, notes + fitted


def size_hint(config: LabConfig) -> tuple[str, str] | None:
    """(zh, en) choices that fix a head count that does not divide E (or KV heads that do not
    divide the heads); None when the sizes fit."""
    heads, dim = config.heads, config.embed_dim
    if uses(config, "heads") and dim % heads:
        fits = ", ".join(map(str, divisors(dim)))
        dims = ", ".join(str(d) for d in EMBED_DIMS if d % heads == 0) or "-"
        return (f"E = {dim} 时可选的头数：{fits}；H = {heads} 时可选的 E：{dims}。",
                f"With E = {dim}, heads can be {fits}; with H = {heads}, E can be {dims}.")
    if uses(config, "kv_heads") and heads % config.kv_heads:
        fits = ", ".join(map(str, divisors(heads)))
        return (f"H = {heads} 时可选的键值头数：{fits}。",
                f"With H = {heads}, KV heads can be {fits}.")
    return None


def _known_key(key: str) -> bool:
    name = key[len(B_PREFIX):] if key.startswith(B_PREFIX) else key
    return key == COMPARE_PARAM or name in FIELD_NAMES


def preset_problems(params: Mapping[str, object]) -> list[str]:
    """Why ``params`` (Lab URL parameter names -> values, e.g. ``{"module": "sdpa", "mask":
    "padding", "pad": 2}``) is not a valid Lab configuration: one readable sentence per bad key;
    empty when the link would open as written, with nothing moved."""
    problems = [f"{key}: not a Lab setting (known: {', '.join(FIELD_NAMES)})"
                for key in params if not _known_key(str(key))]
    config, notes = parse_url(params)
    problems += [note.en for note in notes]
    if any(str(k).startswith(B_PREFIX) for k in params):
        problems += [note.en for note in parse_url(params, base=config, prefix=B_PREFIX)[1]]
    if not problems:
        from prep.lab.inputs import tokens_of
        try:
            tokens_of(config)
        except ValueError as error:
            problems.append(str(error))
    return problems


def preset_url(params: Mapping[str, object]) -> str:
    """The relative link ("Lab?module=...") that opens ``params`` in the Lab."""
    query = {str(k): format_value(v) for k, v in params.items() if v is not None}
    module = registry.resolve_module(query.get("module"))
    if module is not None:
        query["module"] = module
    return "Lab?" + urlencode(query)
