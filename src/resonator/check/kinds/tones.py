"""Binaural targets: the beat (left minus right) and the carrier (the ears' mean).

With a recipe, each ear's tone is fitted by least squares together with every planned
sinusoid near it (:func:`resonator.measure.tones.fit_tones`), gliding ones along their
planned trajectory; without one, the interpolated peak of each ear
(:func:`resonator.measure.binaural.measure_binaural`).
"""
from __future__ import annotations

import math

import numpy as np

from ..._lazy import lazy_module
from ...measure import MeasureError
from .base import (TARGET_KINDS, Reading, TargetKind, Unmeasurable, centred, combine_windows, grow_window, register,
                   rounded, spread)

signal = lazy_module("scipy.signal")  # imported at first use

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


#: a weak tone is a failure (not inconclusive) when the plan's render of the same window
#: shows it standing this far over the noise (4x :data:`PROMINENCE`): it is missing
PLANNED_CLEAR = 4.0 * PROMINENCE


#: the other ear's tone in an ear above this level relative to the ear's own tone (dB) fails a
#: binaural target: the beat is then (partly) monaural
CROSSTALK_DB = -12.0


#: longest window used to resolve close voices or to read a weak tone
MAX_RESOLVE_S = 32.0


#: longest window a glide sample (a short target) is lengthened to, around its centre
SAMPLE_MAX_S = 16.0


def _binaural(t, ctx, what: str):
    if ctx.channels != 2:
        raise MeasureError(f"a binaural target needs a stereo file; this one has "
                           f"{ctx.channels} channel(s) (never measured on a mono sum)")
    if t.params.get("components") is not None and t.layer is not None:
        return _binaural_planned(t, ctx, what)
    x_windows = [centred(t.start_s, t.end_s, 4.0)] if t.params.get("sample") else \
        spread(t.start_s, t.end_s, 4.0, 5)
    hint = t.params.get("carrier_hz")
    if what == "carrier" and hint is None:
        hint = t.expected
    vals, rows, unsure = [], [], []
    for a, b in x_windows:
        r = ctx.memo(("binaural", round(a, 4), round(b, 4), hint),
                     lambda a=a, b=b: _peak_pair(ctx, a, b, hint))
        v = _value_of(r, what)
        row = {"start_s": rounded(a, 3), "end_s": rounded(b, 3), "value": rounded(v, 5),
               "left_hz": rounded(r["left_hz"], 5), "right_hz": rounded(r["right_hz"], 5),
               "prominence": r["prominence"]}
        why = _untrusted(t, r, what, b - a)
        if why:
            unsure.append(dict(row, reason=why))
            continue
        vals.append(v)
        rows.append(row)
    return combine_windows(t, vals, rows, unsure, {"method": "interpolated peak of each ear (no "
                                                      "plan)"})


def _value_of(r, what: str) -> float:
    return r["left_minus_right_hz"] if what == "beat" else r["carrier_hz"]


def _sigma(prominence, length_s: float, what: str) -> float:
    """Noise-limited error of a beat (or carrier) read from two ears with these
    prominences on a window of ``length_s`` (see :data:`SIGMA_K`)."""
    se = [SIGMA_K / (length_s * max(p, 1e-3)) for p in prominence]
    return math.hypot(*se) * (1.0 if what == "beat" else 0.5)


def _untrusted(t, r, what: str, length_s: float) -> str | None:
    """Why a peak-picked window cannot be trusted: an ear's tone does not stand out in the
    window or in one of its halves (a tone switched on or off inside it, too weak under
    the noise), or the window's reading is not the mean of its halves' (not one steady or
    gliding tone); None when it can."""
    v = _value_of(r, what)
    parts = [("window", r["prominence"], PROMINENCE)] + \
        [(name, h["prominence"], PROMINENCE / math.sqrt(2.0))
         for name, h in zip(("first half", "second half"), r["halves"])]
    for part, p, need in parts:
        if min(p) < need:
            ear = "left" if p[0] < p[1] else "right"
            return (f"the {ear} ear's tone is only {min(p):.1f}x over the noise in the "
                    f"{part} (a tone switched on or off there, too weak, or not there; noise "
                    f"alone reaches about 4x): {v:.4f} Hz cannot be trusted")
    # a steady or linearly gliding tone reads at the window's centre what its halves read
    # on average
    h1, h2 = (_value_of(x, what) for x in r["halves"])
    noise_hz = 3.0 * 0.5 * math.hypot(*(_sigma(x["prominence"], 0.5 * length_s, what)
                                        for x in r["halves"]))
    if abs(v - 0.5 * (h1 + h2)) > t.tolerance + noise_hz:
        return (f"its halves read {h1:.4f} and {h2:.4f} Hz, not centred on the window's "
                f"{v:.4f} Hz (beyond the tolerance and their noise, {noise_hz:.3f} Hz): it "
                "cannot be trusted")
    err = abs(v - float(t.expected))
    sigma = _sigma(r["prominence"], length_s, what)
    if t.tolerance < err <= t.tolerance + 3.0 * sigma:
        return (f"the tones stand {min(r['prominence']):.1f}x over the noise: {v:.4f} Hz "
                f"reads to +-{3 * sigma:.3f} Hz (3 sigma), within that of "
                f"{float(t.expected):.4g} +- {t.tolerance:.3g} Hz")
    return None


