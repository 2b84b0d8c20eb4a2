"""The Lab's module registry: one frozen record per module, read by everything else.

The chooser (its options and labels), the URL codec (names and aliases), each module's defaults,
which controls the page enables, which masks it offers and the dispatch of :func:`prep.lab.run`
all read :data:`REGISTRY`. Adding a module to the Lab is one :class:`LabModule` record and one
runner function, registered with :func:`register`; nothing else changes.

A runner is ``runner(config, query_tokens, key_tokens) -> LabResult`` (see ``runners.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from prep.i18n import Text

__all__ = ["CONTROLS", "MASKS", "REGISTRY", "LabModule", "get", "label", "module_names",
           "register", "resolve_module", "unregister"]

MASKS: tuple[str, ...] = ("none", "causal", "padding", "sliding", "streaming")
# What a record offers unless it says otherwise (StreamingLLM's mask is the sink module's).
DEFAULT_MASKS: tuple[str, ...] = ("none", "causal", "padding", "sliding")

# The controls a record may name; the page disables (and explains) those a module does not use.
CONTROLS: frozenset[str] = frozenset(
    {"heads", "kv_heads", "mask", "scale", "rope", "alibi", "block_size", "text2",
     "sink", "top_k", "decode", "model_size", "latent", "depth", "decay", "chunk_size"}
)


@dataclass(frozen=True)
class LabModule:
    """One Lab module.

    Args:
        name: the value of ``?module=`` (and the chooser's option).
        label: what the chooser shows, in both languages.
        runner: ``runner(config, query_tokens, key_tokens) -> LabResult``.
        aliases: other names a link may use (``attention`` exports, short forms).
        controls: the settings it takes into account (a subset of :data:`CONTROLS`).
        defaults: ``LabConfig`` fields that differ from ``LabConfig()`` for this module.
        masks: the masks it accepts (the mask chooser offers only these).
        functional: it runs the functional core on per-head Q, K, V of our own projections.
    """

    name: str
    label: Text
    runner: Callable[..., Any]
    aliases: tuple[str, ...] = ()
    controls: frozenset[str] = frozenset({"heads", "mask"})
    defaults: Mapping[str, Any] = field(default_factory=dict)
    masks: tuple[str, ...] = DEFAULT_MASKS
    functional: bool = False

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("name must be a non-empty string; got ''")
        unknown = set(self.controls) - CONTROLS
        if unknown:
            raise ValueError(f"controls must be among {sorted(CONTROLS)}; got {sorted(unknown)}")
        bad_masks = set(self.masks) - set(MASKS)
        if bad_masks or not self.masks:
            raise ValueError(f"masks must be a non-empty subset of {MASKS}; got {self.masks}")
        object.__setattr__(self, "controls", frozenset(self.controls))
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))


REGISTRY: dict[str, LabModule] = {}   # name -> record, in the chooser's order
_ALIASES: dict[str, str] = {}         # alias (and lower-cased alias) -> name


def register(record: LabModule) -> LabModule:
    """Add (or replace) a module; returns the record, so it can be used as a value."""
    for alias in (record.name, *record.aliases):
        owner = _ALIASES.get(alias)
        if owner is not None and owner != record.name and alias in REGISTRY:
            raise ValueError(f"alias must not be another module's name; got {alias!r}")
    REGISTRY[record.name] = record
    for alias in record.aliases:
        _ALIASES[alias] = record.name
        _ALIASES.setdefault(alias.lower(), record.name)
    return record


def unregister(name: str) -> None:
    """Remove a module and its aliases (tests register throwaway modules)."""
    REGISTRY.pop(name, None)
    for alias in [a for a, owner in _ALIASES.items() if owner == name]:
        del _ALIASES[alias]


def module_names() -> tuple[str, ...]:
    """The registered modules, in the chooser's order."""
    return tuple(REGISTRY)


def get(name: str) -> LabModule:
    """The record of a module; ValueError naming the known ones otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"module must be one of {', '.join(REGISTRY)}; got {name!r}"
        ) from None


def resolve_module(name: str | None) -> str | None:
    """The Lab module for a URL value or an `attention` export name; None if unknown."""
    if name is None:
        return None
    if name in REGISTRY:
        return name
    return _ALIASES.get(name) or _ALIASES.get(name.lower())


def label(name: str) -> Text:
    return get(name).label
