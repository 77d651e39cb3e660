"""Many at once: a music library analyzed, recipe sweeps, batch renders; one machine or a cluster.

>>> from resonator.batch import analyze_library, sweep, render_many, parse_vary
>>> analyze_library(["music/"], "music.jsonl", csv="music.csv", jobs=4)        # doctest: +SKIP
>>> sweep("recipes/focus.toml", [parse_vary("layer.bed.mod_depth=0.4,0.6")],
...       "sweeps/focus", start="3m", duration="1m")                           # doctest: +SKIP
>>> render_many([("a.toml", "a.wav"), ("b.toml", "b.wav")], cluster="tcp://10.0.0.5:8786")
...                                                                            # doctest: +SKIP

The engine is Dask distributed (:mod:`.executor`): local worker processes by default, or a
scheduler reached by address. Work units are files or variants; workers read and write paths
on storage they all see, and send back small records that this process writes as they arrive
(:mod:`.results`). Modules: :mod:`.library` (batch analysis), :mod:`.variants` and
:mod:`.sweep` (recipe sweeps), :mod:`.tables` (sweep table, page and plot), :mod:`.renders`
(several recipes), :mod:`.progress`.

Importing this package is cheap: ``distributed`` is imported only when workers are started.
"""
from __future__ import annotations

__all__ = ["Executor", "analyze_library", "parse_vary", "render_many", "sweep"]


def __getattr__(name):  # lazy: keep ``import resonator.batch`` cheap
    if name == "Executor":
        from .executor import Executor

        return Executor
    if name == "analyze_library":
        from .library import analyze_library

        return analyze_library
    if name == "parse_vary":
        from .variants import parse_vary

        return parse_vary
    if name == "render_many":
        from .renders import render_many

        return render_many
    if name == "sweep":
        from .sweep import sweep

        return sweep
    raise AttributeError(f"module 'resonator.batch' has no attribute {name!r}")