def _binaural_planned(t, ctx, what: str):
    """Each ear of the target's layer fitted together with every planned sinusoid near it
    (:mod:`.voices`), gliding ones along their planned trajectory.

    Components closer than the window resolves first get a longer window (up to
    :data:`MAX_RESOLVE_S`; a glide sample keeps its centre); those still unresolved are
    fitted jointly with the ear's tone, with one common shift (two voices' identical ears
    are one tone: its frequency is what is measurable). A weak tone gets the longest
    window. Only ears covered by a layer whose partials are not modelled are skipped."""
    from ..voices import RESOLVE_CYCLES, resolution_problem

    comps_at = t.params["components"]
    sample = bool(t.params.get("sample"))
    base = [centred(t.start_s, t.end_s, 4.0)] if sample else spread(t.start_s, t.end_s, 4.0, 5)
    vals, rows, skipped, unsure, missing = [], [], [], [], []

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
            a2, b2 = grow_window(t, ctx, a, b, min(need, SAMPLE_MAX_S if sample else MAX_RESOLVE_S),
                           sample)
            plan2 = plan_at(a2, b2) if b2 - a2 > (b - a) * 1.01 else None
            if plan2 is not None:
                a, b, (own, others) = a2, b2, plan2
                why = problem(own, others, a, b)
        covered = problem(own, [o for o in others if o.role == "range"], a, b)
        if covered:  # a layer whose partials are not modelled covers an ear
            why = covered
            skipped.append({"start_s": rounded(a, 3), "end_s": rounded(b, 3), "reason": why})
            continue
        r = ctx.memo(("binaural-fit", round(a, 4), round(b, 4), t.layer),
                     lambda a=a, b=b, own=own, others=others:
                     _fit_pair(ctx, a, b, own, others, t.tolerance))
        def value(r):
            return r["left_hz"] - r["right_hz"] if what == "beat" else \
                0.5 * (r["left_hz"] + r["right_hz"])

        def sigma_of(r, length):
            return _sigma(r["prominence"], length, what)
        if min(r["prominence"]) < LENGTHEN_BELOW:
            # a tone barely above the noise: a longer window (error falls as T^-1.5); a glide
            # sample keeps its centre and stays local (SAMPLE_MAX_S)
            a2, b2 = grow_window(t, ctx, a, b, SAMPLE_MAX_S if sample else MAX_RESOLVE_S, sample)
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
        cross = [c for c in r.get("crosstalk_db") or [] if c is not None]
        if cross and max(cross) > CROSSTALK_DB and min(r["prominence"]) >= PROMINENCE:
            ear = "left" if r["crosstalk_db"][0] == max(cross) else "right"
            missing.append({"start_s": rounded(a, 3), "end_s": rounded(b, 3),
                            "value": rounded(v, 5), "crosstalk_db": r["crosstalk_db"],
                            "reason": f"both ears hear both tones: the other ear's tone is in "
                                      f"the {ear} ear at {max(cross):+.1f} dB to its own "
                                      f"(a mono or monaural mix): no binaural beat"})
            continue
        if min(r["prominence"]) < PROMINENCE:
            gone = _missing_tone(ctx, a, b, own, t.layer)
            if gone:
                missing.append({"start_s": rounded(a, 3), "end_s": rounded(b, 3),
                                "value": rounded(v, 5), "reason": gone})
                continue
        # a weak tone's noise-limited error: a difference from the plan within tolerance +
        # 3 sigma is inconclusive (the window is skipped with the numbers), past it a failure
        sigma = sigma_of(r, b - a)
        err = abs(v - float(t.expected))
        if t.tolerance < err <= t.tolerance + 3.0 * sigma:
            unsure.append({"start_s": rounded(a, 3), "end_s": rounded(b, 3), "value": rounded(v, 5),
                           "reason": f"tone only {min(r['prominence']):.1f}x over the noise in "
                                     f"{b - a:.3g} s: reads to +-{3 * sigma:.3f} Hz (3 sigma); "
                                     f"{v:.4f} Hz is within that of {float(t.expected):.4g} "
                                     f"+- {t.tolerance:.3g} Hz"})
            continue
        vals.append(v)
        rows.append({"start_s": rounded(a, 3), "end_s": rounded(b, 3), "value": rounded(v, 5),
                     "left_hz": rounded(r["left_hz"], 5), "right_hz": rounded(r["right_hz"], 5),
                     "planned_left_hz": rounded(r["planned"][0], 5),
                     "planned_right_hz": rounded(r["planned"][1], 5),
                     "prominence": r["prominence"],
                     "fitted_with": r["fitted_with"], **({"note": r["note"]} if r["note"]
                                                          else {})})
    if not vals and not unsure and not missing:
        raise Unmeasurable(skipped[0]["reason"] if skipped else "no window to measure")
    detail = {"method": "least-squares fit of the planned sinusoids near each ear (glides "
                        "along their planned trajectory)"}
    if skipped:
        detail["skipped_windows"] = skipped
    if vals or unsure:
        r = combine_windows(t, vals, rows, unsure, detail)
    else:
        kind = TARGET_KINDS[t.kind]
        r = Reading(None, False, f"within {kind.unit_info.format(t.expected)} +- "
                    f"{kind.tolerance_info.format(t.tolerance)}", dict(detail, windows=[]))
    if missing:  # a planned tone that is not there fails, whatever the other windows say
        r.passed = False
        r.detail.pop("inconclusive", None)
        r.detail["missing_windows"] = missing
        r.detail["error"] = missing[0]["reason"]
        r.rule += "; each ear's planned tone there, and only in that ear"
    return r


