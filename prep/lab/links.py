"""Fitting a Lab link to the allowed values, and the bank's Lab presets.

A link is untrusted input: :func:`parse_url` reads it, and :func:`fit` moves every value to the
nearest allowed one (a head count that divides E, a temperature on the slider's grid, a window
within the sentence, ...) and says what it moved, so that nothing from a URL can put a widget out
of range or crash the page. The token counts come from :mod:`prep.lab.inputs`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import prep.lab.registry as registry
from prep.i18n import Text
from prep.lab.config import (
    B_PREFIX,
    COMPARE_PARAM,
    DECAY_STEP,
    DEFAULT_MODULE,
    EMBED_DIMS,
    FIELD_NAMES,
    LATENT_CHOICES,
    MAX_DECODED,
    MAX_DEPTH,
    MAX_SEED,
    MAX_SINK_LOGIT,
    MAX_TEMPERATURE,
    MAX_TOKENS,
    MIN_DECAY,
    MIN_TEMPERATURE,
    MODEL_SIZES,
    SINK_LOGIT_STEP,
    TEMPERATURE_STEP,
    TOKEN_SOURCES,
    LabConfig,
    divisors,
    format_value,
    head_choices,
    kv_head_choices,
    read_params,
    uses,
)
from prep.lab.inputs import tokens_of


def _nearest(value: float, allowed: tuple[Any, ...]) -> Any:
    return min(allowed, key=lambda a: (abs(a - value), a))


def _clamp(value: Any, low: Any, high: Any) -> Any:
    return min(max(value, low), high)


def _on_grid(value: float, low: float, high: float, step: float) -> float:
    return round(round(_clamp(value, low, high) / step) * step, 2)


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
        **_modern_allowed(config, widest),
        "seed": (_clamp(config.seed, 0, MAX_SEED), Text(f"0 到 {MAX_SEED}", f"0 to {MAX_SEED}")),
        "head": (_clamp(config.head, 0, heads - 1), Text(f"0 到 {heads - 1}", f"0 to {heads - 1}")),
        "query": (_clamp(config.query, 0, max(last_query, 0)),
                  Text(f"0 到 {last_query}", f"0 to {last_query}")),
    }


def _modern_allowed(config: LabConfig, widest: int) -> dict[str, tuple[Any, Text]]:
    """The settings of the 2024-26 modules (sinks, block-sparse, KV cache, MLA, ...)."""
    prefill = _clamp(config.prefill, 1, widest)
    most_decoded = min(widest - prefill, MAX_DECODED)
    logit = _on_grid(config.sink_logit, -MAX_SINK_LOGIT, MAX_SINK_LOGIT, SINK_LOGIT_STEP)
    return {
        "sinks": (_clamp(config.sinks, 0, widest), Text(f"0 到 {widest}", f"0 to {widest}")),
        "sink_logit": (logit, Text(f"±{MAX_SINK_LOGIT}，步长 {SINK_LOGIT_STEP}",
                                   f"±{MAX_SINK_LOGIT} in steps of {SINK_LOGIT_STEP}")),
        "top_k": (_clamp(config.top_k, 1, MAX_TOKENS), Text(f"1 到 {MAX_TOKENS}",
                                                            f"1 to {MAX_TOKENS}")),
        "prefill": (prefill, Text(f"1 到 {widest}", f"1 to {widest}")),
        "decoded": (_clamp(config.decoded, 0, most_decoded),
                    Text(f"0 到 {most_decoded}（句子剩下的词元，最多 {MAX_DECODED}）",
                         f"0 to {most_decoded} (the sentence's remaining tokens, at most "
                         f"{MAX_DECODED})")),
        "model_size": (config.model_size if config.model_size in MODEL_SIZES else MODEL_SIZES[0],
                       Text(f"可选 {', '.join(MODEL_SIZES)}", f"one of {', '.join(MODEL_SIZES)}")),
        "latent": (_nearest(config.latent, LATENT_CHOICES),
                   Text(f"可选 {LATENT_CHOICES}", f"one of {LATENT_CHOICES}")),
        "depth": (_clamp(config.depth, 1, MAX_DEPTH), Text(f"1 到 {MAX_DEPTH}",
                                                           f"1 to {MAX_DEPTH}")),
        "decay": (_on_grid(config.decay, MIN_DECAY, 1.0, DECAY_STEP),
                  Text(f"{MIN_DECAY} 到 1，步长 {DECAY_STEP}",
                       f"{MIN_DECAY} to 1 in steps of {DECAY_STEP}")),
        "chunk_size": (_clamp(config.chunk_size, 0, MAX_TOKENS),
                       Text(f"0（递推）到 {MAX_TOKENS}", f"0 (recurrence) to {MAX_TOKENS}")),
    }


def fit(config: LabConfig, prefix: str = "") -> tuple[LabConfig, list[Text]]:
    """``config`` with every value moved to the nearest allowed one, and a note per move.

    The token counts (L, S), where the text gives them, bound the query picker, the window and
    the padding. Impossible text (an empty sentence, too many tokens) is left to
    :func:`prep.lab.run`, whose message names it.
    """
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
    config = read_params(params, base, prefix, notes)
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


def opens(params: Mapping[str, object]) -> bool:
    """Whether ``params`` (a question's Lab preset) names a module this Lab has: a link to a
    module not (yet) in the chooser would open another module with a warning, so none is shown."""
    return registry.resolve_module(str(params.get("module", ""))) is not None
