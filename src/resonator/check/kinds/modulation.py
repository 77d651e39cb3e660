"""Amplitude-modulation targets: rate, depth (sine and gated), the 40 Hz share.

The layer's band is isolated first (a Gaussian band-pass around a tone carrier, a
Butterworth one for noise carriers) and other layers' planned tones in it are subtracted
(steady ones, least squares) or notched (gliding ones).
"""
from __future__ import annotations

import math

import numpy as np

from ...measure import MeasureError
from ...measure.modulation import (am_line, am_rate_depth, coherent_gate_depth,
                                   folded_amplitude, share_in_band)
from ...measure.spectrum import band_filter
from ...measure.tones import subtract_tones
from .base import (TargetKind, Unmeasurable, centred, curve_fn, grow_window, register,
                   rounded, spread, within)

def _am_windows(t):
    return [centred(t.start_s, t.end_s, 8.0)] if t.params.get("sample") else \
        spread(t.start_s, t.end_s, 15.0, 3)


def _rate_of(x, sr, hint):

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
    # gliding tones are notched out of the spectrum over their whole glide
    steady = sorted({round(0.5 * (lo + hi), 4) for lo, hi in cut if hi - lo <= 2 * d + 0.25 / dur})
    glide = [(lo, hi) for lo, hi in cut if hi - lo > 2 * d + 0.25 / dur]
    # steady tones are fitted (least squares at the refined frequency) and subtracted;
    # their frequencies are refined on the first second (a second resolves 1 Hz, all the
    # notch needs)
    y = subtract_tones(x, sr, steady, search_hz=min(0.5, 0.25 * d))
    if glide:
        X = np.fft.rfft(y, axis=-1)
        f = np.fft.rfftfreq(y.shape[-1], 1.0 / sr)
        for lo, hi in glide:
            X[..., (f >= lo) & (f <= hi)] = 0.0
        y = np.fft.irfft(X, y.shape[-1], axis=-1)
    return y, {"subtracted_hz": [rounded(v, 2) for v in steady[:12]],
               "notched_hz": [rounded(c, 1) for c in sorted(set(glide))[:12]]}


def am_rate(t, ctx):
    """The envelope's line near the planned (or expected) rate in each window; a window
    passes when the line is within the tolerance and stands significantly above the
    envelope's noise floor there (:func:`~resonator.measure.modulation.am_line`): a rate
    read off noise, with no modulation there, fails with its depth and the floor."""
    rows, vals, weak = [], [], []
    curve = t.params.get("rate_curve")
    for a, b in _am_windows(t):
        x, sr = ctx.read(a, b)
        x, notched = _notch_others(t, ctx, x, sr, a, b)
        xb = band_filter(x, sr, t.params.get("band"), smooth=not t.params.get("noise_carrier"))
        hint = float(curve([0.5 * (a + b) + ctx.offset_s])[0]) if curve else float(t.expected)
        fmax = min(max(64.0, 1.3 * hint + 1.0), sr / 4 - 1.0)
        line = am_line(xb, sr, rate_hint_hz=hint, fmin_hz=0.3, fmax_hz=fmax)
        vals.append(line["rate_hz"])
        if not line["significant"]:
            weak.append(line)
        rows.append({"start_s": rounded(a, 3), "end_s": rounded(b, 3),
                     "rate_hz": rounded(line["rate_hz"], 5), "depth": rounded(line["depth"], 4),
                     "floor_depth": rounded(line["floor_depth"], 4),
                     "significant": line["significant"], **notched})
    r = within(t, vals, {"windows": rows})
    r.rule += " and its modulation above the envelope's noise floor"
    if weak:
        w = max(weak, key=lambda x: x["threshold_depth"] - x["depth"])
        r.passed = False
        r.detail["error"] = (
            f"no modulation stands out near {float(t.expected):g} Hz: depth {w['depth']:.4f} "
            f"against a noise floor of {w['floor_depth']:.4f} (significant above "
            f"{w['threshold_depth']:.4f})")
    return r


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
        wins = [grow_window(t, ctx, t.start_s, t.end_s, max(GATE_WINDOW_S, t.end_s - t.start_s),
                      True)]
    else:
        wins = spread(t.start_s, t.end_s, GATE_WINDOW_S, 2)
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
            xb = band_filter(x, sr, band, smooth=True)
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
                a, b = grow_window(t, ctx, a, b, min(longest, need * 1.1), sample)
                continue
            break
        d = r["depth"]
        row = {"start_s": rounded(a, 3), "end_s": rounded(b, 3), "depth": rounded(d, 4),
               "sigma": rounded(r["sigma"], 4), "rate_hz": rounded(r0, 4),
               "carrier_offset_hz": rounded(r["offset_hz"], 4),
               "fit_rms": rounded(r["fit_rms"], 4), **notched}
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
    detail = {"windows": rows, "method": "coherent fold along the planned carrier, regressed "
                                         "on the planned gate" if gate_p else
                                         "coherent fold along the planned carrier, 1 - P2/P98"}
    if skipped:
        detail["skipped_windows"] = skipped
    return within(t, vals, detail)


