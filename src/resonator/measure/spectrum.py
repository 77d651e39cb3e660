"""Spectral measures: band energy, spectral centroid over time, noise slope, L/R correlation."""
from __future__ import annotations

import math

import numpy as np
from scipy import fft as sfft
from scipy import signal

from ._common import MeasureError, as_2d, check_band, check_sr

__all__ = ["band_energy_db", "spectral_centroid_track", "noise_slope_db_per_decade",
           "lr_correlation", "power_spectrum"]


def power_spectrum(x, sr, *, resolution_hz: float = 5.0):
    """Welch power spectral density, averaged over channels.

    Parameters
    ----------
    x : np.ndarray [shape=(n,) or (channels, n)]
        Audio.
    sr : number > 0
        Sample rate in Hz.
    resolution_hz : number > 0
        Wanted bin spacing in Hz (segments of the next power of two above sr / resolution,
        or the whole input when shorter).

    Returns
    -------
    freqs_hz : np.ndarray [shape=(k,)]
    psd : np.ndarray [shape=(k,)]
        Power per Hz (full scale = 1.0); integrates to the mean square of the signal.
    """
    sr = check_sr(sr, "power_spectrum")
    a = as_2d(x, "power_spectrum", min_frames=16)
    if not resolution_hz > 0:
        raise MeasureError(f"resolution_hz={resolution_hz!r}: need > 0", "power_spectrum")
    nper = min(a.shape[1], int(2 ** math.ceil(math.log2(sr / resolution_hz))))
    f, p = signal.welch(a, fs=sr, window="hann", nperseg=nper, noverlap=nper // 2,
                        detrend="constant", scaling="density", axis=-1)
    return f, p.mean(axis=0)


def band_energy_db(x, sr, lo_hz: float, hi_hz: float) -> float:
    """Mean power in a frequency band, in dB (0 dB = mean square 1.0).

    A full-scale sine inside the band reads -3.01 dB; white noise of variance s^2 reads
    ``10 log10(s^2 (hi - lo) / (sr / 2))``. The level is the average over channels.

    Parameters
    ----------
    x : np.ndarray [shape=(n,) or (channels, n)]
        Audio.
    sr : number > 0
        Sample rate in Hz.
    lo_hz, hi_hz : number, 0 <= lo_hz < hi_hz <= sr/2
        Band edges in Hz.

    Returns
    -------
    level_db : float
        ``-inf`` when the band is silent.
    """
    sr = check_sr(sr, "band_energy_db")
    lo, hi = check_band(lo_hz, hi_hz, sr, "band_energy_db", lo_name="lo_hz", hi_name="hi_hz")
    # at least 8 bins across the band, at most 1 Hz bins
    f, p = power_spectrum(x, sr, resolution_hz=max(min((hi - lo) / 8.0, 5.0), 1.0))
    df = f[1] - f[0]
    sel = (f >= lo) & (f <= hi)
    power = float(np.sum(p[sel]) * df)
    return 10.0 * math.log10(power) if power > 0 else float("-inf")


