"""The Lab page's state machine: URL <-> widget state, over a plain mutable mapping.

The page passes ``st.session_state``; tests pass a dict. Widget keys are ``"lab_" + field`` for
configuration A and ``"lab_b_" + field`` for B (compare mode). Rules:

* a new link decides (every value fitted to the allowed ones, with notes);
* coming back without a link (another page, then Lab) restores the last settings;
* after a language switch the labelled widgets are set again (the browser holds an option's
  label, which the other language's options no longer contain);
* before the widgets are drawn, :func:`prepare` fits the state again, so that no widget is ever
  given a value outside its options (an E change moves the heads to the nearest divisor).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import replace
from typing import Any

import prep.lab.registry as registry
from prep.i18n import Text
from prep.lab.config import (
    B_PREFIX,
    COMPARE_PARAM,
    FIELD_NAMES,
    TOKEN_SOURCES,
    LabConfig,
    defaults_for,
)
from prep.lab.links import fit, parse_url

State = MutableMapping[str, Any]

WIDGET = "lab_"            # widget keys: WIDGET + field (A), WIDGET + B_PREFIX + field (B)
LAST = "lab_last"          # the last configurations and URL (not a widget key: survives pages)
COMPARE = "lab_compare"    # the compare toggle's key
LANG_SEEN = "lab_lang"     # the language of the last run
NOTES = "lab_notes"        # what the last link or change moved, shown until the next change
# widgets whose option labels depend on the language
LABELLED = ("module", "tokens", "mask", "model_size")
SHARED = ("tokens", "text", "text2", "seq_len", "embed_dim", "seed")  # B uses A's input
PREFIXES = ("", B_PREFIX)


def store(state: State, config: LabConfig, prefix: str = "", overwrite: bool = True) -> None:
    for name in FIELD_NAMES:
        if overwrite or WIDGET + prefix + name not in state:
            state[WIDGET + prefix + name] = getattr(config, name)


def read(state: State, prefix: str = "") -> LabConfig:
    """The configuration the widgets say; a widget not shown keeps the last known value, and a
    value that is not one of its choices (a stale label, an unregistered module) too."""
    last = (state.get(LAST) or {}).get(prefix) or LabConfig()
    values = {n: state.get(WIDGET + prefix + n, getattr(last, n)) for n in FIELD_NAMES}
    if values["module"] not in registry.REGISTRY:
        values["module"] = last.module if last.module in registry.REGISTRY else LabConfig().module
    if values["tokens"] not in TOKEN_SOURCES:
        values["tokens"] = last.tokens
    if values["mask"] not in registry.MASKS:
        values["mask"] = last.mask
    return LabConfig(**values)


def prepare(state: State, prefix: str = "", shared: LabConfig | None = None) -> LabConfig:
    """Fit the widget state to the allowed values before the widgets are drawn; the moves are
    added to :data:`NOTES`. ``shared``: configuration A, whose inputs B uses."""
    config = read(state, prefix)
    if shared is not None:
        config = replace(config, **{n: getattr(shared, n) for n in SHARED})
    fitted, notes = fit(config, prefix=prefix)
    store(state, fitted, prefix)
    if notes:
        state[NOTES] = [*state.get(NOTES, []), *notes]
    return fitted


def url_params(query_params: Mapping[str, Any], lang_param: str = "lang") -> dict[str, str]:
    return {k: str(v) for k, v in query_params.items() if k != lang_param}


def remember(state: State, a: LabConfig, b: LabConfig, compare: bool,
             params: Mapping[str, str]) -> None:
    state[LAST] = {"": a, B_PREFIX: b, "compare": compare, "url": dict(params)}


def load_from_url(state: State, params: Mapping[str, str], lang: str) -> None:
    """A new link decides; coming back without one restores the last settings. Widget state
    that Streamlit dropped (a widget not shown on the last run) is put back."""
    last = state.get(LAST)
    relabel = state.get(LANG_SEEN, lang) != lang
    state[LANG_SEEN] = lang
    if last is not None and dict(params) in ({}, last["url"]):
        for prefix in PREFIXES:
            store(state, last[prefix], prefix, overwrite=False)
        state.setdefault(COMPARE, last["compare"])
        if relabel:  # set again, so that the browser gets the labels of the new language
            for prefix in PREFIXES:
                for name in LABELLED:
                    state[WIDGET + prefix + name] = getattr(last[prefix], name)
        return
    config_a, notes = parse_url(params)
    config_b, notes_b = parse_url(params, base=config_a, prefix=B_PREFIX)
    store(state, config_a)
    store(state, config_b, B_PREFIX)
    state[COMPARE] = params.get(COMPARE_PARAM) == "1"
    state[NOTES] = notes + notes_b
    remember(state, config_a, config_b, state[COMPARE], params)


def on_module_change(state: State, prefix: str = "") -> None:
    """A new module starts from its own defaults, keeping the tokens and the seed."""
    current = read(state, prefix)
    kept = {n: getattr(current, n) for n in SHARED}
    store(state, replace(defaults_for(current.module), **kept), prefix)


def start_compare(state: State) -> None:
    """B starts as a copy of A."""
    if state.get(COMPARE):
        store(state, read(state), B_PREFIX)


def params_for(a: LabConfig, b: LabConfig, compare: bool) -> dict[str, str]:
    """The URL of what is on screen: A in full, B as its differences from A."""
    params = a.to_query_params()
    if compare:
        params.update(b.to_query_params(base=a, prefix=B_PREFIX), **{COMPARE_PARAM: "1"})
    return params


def write_url(state: State, a: LabConfig, b: LabConfig, compare: bool) -> dict[str, str]:
    """Remember what is on screen and return its URL parameters."""
    params = params_for(a, b, compare)
    remember(state, a, b, compare, params)
    return params


def take_notes(state: State) -> list[Text]:
    """The notes so far (a link's fitted values, a widget change's moves), once: each is shown
    in one run and gone after the next change."""
    return list(state.pop(NOTES, None) or [])


def unused_reason(config: LabConfig, control: str) -> Text | None:
    """Why a control is disabled for this module (None when the module uses it)."""
    record = registry.get(config.module)
    if control in record.controls:
        return None
    return Text(f"「{record.label.zh}」不使用这个设置。",
                f"{record.label.en} does not use this setting.")
