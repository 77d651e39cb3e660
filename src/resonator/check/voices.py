"""Pitched components a session plans, and what keeps one ear's tone from being read.

A binaural target is measured on each ear of the full mix, where other voices may sit a few
hertz away (SBaGen sequences stack voices within 20 % of each other, cross-fade between voices
with the same carrier, add brown noise). Instead of taking the strongest peak in a wide band,
the evaluator asks the plan which sinusoids each ear holds in the window
(:func:`planned_components`, from every layer's
:attr:`~resonator.layers.base.LayerKind.plan`: tones, harmonics of non-sine waveforms,
sidebands of gates, struck sines), then :func:`resonator.measure.tones.fit_tones` fits them
by least squares: close voices are separated, and the frequency measured is still free to be
wrong (a peak at the search's edge is reported so a grossly wrong render fails instead of
reading the plan back).

Two components closer than the window resolves (about 1.5 / T Hz) cannot be told apart:
:func:`resolution_problem` names them; the evaluator first tries a longer window, then fits
them as one group with one common shift. Tones of layers whose partials are not modelled
(a drone, gamma pips) only mark ranges: a target ear inside one is skipped with the reason.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Component", "planned_components", "resolution_problem", "RESOLVE_CYCLES"]

#: two components must be at least this many bins (1/T) apart to be measured separately
RESOLVE_CYCLES = 1.5


@dataclass
class Component:
    """One planned sinusoid in one ear over a window.

    Attributes
    ----------
    layer : str
    ear : int
        0 left, 1 right.
    hz : float
        Planned frequency at the window centre.
    lo_hz, hi_hz : float
        Lowest and highest planned frequency over the window (a glide).
    amp : float
        Planned linear amplitude (gain x level x envelope x harmonic weight), relative.
    role : str
        A :class:`~resonator.layers.base.Partial` role (``"tone"``, ``"harmonic"``,
        ``"sideband"``, ``"partial"``, ``"strike"``) or ``"range"`` (a layer whose partials
        are not modelled: any tone in [lo_hz, hi_hz]).
    track : callable or None
        Planned frequency, session seconds -> Hz (None: steady at ``hz``).
    env : callable or None
        Planned amplitude, session seconds -> amplitude relative to ``amp``.
    """

    layer: str
    ear: int
    hz: float
    lo_hz: float
    hi_hz: float
    amp: float
    role: str = "tone"
    track: object = None
    env: object = None

    def glides(self, window_s: float) -> bool:
        """True when the planned frequency moves by more than a tenth of a bin over a window
        of ``window_s`` (worth dechirping)."""
        return self.track is not None and (self.hi_hz - self.lo_hz) * window_s > 0.1


def _layer_components(info, t0: float, t1: float) -> list[Component]:
    """A layer's planned partials over session seconds [t0, t1] (none while it is silent):
    amplitudes are the partial's weight x the layer's planned amplitude (envelope x gain x
    level) at its loudest there; struck partials only within their ring after a strike."""
    tt = np.linspace(t0, t1, 9)
    a = info.amplitude(tt)
    amp = float(np.max(a))
    if amp <= 1e-4:
        return []

    def env(ts):
        return info.amplitude(np.asarray(ts, dtype=np.float64)) / amp
    out = []
    for p in info.plan.partials:
        if p.role == "strike":
            st = np.asarray(p.strikes_s, dtype=np.float64)
            if not np.any((st <= t1) & (st >= t0 - p.ring_s)):
                continue
        f = np.asarray(p.freq(tt), dtype=np.float64)
        steady = p.role == "strike" or float(np.ptp(f)) == 0.0
        out.append(Component(info.name, p.ear, float(f[4]), float(f.min()), float(f.max()),
                             amp * p.weight, p.role, track=None if steady else p.freq,
                             env=None if p.role == "strike" else env))
    return out


def planned_components(session):
    """A function ``(t0, t1) -> list of Component`` of every layer's planned partials
    (session seconds), plus ``"range"`` components for the tonal ranges of layers whose
    partials are not modelled (:attr:`~resonator.layers.base.LayerPlan.modelled`)."""
    def at(t0: float, t1: float) -> list[Component]:
        out = []
        mid = 0.5 * (t0 + t1)
        for info in session.layers:
            if info.plan.modelled:
                out += _layer_components(info, t0, t1)
                continue
            if float(np.min(info.envelope.evaluate(np.array([t0, mid, t1])))) <= 1e-4:
                continue
            for r0, r1 in info.plan.tonal_ranges:
                for ear in (0, 1):
                    out.append(Component(info.name, ear, 0.5 * (r0 + r1), r0, r1, 1.0,
                                         "range"))
        return out
    return at


def resolution_problem(own: Component, others: list[Component], window_s: float,
                       rel_floor: float = 0.01) -> str | None:
    """Why ``own`` cannot be measured next to ``others`` in a window of ``window_s``, or None.

    Components weaker than ``rel_floor`` of ``own`` (-40 dB) are ignored."""
    res = RESOLVE_CYCLES / window_s
    for o in others:
        if o.ear != own.ear:
            continue
        if o.role == "range":
            if o.lo_hz - res <= own.hz <= o.hi_hz + res:
                return (f"layer {o.layer}'s tones ({o.lo_hz:.1f}-{o.hi_hz:.1f} Hz) cover the "
                        f"{'left' if own.ear == 0 else 'right'} ear's {own.hz:.2f} Hz")
            continue
        if o.amp < rel_floor * own.amp:
            continue
        # closest approach over the window (both may glide)
        gap = _min_gap(own, o)
        if gap < res:
            what = "the same frequency as" if gap < 1e-6 else f"{gap:.3f} Hz from"
            return (f"{'left' if own.ear == 0 else 'right'} ear {own.hz:.2f} Hz ({own.layer}) "
                    f"is {what} {o.hz:.2f} Hz ({o.layer}{'' if o.role == 'tone' else ' ' + o.role}"
                    f"); {window_s:g} s resolves {res:.2f} Hz")
    return None


def _min_gap(a: Component, b: Component) -> float:
    # linear glides: the gap is linear over the window; check ends and centre, and crossing
    ga = (a.lo_hz, a.hz, a.hi_hz)
    gb = (b.lo_hz, b.hz, b.hi_hz)
    if max(ga[0], gb[0]) <= min(ga[2], gb[2]) and (a.hi_hz - a.lo_hz > 0 or
                                                   b.hi_hz - b.lo_hz > 0):
        # ranges overlap: they may cross inside the window (conservative)
        if abs(a.hz - b.hz) < 0.5 * ((a.hi_hz - a.lo_hz) + (b.hi_hz - b.lo_hz)):
            return 0.0
    return abs(a.hz - b.hz)