def _depth(t, ctx, gated: bool):
    if gated and t.params.get("carrier_curve") is not None and t.params.get("band") and \
            not t.params.get("noise_carrier"):
        return _gate_depth_coherent(t, ctx)
    rows, vals = [], []
    wins = [centred(t.start_s, t.end_s, 8.0)] if t.params.get("sample") else \
        spread(t.start_s, t.end_s, 12.0, 3)
    curve = t.params.get("rate_curve")
    unsteady = []
    for a, b in wins:
        why = _unsteady(t, ctx, a, b)
        if why:
            unsteady.append({"start_s": rounded(a, 3), "end_s": rounded(b, 3), "reason": why})
            continue
        x, sr = ctx.read(a, b)
        x, notched = _notch_others(t, ctx, x, sr, a, b)
        band = t.params.get("band")
        noisy = bool(t.params.get("noise_carrier"))
        xb = band_filter(x, sr, band, smooth=not noisy)
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
        rows.append({"start_s": rounded(a, 3), "end_s": rounded(b, 3), "depth": rounded(d, 4),
                     "rate_hz": rounded(rate, 4), "noise_share": rounded(noise_share, 3),
                     **notched})
    if not vals:
        raise Unmeasurable(unsteady[0]["reason"])
    detail = {"windows": rows}
    if unsteady:
        detail["skipped_windows"] = unsteady
    return within(t, vals, detail)


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
    rows, vals = [], []
    for a, b in _am_windows(t):
        x, sr = ctx.read(a, b)
        xb = band_filter(x, sr, t.params.get("band"), smooth=not t.params.get("noise_carrier"))
        s = share_in_band(xb, sr, 38.0, 42.0)
        vals.append(s)
        rows.append({"start_s": rounded(a, 3), "end_s": rounded(b, 3), "share": rounded(s, 4)})
    return within(t, vals, {"windows": rows})


def _gate_hints(session, info, d, components_at) -> dict:
    """A gated tone's planned carrier (a glide is dechirped), rate and gate: read
    coherently (:func:`_gate_depth_coherent`)."""
    plan = info.plan
    if plan.gate is None or plan.carrier is None:
        return {}
    return {"carrier_curve": curve_fn(plan.carrier, session.sr),
            "rate_curve": curve_fn(plan.rate, session.sr), "gate": plan.gate}


register(TargetKind("am_rate", unit="hz", tolerance=0.05, min_window_s=2.0, evaluate=am_rate,
                    reads="envelope",
                    doc="""envelope spectrum peak (resonator.measure.modulation.am_rate_depth)
of the layer's band (band-pass around the carrier), up to 3 sub-windows of 15 s. Other
layers' planned steady tones are first subtracted (least squares), gliding ones notched."""))
register(TargetKind("am_depth", unit="number", tolerance=0.05, min_window_s=2.0,
                    evaluate=am_depth, reads="envelope", doc="""the band's squared Hilbert envelope folded at
the measured rate (synchronous average over every cycle), less the band's noise power
(median-filtered PSD between the modulation lines), square-rooted: sine depth 2|A1|/A0 within
0.02 with pink noise about 10 dB under the tone. Windows where the layer's carrier glides are
skipped with the reason."""))
register(TargetKind("gated_depth", unit="number", tolerance=0.05, min_window_s=2.0,
                    evaluate=gated_depth, reads="envelope", hints=_gate_hints, doc="""isochronic tone with a recipe
(resonator.measure.modulation.coherent_gate_depth): mixed down along the planned carrier
(glides dechirped), folded over the planned rate's phase as complex values (noise averages
out, no floor), the real profile regressed on the planned gate: depth within 0.05 under pink
noise 20 dB above the gated tone (60 s; 1 sigma 0.015), 0.02 at 12 dB; windows of 24 s
lengthened to 60 s until 3 sigma is under the tolerance. Otherwise 1 - P2/P98 of the folded
amplitude (as am_depth), within 0.02 with pink noise about 10 dB under the tone."""))
register(TargetKind("gamma_share", unit="number", tolerance=0.1, min_window_s=4.0,
                    evaluate=gamma_share, reads="envelope", doc="""share of the envelope's modulation energy
at 38-42 Hz among 1-100 Hz (resonator.measure.modulation.share_in_band) on the layer's band,
15 s windows: 0.51 for a GENUS pip train, 0.64 for 40 Hz modulated pink noise, 0.02 for plain
noise."""))
