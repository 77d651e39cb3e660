"""Breath pacing: the period of the slow amplitude envelope."""
from __future__ import annotations

import math

import numpy as np

from .._lazy import lazy_module
from ._common import MeasureError, check_sr, vertex_offset
from .modulation import envelope_lowrate

sfft = lazy_module("scipy.fft")  # imported at first use
signal = lazy_module("scipy.signal")  # imported at first use

__all__ = ["breath_rate"]


def breath_rate(x, sr, *, min_bpm: float = 2.0, max_bpm: float = 30.0) -> float:
    """Breaths per minute of a breath-paced sound, from its slow envelope.

    The channel-averaged Hilbert envelope is decimated to about 16 Hz, band-limited to
    0.5 x min_bpm .. 2 x max_bpm, and its autocorrelation gives the cycle (the shortest lag
    whose peak reaches 90 % of the highest, so asymmetric shapes such as 3 s in / 7 s out
    are not mistaken for their harmonics); the rate is then refined on the zero-padded
    Hann spectrum near that cycle (parabolic interpolation).

    Parameters
    ----------
    x : np.ndarray [shape=(n,) or (channels, n)]
        Audio covering at least two breath cycles (more gives better precision).
    sr : number > 0
        Sample rate in Hz.
    min_bpm, max_bpm : number, 0 < min_bpm < max_bpm <= 60
        Allowed range in breaths per minute.

    Returns
    -------
    bpm : float
        Breaths per minute; nan when the envelope has no periodic part.
    """
    sr = check_sr(sr, "breath_rate")
    if not (0 < min_bpm < max_bpm <= 60):
        raise MeasureError(f"min_bpm={min_bpm!r}, max_bpm={max_bpm!r}: need 0 < min < max <= 60",
                           "breath_rate")
    env, esr = envelope_lowrate(x, sr, max_hz=4.0)
    fmin, fmax = min_bpm / 60.0, max_bpm / 60.0
    if env.size / esr < 2.0 / fmin and env.size / esr < 2.0 * 60.0 / max_bpm:
        raise MeasureError(
            f"{env.size / esr:.1f} s of audio holds fewer than two breaths at {max_bpm:g}/min",
            "breath_rate")
    sos = signal.butter(2, [0.5 * fmin, min(2.0 * fmax * 2, 0.45 * esr)], btype="band",
                        fs=esr, output="sos")
    e = signal.sosfiltfilt(sos, env - env.mean())
    if not np.any(e):
        return float("nan")
    n = e.size
    nfft = sfft.next_fast_len(2 * n, real=True)
    spec = sfft.rfft(e, nfft)
    ac = sfft.irfft(np.abs(spec) ** 2, nfft)[:n]
    ac = ac / ac[0]
    lag_lo = int(math.floor(esr / fmax))
    lag_hi = min(n - 2, int(math.ceil(esr / fmin)))
    if lag_hi <= lag_lo + 1:
        return float("nan")
    seg = ac[lag_lo : lag_hi + 1]
    peaks = np.flatnonzero((seg[1:-1] > seg[:-2]) & (seg[1:-1] >= seg[2:])) + 1
    if peaks.size == 0:
        return float("nan")
    best = seg[peaks].max()
    if best <= 0:
        return float("nan")
    lag = lag_lo + peaks[np.flatnonzero(seg[peaks] >= 0.9 * best)[0]]
    f0 = esr / lag
    # refine on the spectrum near f0
    w = signal.get_window("hann", n, fftbins=False)
    nfft = sfft.next_fast_len(16 * n, real=True)
    mag = np.abs(sfft.rfft(e * w, nfft))
    df = esr / nfft
    k_lo, k_hi = int((0.8 * f0) / df), int(math.ceil((1.2 * f0) / df))
    k = k_lo + int(np.argmax(mag[k_lo : k_hi + 1]))
    off = vertex_offset(*np.log(np.maximum(mag[k - 1 : k + 2], 1e-300)))
    return float((k + off) * df * 60.0)