def _missing_tone(ctx, a, b, own, layer) -> str | None:
    """Why a tone too weak to read is missing (a failure) rather than weak (inconclusive):
    in the plan's render of the same window (:meth:`CheckContext.plan_read`) an ear's tone
    stands at least :data:`PLANNED_CLEAR` over the noise around it, in the file less than
    :data:`PROMINENCE`. When the tone stands in the other ear instead, the reason says so
    (and that the ears are swapped when the other ear's tone has moved over too). None when
    the plan's tone is weak too (or there is no plan)."""
    from ...measure.tones import planned_chirp, tone_prominence

    got = ctx.plan_read(a, b)
    if got is None:
        return None
    y, psr = got
    x, sr = ctx.read(a, b)
    t0 = a + ctx.offset_s

    def prominence(z, zsr, channel, o):
        half = max(5.0, 0.1 * o.hz)
        n = z.shape[1]
        chirp, f = planned_chirp(o.track, t0, n, zsr) if o.glides(n / zsr) else (None, o.hz)
        return tone_prominence(z[channel], zsr, f, f - half, f + half, chirp=chirp)

    for ear in (0, 1):
        o = own[ear]
        if o.hi_hz + max(5.0, 0.1 * o.hz) >= 0.45 * psr:
            continue  # the plan's rate cannot hold the tone
        planned, heard = prominence(y, psr, ear, o), prominence(x, sr, ear, o)
        if planned >= PLANNED_CLEAR and heard < PROMINENCE:
            side, other = ("left", "right") if ear == 0 else ("right", "left")
            if prominence(x, sr, 1 - ear, o) >= PROMINENCE:  # it is in the other ear
                mate = own[1 - ear]
                if prominence(x, sr, ear, mate) >= PROMINENCE and \
                        prominence(x, sr, 1 - ear, mate) < PROMINENCE:
                    return (f"the ears are swapped: layer {layer}'s left-ear tone "
                            f"({own[0].hz:.2f} Hz) is in the right ear and its right-ear tone "
                            f"({own[1].hz:.2f} Hz) in the left (the beat's sign is reversed)")
                return (f"layer {layer}'s {side}-ear tone ({o.hz:.2f} Hz) is in the {other} "
                        f"ear, not the {side}")
            return (f"layer {layer}'s {side}-ear tone ({o.hz:.2f} Hz) is not there: it stands "
                    f"{heard:.1f}x over the noise around it, where the plan's render of "
                    f"this window stands {planned:.0f}x")
    return None


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
    from ..voices import _min_gap

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
    from ...measure.tones import fit_tones, planned_chirp, tone_prominence
    from ..voices import RESOLVE_CYCLES

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
    own_chirps = [None, None]
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
        own_chirps[ear] = chirps[0]
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
        out["prominence"].append(rounded(prom, 1))
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
    out["crosstalk_db"] = _crosstalk_db(x, sr, own, others, out, own_chirps, res)
    return out


