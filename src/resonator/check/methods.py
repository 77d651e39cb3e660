"""One evaluator per target kind, each calling :mod:`resonator.measure`.

Every evaluator takes a :class:`~resonator.check.targets.Target` (window in file seconds) and
the :class:`~resonator.check.runner.CheckContext` (window reader, one-pass scan, plan) and
returns ``(measured, passed, detail)``. Long windows are measured on a few spread
sub-windows (read on demand), never read whole:

=================== ===================================================================
kind                method (accuracy from the known-answer tests)
=================== ===================================================================
binaural_beat       on 4 s windows (up to 5 spread over a phase; a glide sample: its
binaural_carrier    window, read at its centre); left - right and the ears' mean. With a
                    recipe: each ear's tone is fitted by least squares together with every
                    planned sinusoid near it (other voices, harmonics, isochronic sidebands,
                    bells: :mod:`.voices`), gliding ones along their planned trajectory
                    (dechirped: the offset at the window's centre is fitted) and fading ones
                    with their planned envelope; searched near the plan, or up to half way
                    to the planned neighbours when no clear tone is there (a wrong render
                    reads its own value). Components closer than 1.5 bins get a longer
                    window (up to 32 s on a hold, 16 s centred on a glide sample); those
                    still closer are fitted with the ear's tone as one sum with one common
                    shift (identical ears of two voices are one tone). A weak tone gets the
                    longest window, kept only when it agrees with the short one. Only ears
                    covered by a layer whose partials are not modelled are skipped. Without
                    a recipe: the interpolated peak (:func:`measure_binaural`). Better than
                    0.01 Hz under pink noise 10 dB down. Every sub-window must pass;
                    ``measured`` is their median.
am_rate             envelope spectrum peak (:func:`am_rate_depth`) of the layer's band
                    (band-pass around the carrier), up to 3 sub-windows of 15 s. Other
                    layers' planned steady tones are first subtracted (least squares),
                    gliding ones notched.
gated_depth         isochronic tone with a recipe (:func:`coherent_gate_depth`): mixed down
                    along the planned carrier (glides dechirped), folded over the planned
                    rate's phase as complex values (noise averages out, no floor), the real
                    profile regressed on the planned gate: depth within 0.05 under pink
                    noise 20 dB above the gated tone (60 s; 1 sigma 0.015), 0.02 at 12 dB;
                    windows of 24 s lengthened to 60 s until 3 sigma is under the tolerance.
am_depth,           the band's squared Hilbert envelope folded at the measured rate
gated_depth         (synchronous average over every cycle), less the band's noise power
(otherwise)         (median-filtered PSD between the modulation lines), square-rooted:
                    sine depth ``2|A1|/A0`` within 0.02; gated ``1 - P2/P98`` of the
                    folded amplitude within 0.02 with pink noise about 10 dB under the
                    tone. Windows where the layer's carrier glides are skipped with the
                    reason.
gamma_share         :func:`share_in_band` 38-42 Hz of 1-100 Hz on the band, 15 s windows.
breath_rate         slow envelope (streamed over the centre 150 s at most, 16 Hz)
                    autocorrelation + spectral refinement (:func:`breath_rate`), of the
                    band around the breath partial farthest from other layers' tones.
lr_correlation      :func:`lr_correlation` in the band where the layer dominates (the
                    widest stretch free of other layers' tones), up to 4 windows of 5 s;
                    with a recipe: the Blackman-Harris cross-spectrum over that band with
                    every planned tone notched (+- max(2 Hz, 8 bins)).
bell_strikes        a rise of 6 dB or more in 10 ms power within 60 ms of each strike.
loudness            BS.1770 integrated (one pass, whole file).
true_peak           4x oversampled true peak (one pass); passes at or below expected+tol.
loudness_range      EBU Tech 3342 LRA.
fade_in, fade_out   50 ms power in tenths of the fade against the level just after
                    (before) it: the outer tenth at most -30 dB (a raised cosine gives
                    -39 dB, a linear fade -25 dB, none 0 dB), the middle within 4 dB of
                    the raised cosine's -6 dB, the outer five tenths rising (falling).
clicks              third-difference ratio over local RMS > 12 (one pass).
loudness_trend      3 s short-term loudness at 1 s steps: Spearman rho of its 20 s-binned
                    values <= -0.95 (falling), and the largest bump over the planned level
                    curve (the session graph rendered at a low rate over the window, its
                    median offset removed) <= tolerance (default 0.3 dB: a 0.5 dB bump
                    lasting 8 s reads 0.43-0.5 dB); without a plan, over a
                    Savitzky-Golay trend (21 s).
centroid_trend      spectral centroid (per-second 4096-point spectra from the scan),
                    binned like loudness: Spearman rho <= -tolerance (0.95) when falling.
                    Both trends with a plan: when the plan's own binned rho is weaker
                    than 0.95 (breath swells, a mix whose centroid is set by a tone that
                    does not follow the temperature), the render must be as steady as the
                    plan less 0.05 (loudness) or 0.1 (centroid).
band_energy         :func:`band_energy_db` (kind ``band_energy@LO-HI``), 8 s at most.
noise_slope         :func:`noise_slope_db_per_decade` 50 Hz-10 kHz, 20 s at most.
=================== ===================================================================
"""
from __future__ import annotations

import math

import numpy as np
from scipy import signal, stats

from ..measure import MeasureError

__all__ = ["EVALUATORS", "evaluate", "Unmeasurable"]


