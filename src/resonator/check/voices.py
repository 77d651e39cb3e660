"""Pitched components a recipe plans, and measuring one ear's tone among them.

A binaural target is measured on each ear of the full mix, where other voices may sit a few
hertz away (SBaGen sequences stack voices within 20 % of each other, cross-fade between voices
with the same carrier, add brown noise). Instead of taking the strongest peak in a wide band,
the evaluator asks the plan which sinusoids each ear holds in the window
(:func:`planned_components`: every binaural, wave, tone, isochronic, monaural and chime layer,
with harmonics of non-sine waveforms and the sidebands of isochronic gates), then
:func:`resonator.measure.tones.fit_tones` fits that set of sinusoids by least squares at their approximate
frequencies and refines each one on the residual with the others removed (Hann window,
interpolated peak of the exact DTFT): close voices are separated, and the frequency measured
is still free to be wrong (a search of +-``search_hz`` around the plan; a peak at the search's
edge is reported so a grossly wrong render fails instead of reading the plan back).

Gliding components are fitted along their planned trajectory (:func:`resonator.measure.tones.planned_chirp`: the
frequency refined is the offset from it at the window's centre). Two components closer than
the window resolves (about 1.5 / T Hz) cannot be told apart: :func:`resolution_problem` names
them; the evaluator first tries a longer window, then fits them as one group with one common
shift (``groups`` in ``fit_tones``). Tones of layers whose partials are not modelled
(drone, breath, gamma) only mark ranges: a target ear inside one is skipped with the reason.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Component", "planned_components", "resolution_problem", "RESOLVE_CYCLES"]

#: two components must be at least this many bins (1/T) apart to be measured separately
RESOLVE_CYCLES = 1.5
#: harmonics of a waveform weaker than this (relative to the fundamental) are left out
MIN_HARMONIC = 0.003


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
        ``"tone"`` (a fundamental), ``"harmonic"``, ``"sideband"``, ``"bell"`` or ``"range"``
        (a layer whose partials are not modelled: any tone in [lo_hz, hi_hz]).
    """

    layer: str
    ear: int
    hz: float
    lo_hz: float
    hi_hz: float
    amp: float
    role: str = "tone"
    amp_min: float | None = None  # lowest planned amplitude over the window
    track: object = None  # planned frequency, session seconds -> Hz (None: steady at hz)
    env: object = None  # planned amplitude, session seconds -> relative amplitude

    def glides(self, window_s: float) -> bool:
        """True when the planned frequency moves by more than a tenth of a bin over a window
        of ``window_s`` (worth dechirping)."""
        return self.track is not None and (self.hi_hz - self.lo_hz) * window_s > 0.1


def _sampler(node, sr):
    from ..layers._common import sample

    return lambda t: sample(node, t, sr)


def _harmonics(info) -> list[tuple[int, float]]:
    """(harmonic number, relative amplitude) of a layer's waveform (fundamental first)."""
    shape = info.params.get("shape", "sine")
    if shape in (None, "sine"):
        return [(1, 1.0)]
    if shape == "custom":
        from ..layers.sbg_voices import user_wave_harmonics

        try:
            ks, a, b = user_wave_harmonics(info.params.get("samples") or [0.0, 1.0])
        except Exception:  # noqa: BLE001 - a hint only
            return [(1, 1.0)]
        amp = np.hypot(a, b)
        ref = float(amp[ks == 1][0]) if np.any(ks == 1) else float(amp.max())
        return [(int(k), float(v / ref)) for k, v in zip(ks, amp)
                if ref > 0 and v / ref >= MIN_HARMONIC]
    out = []
    for k in range(1, 64):
        if shape == "square":
            v = 1.0 / k if k % 2 else 0.0
        elif shape == "triangle":
            v = 1.0 / k ** 2 if k % 2 else 0.0
        else:  # sawtooth
            v = 1.0 / k
        if v >= MIN_HARMONIC:
            out.append((k, v))
    return out


