"""Targets of beds and breath: breath rate, L/R correlation, band energy, noise slope."""
from __future__ import annotations

import numpy as np

from ...measure import MeasureError
from ...measure.breath import breath_rate as measure_breath_rate
from ...measure.spectrum import (band_energy_db, band_filter, masked_lr_correlation,
                                 noise_slope_db_per_decade)
from ...measure.spectrum import lr_correlation as measure_lr_correlation
from .base import TargetKind, centred, register, rounded, spread, within

def breath_rate(t, ctx):
    a, b = centred(t.start_s, t.end_s, 150.0)  # 15 breaths at 6/min, 5 at 2/min
    env, esr = ctx.slow_envelope(a, b, t.params.get("band"), max_hz=4.0)
    # breath_rate takes audio: give it the envelope on a 64 Hz carrier at 256 Hz (the
    # Hilbert envelope of env * cos(2 pi 64 t) is env again)
    fs = 256.0
    tt = np.arange(int(env.size * fs / esr)) / fs
    e = np.interp(tt, np.arange(env.size) / esr, env)
    x = e * np.cos(2 * np.pi * 64.0 * tt)
    exp = float(t.expected)
    bpm = measure_breath_rate(x, fs, min_bpm=max(0.5, 0.5 * exp), max_bpm=min(60.0, 2.0 * exp))
    r = within(t, [bpm], {"envelope_rate_hz": rounded(esr, 3)})
    return _unless_missing(t, ctx, r, *centred(a, b, 5.0))


def _unless_missing(t, ctx, r, a, b):
    """``r``, failed when the layer is not there in [a, b] (:func:`_missing_layer`)."""
    gone = _missing_layer(t, ctx, a, b)
    if gone:
        r.passed = False
        r.rule += "; the layer's band about as loud as planned"
        r.detail["error"] = gone
    return r


def lr_correlation(t, ctx):
    if t.params.get("unmeasurable"):
        raise MeasureError(t.params["unmeasurable"])
    if ctx.channels != 2:
        raise MeasureError(f"needs a stereo file; this one has {ctx.channels} channel(s)")
    rows, vals = [], []
    comps_at = t.params.get("components")
    band = t.params.get("band")
    for a, b in spread(t.start_s, t.end_s, 5.0, 4):
        x, sr = ctx.read(a, b)
        if comps_at is None:
            r = measure_lr_correlation(band_filter(x, sr, band))
            row = {}
        else:
            notches = _tone_notches(comps_at(a + ctx.offset_s, b + ctx.offset_s),
                                    x.shape[1] / sr)
            r, kept = masked_lr_correlation(x, sr, band, notches)
            inside = [n for n in notches if band is None or (n[1] >= band[0] and
                                                             n[0] <= band[1])]
            row = {"notched_hz": [rounded(n, 1) for n in inside[:12]],
                   "bins_kept": kept}
        vals.append(r)
        rows.append({"start_s": rounded(a, 3), "end_s": rounded(b, 3), "r": rounded(r, 4), **row})
    detail = {"windows": rows, "band_hz": rounded(band)}
    if comps_at is not None:
        detail["method"] = ("Blackman-Harris spectra, cross-spectrum over the band with every "
                            "planned tone notched out")
    r = within(t, vals, detail, measured=float(np.mean(vals)))
    return _unless_missing(t, ctx, r, *spread(t.start_s, t.end_s, 5.0, 4)[0])


#: the band's share of the mix may fall this far under the plan's before the layer counts
#: as missing (dB)
MISSING_SHARE_DB = 20.0
#: with the render's gain known, the band's level may fall this far under the plan's (dB):
#: a layer that plays reads within a few dB (the plan's lower rate, the limiter)
MISSING_LEVEL_DB = 10.0
#: a band quieter than this (dBFS, mean square over both ears) holds nothing but the dither
DITHER_FLOOR_DBFS = -85.0
#: ... unless the plan itself puts the band this far under the mix (dB): a faint bed by design
PLANNED_QUIET_DB = -30.0