def _crosstalk_db(x, sr, own, others, out, chirps, res) -> list:
    """Per ear, the level (dB) of the other ear's tone in it relative to its own, both fitted
    at their measured frequencies (None where a planned component of that ear sits on the
    other ear's tone, or the ears are closer than the window resolves). A binaural beat
    exists only while each ear holds its own tone: a mono or monaural mix reads about 0 dB.
    Only a tone standing :data:`PROMINENCE` over the noise there counts."""
    from ...measure.tones import fit_tones, tone_prominence

    f = [out["left_hz"], out["right_hz"]]
    if abs(f[0] - f[1]) < 2.0 * res:
        return [None, None]
    levels = []
    for ear in (0, 1):
        other = 1 - ear
        if any(c.ear == ear and c.role != "range" and abs(c.hz - own[other].hz) < 2.0 * res
               for c in others):
            levels.append(None)
            continue
        half = max(5.0, 0.1 * f[other])
        if tone_prominence(x[ear], sr, f[other], f[other] - half, f[other] + half,
                           chirp=chirps[other]) < PROMINENCE:
            levels.append(None)  # nothing stands out there: noise, not the other ear's tone
            continue
        _, amps, _ = fit_tones(x[ear], sr, [f[ear], f[other]], [1e-9, 1e-9], iterations=1,
                               chirps=[chirps[ear], chirps[other]])
        levels.append(rounded(20.0 * math.log10(max(amps[1], 1e-12) / max(amps[0], 1e-12)), 1))
    return levels


def _peak_pair(ctx, a, b, hint):
    """measure_binaural on [a, b] and on each half, with each ear's prominence
    (:func:`~resonator.measure.tones.tone_prominence` over the search band); the pair is
    first decimated (polyphase, linear phase) to about 3x the top of the search band: the
    same peak, a far smaller FFT."""
    from ...measure.binaural import measure_binaural
    from ...measure.tones import tone_prominence

    x, sr = ctx.read(a, b)
    top = 1500.0 if hint is None else float(hint) + max(40.0, 0.2 * float(hint))
    q = int(sr // (3.0 * top))
    if q >= 2:
        x = signal.resample_poly(x, 1, q, axis=1)
        sr = sr / q
    fmax = min(1500.0, 0.45 * sr) if hint is None else 0.45 * sr

    def read(y):
        r = measure_binaural(y[0], y[1], sr, carrier_hint_hz=hint, fmax_hz=fmax)
        # against the noise around the peak (a coloured bed's slope does not count)
        w = max(5.0, 40.0 * sr / y.shape[1])
        r["prominence"] = [rounded(tone_prominence(y[e], sr, r[k], max(1.0, r[k] - w),
                                                   r[k] + w), 1)
                           for e, k in ((0, "left_hz"), (1, "right_hz"))]
        return r
    out = read(x)
    m = x.shape[1] // 2
    out["halves"] = [read(x[:, :m]), read(x[:, m:])]
    return out


def binaural_beat(t, ctx):
    return _binaural(t, ctx, "beat")


def binaural_carrier(t, ctx):
    return _binaural(t, ctx, "carrier")


DOC = """on 4 s windows (up to 5 spread over a phase; a glide sample: its window, read at its
centre); left - right (beat) and the ears' mean (carrier). With a recipe: each ear's tone is
fitted by least squares together with every planned sinusoid near it (other voices,
harmonics, isochronic sidebands, bells), gliding ones along their planned trajectory
(dechirped: the offset at the window's centre is fitted) and fading ones with their planned
envelope; searched near the plan, or up to half way to the planned neighbours when no clear
tone is there (a wrong render reads its own value). Components closer than 1.5 bins get a
longer window (up to 32 s on a hold, 16 s centred on a glide sample); those still closer are
fitted with the ear's tone as one sum with one common shift. A weak tone gets the longest
window, kept only when it agrees with the short one. Only ears covered by a layer whose
partials are not modelled are skipped. Without a recipe: the interpolated peak. Better than
0.01 Hz under pink noise 10 dB down. Every sub-window must pass; the value shown is their
median. Never measured on a mono sum."""
register(TargetKind("binaural_beat", unit="hz_signed", tolerance=0.05, min_window_s=1.0,
                    reads="tones",
                    evaluate=binaural_beat, doc=DOC))
register(TargetKind("binaural_carrier", unit="hz", tolerance=0.1, min_window_s=1.0,
                    reads="tones",
                    evaluate=binaural_carrier, doc=DOC))
