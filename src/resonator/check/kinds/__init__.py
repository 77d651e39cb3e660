"""Target kinds of ``resonator check``: one registry, each kind beside its evaluator.

Importing this package registers every kind in :data:`TARGET_KINDS` (see
:mod:`resonator.check.kinds.base` for the contract and how to add one):

============ ==================================================================
module       kinds
============ ==================================================================
tones        binaural_beat, binaural_carrier
modulation   am_rate, am_depth, gated_depth, gamma_share
beds         breath_rate, lr_correlation, band_energy@LO-HI, noise_slope
events       bell_strikes, clicks
levels       loudness, true_peak, loudness_range, fade_in, fade_out,
             loudness_trend, centroid_trend
fidelity     splatter
music        music_tempo, music_beat_lock, music_shift, music_track, music_boundary,
             music_join
============ ==================================================================

``resonator check --kinds`` prints every kind with its unit, default tolerance and method.
"""
from __future__ import annotations

from .base import (TARGET_KINDS, Reading, TargetKind, Unmeasurable, get_kind, register,
                   within)
# each module registers its kinds at import (a new module is added here)
from . import tones, modulation, beds, events, levels, fidelity, music  # noqa: F401,I001

__all__ = ["TARGET_KINDS", "Reading", "TargetKind", "Unmeasurable", "evaluate", "get_kind",
           "kinds_table", "register", "within"]


def evaluate(t, ctx) -> Reading:
    """Measure one target with its kind's evaluator.

    Measurement problems (a mono file for a binaural target, silence) fail the target with
    ``detail["error"]``; :class:`Unmeasurable` propagates (the runner lists the target as
    skipped with the reason).
    """
    import math

    from ...errors import ResonatorError

    kind = TARGET_KINDS[t.kind]
    try:
        r = kind.evaluate(t, ctx)
    except Unmeasurable:
        raise
    except (ResonatorError, ValueError, FloatingPointError) as exc:
        return Reading(None, False, "", {"error": str(exc)})
    if r.measured is not None and not math.isfinite(float(r.measured)):
        return Reading(None, False, r.rule, dict(r.detail, error="no value could be measured"))
    return Reading(None if r.measured is None else float(r.measured), r.passed, r.rule,
                   r.detail)


def kinds_table() -> str:
    """Every registered kind: name, unit, default tolerance, shortest window and method."""
    import textwrap

    out = []
    for k in TARGET_KINDS.values():
        u, tu = k.unit_info, k.tolerance_info
        name = k.name + ("@LO-HI" if k.band_suffix else "")
        head = (f"{name}: expected in {u.label or 'plain numbers'}" if k.parse is None else
                f"{name}: expected falling or rising")
        out.append(f"{head}; default tolerance {tu.format_g(k.tolerance)}; windows of at "
                   f"least {k.min_window_s:g} s")
        out.append(textwrap.fill(" ".join(k.doc.split()), 92, initial_indent="    ",
                                 subsequent_indent="    "))
    return "\n".join(out)
