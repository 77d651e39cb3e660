"""Binaural beats: each ear's carrier measured on its own channel.

A binaural beat exists only as the rotation of the phase difference between the ears; a mono
downmix turns it into a monaural beat. So both carriers are measured per channel with
:func:`resonator.measure.frequency.peak_frequency` and the beat is their difference: about
0.001-0.003 Hz from 2 s windows with pink noise 10 dB below the tones.
"""
from __future__ import annotations

import math

import numpy as np

from .._lazy import lazy_module
from ._common import MeasureError, as_2d, check_band, check_sr
from .frequency import _peak, _windowed

signal = lazy_module("scipy.signal")  # imported at first use

__all__ = ["measure_binaural", "binaural_track"]


def _search_band(carrier_hint_hz, fmin, fmax, where):
    if carrier_hint_hz is None:
        return fmin, fmax
    c = float(carrier_hint_hz)
    span = max(40.0, 0.2 * c)
    lo, hi = max(fmin, c - span), min(fmax, c + span)
    if lo >= hi:
        raise MeasureError(f"carrier_hint_hz={carrier_hint_hz!r} lies outside {fmin:g}-{fmax:g} Hz",
                           where)
    return lo, hi


def _result(lf: float, rf: float) -> dict:
    return {
        "left_hz": lf,
        "right_hz": rf,
        "carrier_hz": 0.5 * (lf + rf),
        "beat_hz": abs(lf - rf),
        "left_minus_right_hz": lf - rf,
    }


def measure_binaural(left, right, sr, *, carrier_hint_hz: float | None = None,
                     fmin_hz: float = 50.0, fmax_hz: float = 1500.0) -> dict:
    """Carrier of each ear and the beat between them.

    Parameters
    ----------
    left, right : np.ndarray [shape=(n,)], n >= 8
        The two channels, same length. Never a mono sum.
    sr : number > 0
        Sample rate in Hz.
    carrier_hint_hz : number > 0, optional
        Expected carrier (mean of the two ears); the search is narrowed to +/- max(40 Hz,
        20 %) around it, which keeps other tones in the mix out.
    fmin_hz, fmax_hz : number, 0 <= fmin_hz < fmax_hz <= sr/2
        Search band in Hz.

    Returns
    -------
    result : dict
        ``left_hz``, ``right_hz``: each ear's peak frequency; ``carrier_hz``: their mean;
        ``beat_hz``: ``|left_hz - right_hz|``; ``left_minus_right_hz``: signed (SBaGen's
        ``200+10`` gives +10).
    """
    sr = check_sr(sr, "measure_binaural")
    fmin, fmax = check_band(fmin_hz, fmax_hz, sr, "measure_binaural")
    lo, hi = _search_band(carrier_hint_hz, fmin, fmax, "measure_binaural")
    la = as_2d(left, "measure_binaural left", min_frames=8)
    ra = as_2d(right, "measure_binaural right", min_frames=8)
    if la.shape[0] != 1 or ra.shape[0] != 1 or la.shape != ra.shape:
        raise MeasureError(
            f"left {la.shape} and right {ra.shape} must be single channels of equal length",
            "measure_binaural")
    lf = _peak(_windowed(la[0])[0], sr, lo, hi)
    rf = _peak(_windowed(ra[0])[0], sr, lo, hi)
    return _result(lf, rf)


def binaural_track(x, sr, window_s: float = 2.0, hop_s: float | None = None, *,
                   carrier_hint_hz: float | None = None, fmin_hz: float = 50.0,
                   fmax_hz: float = 1500.0):
    """Each ear's carrier over time, for glides and phase plans.

    The pair is first resampled (polyphase FIR, linear phase) to a rate of about
    3 x fmax_hz when that is lower than ``sr``, then measured in Hann windows. In a window
    where the frequency glides linearly the measurement is the frequency at the window centre.

    Parameters
    ----------
    x : np.ndarray [shape=(2, n)]
        Left and right channels.
    sr : number > 0
        Sample rate in Hz.
    window_s : number > 0
        Window length in seconds (2 s gives about 0.002 Hz under -10 dB pink noise).
    hop_s : number > 0, optional
        Step between windows in seconds; default ``window_s / 2``.
    carrier_hint_hz, fmin_hz, fmax_hz
        As in :func:`measure_binaural`.

    Returns
    -------
    times_s : np.ndarray [shape=(m,)]
        Window centres in seconds.
    left_hz, right_hz : np.ndarray [shape=(m,)]
        Each ear's frequency; the beat is ``left_hz - right_hz``.
    """
    sr = check_sr(sr, "binaural_track")
    fmin, fmax = check_band(fmin_hz, fmax_hz, sr, "binaural_track")
    lo, hi = _search_band(carrier_hint_hz, fmin, fmax, "binaural_track")
    a = as_2d(x, "binaural_track")
    if a.shape[0] != 2:
        raise MeasureError(f"need a (2, n) left/right array, got {a.shape[0]} channel(s)",
                           "binaural_track")
    window_s = float(window_s)
    hop_s = window_s / 2 if hop_s is None else float(hop_s)
    if not (window_s > 0 and hop_s > 0):
        raise MeasureError(f"window_s={window_s!r} and hop_s={hop_s!r} must be > 0",
                           "binaural_track")
    q = int(sr // (3.0 * hi))
    rate = sr
    if q >= 2:
        a = signal.resample_poly(a, 1, q, axis=1)
        rate = sr / q
    wlen = int(round(window_s * rate))
    if wlen < 8 or wlen > a.shape[1]:
        raise MeasureError(
            f"window_s={window_s:g} s does not fit the {x.shape[-1] / sr:g} s of audio",
            "binaural_track")
    step = hop_s * rate
    starts = [int(round(i * step)) for i in range(int(math.floor((a.shape[1] - wlen) / step)) + 1)]
    times, left_hz, right_hz = [], [], []
    for s in starts:
        left_hz.append(_peak(_windowed(a[0, s : s + wlen])[0], rate, lo, hi))
        right_hz.append(_peak(_windowed(a[1, s : s + wlen])[0], rate, lo, hi))
        times.append((s + wlen / 2) / rate)
    return np.array(times), np.array(left_hz), np.array(right_hz)
