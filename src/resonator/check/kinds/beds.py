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
    return within(t, [bpm], {"envelope_rate_hz": rounded(esr, 3)})


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
    return within(t, vals, detail, measured=float(np.mean(vals)))


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
    a, b = centred(t.start_s, t.end_s, 20.0)
    x, sr = ctx.read(a, b)
    v = noise_slope_db_per_decade(x, sr, 50.0, min(10000.0, 0.45 * sr))
    return within(t, [v])


register(TargetKind("breath_rate", unit="per_min", tolerance=0.2, min_window_s=30.0,
                    evaluate=breath_rate, doc="""slow envelope (streamed over the centre
150 s at most, 16 Hz) autocorrelation and spectral refinement (resonator.measure.breath), of
the band around the breath partial farthest from other layers' tones."""))
register(TargetKind("lr_correlation", unit="number", tolerance=0.1, min_window_s=1.0,
                    evaluate=lr_correlation, doc="""correlation of left and right in the band
where the layer dominates (the widest stretch free of other layers' tones), up to 4 windows
of 5 s; with a recipe: the Blackman-Harris cross-spectrum over that band with every planned
tone notched (+- max(2 Hz, 8 bins)); the value shown is the windows' mean."""))
register(TargetKind("band_energy", unit="db", tolerance=1.0, min_window_s=0.5,
                    tolerance_unit="db_diff", band_suffix=True, evaluate=band_energy,
                    doc="""energy in a band (written band_energy@LO-HI in Hz) relative to full
scale (resonator.measure.spectrum.band_energy_db), the centre 8 s at most."""))
register(TargetKind("noise_slope", unit="db_per_decade", tolerance=1.0, min_window_s=2.0,
                    evaluate=noise_slope, doc="""spectral slope of the noise from 50 Hz to
10 kHz (resonator.measure.spectrum.noise_slope_db_per_decade), the centre 20 s at most: about
-10 dB/decade for pink noise, 0 for white, -20 for brown."""))