class _LayerPlan:
    """Per-layer samplers of the planned frequencies and amplitude."""

    def __init__(self, session, info):
        self.info = info
        self.name = info.name
        self.kind = info.kind
        sr = session.sr
        p = info.params
        self.sr = sr
        spec = next((s for s in session.recipe.layers if s.name == info.name), None)
        timeline = session.recipe.timeline()
        self._gain = None
        self._level = None
        if spec is not None:
            try:
                self._gain = _sampler(spec.gain.to_node(timeline), sr)
            except Exception:  # noqa: BLE001
                self._gain = None
            lv = getattr(spec, "level", None)
            if lv is not None:
                try:
                    self._level = _sampler(lv.to_node(timeline), sr)
                except Exception:  # noqa: BLE001
                    self._level = None
        self._env = info.envelope.evaluate
        self.ok = True
        self.harm = [(1, 1.0)]
        try:
            if self.kind in ("binaural", "wave", "monaural"):
                self._c, self._b = _sampler(p["carrier"], sr), _sampler(p["beat"], sr)
                if self.kind == "wave":
                    self.harm = _harmonics(info)
            elif self.kind == "tone":
                self._c, self._b = _sampler(p["frequency"], sr), (lambda t: np.zeros(np.shape(t)))
                self.harm = _harmonics(info)
            elif self.kind == "isochronic":
                self._c, self._r = _sampler(p["carrier"], sr), _sampler(p["rate"], sr)
            elif self.kind == "breath":
                from ..layers.breath import PARTIAL_LEVELS, PARTIAL_RATIOS

                self._root = _sampler(p["root"], sr)
                cents = float(p.get("detune_cents", 4.0))
                self._det = (2.0 ** (cents / 2400.0), 2.0 ** (-cents / 2400.0))
                lv = np.asarray(PARTIAL_LEVELS, float)
                self.harm = list(zip(PARTIAL_RATIOS, (lv / lv[0]).tolist()))
            elif self.kind == "chime":
                from ..units import parse_duration

                times = np.array([parse_duration(t) for t in p["times"]], dtype=np.float64)
                pitches = np.broadcast_to(np.asarray(p["pitches"] or [440.0], float),
                                          times.shape)
                self._strikes = (times, np.asarray(pitches, dtype=np.float64))
            else:
                self.ok = False
        except Exception:  # noqa: BLE001 - curves the sampler cannot read: not modelled
            self.ok = False

    def amp(self, tt) -> np.ndarray:
        a = np.asarray(self._env(tt), dtype=np.float64)
        if self._gain is not None:
            a = a * 10 ** (np.asarray(self._gain(tt)) / 20)
        if self._level is not None:
            a = a * np.abs(np.asarray(self._level(tt)))
        return a

    def _envelope_fn(self, peak: float):
        """Planned amplitude over time, relative to ``peak``."""
        return lambda ts: self.amp(np.asarray(ts, dtype=np.float64)) / peak

    def _track(self, k: int, sign: float):
        """Planned frequency of harmonic ``k`` of the ear ``carrier + sign beat / 2``."""
        def f(ts):
            ts = np.asarray(ts, dtype=np.float64)
            return np.abs(k * (np.asarray(self._c(ts), float) +
                               sign * np.asarray(self._b(ts), float) / 2))
        return f

    def _iso_track(self, k: int):
        """Planned frequency of an isochronic line ``carrier + k rate``."""
        def f(ts):
            ts = np.asarray(ts, dtype=np.float64)
            return np.abs(np.asarray(self._c(ts), float) + k * np.asarray(self._r(ts), float))
        return f

    def components(self, t0: float, t1: float) -> list[Component]:
        tt = np.linspace(t0, t1, 9)
        a = self.amp(tt)
        amp = float(np.max(a))
        if amp <= 1e-4:
            return []
        out: list[Component] = []
        amp_min = float(np.min(a))
        env = self._envelope_fn(amp)
        if self.kind in ("binaural", "wave", "monaural", "tone"):
            c, b = np.asarray(self._c(tt), float), np.asarray(self._b(tt), float)
            ears = [(c + b / 2, c - b / 2)] if self.kind != "monaural" else \
                [(c + b / 2, c + b / 2), (c - b / 2, c - b / 2)]
            for i, (fl, fr) in enumerate(ears):
                for ear, f in ((0, fl), (1, fr)):
                    sign = (1.0 if ear == 0 else -1.0) if self.kind != "monaural" else \
                        (1.0 if i == 0 else -1.0)
                    for k, w in self.harm:
                        fk = np.abs(k * f)
                        out.append(Component(self.name, ear, float(fk[4]), float(fk.min()),
                                             float(fk.max()), amp * w,
                                             "tone" if k == 1 else "harmonic", amp_min * w,
                                             track=self._track(k, sign), env=env))
        elif self.kind == "breath":
            root = np.asarray(self._root(tt), float)
            for ear in (0, 1):
                for k, w in self.harm:
                    fk = root * k * self._det[ear]
                    out.append(Component(self.name, ear, float(fk[4]), float(fk.min()),
                                         float(fk.max()), amp * w, "partial"))
        elif self.kind == "isochronic":
            c, r = np.asarray(self._c(tt), float), np.asarray(self._r(tt), float)
            for k in range(-7, 8):
                w = 0.5 if k == 0 else abs(math.sin(math.pi * k / 2) / (math.pi * k))
                if w < 0.01:
                    continue
                fk = np.abs(c + k * r)
                for ear in (0, 1):
                    out.append(Component(self.name, ear, float(fk[4]), float(fk.min()),
                                         float(fk.max()), amp * w,
                                         "tone" if k == 0 else "sideband", amp_min * w,
                                         track=self._iso_track(k)))
        elif self.kind == "chime":
            times, pitches = self._strikes
            near = (times <= t1) & (times >= t0 - 4.0)  # 15 dB/s: gone after about 4 s
            for f in sorted(set(pitches[near].tolist())):
                for ear in (0, 1):
                    out.append(Component(self.name, ear, f, f, f, amp, "bell"))
        return out


def planned_components(session):
    """A function ``(t0, t1) -> list of Component`` for every pitched layer of a session
    (session seconds), plus ``"range"`` components for tonal layers whose partials are not
    modelled (drone, breath, gamma tones)."""
    from .targets import _tones

    plans, ranges = [], []
    for info in session.layers:
        lp = _LayerPlan(session, info)
        if lp.ok:
            plans.append(lp)
        else:
            rr = _tones(info, session.sr)
            if rr:
                ranges.append((info, rr))

    def at(t0: float, t1: float) -> list[Component]:
        out = []
        for lp in plans:
            out += lp.components(t0, t1)
        mid = 0.5 * (t0 + t1)
        for info, rr in ranges:
            if float(np.min(info.envelope.evaluate(np.array([t0, mid, t1])))) <= 1e-4:
                continue
            for r0, r1 in rr:
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
