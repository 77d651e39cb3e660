"""Measurements of music layers: binaural shift, beat-locked modulation, tempo, joins.

=========================== ===============================================================
function                    method
=========================== ===============================================================
``shift_hz``                left ear's shift against the right: the spectrum of
                            ``a_L conj(a_R)`` (analytic signals of a band) peaks at the
                            shift, every component of the music adding to the same line;
                            Hann window, 8x zero padding, parabolic peak. On the bundled
                            grooves shifted by 2.33 Hz: within 0.001 Hz from 20 s at 2-8
                            kHz, alone or under the mettannealing layers.
``modulation_peak_offsets`` the band's Hilbert envelope between consecutive beats, least-
                            squares fitted with ``A + B cos(2 pi k u) + C sin(2 pi k u)``
                            (``u`` the beat phase 0..1, ``k`` cycles per beat): the
                            modulation peaks ``atan2(C, B) / (2 pi k)`` of a beat after it.
``music_tempo``             :func:`resonator.analysis.analyze_signal` tempo (BPM) and beats.
``tempo_levels``            the same tempo with the metrical levels the analysis could not
                            rule out (its runner-up levels, with their probabilities).
``join_click_ratio``        the click score (:func:`~.dynamics.click_score`) inside a join
                            over the larger one of the music 2 s before and after (its own
                            transients): about 1 for a clean join, above 3 with a 0.3 spike.
=========================== ===============================================================
"""
from __future__ import annotations

import math

import numpy as np

from ._common import MeasureError, as_2d, check_sr

__all__ = ["shift_hz", "modulation_peak_offsets", "music_tempo", "tempo_levels",
           "join_click_ratio"]


def _analytic_band(x: np.ndarray, sr: float, band) -> np.ndarray:
    from scipy.signal import hilbert

    from .spectrum import band_filter

    return hilbert(band_filter(x, sr, (float(band[0]), min(float(band[1]), 0.45 * sr))))