def _missing_layer(t, ctx, a, b) -> str | None:
    """Why the layer a bed or breath target reads is not there: its band holds nothing but
    the dither floor, or much less than the plan's render of the window
    (:meth:`~resonator.check.runner.CheckContext.plan_read`) puts there: :data:`MISSING_LEVEL_DB`
    less in level when the render's gain is known (:attr:`~resonator.check.runner.
    CheckContext.gain_db`), else :data:`MISSING_SHARE_DB` less as a share of the window's
    power (the file's own gain does not change a share).
    None when it is there (or cannot be told)."""
    band = t.params.get("band")
    if band is None:
        return None
    x, sr = ctx.read(a, b)
    share, level = _band_share_db(x, sr, band)
    if ctx.gain_db is None and level >= DITHER_FLOOR_DBFS and share >= -MISSING_SHARE_DB:
        return None  # (a share is at most 0 dB: no plan can be 20 dB above this one)
    got = ctx.plan_read(a, b)
    planned = planned_level = None
    if got is not None and band[0] < 0.45 * got[1]:
        planned, planned_level = _band_share_db(got[0], got[1], band)
    where = f"layer {t.layer}'s band {band[0]:.0f}-{band[1]:.0f} Hz"
    if level < DITHER_FLOOR_DBFS and (planned is None or planned > PLANNED_QUIET_DB):
        return f"{where} holds {max(level, -200.0):.0f} dBFS: nothing but the dither floor"
    if planned is None:
        return None
    if ctx.gain_db is not None:
        if level - ctx.gain_db < planned_level - MISSING_LEVEL_DB:
            return (f"{where} holds {level:.0f} dBFS, {planned_level + ctx.gain_db - level:.0f}"
                    f" dB under the {planned_level + ctx.gain_db:.0f} dBFS the plan puts there "
                    f"(with the render's {ctx.gain_db:+.1f} dB gain): the layer is not there")
    elif share < planned - MISSING_SHARE_DB:
        return (f"{where} holds {share:.0f} dB of the mix, the plan {planned:.0f} dB: the "
                "layer is not there")
    return None


def _band_share_db(x, sr, band) -> tuple[float, float]:
    """(the band's power over the window's, dB; the band's mean square, dBFS)."""
    level = band_energy_db(x, sr, band[0], min(band[1], 0.5 * sr))
    total = float(np.mean(np.square(x)))
    return (level - 10.0 * np.log10(total) if total > 0 else -np.inf), level


def _tone_notches(comps, dur: float) -> list[tuple[float, float]]:
    """Frequency ranges to leave out of a noise measurement: every planned sinusoid (with
    its glide over the window) +- max(2 Hz, 8 bins)."""
    d = max(2.0, 8.0 / dur)
    return sorted({(round(c.lo_hz - d, 3), round(c.hi_hz + d, 3)) for c in comps})


def band_energy(t, ctx):
    lo, hi = t.params["band"]
    a, b = centred(t.start_s, t.end_s, 8.0)
    x, sr = ctx.read(a, b)
    v = band_energy_db(x, sr, lo, hi)
    return within(t, [v], {"band_hz": [lo, hi]})


def noise_slope(t, ctx):
    lo, hi = t.params.get("band") or (50.0, 10000.0)
    vals, rows = [], []
    for a, b in spread(t.start_s, t.end_s, 20.0, 1):  # over the span, gaps under 2 min
        x, sr = ctx.read(a, b)
        hi = min(hi, 10000.0, 0.45 * sr)
        vals.append(noise_slope_db_per_decade(x, sr, lo, hi))
        rows.append({"start_s": rounded(a, 3), "end_s": rounded(b, 3),
                     "slope_db_per_decade": rounded(vals[-1], 3)})
    return within(t, vals, {"band_hz": [rounded(lo, 1), rounded(hi, 1)], "windows": rows})


def _slope_hints(session, info, d, components_at) -> dict:
    """A layer's slope is read where it dominates (:func:`_dominant_band`), below half its
    low-pass cutoff (the filter bends the spectrum near it); none left spanning half a
    decade: unmeasurable."""
    band = _dominant_band(session, info, d["start_s"], d["end_s"])
    if band is not None and info.plan.cutoff is not None:
        band = (band[0], min(band[1], 0.5 * _lowest_cutoff(session, info, d)))
    if band is None or band[1] < 3.0 * band[0]:
        return {"band": None, "unmeasurable": f"no band where {info.name} alone plays spans "
                                              "half a decade; its colour cannot be read"}
    return {"band": band}


def _lowest_cutoff(session, info, d) -> float:
    from ...layers._common import sample

    return float(np.min(sample(info.plan.cutoff, np.linspace(d["start_s"], d["end_s"], 33),
                               session.sr)))

