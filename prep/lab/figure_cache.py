"""A small process-wide cache of the Lab's Plotly figures, shared by every session.

Building a Plotly figure validates every property it sets; for the Lab's default page that is
most of a rerun's CPU time (benchmarks/profile_reruns.py: ~60% of a temperature change), and all
sessions share one core (the GIL). A figure is a pure function of the builder's arguments (the
run's result, titles, hover names in the page's language, sizes), so the same arguments give the
same figure.

The key is the builder's name and its arguments: a ``LabResult`` stands for its ``config``,
tokens, labels and weights (their bytes, so a hand-made or changed result never gets another's
figure), an array for its shape, dtype and a digest of its bytes. The figure is returned itself,
not a copy: callers must not change it (the Lab only hands it to ``prep.ui_chart.chart``,
which reads it). At most ``MAX_FIGURES`` figures are kept, the least recently used dropped first.

Not done: arguments that are neither hashable nor one of the types above bypass the cache (the
figure is built every time).
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np

from prep.lab.results import LabResult

MAX_FIGURES = 64
F = TypeVar("F", bound=Callable[..., Any])
_figures: OrderedDict[Any, Any] = OrderedDict()
_lock = threading.Lock()


class Unhashable(Exception):
    """An argument the cache cannot key on."""


def _key(value: Any) -> Any:
    if isinstance(value, LabResult):  # what a figure draws (steps and source: not drawn)
        return ("LabResult", value.config, _key(value.query_tokens), _key(value.key_tokens),
                _key(value.query_labels), _key(value.key_labels), _key(value.weights),
                value.padded_queries)
    if isinstance(value, np.ndarray):
        digest = hashlib.blake2b(np.ascontiguousarray(value).tobytes(), digest_size=16)
        return ("ndarray", value.shape, str(value.dtype), digest.hexdigest())
    if isinstance(value, list | tuple):
        return (type(value).__name__, *map(_key, value))
    if isinstance(value, Mapping):
        return ("mapping", *sorted((str(k), _key(v)) for k, v in value.items()))
    try:
        hash(value)
    except TypeError as error:
        raise Unhashable(type(value).__name__) from error
    return value


def cached(build: F) -> F:
    """``build``, its figures kept per arguments (see the module's docstring)."""

    @functools.wraps(build)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            key = (build.__qualname__, _key(args), _key(kwargs))
        except Unhashable:
            return build(*args, **kwargs)
        with _lock:
            if key in _figures:
                _figures.move_to_end(key)
                return _figures[key]
        figure = build(*args, **kwargs)  # outside the lock: other sessions keep going
        with _lock:
            _figures[key] = figure
            while len(_figures) > MAX_FIGURES:
                _figures.popitem(last=False)
        return figure

    return wrapper  # type: ignore[return-value]


def clear() -> None:
    """Forget every kept figure (tests)."""
    with _lock:
        _figures.clear()