def shift_hz(x, sr, *, band=(100.0, 4000.0), expected_hz: float | None = None,
             search_hz: float = 2.0) -> float:
    """How far the left ear's content is shifted up against the right ear's.

    Parameters
    ----------
    x : np.ndarray [shape=(2, n)]
        Left and right channels; n at least 1 s of samples.
    sr : number > 0
    band : (lo_hz, hi_hz)
        Where to compare the ears (the music, clear of low rumble).
    expected_hz : number, optional
        Search within ``search_hz`` of it (other binaural layers beat at their own rates);
        default: the strongest line from 0.2 to 40 Hz.
    search_hz : number > 0

    Returns
    -------
    float
        The shift in Hz (positive: left higher).
    """
    sr = check_sr(sr, "shift_hz")
    x = as_2d(x, "shift_hz")
    if x.shape[0] != 2 or x.shape[1] < sr:
        raise MeasureError("needs two channels and at least 1 s", "shift_hz")
    a = _analytic_band(x[0], sr, band)
    b = _analytic_band(x[1], sr, band)
    z = a * np.conj(b)
    del a, b
    n = z.size
    z *= np.hanning(n)
    half = 1 << int(math.ceil(math.log2(n)))
    nfft = 8 * half  # zero-padded 8 times: bins of sr / nfft Hz
    step = 1.0 / (nfft * (1.0 / sr))  # np.fft.fftfreq's bin spacing

    def freq(k):
        return np.where(k < nfft // 2, k, k - nfft).astype(np.float64) * step
    lo, hi = (0.2, 40.0) if expected_hz is None else \
        (expected_hz - search_hz, expected_hz + search_hz)
    m = np.arange(math.floor(lo / step) - 2, math.ceil(hi / step) + 3)
    idx = np.sort(m[(m >= -(nfft // 2)) & (m < nfft // 2)] % nfft)
    f = freq(idx)
    idx = idx[(f >= 0.2) & (f <= 40.0) if expected_hz is None else
              np.abs(f - expected_hz) <= search_hz]
    if idx.size < 3:
        raise MeasureError("the search band holds no spectrum bins", "shift_hz")
    # only the band's bins (and their neighbours) of the nfft-point spectrum: bin 8 q + r is
    # bin q of the half-length FFT of z turned by r / nfft cycles a sample, so eight FFTs of
    # a ninth the memory each stand in for one of nfft points (a 40 s window at 48 kHz:
    # 1.1 GB -> about 0.15 GB)
    want = np.unique(np.concatenate([idx - 1, idx, idx + 1]) % nfft)
    values = np.empty(want.size, dtype=np.complex128)
    turn = np.arange(n, dtype=np.float64) * (-2.0 * np.pi / nfft)
    for r in np.unique(want % 8):
        at = np.flatnonzero(want % 8 == r)
        values[at] = np.fft.fft(z * np.exp(1j * r * turn), half)[want[at] // 8]
    spec = np.abs(values)

    def mag(k):
        return spec[np.searchsorted(want, np.asarray(k) % nfft)]
    k = idx[int(np.argmax(mag(idx)))]
    y0, y1, y2 = np.log(mag([k - 1, k, k + 1]) + 1e-300)
    den = y0 - 2 * y1 + y2
    p = 0.5 * (y0 - y2) / den if den != 0 else 0.0
    return float(freq(np.array([k]))[0] + max(-0.5, min(0.5, p)) * sr / nfft)


def modulation_peak_offsets(x, sr, beat_times_s, *, cycles_per_beat: float = 1.0,
                            band=None, reference=None) -> np.ndarray:
    """Where amplitude-modulation peaks fall relative to beats (seconds, + = after).

    Parameters
    ----------
    x : np.ndarray [shape=(n,) or (channels, n)]
        The audio (channels are averaged after the envelope).
    sr : number > 0
    beat_times_s : array of float
        Beat times in the same clock as ``x`` (0 = first sample).
    cycles_per_beat : number > 0
        Modulation cycles per beat (1: a peak per beat; 0.25: one per bar of 4).
        Below 1 the fit spans ``1 / cycles_per_beat`` beats from each beat whose count is a
        multiple of it: pass the bar times then, with ``cycles_per_beat = 1``.
    band : (lo_hz, hi_hz), optional
        Band-pass first (a steady part of the music, clear of the drums).
    reference : np.ndarray [shape like x], optional
        The same music without the modulation (the plan): the envelope of ``x`` is divided
        by the reference's (both smoothed over 10 ms), so the music's own accents on the
        beats (drums) cancel and only the modulation is fitted.

    Returns
    -------
    np.ndarray
        One offset per beat interval that lies inside ``x``, each in
        ``[-period / (2k), period / (2k))``.
    """
    sr = check_sr(sr, "modulation_peak_offsets")
    env = _envelope(as_2d(x, "modulation_peak_offsets"), sr, band)
    if reference is not None:
        ref = _envelope(as_2d(reference, "modulation_peak_offsets"), sr, band)
        n = min(env.size, ref.size)
        env = env[:n] / np.maximum(ref[:n], 1e-3 * max(float(ref.max()), 1e-12))
    tb = np.asarray(beat_times_s, dtype=np.float64)
    out = []
    k = float(cycles_per_beat)
    for t0, t1 in zip(tb[:-1], tb[1:]):
        a, b = int(math.ceil(t0 * sr)), int(math.floor(t1 * sr))
        if a < 0 or b > env.size or b - a < 8:
            continue
        u = (np.arange(a, b) / sr - t0) / (t1 - t0)
        m = np.stack([np.ones(u.size), np.cos(2 * np.pi * k * u), np.sin(2 * np.pi * k * u)], 1)
        coef, *_ = np.linalg.lstsq(m, env[a:b], rcond=None)
        phase = math.atan2(coef[2], coef[1]) / (2 * np.pi * k)  # in beats
        period = t1 - t0
        off = (phase * period + period / (2 * k)) % (period / k) - period / (2 * k)
        out.append(off)
    return np.asarray(out)


def _envelope(x: np.ndarray, sr: float, band) -> np.ndarray:
    """Channel-mean Hilbert envelope (of a band), smoothed over 10 ms."""
    from scipy import ndimage, signal

    if band is not None:
        env = np.mean([np.abs(_analytic_band(c, sr, band)) for c in x], axis=0)
    else:
        env = np.mean(np.abs(signal.hilbert(x, axis=-1)), axis=0)
    return ndimage.uniform_filter1d(env, max(1, int(0.01 * sr)))


def music_tempo(x, sr) -> tuple[float | None, np.ndarray]:
    """(tempo in BPM or None, beat times in seconds) by :func:`resonator.analysis.analyze_signal`."""
    from ..analysis import analyze_signal

    rep = analyze_signal(x, check_sr(sr, "music_tempo"), loudness=False)
    return rep["tempo"]["bpm"], np.asarray(rep["beats"], dtype=np.float64)


def tempo_levels(x, sr) -> list[dict]:
    """The tempo by :func:`resonator.analysis.analyze_signal` and its runner-up metrical levels.

    Parameters
    ----------
    x : array_like [shape=(channels, n) or (n,)]
    sr : number > 0 [scalar]

    Returns
    -------
    list of dict
        ``{"bpm", "ratio", "probability"}``, the level the analysis chose first (``ratio``
        1; ``probability`` None when it gives none), then its ``alternatives`` (ratio to the
        chosen tempo, probability), most likely first; empty when no tempo is found.
    """
    from ..analysis import analyze_signal

    t = analyze_signal(x, check_sr(sr, "tempo_levels"), loudness=False)["tempo"]
    if t["bpm"] is None:
        return []
    return [{"bpm": float(t["bpm"]), "ratio": 1.0, "probability": t.get("level_probability")},
            *({"bpm": float(a["bpm"]), "ratio": float(a["ratio"]),
               "probability": float(a["probability"])} for a in t.get("alternatives") or [])]


def join_click_ratio(x, sr, join_start_s: float, join_end_s: float, *,
                     around_s: float = 2.0) -> float:
    """:func:`~resonator.measure.dynamics.click_score` inside a join over the larger score
    of ``around_s`` before and after it (the music's own transients).

    ``x`` holds the join and the music around it; times are seconds from its first sample.
    """
    from .dynamics import click_score

    sr = check_sr(sr, "join_click_ratio")
    x = as_2d(x, "join_click_ratio")
    a, b = int(round(join_start_s * sr)), int(round(join_end_s * sr))
    w = int(round(around_s * sr))
    parts = [x[:, max(0, a - w): a], x[:, b: b + w]]
    parts = [p for p in parts if p.shape[1] >= 64]
    if not parts or b - a < 16:
        raise MeasureError("no music around the join to compare it with", "join_click_ratio")
    return click_score(x[:, a:b], sr) / max(max(click_score(p, sr) for p in parts), 1e-9)
