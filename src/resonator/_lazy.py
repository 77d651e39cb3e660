"""Modules imported on first use, so what merely registers or validates stays light.

``signal = lazy_module("scipy.signal")`` at the top of a module costs nothing; the first
attribute read (``signal.sosfilt``) imports scipy.signal. Recipe loading imports the check
target kinds (to validate ``[[target]]`` tables) and through them the measuring functions:
with their scipy imports deferred a render, ``play`` or ``plan`` never loads scipy (about
0.3 s of every such command on this machine class).
"""
from __future__ import annotations

import importlib
from types import ModuleType


class _LazyModule:
    """A stand-in for a module that imports it at the first attribute read.

    Thread-safe: the import itself holds Python's import lock, and each attribute is then
    kept on the stand-in (so later reads cost what a module attribute costs).
    """

    def __init__(self, name: str):
        self.__dict__["_lazy_name"] = name

    def __getattr__(self, attr: str):
        value = getattr(importlib.import_module(self._lazy_name), attr)
        self.__dict__[attr] = value
        return value

    def __repr__(self) -> str:
        return f"<lazy module {self._lazy_name!r}>"


def lazy_module(name: str) -> ModuleType:
    """``name`` imported at the first attribute read (a :class:`_LazyModule` stand-in)."""
    return _LazyModule(name)  # type: ignore[return-value]


def unique(values):
    """``np.unique(values)`` (sorted distinct values of a flattened array) without the
    ``numpy.ma`` import that numpy 2.4's ``np.unique`` makes on its first call (about 8 ms of
    a render's start-up and of its measuring pass)."""
    import numpy as np

    a = np.sort(np.asarray(values).ravel())
    if a.size < 2:
        return a
    keep = np.empty(a.shape, dtype=bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


def median(values) -> float:
    """``np.median`` of finite values (the same number) without the ``numpy.ma`` import
    numpy 2.4's ``np.median`` makes on its first call."""
    import numpy as np

    a = np.sort(np.asarray(values, dtype=np.float64).ravel())
    n = a.size
    if n == 0:
        return float("nan")
    return float(a[n // 2]) if n % 2 else float((a[n // 2 - 1] + a[n // 2]) / 2)


def percentile(values, q):
    """``np.percentile(values, q)`` (the default linear method; finite values, q a sequence in
    [0, 100]), the same numbers, without the ``numpy.ma`` import numpy 2.4's quantiles make
    on their first call (through ``np.unique``)."""
    import numpy as np

    a = np.sort(np.asarray(values, dtype=np.float64).ravel())
    n = a.size
    v = (n - 1) * np.true_divide(np.asarray(q, dtype=np.float64), 100)
    prev = np.floor(v)
    nxt = prev + 1
    prev[v >= n - 1] = nxt[v >= n - 1] = -1
    prev[v < 0] = nxt[v < 0] = 0
    prev, nxt = prev.astype(np.intp), nxt.astype(np.intp)
    gamma = v - prev
    lo, hi = a[prev], a[nxt]
    diff = hi - lo
    out = lo + diff * gamma
    np.subtract(hi, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    return out