# ------------------------------------------------------------------------------ helpers
def _spread(a: float, b: float, length: float, count: int) -> list[tuple[float, float]]:
    """Up to ``count`` windows of ``length`` s spread evenly over [a, b]."""
    if b - a <= length * 1.0001:
        return [(a, b)]
    n = int(min(count, max(1, (b - a) // length)))
    centres = a + length / 2 + (np.arange(n) + 0.5) / n * (b - a - length)
    return [(float(c - length / 2), float(c + length / 2)) for c in centres]


def _centred(a: float, b: float, length: float) -> tuple[float, float]:
    c = 0.5 * (a + b)
    h = min(length, b - a) / 2
    return c - h, c + h


def _band(x: np.ndarray, sr: float, band, smooth: bool = False) -> np.ndarray:
    """Keep a band: 4th-order Butterworth forwards and backwards, or (``smooth``) a Gaussian
    frequency response centred on it (zero phase), for envelopes.

    The Gaussian's impulse response is a positive Gaussian times the centre tone, so the envelope of a
    tone in the band is smoothed without over- or undershoot (a Butterworth band-pass rings
    and digs dips into gated envelopes). The response is -3 dB at ``lo`` and ``hi``.
    """
    if band is None:
        return x
    if not smooth:
        lo, hi = float(band[0]), min(float(band[1]), 0.45 * sr)
        if lo <= 5.0:
            sos = signal.butter(4, hi, "lowpass", fs=sr, output="sos")
        elif hi >= 0.449 * sr:
            sos = signal.butter(4, lo, "highpass", fs=sr, output="sos")
        else:
            sos = signal.butter(4, [lo, hi], "bandpass", fs=sr, output="sos")
        return signal.sosfiltfilt(sos, x, axis=-1)
    from scipy import fft as sfft

    lo, hi = float(band[0]), min(float(band[1]), 0.5 * sr)
    n = x.shape[-1]
    nfft = sfft.next_fast_len(n, real=True)
    f = np.arange(nfft // 2 + 1) * (sr / nfft)
    fc, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
    h = np.exp(-math.log(2) * ((f - fc) / max(half, 1e-9)) ** 2 / 2)
    spec = sfft.rfft(x, nfft, axis=-1) * h
    return sfft.irfft(spec, nfft, axis=-1)[..., :n]


def _binned_rho(times: np.ndarray, values_db: np.ndarray, bin_s: float = 20.0,
                power: bool = True) -> tuple[float, int]:
    """Spearman rho of time-binned values (power mean of dB values when ``power``)."""
    ok = np.isfinite(values_db)
    t, v = times[ok], values_db[ok]
    if v.size < 3:
        return float("nan"), 0
    span = t[-1] - t[0]
    nb = int(np.clip(span // bin_s, 5, 30))
    nb = min(nb, v.size)
    idx = np.minimum((np.arange(v.size) * nb) // v.size, nb - 1)
    if power:
        lin = 10 ** (v / 10)
        vals = np.array([10 * np.log10(lin[idx == i].mean()) for i in range(nb)])
    else:
        vals = np.array([v[idx == i].mean() for i in range(nb)])
    if np.ptp(vals) == 0:
        return 0.0, nb
    return float(stats.spearmanr(np.arange(nb), vals).statistic), nb


def _round(x, nd=4):
    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        return [_round(v, nd) for v in x]
    x = float(x)
    return round(x, nd) if math.isfinite(x) else None


def _within(value, expected, tol) -> bool:
    return value is not None and math.isfinite(value) and abs(value - expected) <= tol + 1e-12


# ------------------------------------------------------------------------------ tones
class Unmeasurable(MeasureError):
    """The target cannot be measured in this render (planned components overlap); the
    runner lists it under ``skipped`` with the reason instead of failing it."""


def _binaural(t, ctx, what: str):
    if ctx.channels != 2:
        raise MeasureError(f"a binaural target needs a stereo file; this one has "
                           f"{ctx.channels} channel(s) (never measured on a mono sum)")
    if t.params.get("components") is not None and t.layer is not None:
        return _binaural_planned(t, ctx, what)
    x_windows = [_centred(t.start_s, t.end_s, 4.0)] if t.params.get("sample") else \
        _spread(t.start_s, t.end_s, 4.0, 5)
    hint = t.params.get("carrier_hz")
    if what == "carrier" and hint is None:
        hint = t.expected
    vals, carriers, rows = [], [], []
    for a, b in x_windows:
        r = ctx.memo(("binaural", round(a, 4), round(b, 4), hint),
                     lambda a=a, b=b: _measure_pair(ctx, a, b, hint))
        v = r["left_minus_right_hz"] if what == "beat" else r["carrier_hz"]
        vals.append(v)
        carriers.append(r["carrier_hz"])
        rows.append({"start_s": _round(a, 3), "end_s": _round(b, 3), "value": _round(v, 5),
                     "left_hz": _round(r["left_hz"], 5), "right_hz": _round(r["right_hz"], 5)})
    ok = all(_within(v, t.expected, t.tolerance) for v in vals)
    worst = max(vals, key=lambda v: abs(v - t.expected))
    return float(np.median(vals)), ok, {"windows": rows, "worst": _round(worst, 5)}


#: components within this distance of a target ear are fitted with it
FIT_NEIGHBOURHOOD_HZ = 40.0
#: a tone near the plan counts when its peak stands this far above the band's median
#: magnitude (Hann spectrum); else the wider search decides
PROMINENCE = 8.0
#: steady stretches are read on a longer window when an ear's tone stands less than this
#: over the noise (prominence)
LENGTHEN_BELOW = 30.0
#: noise-limited error of one ear, in Hz: SIGMA_K / (window length x prominence) (empirical,
#: from weak SBaGen voices under pink noise; about 5x the Cramer-Rao bound)
SIGMA_K = 1.0
#: longest window used to resolve close voices or to read a weak tone
MAX_RESOLVE_S = 32.0
#: longest window a glide sample (a short target) is lengthened to, around its centre
SAMPLE_MAX_S = 16.0


def _grow(t, ctx, a: float, b: float, length: float, sample: bool):
    """A window of up to ``length`` s for target ``t`` replacing [a, b] (file seconds): a
    glide sample keeps its centre (the planned trajectory is dechirped, so any length reads
    the frequency at the centre) and stays inside the file; a steady stretch stays inside
    the target, as near the old centre as it can."""
    c = 0.5 * (a + b)
    if sample:
        half = min(length / 2, c, ctx.duration_s - c)
        return c - half, c + half
    lo, hi = max(t.start_s, 0.0), min(t.end_s, ctx.duration_s)
    length = min(length, hi - lo)
    c = min(max(c, lo + length / 2), hi - length / 2)
    return c - length / 2, c + length / 2


def _binaural_planned(t, ctx, what: str):
    """Each ear of the target's layer fitted together with every planned sinusoid near it
    (:mod:`.voices`), gliding ones along their planned trajectory.

    Components closer than the window resolves first get a longer window (up to
    :data:`MAX_RESOLVE_S`; a glide sample keeps its centre); those still unresolved are
    fitted jointly with the ear's tone, with one common shift (two voices' identical ears
    are one tone: its frequency is what is measurable). A weak tone gets the longest
    window. Only ears covered by a layer whose partials are not modelled are skipped."""
    from .voices import RESOLVE_CYCLES, resolution_problem

    comps_at = t.params["components"]
    sample = bool(t.params.get("sample"))
    base = [_centred(t.start_s, t.end_s, 4.0)] if sample else _spread(t.start_s, t.end_s, 4.0, 5)
    vals, rows, skipped = [], [], []

    def plan_at(a, b):
        return _own_and_others(t, comps_at, a + ctx.offset_s, b + ctx.offset_s)

    def problem(own, others, a, b):
        return resolution_problem(own[0], others, b - a) or \
            resolution_problem(own[1], others, b - a)

    for a, b in base:
        a, b = max(a, 0.0), min(b, ctx.duration_s)
        plan = plan_at(a, b)
        if plan is None:
            raise Unmeasurable(f"layer {t.layer} plays no tone in {a:.1f}-{b:.1f} s")
        own, others = plan
        why = problem(own, others, a, b)
        if why:
            # a longer window resolves closer components
            gap = min([abs(o.hz - e.hz) for e in own for o in others
                       if o.ear == e.ear and o.role != "range"] or [0.0])
            need = RESOLVE_CYCLES / gap * 1.05 if gap > 0 else math.inf
            a2, b2 = _grow(t, ctx, a, b, min(need, SAMPLE_MAX_S if sample else MAX_RESOLVE_S),
                           sample)
            plan2 = plan_at(a2, b2) if b2 - a2 > (b - a) * 1.01 else None
            if plan2 is not None:
                a, b, (own, others) = a2, b2, plan2
                why = problem(own, others, a, b)
        covered = problem(own, [o for o in others if o.role == "range"], a, b)
        if covered:  # a layer whose partials are not modelled covers an ear
            why = covered
            skipped.append({"start_s": _round(a, 3), "end_s": _round(b, 3), "reason": why})
            continue
        r = ctx.memo(("binaural-fit", round(a, 4), round(b, 4), t.layer),
                     lambda a=a, b=b, own=own, others=others:
                     _fit_pair(ctx, a, b, own, others, t.tolerance))
        def value(r):
            return r["left_hz"] - r["right_hz"] if what == "beat" else \
                0.5 * (r["left_hz"] + r["right_hz"])

        def sigma_of(r, length):
            se = [SIGMA_K / (length * max(p, 1e-3)) for p in r["prominence"]]
            return math.hypot(*se) * (1.0 if what == "beat" else 0.5)
        if min(r["prominence"]) < LENGTHEN_BELOW:
            # a tone barely above the noise: a longer window (error falls as T^-1.5); a glide
            # sample keeps its centre and stays local (SAMPLE_MAX_S)
            a2, b2 = _grow(t, ctx, a, b, SAMPLE_MAX_S if sample else MAX_RESOLVE_S, sample)
            plan2 = plan_at(a2, b2) if b2 - a2 >= 2.0 * (b - a) else None
            if plan2 is not None and not problem(plan2[0], [o for o in plan2[1]
                                                           if o.role == "range"], a2, b2):
                own, others = plan2
                r2 = ctx.memo(("binaural-fit", round(a2, 4), round(b2, 4), t.layer),
                              lambda a=a2, b=b2, own=own, others=others:
                              _fit_pair(ctx, a, b, own, others, t.tolerance))
                # the longer window only averages noise: it must agree with the short one
                # within the short one's noise (a local error is not averaged away)
                if abs(value(r2) - value(r)) <= t.tolerance + 3.0 * sigma_of(r, b - a):
                    r = dict(r2, note=(r2["note"] + "; " if r2["note"] else "") +
                             f"weak tone: window lengthened from {b - a:.3g} s")
                    a, b = a2, b2
                else:
                    r = dict(r, note=(r["note"] + "; " if r["note"] else "") +
                             f"a {b2 - a2:.3g} s window reads {value(r2):.4f} Hz, not "
                             f"consistent with this window: kept")
        v = value(r)
        # a weak tone's noise-limited error: a difference from the plan within tolerance +
        # 3 sigma is inconclusive (the window is skipped with the numbers), past it a failure
        sigma = sigma_of(r, b - a)
        err = abs(v - float(t.expected))
        if t.tolerance < err <= t.tolerance + 3.0 * sigma:
            skipped.append({"start_s": _round(a, 3), "end_s": _round(b, 3), "value": _round(v, 5),
                            "reason": f"tone only {min(r['prominence']):.1f}x over the noise in "
                                      f"{b - a:.3g} s: reads to +-{3 * sigma:.3f} Hz (3 sigma); "
                                      f"{v:.4f} Hz is within that of {float(t.expected):.4g} "
                                      f"+- {t.tolerance:.3g} Hz (inconclusive)"})
            continue
        vals.append(v)
        rows.append({"start_s": _round(a, 3), "end_s": _round(b, 3), "value": _round(v, 5),
                     "left_hz": _round(r["left_hz"], 5), "right_hz": _round(r["right_hz"], 5),
                     "planned_left_hz": _round(r["planned"][0], 5),
                     "planned_right_hz": _round(r["planned"][1], 5),
                     "prominence": r["prominence"],
                     "fitted_with": r["fitted_with"], **({"note": r["note"]} if r["note"]
                                                          else {})})
    if not vals:
        raise Unmeasurable(skipped[0]["reason"] if skipped else "no window to measure")
    ok = all(_within(v, t.expected, t.tolerance) for v in vals)
    worst = max(vals, key=lambda v: abs(v - t.expected))
    detail = {"windows": rows, "worst": _round(worst, 5),
              "method": "least-squares fit of the planned sinusoids near each ear (glides "
                        "along their planned trajectory)"}
    if skipped:
        detail["skipped_windows"] = skipped
    return float(np.median(vals)), ok, detail


def _own_and_others(t, comps_at, sa, sb):
    """(left, right) fundamentals of the target's layer and every other component, planned
    over session seconds [sa, sb], or None when the layer is silent there."""
    comps = comps_at(sa, sb)
    own = [None, None]
    others = []
    for c in comps:
        if c.layer == t.layer and c.role == "tone" and own[c.ear] is None:
            own[c.ear] = c
        else:
            others.append(c)
    if own[0] is None or own[1] is None:
        return None
    return own, others


def _clusters(comps, res: float) -> list[int]:
    """Group numbers for components of one ear: those closer than ``res`` to each other
    (single linkage over their closest approach) share a number."""
    from .voices import _min_gap

    g = list(range(len(comps)))
    for i in range(len(comps)):
        for j in range(i):
            if _min_gap(comps[i], comps[j]) < res and g[i] != g[j]:
                old, new = g[i], g[j]
                g = [new if v == old else v for v in g]
    return g


def _fit_pair(ctx, a, b, own, others, tol):
    """Fit each ear: the layer's tone and the planned components within
    :data:`FIT_NEIGHBOURHOOD_HZ`, gliding ones along their planned trajectory (dechirped)
    and fading ones with their planned envelope; components closer than the window
    resolves share one shift with the tone they sit on. A peak at the edge of its search
    is re-read with a wide single-peak search (a grossly wrong render then reads its own
    value, not the plan's)."""
    from .voices import RESOLVE_CYCLES, fit_tones, planned_chirp, tone_prominence

    x, sr = ctx.read(a, b)
    a = max(0.0, a)
    dur = x.shape[1] / sr
    res = RESOLVE_CYCLES / dur
    out = {"fitted_with": [], "note": None, "prominence": [], "planned": [None, None]}
    sets = []
    top = 0.0
    for ear in (0, 1):
        o = own[ear]
        near = [c for c in others if c.ear == ear and c.role != "range" and c.hz > 0 and
                abs(c.hz - o.hz) <= 1.5 * max(FIT_NEIGHBOURHOOD_HZ, 0.2 * o.hz) and
                c.amp >= 1e-3 * o.amp]
        sets.append(sorted(near, key=lambda c: -c.amp)[:40])
        top = max([top, o.hi_hz] + [c.hi_hz for c in sets[-1]])
    q = int(sr // (3.0 * (top + 20.0)))
    if q >= 2:
        x = signal.resample_poly(x, 1, q, axis=1)
        sr = sr / q
    n = x.shape[1]
    t0 = a + ctx.offset_s
    notes = []
    for ear in (0, 1):
        o = own[ear]
        comps = [o] + sets[ear]
        groups = _clusters(comps, res)
        joint = [c for c, g in zip(comps[1:], groups[1:]) if g == groups[0]]
        # planned frequencies at the window's centre, trajectories and fades
        freqs, chirps, envs = [], [], []
        for c in comps:
            if c.glides(dur):
                ph, fc = planned_chirp(c.track, t0, n, sr)
                chirps.append(ph)
                freqs.append(fc)
            else:
                chirps.append(None)
                freqs.append(c.hz)
            e = None
            if c.env is not None:
                tg = t0 + np.linspace(0.0, dur, max(9, int(dur / 0.05) + 1))
                eg = np.asarray(c.env(tg), dtype=np.float64)
                if eg.max() > 0 and eg.min() < 0.8 * eg.max():  # a fade within the window
                    e = np.interp(t0 + np.arange(n) / sr, tg, eg / eg.max())
            envs.append(e)
        f_own = freqs[0]
        out["planned"][ear] = f_own
        # the ear's own tone: near the plan, or (when no clear tone is there) free up to half
        # way to the nearest planned neighbour it is not fitted jointly with (at most
        # +-max(40 Hz, 20 %)); the neighbours: near their plan, never into ours
        wide = max(FIT_NEIGHBOURHOOD_HZ, 0.2 * f_own)
        apart = [fk for fk, g in zip(freqs[1:], groups[1:]) if g != groups[0]]
        below = [f_own - fk for fk in apart if fk < f_own]
        above = [fk - f_own for fk in apart if fk >= f_own]
        wide_half = (min([wide] + [0.5 * g for g in below]),
                     min([wide] + [0.5 * g for g in above]))
        narrow = max(4.0 / dur, 0.75 + tol)
        narrow_half = (min(narrow, wide_half[0]), min(narrow, wide_half[1]))
        others_half = []
        for fk, g in zip(freqs[1:], groups[1:]):
            h = max(4.0 / dur, 0.75 + tol)
            if g != groups[0]:
                h = min(h, max(1.0 / dur, 0.5 * abs(fk - f_own)))
            others_half.append((h, h))
        # (the own tone is first in its group: the group searches its range)
        kw = dict(chirps=chirps, envelopes=envs, groups=groups)
        f, amps, edge = fit_tones(x[ear], sr, freqs, [narrow_half] + others_half, **kw)
        value, how = float(f[0]), "near the plan"
        prom = tone_prominence(x[ear], sr, value, f_own - wide_half[0], f_own + wide_half[1],
                               chirp=chirps[0])
        if edge[0] or prom < PROMINENCE:
            fw, _, edge_w = fit_tones(x[ear], sr, freqs, [wide_half] + others_half, **kw)
            prom_w = tone_prominence(x[ear], sr, float(fw[0]), f_own - wide_half[0],
                                     f_own + wide_half[1], chirp=chirps[0])
            # a clear tone away from the plan (a wrong render) is read there; when nothing
            # stands out anywhere (a weak tone under noise) the plan's neighbourhood is kept
            if abs(float(fw[0]) - value) > 0.5 / dur and (prom_w >= PROMINENCE or edge[0]):
                value, how = float(fw[0]), "wide search"
                edge = edge_w
            elif prom < PROMINENCE:
                out["weak"] = True
        out["prominence"].append(_round(prom, 1))
        side = "left" if ear == 0 else "right"
        if how == "wide search":
            notes.append(f"no clear tone near the plan in the {side} ear (prominence "
                         f"{prom:.1f} < {PROMINENCE:g} or at the search edge): read by a "
                         f"search of {f_own - wide_half[0]:.2f}-{f_own + wide_half[1]:.2f} Hz")
        if joint:
            notes.append(
                f"{side} ear {f_own:.3f} Hz fitted jointly with "
                + ", ".join(f"{c.layer}'s {c.hz:.3f} Hz" for c in joint[:4])
                + f" (closer than {dur:.3g} s resolves, {res:.3f} Hz): one sum, one common "
                  "shift measured")
        out["left_hz" if ear == 0 else "right_hz"] = value
        out["fitted_with"] += [f"{'L' if ear == 0 else 'R'} {c.hz:.2f} Hz ({c.layer}"
                               f"{'' if c.role == 'tone' else ' ' + c.role}"
                               f"{', joint' if g == groups[0] else ''})"
                               for c, g in zip(comps[1:], groups[1:])][:8]
    out["note"] = "; ".join(notes) or None
    return out


def _measure_pair(ctx, a, b, hint):
    """measure_binaural on [a, b], the pair first decimated (polyphase, linear phase) to
    about 3x the top of the search band: the same peak, a far smaller FFT."""
    from ..measure.binaural import measure_binaural

    x, sr = ctx.read(a, b)
    top = 1500.0 if hint is None else float(hint) + max(40.0, 0.2 * float(hint))
    q = int(sr // (3.0 * top))
    if q >= 2:
        x = signal.resample_poly(x, 1, q, axis=1)
        sr = sr / q
    return measure_binaural(x[0], x[1], sr, carrier_hint_hz=hint,
                            fmax_hz=min(1500.0, 0.45 * sr) if hint is None else 0.45 * sr)


def binaural_beat(t, ctx):
    return _binaural(t, ctx, "beat")


def binaural_carrier(t, ctx):
    return _binaural(t, ctx, "carrier")


def _am_windows(t):
    return [_centred(t.start_s, t.end_s, 8.0)] if t.params.get("sample") else \
        _spread(t.start_s, t.end_s, 15.0, 3)


def _rate_of(x, sr, hint):
    from ..measure.modulation import am_rate_depth

    if hint is None:  # the strongest modulation between 0.5 and 64 Hz
        return am_rate_depth(x, sr, fmin_hz=0.5, fmax_hz=min(64.0, sr / 4 - 1.0))
    fmax = min(max(64.0, 1.3 * hint + 1.0), sr / 4 - 1.0)
    return am_rate_depth(x, sr, rate_hint_hz=hint, fmin_hz=0.3, fmax_hz=fmax)


def _notch_others(t, ctx, x, sr, a, b):
    """Remove other layers' planned sinusoids (+- max(1 Hz, 4 bins)) inside the target's band
    from a window before its envelope is read (a binaural voice next to an isochronic one
    would fill the gaps between pulses). Components whose notch would touch the layer's own
    lines are left (never cut into what is measured). Returns (x, detail)."""
    comps_at = t.params.get("components")
    band = t.params.get("band")
    if comps_at is None or band is None:
        return x, {}
    comps = comps_at(a + ctx.offset_s, b + ctx.offset_s)
    dur = x.shape[1] / sr
    d = max(1.0, 4.0 / dur)
    own = [(c.lo_hz - d, c.hi_hz + d) for c in comps if c.layer == t.layer]
    cut = []
    for c in comps:
        if c.layer == t.layer or c.role == "range":
            continue
        lo, hi = c.lo_hz - d, c.hi_hz + d
        if hi < band[0] - 3 * (band[1] - band[0]) or lo > band[1] + 3 * (band[1] - band[0]):
            continue  # far outside the band: the band filter removes it
        if any(lo <= o1 and o0 <= hi for o0, o1 in own):
            continue
        cut.append((lo, hi))
    if not cut:
        return x, {}
    # steady tones are fitted (least squares at the refined frequency) and subtracted: no
    # leakage; gliding ones are notched out of the spectrum over their whole glide
    steady = sorted({round(0.5 * (lo + hi), 4) for lo, hi in cut if hi - lo <= 2 * d + 0.25 / dur})
    glide = [(lo, hi) for lo, hi in cut if hi - lo > 2 * d + 0.25 / dur]
    y = np.array(x, dtype=np.float64, copy=True)
    if steady:
        from .voices import fit_tones

        n = y.shape[-1]
        # refine the frequencies on the first second (the tones are steady; a second resolves
        # 1 Hz, all the notch needs), then fit amplitudes over the whole window from chunked
        # normal equations: memory and time stay linear in the window (a full-window basis of
        # many tones took minutes and gigabytes)
        m = min(n, int(1.0 * sr))
        chunk = 1 << 16
        for ch in range(y.shape[0]):
            f, _, _ = fit_tones(y[ch, :m], sr, steady, [min(0.5, 0.25 * d)] * len(steady),
                                iterations=2)
            k = 2 * len(f)
            gram, rhs = np.zeros((k, k)), np.zeros(k)
            for s0 in range(0, n, chunk):
                tt = np.arange(s0, min(n, s0 + chunk)) / sr
                ph = 2 * np.pi * np.outer(f, tt)
                basis = np.concatenate([np.cos(ph), np.sin(ph)], axis=0)
                gram += basis @ basis.T
                rhs += basis @ y[ch, s0:s0 + tt.size]
            sol = np.linalg.lstsq(gram, rhs, rcond=None)[0]
            for s0 in range(0, n, chunk):
                tt = np.arange(s0, min(n, s0 + chunk)) / sr
                ph = 2 * np.pi * np.outer(f, tt)
                y[ch, s0:s0 + tt.size] -= sol @ np.concatenate([np.cos(ph), np.sin(ph)], axis=0)
    if glide:
        X = np.fft.rfft(y, axis=-1)
        f = np.fft.rfftfreq(y.shape[-1], 1.0 / sr)
        for lo, hi in glide:
            X[..., (f >= lo) & (f <= hi)] = 0.0
        y = np.fft.irfft(X, y.shape[-1], axis=-1)
    return y, {"subtracted_hz": [_round(v, 2) for v in steady[:12]],
               "notched_hz": [_round(c, 1) for c in sorted(set(glide))[:12]]}


def am_rate(t, ctx):
    rows, vals = [], []
    curve = t.params.get("rate_curve")
    for a, b in _am_windows(t):
        x, sr = ctx.read(a, b)
        x, notched = _notch_others(t, ctx, x, sr, a, b)
        xb = _band(x, sr, t.params.get("band"), smooth=not t.params.get("noise_carrier"))
        hint = float(curve([0.5 * (a + b) + ctx.offset_s])[0]) if curve else float(t.expected)
        rate, depth = _rate_of(xb, sr, hint)
        vals.append(rate)
        rows.append({"start_s": _round(a, 3), "end_s": _round(b, 3), "rate_hz": _round(rate, 5),
                     "depth": _round(depth, 4), **notched})
    ok = all(_within(v, t.expected, t.tolerance) for v in vals)
    return float(np.median(vals)), ok, {"windows": rows}


def folded_amplitude(x: np.ndarray, sr: float, rate_hz, bins: int = 100,
                     denoise: bool = True, carrier_hz: float | None = None,
                     max_k: int | None = None):
    """Noise-corrected amplitude profile of a modulated band over one modulation cycle.

    Parameters
    ----------
    x : np.ndarray [shape=(channels, n)]
        Band-limited audio (channels are averaged in power).
    sr : float
    rate_hz : float or np.ndarray [shape=(n,)]
        Modulation rate, constant or per sample (a glide): the fold follows its integral.
    bins : int
        Phase bins per cycle (the profile is then smoothed over 3 bins, circularly).
    denoise : bool
        Remove the power that is not on a modulation line (for tone carriers; a noise
        carrier is all "noise").
    carrier_hz : float, optional
        The modulated tone: lines sit at ``carrier_hz + k rate``. Without it the noise
        floor is the PSD median-filtered across 1.5 line spacings.
    max_k : int, optional
        Highest line order ``|k|`` the modulation makes (2 for sine AM; default all).

    Returns
    -------
    amp : np.ndarray [shape=(bins,)]
        Amplitude envelope over one cycle, the band's noise power removed.
    noise_share : float
        Share of the band's power taken as noise.
    """
    from ..measure.modulation import envelope

    env2 = np.mean(envelope(x, sr) ** 2, axis=0)
    n = env2.size
    rate = np.broadcast_to(np.asarray(rate_hz, dtype=np.float64), (n,))
    cyc_ph = np.cumsum(rate) / sr
    ph = np.mod(cyc_ph, 1.0)
    # leave out cycles holding transients of other layers (cues, strikes): their power is
    # well above the typical cycle's
    cyc = cyc_ph.astype(np.int64)
    cyc -= cyc[0]
    cmean = np.bincount(cyc, env2) / np.maximum(np.bincount(cyc), 1)
    keep = (cmean <= 1.5 * np.median(cmean))[cyc]
    k = np.minimum((ph * bins).astype(np.int64), bins - 1)[keep]
    prof = np.bincount(k, env2[keep], minlength=bins) / np.maximum(
        np.bincount(k, minlength=bins), 1)
    prof = (np.roll(prof, 1) + prof + np.roll(prof, -1)) / 3.0
    if not denoise:
        return np.sqrt(np.maximum(prof, 0.0)), 0.0
    # everything in the band that is not a modulation line (carrier + k rate) is noise or
    # another layer: its power, from the PSD, is taken off every bin of the profile
    r0 = float(np.median(rate))
    df = r0 / 8.0
    nper = int(min(n, 2 ** math.ceil(math.log2(sr / df))))
    f, p = signal.welch(x, fs=sr, nperseg=nper, noverlap=nper // 2, axis=-1)
    p = p.mean(axis=0)
    step = f[1] - f[0]
    if carrier_hz is not None:
        kmax = int(np.ceil(max(abs(f[-1] - carrier_hz), carrier_hz) / r0))
        kmax = kmax if max_k is None else min(kmax, int(max_k))
        lines = carrier_hz + r0 * np.arange(-kmax, kmax + 1)
        near = np.min(np.abs(f[:, None] - lines[None, :]), axis=1) <= 2.0 * step
        other = p[~near]
        floor_under = float(np.median(other)) if other.size else 0.0
        noise = (float(np.sum(other)) + floor_under * np.count_nonzero(near)) * step * 2.0
    else:
        width = int(max(3, round(1.5 * r0 / step)) | 1)
        floor = signal.medfilt(p, width) if width < p.size else np.full_like(p, np.median(p))
        noise = float(np.sum(np.minimum(floor, p)) * step) * 2.0  # |analytic|^2 = 2 x^2
    total = float(env2.mean())
    noise = min(noise, float(prof.min())) if prof.min() > 0 else 0.0
    amp = np.sqrt(np.maximum(prof - noise, 0.0))
    return amp, (noise / total if total > 0 else 0.0)


def coherent_gate_depth(x: np.ndarray, sr: float, carrier_hz, rate_hz, gate=None,
                        bins: int = 200, search_hz: float | None = None) -> dict:
    """Depth of a gated (isochronic) tone read coherently: noise averages out instead of
    adding its power.

    Each channel is mixed down with the planned carrier phase (its exact trajectory when it
    glides), so the gated tone becomes its real, positive gate times one fixed phase; a
    residual carrier offset (the k = 0 line, searched within ``search_hz``) is removed, the
    baseband is low-passed (Gaussian, -3 dB at ``max(8 rate, 30 Hz)``), and folded over the
    planned (or measured) modulation phase. Broadband noise is complex, zero-mean and
    incoherent with the fold: it leaves no floor, only a scatter that falls with the number
    of cycles. The profile's real part (rotated by the phase of its mean) is regressed on
    the planned gate shape put through the same low-pass and fold, aligned by the profile's
    first harmonic: ``profile = a + b gate``, depth ``b / (a + b)`` (a gate ``1 - d (1 -
    g)`` gives ``d``). Without a planned shape the depth is ``1 - P2 / P98`` of the
    smoothed real profile.

    Parameters
    ----------
    x : np.ndarray [shape=(channels, n)]
        The window (other layers' tones near the carrier removed).
    sr : float
    carrier_hz : float or np.ndarray [shape=(n,)]
        Planned carrier, constant or per sample.
    rate_hz : float or np.ndarray [shape=(n,)]
        Modulation rate, constant or per sample.
    gate : callable, optional
        ``frac -> gate value in [0, 1]`` over one cycle (fraction 0 to 1), the planned shape
        of a full-depth gate.
    bins : int
        Phase bins per cycle.
    search_hz : float, optional
        Largest residual carrier offset searched (default ``min(1, rate / 4)`` Hz).

    Returns
    -------
    dict
        ``depth``, ``offset_hz`` (carrier offset from the plan), ``scatter`` (rms of the
        profile's imaginary part over its mean: the noise left in the fold), ``fit_rms``
        (rms misfit of the gate regression over the mean; 0 without a shape) and ``sigma``
        (the depth's noise-limited error: the spread of the depths of the window's four
        quarters over 2).
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    n = x.shape[-1]
    fc = np.broadcast_to(np.asarray(carrier_hz, dtype=np.float64), (n,))
    rate = np.broadcast_to(np.asarray(rate_hz, dtype=np.float64), (n,))
    r0 = float(np.median(rate))
    ph_c = 2 * np.pi * np.cumsum(fc) / sr
    z = x * np.exp(-1j * ph_c)[None, :]
    # low-pass the baseband (the image at -2 fc goes)
    bw = min(max(8.0 * r0, 30.0), 0.8 * float(np.min(fc)))
    nfft = 1 << int(math.ceil(math.log2(n)))
    Z = np.fft.fft(z, nfft, axis=-1)
    ff = np.fft.fftfreq(nfft, 1.0 / sr)
    h = np.exp(-math.log(2) * (ff / bw) ** 2 / 2)
    tt = (np.arange(n) - 0.5 * (n - 1)) / sr
    z = np.fft.ifft(Z * h, axis=-1)[:, :n]
    # residual carrier offset: the strongest line near 0 (the gate's mean), from the
    # low-passed baseband decimated to about 4x its band, zero-padded 8x
    lim = search_hz if search_hz is not None else min(1.0, 0.25 * r0)
    q = max(1, int(sr // (4.0 * bw)))
    zd = z[:, ::q]
    m = zd.shape[1]
    nf = 1 << int(math.ceil(math.log2(8 * m)))
    spec = np.abs(np.fft.fft(zd * np.hanning(m), nf, axis=-1)).sum(axis=0)
    fq = np.fft.fftfreq(nf, q / sr)
    sel = np.flatnonzero(np.abs(fq) <= lim)
    i = int(sel[np.argmax(spec[sel])])
    off = float(fq[i])
    la, lb, lc = np.log(spec[[(i - 1) % nf, i, (i + 1) % nf]] + 1e-300)
    den = la - 2 * lb + lc
    if den != 0:
        off += float(np.clip(0.5 * (la - lc) / den, -0.5, 0.5)) * (sr / q / nf)
    z = z * np.exp(-2j * np.pi * off * tt)[None, :]
    # fold over the modulation phase
    cyc_ph = np.cumsum(rate) / sr
    frac = np.mod(cyc_ph, 1.0)
    k = np.minimum((frac * bins).astype(np.int64), bins - 1)
    cyc = (cyc_ph - cyc_ph[0]).astype(np.int64)
    # leave out cycles holding transients of other layers (well above the typical power)
    cpow = np.bincount(cyc, np.mean(np.abs(z) ** 2, axis=0)) / np.maximum(np.bincount(cyc), 1)
    keep = (cpow <= 1.5 * np.median(cpow))[cyc]

    def fold(sel):
        cnt = np.maximum(np.bincount(k[sel], minlength=bins), 1)
        prof = np.zeros(bins, dtype=complex)
        for ch in range(z.shape[0]):
            pc = (np.bincount(k[sel], z[ch, sel].real, minlength=bins) +
                  1j * np.bincount(k[sel], z[ch, sel].imag, minlength=bins)) / cnt
            m = pc.mean()
            prof += pc * (np.conj(m) / abs(m) if abs(m) > 0 else 1.0)
        return prof / z.shape[0], cnt

    prof, cnt = fold(keep)
    real = prof.real
    mean = float(real.mean())
    scatter = float(np.sqrt(np.mean(prof.imag ** 2)) / mean) if mean > 0 else math.inf
    # quarters of the window (by cycle): their spread is the noise-limited error
    edges = np.quantile(cyc[keep], [0.25, 0.5, 0.75]) if keep.any() else np.zeros(3)
    quarter = np.searchsorted(edges, cyc, side="right")
    if gate is None:
        def depth_of(pr):
            sm = (np.roll(pr, 1) + pr + np.roll(pr, -1)) / 3.0
            p2, p98 = np.percentile(sm, [2.0, 98.0])
            return float(1.0 - p2 / p98) if p98 > 0 else 0.0
        fit_rms = 0.0
    else:
        # the planned full-depth gate through the same low-pass and fold
        g = np.asarray(gate(frac), dtype=np.float64)
        G = np.fft.ifft(np.fft.fft(g, nfft) * h)[:n].real
        tmpl = np.bincount(k[keep], G[keep], minlength=bins) / cnt
        # align: the template's first harmonic onto the profile's (where the gate starts in
        # the render is not known to the fold); a fractional circular shift (Fourier domain)
        P1 = np.fft.fft(real)[1]
        T = np.fft.fft(tmpl)
        if abs(P1) > 0 and abs(T[1]) > 0:
            shift = np.angle(P1 / T[1]) / (2 * np.pi)  # cycles
            kk = np.fft.fftfreq(bins, 1.0 / bins)
            tmpl = np.fft.ifft(T * np.exp(2j * np.pi * kk * shift)).real
        A = np.stack([np.ones(bins), tmpl], axis=1)

        def depth_of(pr):
            (ca, cb), *_ = np.linalg.lstsq(A, pr, rcond=None)
            return float(cb / (ca + cb)) if ca + cb > 0 else 0.0
        (ca, cb), *_ = np.linalg.lstsq(A, real, rcond=None)
        fit_rms = float(np.sqrt(np.mean((A @ np.array([ca, cb]) - real) ** 2)) / mean) \
            if mean > 0 else math.inf
    depth = depth_of(real)
    parts = [depth_of(fold(keep & (quarter == q))[0].real) for q in range(4)
             if np.count_nonzero(keep & (quarter == q)) > bins]
    sigma = float(np.std(parts, ddof=1) / math.sqrt(len(parts))) if len(parts) >= 3 else \
        math.inf
    return {"depth": depth, "offset_hz": off, "scatter": scatter, "fit_rms": fit_rms,
            "sigma": sigma}


#: gated depth of a tone carrier: the first window's length, and the longest one a
#: noise-limited reading is lengthened to (the error falls as T^-0.5)
GATE_WINDOW_S = 24.0
GATE_MAX_S = 60.0


def _sampled(curve, t0: float, n: int, sr: float) -> np.ndarray:
    """A planned curve (session seconds -> value) per sample from ``t0``, sampled every
    50 ms and interpolated."""
    dur = n / sr
    tg = t0 + np.linspace(0.0, dur, max(9, int(math.ceil(dur / 0.05)) + 1))
    return np.interp(t0 + np.arange(n) / sr, tg, np.asarray(curve(tg), dtype=np.float64))


def _gate_depth_coherent(t, ctx):
    """Gated depth of a tone carrier with a planned carrier (:func:`coherent_gate_depth`):
    windows of :data:`GATE_WINDOW_S`, each lengthened (centred, inside the target) until
    its noise-limited error is under a third of the tolerance or it is
    :data:`GATE_MAX_S` long; glides are dechirped, so transitions are measured too."""
    ccurve = t.params["carrier_curve"]
    curve = t.params.get("rate_curve")
    gate_p = t.params.get("gate")
    sample = bool(t.params.get("sample"))
    if sample:
        wins = [_grow(t, ctx, t.start_s, t.end_s, max(GATE_WINDOW_S, t.end_s - t.start_s),
                      True)]
    else:
        wins = _spread(t.start_s, t.end_s, GATE_WINDOW_S, 2)
    rows, vals, skipped = [], [], []
    for a, b in wins:
        for attempt in range(2):
            x, sr = ctx.read(a, b)
            a0 = max(0.0, a)
            x, notched = _notch_others(t, ctx, x, sr, a0, b)
            n = x.shape[1]
            fc = _sampled(ccurve, a0 + ctx.offset_s, n, sr)
            fold_rate = None
            if curve is not None:
                fold_rate = _sampled(curve, a0 + ctx.offset_s, n, sr)
            band = t.params.get("band")
            xb = _band(x, sr, band, smooth=True)
            rate, _ = _rate_of(xb, sr, None if fold_rate is None else
                               float(np.median(fold_rate)))
            if not math.isfinite(rate):
                raise MeasureError("no amplitude modulation found in the window")
            if fold_rate is None or abs(np.median(fold_rate) - rate) >= 0.05 + 0.01 * rate:
                fold_rate = rate  # the render's own rate (a wrong rate is am_rate's failure)
            r0 = float(np.median(fold_rate))
            gate = None
            if gate_p is not None:
                gate = (lambda f, r0=r0, shape=gate_p: shape.values(f, r0))
            r = coherent_gate_depth(x, sr, fc, fold_rate, gate=gate)
            longest = min(GATE_MAX_S, ctx.duration_s if sample else
                          min(t.end_s, ctx.duration_s) - max(t.start_s, 0.0))
            need = (b - a) * (3.0 * r["sigma"] / t.tolerance) ** 2
            if attempt == 0 and need > (b - a) * 1.1 and longest > (b - a) * 1.1:
                a, b = _grow(t, ctx, a, b, min(longest, need * 1.1), sample)
                continue
            break
        d = r["depth"]
        row = {"start_s": _round(a, 3), "end_s": _round(b, 3), "depth": _round(d, 4),
               "sigma": _round(r["sigma"], 4), "rate_hz": _round(r0, 4),
               "carrier_offset_hz": _round(r["offset_hz"], 4),
               "fit_rms": _round(r["fit_rms"], 4), **notched}
        err = abs(d - float(t.expected))
        if t.tolerance < err <= t.tolerance + 3.0 * r["sigma"]:
            skipped.append(dict(row, reason=(
                f"the gate reads {d:.3f} +- {3 * r['sigma']:.3f} (3 sigma, noise-limited in "
                f"{b - a:.3g} s): within that of {float(t.expected):g} +- {t.tolerance:g} "
                "(inconclusive)")))
            continue
        vals.append(d)
        rows.append(row)
    if not vals:
        raise Unmeasurable(skipped[0]["reason"])
    ok = all(_within(v, t.expected, t.tolerance) for v in vals)
    detail = {"windows": rows, "method": "coherent fold along the planned carrier, regressed "
                                         "on the planned gate" if gate_p else
                                         "coherent fold along the planned carrier, 1 - P2/P98"}
    if skipped:
        detail["skipped_windows"] = skipped
    return float(np.median(vals)), ok, detail


def _depth(t, ctx, gated: bool):
    if gated and t.params.get("carrier_curve") is not None and t.params.get("band") and \
            not t.params.get("noise_carrier"):
        return _gate_depth_coherent(t, ctx)
    rows, vals = [], []
    wins = [_centred(t.start_s, t.end_s, 8.0)] if t.params.get("sample") else \
        _spread(t.start_s, t.end_s, 12.0, 3)
    curve = t.params.get("rate_curve")
    unsteady = []
    for a, b in wins:
        why = _unsteady(t, ctx, a, b)
        if why:
            unsteady.append({"start_s": _round(a, 3), "end_s": _round(b, 3), "reason": why})
            continue
        x, sr = ctx.read(a, b)
        x, notched = _notch_others(t, ctx, x, sr, a, b)
        band = t.params.get("band")
        noisy = bool(t.params.get("noise_carrier"))
        xb = _band(x, sr, band, smooth=not noisy)
        hint = float(curve([0.5 * (a + b) + ctx.offset_s])[0]) if curve else None
        rate, _ = _rate_of(xb, sr, hint)
        if not math.isfinite(rate):
            raise MeasureError("no amplitude modulation found in the window")
        fold_rate = rate
        if curve is not None:
            tt = a + ctx.offset_s + np.arange(0, b - a + 0.002, 0.001)
            planned = np.interp(a + ctx.offset_s + np.arange(x.shape[1]) / sr, tt, curve(tt))
            if abs(np.median(planned) - rate) < 0.05 + 0.01 * rate:
                fold_rate = planned
        amp, noise_share = folded_amplitude(
            xb, sr, fold_rate, denoise=band is not None and not noisy,
            carrier_hz=0.5 * (band[0] + band[1]) if band is not None and not noisy else None,
            max_k=None if gated else 2)
        if gated:
            p2, p98 = np.percentile(amp, [2.0, 98.0])
            d = float(1.0 - p2 / p98) if p98 > 0 else 0.0
        else:
            a0 = amp.mean()
            a1 = np.abs(np.sum(amp * np.exp(-2j * np.pi * np.arange(amp.size) / amp.size)))
            d = float(2 * a1 / amp.size / a0) if a0 > 0 else 0.0
            if band is not None and not noisy:  # undo the Gaussian band's sideband loss
                half = 0.5 * (band[1] - band[0])
                d /= math.exp(-math.log(2) * (rate / half) ** 2 / 2)
        vals.append(d)
        rows.append({"start_s": _round(a, 3), "end_s": _round(b, 3), "depth": _round(d, 4),
                     "rate_hz": _round(rate, 4), "noise_share": _round(noise_share, 3),
                     **notched})
    if not vals:
        raise Unmeasurable(unsteady[0]["reason"])
    ok = all(_within(v, t.expected, t.tolerance) for v in vals)
    detail = {"windows": rows}
    if unsteady:
        detail["skipped_windows"] = unsteady
    return float(np.median(vals)), ok, detail


def _unsteady(t, ctx, a, b) -> str | None:
    """Why a depth cannot be read in [a, b] (file s): the layer's planned carrier glides
    there (an SBaGen transition); the fold and the line-based noise estimate assume a steady
    carrier. The same gate is still checked on the steady stretches (a level ramp alone is
    measured: the gate's depth does not depend on it)."""
    comps_at = t.params.get("components")
    if comps_at is None or t.params.get("noise_carrier"):
        return None
    own = [c for c in comps_at(a + ctx.offset_s, b + ctx.offset_s)
           if c.layer == t.layer and c.role == "tone"]
    if not own:
        return None
    c = own[0]
    if c.hi_hz - c.lo_hz > max(1.0, 0.005 * c.hz):
        return (f"layer {t.layer}'s carrier glides {c.lo_hz:.1f}-{c.hi_hz:.1f} Hz over "
                f"{a:.1f}-{b:.1f} s (a transition); the depth is read where it holds still")
    return None


def am_depth(t, ctx):
    return _depth(t, ctx, gated=False)


def gated_depth(t, ctx):
    return _depth(t, ctx, gated=True)


def gamma_share(t, ctx):
    from ..measure.modulation import share_in_band

    rows, vals = [], []
    for a, b in _am_windows(t):
        x, sr = ctx.read(a, b)
        xb = _band(x, sr, t.params.get("band"), smooth=not t.params.get("noise_carrier"))
        s = share_in_band(xb, sr, 38.0, 42.0)
        vals.append(s)
        rows.append({"start_s": _round(a, 3), "end_s": _round(b, 3), "share": _round(s, 4)})
    ok = all(_within(v, t.expected, t.tolerance) for v in vals)
    return float(np.median(vals)), ok, {"windows": rows}


# ------------------------------------------------------------------------------ breath
def breath_rate(t, ctx):
    from ..measure.breath import breath_rate as _rate

    a, b = _centred(t.start_s, t.end_s, 150.0)  # 15 breaths at 6/min, 5 at 2/min
    env, esr = ctx.slow_envelope(a, b, t.params.get("band"), max_hz=4.0)
    # breath_rate takes audio: give it the envelope on a 64 Hz carrier at 256 Hz (the
    # Hilbert envelope of env * cos(2 pi 64 t) is env again)
    fs = 256.0
    tt = np.arange(int(env.size * fs / esr)) / fs
    e = np.interp(tt, np.arange(env.size) / esr, env)
    x = e * np.cos(2 * np.pi * 64.0 * tt)
    exp = float(t.expected)
    bpm = _rate(x, fs, min_bpm=max(0.5, 0.5 * exp), max_bpm=min(60.0, 2.0 * exp))
    return bpm, _within(bpm, exp, t.tolerance), {"envelope_rate_hz": _round(esr, 3)}


# ------------------------------------------------------------------------------ beds
def lr_correlation(t, ctx):
    from ..measure.spectrum import lr_correlation as _corr

    if t.params.get("unmeasurable"):
        raise MeasureError(t.params["unmeasurable"])
    if ctx.channels != 2:
        raise MeasureError(f"needs a stereo file; this one has {ctx.channels} channel(s)")
    rows, vals = [], []
    comps_at = t.params.get("components")
    band = t.params.get("band")
    for a, b in _spread(t.start_s, t.end_s, 5.0, 4):
        x, sr = ctx.read(a, b)
        if comps_at is None:
            r = _corr(_band(x, sr, band))
            row = {}
        else:
            notches = _tone_notches(comps_at(a + ctx.offset_s, b + ctx.offset_s),
                                    x.shape[1] / sr)
            r, kept = _masked_corr(x, sr, band, notches)
            inside = [n for n in notches if band is None or (n[1] >= band[0] and
                                                             n[0] <= band[1])]
            row = {"notched_hz": [_round(n, 1) for n in inside[:12]],
                   "bins_kept": kept}
        vals.append(r)
        rows.append({"start_s": _round(a, 3), "end_s": _round(b, 3), "r": _round(r, 4), **row})
    ok = all(_within(v, t.expected, t.tolerance) for v in vals)
    detail = {"windows": rows, "band_hz": _round(band)}
    if comps_at is not None:
        detail["method"] = ("Blackman-Harris spectra, cross-spectrum over the band with every "
                            "planned tone notched out")
    return float(np.mean(vals)), ok, detail


def _tone_notches(comps, dur: float) -> list[tuple[float, float]]:
    """Frequency ranges to leave out of a noise measurement: every planned sinusoid (with
    its glide over the window) +- max(2 Hz, 8 bins)."""
    d = max(2.0, 8.0 / dur)
    return sorted({(round(c.lo_hz - d, 3), round(c.hi_hz + d, 3)) for c in comps})


def _masked_corr(x, sr, band, notches):
    """L/R correlation of the part of the spectrum in ``band`` outside ``notches``
    (Blackman-Harris window: tones outside leak less than -92 dB); returns (r, bins)."""
    n = x.shape[1]
    w = signal.windows.blackmanharris(n)
    X = np.fft.rfft(x * w, axis=1)
    f = np.fft.rfftfreq(n, 1.0 / sr)
    lo, hi = (20.0, 0.45 * sr) if band is None else (float(band[0]), float(band[1]))
    m = (f >= lo) & (f <= min(hi, 0.45 * sr))
    for a, b in notches:
        m &= ~((f >= a) & (f <= b))
    if np.count_nonzero(m) < 50:
        raise MeasureError("the planned tones leave too little of the band to read the "
                           "noise's L/R correlation")
    xl, xr = X[0, m], X[1, m]
    den = math.sqrt(float(np.sum(np.abs(xl) ** 2)) * float(np.sum(np.abs(xr) ** 2)))
    if den <= 0:
        raise MeasureError("silence in the band")
    return float(np.real(np.sum(xl * np.conj(xr))) / den), int(np.count_nonzero(m))


def bell_strikes(t, ctx):
    times = [x for x in t.params.get("times_s", []) if t.start_s <= x < t.end_s]
    found = []
    for s in times:
        a, b = max(0.0, s - 0.35), min(ctx.duration_s, s + 0.2)
        if b - a < 0.1:
            continue
        x, sr = ctx.read(a, b)
        hop = max(1, int(0.01 * sr))
        p = np.mean(x ** 2, axis=0)
        m = p.size // hop
        pw = p[: m * hop].reshape(m, hop).mean(axis=1)
        tt = a + (np.arange(m) + 0.5) * hop / sr
        before = pw[(tt >= s - 0.3) & (tt < s - 0.05)]
        after = pw[(tt >= s - 0.02) & (tt < s + 0.06)]
        if before.size and after.size and after.max() > 4.0 * max(before.mean(), 1e-12):
            found.append(s)
    n = len(found)
    ok = abs(n - float(t.expected)) <= t.tolerance
    missed = [_round(s, 3) for s in times if s not in found]
    return float(n), ok, {"missed_s": missed[:20]}


def band_energy(t, ctx):
    from ..measure.spectrum import band_energy_db

    lo, hi = t.params["band"]
    a, b = _centred(t.start_s, t.end_s, 8.0)
    x, sr = ctx.read(a, b)
    v = band_energy_db(x, sr, lo, hi)
    return v, _within(v, t.expected, t.tolerance), {"band_hz": [lo, hi]}


def noise_slope(t, ctx):
    from ..measure.spectrum import noise_slope_db_per_decade

    a, b = _centred(t.start_s, t.end_s, 20.0)
    x, sr = ctx.read(a, b)
    v = noise_slope_db_per_decade(x, sr, 50.0, min(10000.0, 0.45 * sr))
    return v, _within(v, t.expected, t.tolerance), {}


# ------------------------------------------------------------------------------ session-wide
def loudness(t, ctx):
    meter = ctx.scan.meter
    if meter is None:
        raise MeasureError("sample rate too low for BS.1770 K-weighting")
    if t.start_s <= 0.05 and t.end_s >= ctx.duration_s - 0.05:
        v = meter.integrated()
    else:
        v = ctx.stream_meter(t.start_s, t.end_s).integrated()
    return v, _within(v, t.expected, t.tolerance), {"loudness_range_lu":
                                                    _round(meter.loudness_range(), 2)}


def true_peak(t, ctx):
    if t.start_s <= 0.05 and t.end_s >= ctx.duration_s - 0.05:
        v = ctx.scan.true_peak_dbtp
    else:
        v = ctx.stream_meter(t.start_s, t.end_s, true_peak=True).true_peak_dbtp()
    ok = v is not None and v <= float(t.expected) + t.tolerance
    return v, ok, {"sample_peak_dbfs": _round(20 * math.log10(ctx.scan.sample_peak), 3)
                   if ctx.scan.sample_peak else None, "rule": "measured <= expected + tolerance"}


def loudness_range(t, ctx):
    if t.start_s <= 0.05 and t.end_s >= ctx.duration_s - 0.05:
        v = ctx.scan.meter.loudness_range()
    else:
        v = ctx.stream_meter(t.start_s, t.end_s).loudness_range()
    return v, _within(v, t.expected, t.tolerance), {}


def clicks(t, ctx):
    found = [(s, r) for s, r in (ctx.scan.clicks or []) if t.start_s <= s < t.end_s]
    n = len(found)
    ok = n <= float(t.expected) + t.tolerance
    return float(n), ok, {"times_s": [_round(s, 4) for s, _ in found[:20]],
                          "ratios": [_round(r, 1) for _, r in found[:20]],
                          "threshold": 12.0, "score": _round(ctx.scan.click_score, 2)}


def _fade(t, ctx, rising: bool):
    T = float(t.params.get("fade_s", t.expected))
    if rising:
        a, b = 0.0, min(ctx.duration_s, T + 5.0)
    else:
        a, b = max(0.0, ctx.duration_s - T - 5.0), ctx.duration_s
    pw, tt = ctx.power_track(a, b, 0.05)
    tt = tt - a  # from the window start
    if rising:
        u = tt / T  # fade progress 0 -> 1
        ref = pw[(tt >= T + 0.25) & (tt < T + 5.0)]
    else:
        end = b - a
        u = (end - tt) / T  # 1 at the fade start, 0 at the end
        ref = pw[(tt <= end - T - 0.25)]
    if ref.size == 0 or np.mean(ref) <= 0:
        raise MeasureError("no sound next to the fade to compare it with")
    ref_p = float(np.mean(ref))

    def level(lo, hi):
        sel = (u >= lo) & (u < hi)
        v = float(np.mean(pw[sel])) if sel.any() else 0.0
        return 10 * math.log10(max(v, 1e-20) / ref_p)
    mid = level(0.45, 0.55)
    slices = [level(i / 10, (i + 1) / 10) for i in range(10)]
    rising_half = bool(np.all(np.diff(slices[:5]) > 0))
    # a raised cosine's first tenth averages -39 dB (a linear fade's -25 dB, none 0 dB)
    ok = slices[0] <= -30.0 and abs(mid + 6.02) <= 4.0 and rising_half
    word = "first" if rising else "last"
    return mid, ok, {f"{word}_tenth_db": _round(slices[0], 1), "mid_level_db": _round(mid, 2),
                     "expected_mid_db": -6.02,
                     "slices_db": _round(slices, 1) if rising else _round(slices[::-1], 1),
                     "rule": f"{word} tenth <= -30 dB (raised cosine: -39), middle -6 +/- 4 dB, "
                             "steady over the outer half"}


def fade_in(t, ctx):
    return _fade(t, ctx, True)


def fade_out(t, ctx):
    return _fade(t, ctx, False)


def _rho_needed(plan_rho, base: float = 0.95, margin: float = 0.05) -> float:
    """Signed rho required in the trend's direction: ``base`` (0.95), or the plan's own
    rho less ``margin`` when the plan itself is not that steady over the window (breath
    swells in a short window, a mix whose centroid is set by a tone that does not follow
    the temperature). ``plan_rho`` is already multiplied by the direction's sign."""
    if plan_rho is None or not math.isfinite(plan_rho):
        return base
    return min(base, plan_rho - margin)


def loudness_trend(t, ctx):
    meter = ctx.scan.meter
    times, lufs = meter.short_term(3.0, 1.0)
    sel = (times - 1.5 >= t.start_s - 1e-6) & (times + 1.5 <= t.end_s + 1e-6)
    tt, v = times[sel], lufs[sel]
    if v.size < 10:
        raise MeasureError("the window holds fewer than 10 short-term loudness values")
    sign = -1.0 if t.expected == "falling" else 1.0
    rho, nb = _binned_rho(tt, v)
    plan = ctx.plan_short_term(tt, t.start_s, t.end_s) if ctx.has_plan else None
    ok_v = np.isfinite(v)
    detail = {"rho_binned": _round(rho, 4), "bins": nb, "drop_db": _round(v[ok_v][0] -
                                                                          v[ok_v][-1], 2)}
    if plan is not None:
        r = v - plan
        good = ok_v & np.isfinite(plan)
        r = r[good]
        bump = float(max(0.0, np.max(r - np.median(r)))) if r.size else float("nan")
        detail["against"] = "plan (the session graph rendered at a low rate)"
        detail["plan_drop_db"] = _round(plan[good][0] - plan[good][-1], 2)
        i = int(np.argmax(r - np.median(r))) if r.size else 0
        detail["bump_at_s"] = _round(tt[good][i], 1) if r.size else None
        plan_rho, _ = _binned_rho(tt[good], plan[good])
        detail["plan_rho_binned"] = _round(plan_rho, 4)
    else:
        w = min(21, v.size if v.size % 2 else v.size - 1)
        vv = v[ok_v]
        trend = signal.savgol_filter(vv, w, 2, mode="interp")
        bump = float(max(0.0, np.max(vv - trend)))
        detail["against"] = "Savitzky-Golay trend (21 s); no plan"
        detail["bump_at_s"] = _round(tt[ok_v][int(np.argmax(vv - trend))], 1)
    run = np.minimum.accumulate(v[ok_v]) if sign < 0 else np.maximum.accumulate(v[ok_v])
    detail["max_rise_db"] = _round(float(np.max(sign * (run - v[ok_v]))) if sign < 0 else
                                   float(np.max(run - v[ok_v])), 3)
    pr = detail.get("plan_rho_binned")
    need = _rho_needed(None if pr is None else sign * pr)
    detail["rule"] = (f"binned Spearman rho {'<=' if sign < 0 else '>='} {sign * need:g} and "
                      f"bump <= {t.tolerance:g} dB")
    ok = math.isfinite(rho) and sign * rho >= need and bump <= t.tolerance
    return bump, ok, detail


def centroid_trend(t, ctx):
    sc = ctx.scan
    sel = (sc.spec_times_s >= t.start_s) & (sc.spec_times_s <= t.end_s)
    c = sc.centroid_hz[sel]
    if np.count_nonzero(np.isfinite(c)) < 10:
        raise MeasureError("the window holds fewer than 10 spectra")
    rho, nb = _binned_rho(sc.spec_times_s[sel], np.log(c), power=False)
    sign = -1.0 if t.expected == "falling" else 1.0
    plan_rho = None
    if ctx.has_plan:
        pt, pc = ctx.plan_centroid(t.start_s, t.end_s)
        if np.count_nonzero(np.isfinite(pc)) >= 10:
            plan_rho, _ = _binned_rho(pt, np.log(pc), power=False)
    need = _rho_needed(None if plan_rho is None else sign * plan_rho, t.tolerance, 0.1)
    ok = math.isfinite(rho) and sign * rho >= need
    cc = c[np.isfinite(c)]
    return rho, ok, {"bins": nb, "first_hz": _round(np.median(cc[: max(1, cc.size // 10)]), 1),
                     "last_hz": _round(np.median(cc[-max(1, cc.size // 10):]), 1),
                     "plan_rho_binned": _round(plan_rho, 4),
                     "rule": f"binned Spearman rho {'<=' if sign < 0 else '>='} "
                             f"{sign * need:g}"}


EVALUATORS = {
    "binaural_beat": binaural_beat, "binaural_carrier": binaural_carrier, "am_rate": am_rate,
    "am_depth": am_depth, "gated_depth": gated_depth, "gamma_share": gamma_share,
    "breath_rate": breath_rate, "lr_correlation": lr_correlation,
    "bell_strikes": bell_strikes, "loudness": loudness, "true_peak": true_peak,
    "loudness_range": loudness_range, "fade_in": fade_in, "fade_out": fade_out,
    "clicks": clicks, "loudness_trend": loudness_trend, "centroid_trend": centroid_trend,
    "band_energy": band_energy, "noise_slope": noise_slope,
}
from .fidelity import splatter as _splatter  # noqa: E402  (imports this module lazily)

EVALUATORS["splatter"] = _splatter


def evaluate(t, ctx):
    """Measure one target: ``(measured or None, passed, detail)``; measurement problems
    (a mono file for a binaural target, silence) fail the target with ``detail["error"]``."""
    from ..errors import ResonatorError

    try:
        measured, ok, detail = EVALUATORS[t.kind](t, ctx)
    except Unmeasurable as exc:
        return None, False, {"unmeasurable": str(exc)}
    except (ResonatorError, ValueError, FloatingPointError) as exc:
        return None, False, {"error": str(exc)}
    if measured is not None and not math.isfinite(float(measured)):
        return None, False, dict(detail, error="no value could be measured")
    return float(measured), bool(ok), detail
