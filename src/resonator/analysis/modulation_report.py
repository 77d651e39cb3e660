"""Modulation spectrum of a (low-rate) amplitude envelope: band shares and dominant rates.

The envelope comes from the streaming pass (:mod:`resonator.analysis.features`), so long files
never need their audio in memory; the band bookkeeping is :func:`resonator.measure.modulation.
band_shares` (delta 0.5-4, theta 4-8, alpha 8-13, beta 13-30, gamma 30-50 Hz).
"""
from __future__ import annotations

import math

import numpy as np
from scipy import signal

from ..measure._common import vertex_offset

FMIN_HZ, FMAX_HZ = 0.5, 64.0
BLOCK_SEGMENTS = 64  # Welch segments per block: memory independent of the envelope's length


def envelope_spectrum(env: np.ndarray, env_sr: float, *, fmin_hz: float = FMIN_HZ,
                      fmax_hz: float = FMAX_HZ, resolution_hz: float = 0.125):
    """Welch power spectrum of an envelope, normalised to sum 1 over [fmin_hz, fmax_hz].

    Parameters
    ----------
    env : np.ndarray [shape=(m,)]
        Amplitude envelope samples.
    env_sr : number > 2 * fmax_hz
        Envelope sample rate in Hz.
    fmin_hz, fmax_hz : number, 0 <= fmin_hz < fmax_hz < env_sr / 2
        Modulation band in Hz.
    resolution_hz : number > 0
        Wanted bin spacing in Hz (coarser when the envelope is shorter than 1/resolution_hz).

    Returns
    -------
    freqs_hz : np.ndarray [shape=(k,)]
    power : np.ndarray [shape=(k,)]
        Sums to 1, or all zeros for a flat envelope.
    """
    env = np.asarray(env)
    if env.size < 8:  # under 32 ms of audio: no spectrum to speak of
        return np.zeros(0), np.zeros(0)
    nper = int(2 ** math.ceil(math.log2(env_sr / resolution_hz)))
    nper = max(8, min(nper, env.size))
    if env.size >= nper:
        f, p = blocked_welch(env, env_sr, nper)
    else:  # under 8 samples: scipy's one shortened segment
        f, p = signal.welch(np.asarray(env, dtype=np.float64), fs=env_sr, window="hann",
                            nperseg=nper, noverlap=nper // 2, detrend="constant",
                            scaling="spectrum")
    sel = (f >= fmin_hz) & (f <= fmax_hz)
    f, p = f[sel], p[sel]
    tot = p.sum()
    return f, (p / tot if tot > 0 else np.zeros_like(p))


def blocked_welch(x: np.ndarray, fs: float, nperseg: int, *, block: int = BLOCK_SEGMENTS):
    """``scipy.signal.welch(x, fs, "hann", nperseg, nperseg // 2, detrend="constant",
    scaling="spectrum")`` computed ``block`` segments at a time (each block in float64).

    Welch's estimate is the mean of the segments' periodograms, so the weighted mean of the
    blocks' estimates is the whole one; no more than ``block`` segments are held at once.

    Parameters
    ----------
    x : np.ndarray [shape=(m,)], m >= nperseg
        Signal (any float dtype).
    fs : number > 0
        Sample rate in Hz.
    nperseg : int >= 2
        Segment length; the overlap is half of it.
    block : int >= 1
        Segments per block.

    Returns
    -------
    freqs_hz, power : np.ndarray [shape=(nperseg // 2 + 1,)]
    """
    if x.size < nperseg:
        raise ValueError(f"the signal ({x.size}) is shorter than a segment ({nperseg})")
    step = nperseg - nperseg // 2
    nseg = (x.size - nperseg // 2) // step
    f, total = None, 0.0
    for k0 in range(0, nseg, block):
        k1 = min(k0 + block, nseg)
        seg = np.asarray(x[k0 * step:(k1 - 1) * step + nperseg], dtype=np.float64)
        f, p = signal.welch(seg, fs=fs, window="hann", nperseg=nperseg, noverlap=nperseg // 2,
                            detrend="constant", scaling="spectrum")
        total = total + p * (k1 - k0)
    return f, total / nseg


def modulation_report(env: np.ndarray, env_sr: float, *, n_peaks: int = 3) -> dict:
    """Band shares and dominant modulation rates of an amplitude envelope.

    Parameters
    ----------
    env : np.ndarray [shape=(m,)]
        Amplitude envelope (channel-averaged), at least a few seconds.
    env_sr : number > 128
        Envelope sample rate in Hz.
    n_peaks : int >= 1
        How many dominant rates to report.

    Returns
    -------
    dict
        ``bands`` (share of the 0.5-64 Hz envelope power in delta, theta, alpha, beta, gamma;
        the shares sum to the share below 50 Hz), ``peaks_hz`` (up to ``n_peaks`` local maxima of
        the spectrum, strongest first, parabolically interpolated, 0.01 Hz), ``peak_shares``
        (each peak bin's share of the power), ``depth`` (modulation depth 1 - P2/P98 of the
        envelope, 0-1), and private ``_freqs_hz`` / ``_power`` for plots.
    """
    from ..measure.modulation import band_shares

    env = np.asarray(env)
    f, p = envelope_spectrum(env, env_sr)
    bands = {k: round(v, 4) for k, v in band_shares(f, p).items()}
    peaks, shares = [], []
    if p.sum() > 0 and p.size >= 3:
        idx, _ = signal.find_peaks(p)
        idx = idx[np.argsort(p[idx])[::-1][:n_peaks]]
        df = f[1] - f[0]
        for i in idx:
            d = vertex_offset(*np.log(p[i - 1:i + 2] + 1e-30))
            peaks.append(round(float(f[i] + d * df), 2))
            shares.append(round(float(p[i]), 4))
    depth = 0.0
    if env.size:
        lo, hi = np.percentile(env, [2, 98])
        depth = float(1 - lo / hi) if hi > 0 else 0.0
    return {"bands": bands, "peaks_hz": peaks, "peak_shares": shares, "depth": round(depth, 4),
            "_freqs_hz": f, "_power": p}
