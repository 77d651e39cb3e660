"""Pitched components a recipe plans, and measuring one ear's tone among them.

A binaural target is measured on each ear of the full mix, where other voices may sit a few
hertz away (SBaGen sequences stack voices within 20 % of each other, cross-fade between voices
with the same carrier, add brown noise). Instead of taking the strongest peak in a wide band,
the evaluator asks the plan which sinusoids each ear holds in the window
(:func:`planned_components`: every binaural, wave, tone, isochronic, monaural and chime layer,
with harmonics of non-sine waveforms and the sidebands of isochronic gates), then
:func:`fit_tones` fits that set of sinusoids by least squares at their approximate
frequencies and refines each one on the residual with the others removed (Hann window,
interpolated peak of the exact DTFT): close voices are separated, and the frequency measured
is still free to be wrong (a search of +-``search_hz`` around the plan; a peak at the search's
edge is reported so a grossly wrong render fails instead of reading the plan back).

Gliding components are fitted along their planned trajectory (:func:`planned_chirp`: the
frequency refined is the offset from it at the window's centre). Two components closer than
the window resolves (about 1.5 / T Hz) cannot be told apart: :func:`resolution_problem` names
them; the evaluator first tries a longer window, then fits them as one group with one common
shift (``groups`` in :func:`fit_tones`). Tones of layers whose partials are not modelled
(drone, breath, gamma) only mark ranges: a target ear inside one is skipped with the reason.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..measure._common import vertex_offset

__all__ = ["Component", "planned_components", "fit_tones", "resolution_problem",
           "RESOLVE_CYCLES", "planned_chirp"]

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


def planned_chirp(track, t0: float, n: int, sr: float, step_s: float = 0.05):
    """A component's planned phase over ``n`` samples from session second ``t0``, less the
    ramp of its frequency at the window's centre, zero at the centre (radians).

    The track is sampled every ``step_s`` and interpolated linearly (planned curves are
    smooth at that scale), then integrated per sample.

    Returns
    -------
    chirp : np.ndarray [shape=(n,)]
    f_centre : float
        Planned frequency at the window's centre (Hz).
    """
    dur = n / sr
    m = max(9, int(math.ceil(dur / step_s)) + 1)
    tg = t0 + np.linspace(0.0, dur, m)
    fg = np.asarray(track(tg), dtype=np.float64)
    ts = t0 + np.arange(n) / sr
    fs = np.interp(ts, tg, fg)
    fc = float(np.interp(t0 + 0.5 * (n - 1) / sr, tg, fg))
    ph = 2 * np.pi * np.cumsum(fs - fc) / sr
    ph -= np.interp(0.5 * (n - 1), np.arange(n), ph)
    return ph, fc


# ----------------------------------------------------------------------------- fitting
def _dtft(xw: np.ndarray, t: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    return np.exp(-2j * np.pi * np.outer(freqs, t)) @ xw


def _parabola(mag3) -> float:
    return vertex_offset(*np.log(np.asarray(mag3) + 1e-300))


def _refine(r: np.ndarray, t: np.ndarray, sr: float, lo: float, hi: float):
    """Interpolated peak of |DTFT(r)| in [lo, hi]: a zero-padded FFT (8x), a parabola on
    log magnitudes, then a parabola on an 8x finer exact-DTFT grid. Returns (Hz, at_edge)."""
    n = r.size
    nfft = 1 << int(math.ceil(math.log2(8 * n)))
    step = sr / nfft
    i0 = max(1, int(math.ceil(lo / step)))
    i1 = min(nfft // 2 - 1, int(math.floor(hi / step)))
    if i1 < i0:
        i0 = i1 = int(np.clip(round(0.5 * (lo + hi) / step), 1, nfft // 2 - 1))
    # the FFT of the band only (via a shifted DTFT when the band is narrow)
    if i1 - i0 + 3 <= 48:
        grid = step * np.arange(i0 - 1, i1 + 2)
        mag = np.abs(_dtft(r, t, grid))
    else:
        # (t is centred: same magnitude); a dechirped residual is complex
        full = np.abs(np.fft.fft(r, nfft)[: nfft // 2 + 1] if np.iscomplexobj(r) else
                      np.fft.rfft(r, nfft))
        mag = full[i0 - 1:i1 + 2]
        grid = step * np.arange(i0 - 1, i1 + 2)
    inner = mag[1:-1]
    i = int(np.argmax(inner)) + 1
    edge = i in (1, mag.size - 2) and (i1 > i0)
    f1 = grid[i] + _parabola(mag[i - 1:i + 2]) * step
    g2 = f1 + step / 8 * np.arange(-2, 3)
    mag2 = np.abs(_dtft(r, t, g2))
    j = int(np.argmax(mag2))
    if 0 < j < 4:
        return float(g2[j] + _parabola(mag2[j - 1:j + 2]) * step / 8), edge
    return float(g2[j]), edge


def tone_prominence(x: np.ndarray, sr: float, f: float, lo: float, hi: float,
                    chirp: np.ndarray | None = None) -> float:
    """|X(f)| of a Hann-windowed channel over the median |X| in [lo, hi] (zero-padded 2x):
    about 1 for noise, tens to thousands for a tone. With ``chirp`` (a planned glide's phase,
    as in :func:`fit_tones`) the channel is dechirped first: a glide stands as a line."""
    n = x.size
    w = np.hanning(n + 2)[1:-1]
    xw = np.asarray(x, dtype=np.float64) * w
    if chirp is not None:
        xw = xw * np.exp(-1j * chirp)
    t = (np.arange(n) - 0.5 * (n - 1)) / sr
    nfft = 1 << int(math.ceil(math.log2(2 * n)))
    mag = np.abs(np.fft.fft(xw, nfft)[: nfft // 2 + 1] if chirp is not None else
                 np.fft.rfft(xw, nfft))
    ff = np.arange(mag.size) * sr / nfft
    sel = (ff >= lo) & (ff <= hi)
    if np.count_nonzero(sel) < 8:
        return math.inf
    med = float(np.median(mag[sel]))
    peak = float(np.abs(_dtft(xw, t, np.array([f])))[0])
    return peak / med if med > 0 else math.inf


def fit_tones(x: np.ndarray, sr: float, freqs, search_hz, iterations: int = 4,
              chirps=None, envelopes=None, groups=None):
    """Fit a set of sinusoids at approximately known frequencies to one channel.

    Parameters
    ----------
    x : np.ndarray [shape=(n,)]
    sr : float
    freqs : sequence of float
        Approximate frequencies (the plan; for a gliding component, its frequency at the
        window's centre).
    search_hz : sequence of float or of (below, above)
        How far each frequency may move from the plan (+-, or below and above it).
    iterations : int
        Rounds of (least-squares amplitudes, per-component refinement on the residual).
    chirps : sequence of (np.ndarray [shape=(n,)] or None), optional
        Per component, the planned phase in radians less its centre frequency's ramp
        (``2 pi int (f_plan(t) - f_plan(centre)) dt``, zero at the centre), or None for a
        steady tone. The component is modelled as ``cos(2 pi f t + chirp(t) + phi)``: a glide
        is fitted along its planned trajectory (dechirped), and what is refined is the
        constant offset from it, i.e. the frequency at the window's centre.
    envelopes : sequence of (np.ndarray [shape=(n,)] or None), optional
        Per component, the planned amplitude over the window (a fade), or None (constant).
    groups : sequence of int, optional
        Components with the same group number share one frequency offset from their plan
        (searched within the first member's range): tones closer than the window resolves
        (two voices' identical or nearly identical ears) are fitted jointly as one sum
        whose common shift is measurable, where separate shifts are not.

    Returns
    -------
    freqs : np.ndarray
        Refined frequencies (at the window's centre).
    amps : np.ndarray
        Fitted amplitudes (of the envelope's peak).
    at_edge : np.ndarray of bool
        True where the refined peak lies at the edge of its search (the true component is
        farther from the plan than ``search_hz``: the value is then only a bound).
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    dur = n / sr
    t = (np.arange(n) - 0.5 * (n - 1)) / sr
    w = np.hanning(n + 2)[1:-1]
    xw = x * w
    f_plan = np.asarray(freqs, dtype=np.float64)
    K = f_plan.size
    half = np.asarray(search_hz, dtype=np.float64)
    if half.ndim < 2:
        half = np.stack([np.broadcast_to(half, f_plan.shape)] * 2, axis=1)
    chirps = list(chirps) if chirps is not None else [None] * K
    envs = list(envelopes) if envelopes is not None else [None] * K
    weight = [w if e is None else w * np.asarray(e, dtype=np.float64) for e in envs]
    groups = list(groups) if groups is not None else list(range(K))
    units: dict = {}
    for k, g in enumerate(groups):
        units.setdefault(g, []).append(k)
    f = f_plan.copy()
    edge = np.zeros(K, dtype=bool)
    coef = np.zeros((K, 2))

    def columns(fk, k):
        ph = 2 * np.pi * fk * t
        if chirps[k] is not None:
            ph = ph + chirps[k]
        return np.cos(ph) * weight[k], np.sin(ph) * weight[k]

    for it in range(max(1, iterations)):
        cols = [columns(f[k], k) for k in range(K)]
        basis = np.array([c for c, _ in cols] + [s_ for _, s_ in cols])  # (2K, n)
        sol, *_ = np.linalg.lstsq(basis.T, xw, rcond=1e-10)
        coef = np.stack([sol[:K], sol[K:]], axis=1)
        fitted = coef[:, :1] * basis[:K] + coef[:, 1:] * basis[K:]  # (K, n)
        total = fitted.sum(axis=0)
        if it == iterations - 1:
            break
        for g, members in units.items():
            k = members[0]
            r = xw - (total - fitted[members].sum(axis=0))
            # search around the plan, but never past the edge of the allowed range
            lo_k, hi_k = max(0.5, f_plan[k] - half[k, 0]), f_plan[k] + half[k, 1]
            if len(members) == 1:
                rr = r if chirps[k] is None else r * np.exp(-1j * chirps[k])
                fk, e = _refine(rr, t, sr, lo_k, hi_k)
                shift = np.array([fk - f_plan[k]])
            else:
                d, e = _common_shift(r, members, f_plan, columns, lo_k - f_plan[k],
                                     hi_k - f_plan[k], dur)
                shift = np.full(len(members), d)
                fk = f_plan[k] + d
            # a peak within a main lobe (2 bins) of the edge may be the skirt of a tone
            # outside: counted as at the edge
            e = e or (hi_k - lo_k > 8.0 / dur and min(fk - lo_k, hi_k - fk) < 2.0 / dur)
            edge[members] = e
            f[members] = f_plan[members] + shift
    return f, np.hypot(coef[:, 0], coef[:, 1]), edge


def _common_shift(r, members, f_plan, columns, lo, hi, dur):
    """The one frequency offset (in [lo, hi]) of a group of components that leaves the
    least residual: the energy of ``r`` projected on the group's columns, on a grid of a
    quarter bin, refined by a parabola. Returns (offset Hz, at_edge)."""
    step = 0.25 / dur
    grid = np.arange(math.floor(lo / step), math.ceil(hi / step) + 1) * step
    grid = grid[(grid >= lo - 1e-12) & (grid <= hi + 1e-12)]
    if grid.size < 3:
        grid = np.linspace(lo, hi, 3)

    def energy(d):
        cols = [columns(f_plan[k] + d, k) for k in members]
        b = np.array([c for c, _ in cols] + [s_ for _, s_ in cols])
        sol, *_ = np.linalg.lstsq(b.T, r, rcond=1e-8)
        fit = sol @ b
        return float(fit @ fit)
    en = np.array([energy(d) for d in grid])
    i = int(np.argmax(en))
    if 0 < i < grid.size - 1:
        den = en[i - 1] - 2 * en[i] + en[i + 1]
        off = 0.0 if den == 0 else float(np.clip(0.5 * (en[i - 1] - en[i + 1]) / den, -0.5, 0.5))
        d0 = float(grid[i] + off * (grid[1] - grid[0]))
        # a finer parabola around it (energy is smooth within a bin)
        fine = d0 + (grid[1] - grid[0]) / 4 * np.arange(-1, 2)
        ef = np.array([energy(d) for d in fine])
        den = ef[0] - 2 * ef[1] + ef[2]
        off = 0.0 if den == 0 else float(np.clip(0.5 * (ef[0] - ef[2]) / den, -0.5, 0.5))
        return float(fine[1] + off * (fine[1] - fine[0])), False
    return float(grid[i]), True