def spectral_centroid_track(x, sr, *, window_s: float = 1.0, hop_s: float = 0.5,
                            fmin_hz: float = 20.0, fmax_hz: float | None = None):
    """Spectral centroid (power weighted) over time, for "getting darker" checks.

    Parameters
    ----------
    x : np.ndarray [shape=(n,) or (channels, n)]
        Audio; channel power spectra are averaged (no mono sum).
    sr : number > 0
        Sample rate in Hz.
    window_s : number > 0
        Hann window length in seconds.
    hop_s : number > 0
        Step in seconds.
    fmin_hz, fmax_hz : number, 0 <= fmin_hz < fmax_hz <= sr/2
        Band over which the centroid is taken (default up to Nyquist).

    Returns
    -------
    times_s : np.ndarray [shape=(m,)]
        Window centres in seconds.
    centroid_hz : np.ndarray [shape=(m,)]
        ``sum(f P(f)) / sum(P(f))`` per window; nan for silent windows.
    """
    sr = check_sr(sr, "spectral_centroid_track")
    fmax_hz = sr / 2 if fmax_hz is None else fmax_hz
    lo, hi = check_band(fmin_hz, fmax_hz, sr, "spectral_centroid_track")
    a = as_2d(x, "spectral_centroid_track")
    wlen, hop = int(round(window_s * sr)), int(round(hop_s * sr))
    if wlen < 16 or hop < 1 or wlen > a.shape[1]:
        raise MeasureError(
            f"window_s={window_s!r}, hop_s={hop_s!r} do not fit {a.shape[1] / sr:g} s of audio",
            "spectral_centroid_track")
    w = signal.get_window("hann", wlen)
    f = np.fft.rfftfreq(wlen, 1.0 / sr)
    sel = (f >= lo) & (f <= hi)
    fs = f[sel]
    starts = np.arange(0, a.shape[1] - wlen + 1, hop)
    cent = np.empty(starts.size)
    batch = max(1, (1 << 22) // wlen)
    for b0 in range(0, starts.size, batch):
        st = starts[b0 : b0 + batch]
        frames = np.stack([a[:, s : s + wlen] for s in st], axis=1)  # (ch, frames, wlen)
        spec = np.abs(sfft.rfft(frames * w, axis=-1)) ** 2
        pw = spec.mean(axis=0)[:, sel]
        tot = pw.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            cent[b0 : b0 + st.size] = np.where(tot > 0, pw @ fs / tot, np.nan)
    return (starts + wlen / 2.0) / sr, cent


def noise_slope_db_per_decade(x, sr, lo_hz: float = 50.0, hi_hz: float = 10000.0) -> float:
    """Slope of the power spectrum in dB per decade: pink -10, white 0, brown (red) -20.

    The Welch spectrum is averaged in 1/6-octave bands (so every part of the log-frequency
    axis weighs the same) and a line is fitted to dB against log10(frequency).

    Parameters
    ----------
    x : np.ndarray [shape=(n,) or (channels, n)]
        Audio (noise); channel spectra are averaged.
    sr : number > 0
        Sample rate in Hz.
    lo_hz, hi_hz : number, 0 < lo_hz < hi_hz <= sr/2
        Fit band in Hz.

    Returns
    -------
    slope : float
        dB per decade of frequency (pink noise: -10.0 = -3.01 dB per octave).
    """
    sr = check_sr(sr, "noise_slope_db_per_decade")
    lo, hi = check_band(lo_hz, hi_hz, sr, "noise_slope_db_per_decade",
                        lo_name="lo_hz", hi_name="hi_hz")
    if lo <= 0:
        raise MeasureError("lo_hz must be > 0 for a slope per decade", "noise_slope_db_per_decade")
    f, p = power_spectrum(x, sr, resolution_hz=min(lo / 4.0, 10.0))
    edges = lo * 2.0 ** (np.arange(0, math.log2(hi / lo) * 6 + 1) / 6.0)
    centres, levels = [], []
    for e0, e1 in zip(edges[:-1], edges[1:]):
        sel = (f >= e0) & (f < e1)
        if np.any(sel) and np.mean(p[sel]) > 0:
            centres.append(math.sqrt(e0 * e1))
            levels.append(10.0 * math.log10(np.mean(p[sel])))
    if len(centres) < 3:
        raise MeasureError(f"band {lo:g}-{hi:g} Hz is too narrow for a slope",
                           "noise_slope_db_per_decade")
    slope, _ = np.polyfit(np.log10(centres), levels, 1)
    return float(slope)


def lr_correlation(x) -> float:
    """Pearson correlation of the left and right channels at zero lag.

    Parameters
    ----------
    x : np.ndarray [shape=(2, n)]
        Left and right channels.

    Returns
    -------
    r : float in [-1, 1]
        1 for identical channels (mono), about 0 for independent noise, -1 for inverted;
        nan when a channel is constant.
    """
    a = as_2d(x, "lr_correlation", min_frames=2)
    if a.shape[0] != 2:
        raise MeasureError(f"need a (2, n) left/right array, got {a.shape[0]} channel(s)",
                           "lr_correlation")
    left = a[0] - a[0].mean()
    right = a[1] - a[1].mean()
    den = math.sqrt(float(np.dot(left, left)) * float(np.dot(right, right)))
    return float(np.dot(left, right) / den) if den > 0 else float("nan")