# ------------------------------------------------------------------------------ hints
def _breath_hints(session, info, d, components_at) -> dict:
    """The breath band clearest of the other layers' tones (the plan's band otherwise)."""
    band = _clear_band(session, info, d.get("phase"))
    return {"band": band} if band is not None else {}


def _lr_hints(session, info, d, components_at) -> dict:
    """The band where the layer dominates, with every planned tone to notch out; none left:
    unmeasurable, with the reason."""
    band = _dominant_band(session, info, d["start_s"], d["end_s"])
    if band is None:
        return {"band": None, "unmeasurable": f"other layers cover {info.name}'s band; no "
                                              "band left where its L/R correlation can be read"}
    return {"band": band, "components": components_at()}


def _playing(session, phase):
    """The layers that play in ``phase`` (all when None)."""
    return [o for o in session.layers if phase is None or phase in o.phases]


def _clear_band(session, info, phase=None) -> tuple[float, float] | None:
    """Of a layer's :attr:`~resonator.layers.base.LayerPlan.envelope_bands`, the one
    farthest from every other playing layer's tones (ties: the one that swells most)."""
    others = [r for o in _playing(session, phase) if o.name != info.name
              for r in o.plan.tonal_ranges]
    best, best_score = None, -1.0
    for a, b, swell in info.plan.envelope_bands:
        gap = min([max(r0 - b, a - r1) for r0, r1 in others] or [1e9])
        score = min(gap, 40.0) + 5.0 * swell
        if score > best_score:
            best, best_score = (a, b), score
    return best if best is not None and best_score >= 5.0 else None


def _dominant_band(session, info, a, b) -> tuple[float, float] | None:
    """The widest stretch of [200 Hz, the layer's cutoff] free of every other playing
    layer's tones, where the layer (noise-like) dominates; None when another broadband
    layer plays or no stretch spans half an octave."""
    from ...layers._common import sample

    hi = 0.45 * session.sr
    if info.plan.cutoff is not None:
        hi = min(hi, float(np.min(sample(info.plan.cutoff, np.linspace(a, b, 33),
                                         session.sr))))
    mid = 0.5 * (a + b)
    phase = next((n for n, s0, s1 in session.phases if s0 <= mid < s1), None)
    others = [o for o in _playing(session, phase) if o.name != info.name]
    if any(o.plan.broadband for o in others):
        return None  # other broadband layers: no band belongs to this layer alone
    busy = sorted((r0 / 1.15, r1 * 1.15) for o in others for r0, r1 in o.plan.tonal_ranges)
    best, lo = None, 200.0
    for r0, r1 in busy + [(hi, hi)]:
        top = min(r0, hi)
        if top > lo and (best is None or top / lo > best[1] / best[0]):
            best = (lo, top)
        lo = max(lo, r1)
    return best if best is not None and best[1] >= 1.5 * best[0] else None


register(TargetKind("breath_rate", unit="per_min", tolerance=0.2, min_window_s=30.0,
                    evaluate=breath_rate, hints=_breath_hints, doc="""slow envelope (streamed over the centre
150 s at most, 16 Hz) autocorrelation and spectral refinement (resonator.measure.breath), of
the band around the breath partial farthest from other layers' tones."""))
register(TargetKind("lr_correlation", unit="number", tolerance=0.1, min_window_s=1.0,
                    evaluate=lr_correlation, hints=_lr_hints, doc="""correlation of left and right in the band
where the layer dominates (the widest stretch free of other layers' tones), up to 4 windows
of 5 s; with a recipe: the Blackman-Harris cross-spectrum over that band with every planned
tone notched (+- max(2 Hz, 8 bins)); the value shown is the windows' mean."""))
register(TargetKind("band_energy", unit="db", tolerance=1.0, min_window_s=0.5,
                    tolerance_unit="db_diff", band_suffix=True, evaluate=band_energy,
                    doc="""energy in a band (written band_energy@LO-HI in Hz) relative to full
scale (resonator.measure.spectrum.band_energy_db), the centre 8 s at most."""))
register(TargetKind("noise_slope", unit="db_per_decade", tolerance=1.0, min_window_s=2.0,
                    evaluate=noise_slope, hints=_slope_hints, doc="""spectral slope of the noise from 50 Hz to
10 kHz (a layer's: over the band where it alone plays, below half its low-pass cutoff)
(resonator.measure.spectrum.noise_slope_db_per_decade), in windows of 20 s spread over the
target (at most 2 min apart), every one within the tolerance: about
-10 dB/decade for pink noise, 0 for white, -20 for brown."""))
