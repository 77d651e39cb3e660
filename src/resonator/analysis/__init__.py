"""Rhythmic analysis of existing music: tempo, beats, pulse, modulation, binaural beats, loudness.

Import cost is small: matplotlib is loaded only for plots.
Main entry point: :func:`analyze_file` (plain, JSON-serialisable dict per file).
"""
from __future__ import annotations

__all__ = [
    "analyze_file",
    "analyze_signal",
    "estimate_tempo",
    "track_beats",
    "modulation_report",
    "detect_binaural",
    "breathing_pace",
    "breath_modulation",
    "plot_report",
]


def __getattr__(name):  # lazy: keep ``import resonator.analysis`` cheap
    if name in ("analyze_file", "analyze_signal", "analyze_features"):
        from . import report

        return getattr(report, name)
    if name == "estimate_tempo":
        from .tempo import estimate_tempo

        return estimate_tempo
    if name == "track_beats":
        from .beats import track_beats

        return track_beats
    if name == "modulation_report":
        from .modulation_report import modulation_report

        return modulation_report
    if name == "detect_binaural":
        from .binaural import detect_binaural

        return detect_binaural
    if name in ("breathing_pace", "breath_modulation"):
        from . import breathing

        return getattr(breathing, name)
    if name == "plot_report":
        from .plot import plot_report

        return plot_report
    raise AttributeError(f"module 'resonator.analysis' has no attribute {name!r}")
