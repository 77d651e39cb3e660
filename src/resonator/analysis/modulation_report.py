"""Modulation spectrum of a (low-rate) amplitude envelope: band shares and dominant rates.

The envelope comes from the streaming pass (:mod:`resonator.analysis.features`), so long files
never need their audio in memory; the band bookkeeping is :func:`resonator.measure.modulation.
band_shares` (delta 0.5-4, theta 4-8, alpha 8-13, beta 13-30, gamma 30-50 Hz).

A dominant rate is reported only when it stands out of the spectrum's noise floor: each local
maximum's power over the local floor (:func:`floor_ratio`: the geometric mean of the medians of
the :data:`PEAK_CONTEXT_HZ` on either side, its own bins left out) must pass
:func:`peak_threshold`, the ratio a Welch estimate of that many segments passes by chance with
probability :data:`PEAK_ALPHA` over all the bins searched. Calibrated on seeded white and pink
noise by ``benchmarks/analysis/modulation_peaks.py`` (false peaks: see its README section).
"""
from __future__ import annotations

import math

import numpy as np
from scipy import signal

from ..measure._common import vertex_offset

FMIN_HZ, FMAX_HZ = 0.5, 64.0
BLOCK_SEGMENTS = 64  # Welch segments per block: memory independent of the envelope's length
RESOLUTION_HZ = 0.125
#: the floor around a peak: this far on either side ...
PEAK_CONTEXT_HZ = 2.0
#: ... less this many bins next to it (a line's own Hann leakage)
PEAK_GUARD_BINS = 2
#: chance that noise shows a peak anywhere in FMIN_HZ-FMAX_HZ
PEAK_ALPHA = 0.001
#: the floor is a median of noisy bins too: the threshold allows this many of its standard
#: errors (in log power)
FLOOR_Z = 3.0
#: a peak needs at least this ratio (7 dB) whatever the file's length: the envelope of noise
#: with strong content below 20 Hz (pink noise over the whole band) is no Gaussian process,
#: and its slow rates show peaks up to about 4.6x (benchmarks/analysis/modulation_peaks.py)
PEAK_MIN_RATIO = 5.0
#: effective degrees of freedom per Welch segment (Hann, 50 % overlap: Welch 1967)
DOF_PER_SEGMENT = 2.0 / 1.056


def welch_segments(n: int, env_sr: float, resolution_hz: float = RESOLUTION_HZ) -> int:
    """How many Welch segments :func:`envelope_spectrum` averages for ``n`` envelope samples
    (0 under 8 samples; 1 when shorter than one segment)."""
    if n < 8:
        return 0
    nper = max(8, min(int(2 ** math.ceil(math.log2(env_sr / resolution_hz))), n))
    return max(1, (n - nper // 2) // (nper - nper // 2))


def peak_threshold(n_segments: int, n_bins: int, floor_bins: int,
                   alpha: float = PEAK_ALPHA) -> float:
    """The floor ratio (:func:`floor_ratio`) a peak needs: what noise passes with probability
    about ``alpha`` anywhere among ``n_bins`` bins of a Welch estimate averaging
    ``n_segments`` segments, and at least :data:`PEAK_MIN_RATIO`.

    Each bin of such an estimate is about chi-square with ``nu = DOF_PER_SEGMENT *
    n_segments`` degrees of freedom: the ``1 - alpha / n_bins`` quantile over the median,
    times ``exp(FLOOR_Z * se)`` for the floor's own error (the median of ``floor_bins`` such
    bins: ``se = 1.2533 sqrt(2 / nu) / sqrt(floor_bins)`` in log power).

    Parameters
    ----------
    n_segments, n_bins, floor_bins : int >= 1
    alpha : number in (0, 1)

    Returns
    -------
    float >= PEAK_MIN_RATIO
    """
    from scipy.stats import chi2

    dof = DOF_PER_SEGMENT * max(1, int(n_segments))
    se = 1.2533 * math.sqrt(2.0 / dof) / math.sqrt(max(1, int(floor_bins)))
    line = chi2.isf(alpha / max(1, int(n_bins)), dof) / chi2.median(dof)
    return float(max(PEAK_MIN_RATIO, line * math.exp(FLOOR_Z * se)))


def floor_ratio(p: np.ndarray, i: int, context: int, guard: int = PEAK_GUARD_BINS) -> float:
    """Power of bin ``i`` over the local noise floor: the geometric mean of the medians of up
    to ``context`` bins on either side, leaving out ``guard`` bins next to ``i`` and bins 0-1
    (the mean's leakage); one side's median alone where the other has fewer than 3 bins. A
    floor that is a straight line in log power (a sloping spectrum) is read at its centre.

    Parameters
    ----------
    p : np.ndarray [shape=(k,)]
        Power spectrum.
    i : int
        The bin to test.
    context, guard : int >= 0

    Returns
    -------
    float
        inf when there is no floor (no bins beside, or a zero floor under power).
    """
    left = p[max(2, i - context):max(2, i - guard)]
    right = p[i + guard + 1:i + context + 1]
    sides = [np.median(s) for s in (left, right) if s.size >= 3]
    if not sides:
        both = np.concatenate((left, right))
        sides = [np.median(both)] if both.size else []
    floor = float(np.exp(np.mean(np.log(np.maximum(sides, 1e-300))))) if sides else 0.0
    if floor <= 0.0 or not any(sides):
        return math.inf if p[i] > 0 else 0.0
    return float(p[i] / floor)


def envelope_spectrum(env: np.ndarray, env_sr: float, *, fmin_hz: float = FMIN_HZ,
                      fmax_hz: float = FMAX_HZ, resolution_hz: float = RESOLUTION_HZ):
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
    from .framewise import as_frames

    env = as_frames(env)
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


def blocked_welch(x: np.ndarray, fs: float, nperseg: int, *, block: int | None = None):
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
    block : int >= 1, optional
        Segments per block (default :data:`BLOCK_SEGMENTS`).

    Returns
    -------
    freqs_hz, power : np.ndarray [shape=(nperseg // 2 + 1,)]
    """
    if x.size < nperseg:
        raise ValueError(f"the signal ({x.size}) is shorter than a segment ({nperseg})")
    block = BLOCK_SEGMENTS if block is None else int(block)
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
        the spectrum that stand out of its noise floor, strongest first, parabolically
        interpolated, 0.01 Hz; empty for noise), ``peak_shares`` (each peak bin's share of the
        power), ``peak_floor_ratios`` (each peak's power over its local floor,
        :func:`floor_ratio`), ``peak_threshold`` (the ratio a peak needed,
        :func:`peak_threshold`; None when there is no spectrum), ``depth`` (modulation depth
        1 - P2/P98 of the envelope, 0-1), and private ``_freqs_hz`` / ``_power`` for plots.
    """
    from ..measure.modulation import band_shares
    from .framewise import as_frames, percentiles

    env = as_frames(env)
    # the floor beside the band's edges needs the bins beyond them: one spectrum, cut after
    fa, pa = envelope_spectrum(env, env_sr, fmin_hz=0.0, fmax_hz=env_sr / 2)
    sel = (fa >= FMIN_HZ) & (fa <= FMAX_HZ)
    f, p = fa[sel], pa[sel]
    tot = p.sum()
    p = p / tot if tot > 0 else np.zeros_like(p)
    bands = {k: round(v, 4) for k, v in band_shares(f, p).items()}
    peaks, shares, ratios = [], [], []
    threshold = None
    if p.sum() > 0 and p.size >= 3:
        df = f[1] - f[0]
        first = int(np.argmax(sel))
        context = max(PEAK_GUARD_BINS + 3, int(round(PEAK_CONTEXT_HZ / df)))
        threshold = peak_threshold(welch_segments(env.size, env_sr), p.size,
                                   2 * (context - PEAK_GUARD_BINS))
        idx, _ = signal.find_peaks(p)
        ratio = np.array([floor_ratio(pa, first + i, context) for i in idx])
        keep = ratio >= threshold
        idx, ratio = idx[keep], ratio[keep]
        order = np.argsort(p[idx])[::-1][:n_peaks]
        for i, r in zip(idx[order], ratio[order]):
            d = vertex_offset(*np.log(p[i - 1:i + 2] + 1e-30))
            peaks.append(round(float(f[i] + d * df), 2))
            shares.append(round(float(p[i]), 4))
            ratios.append(round(float(r), 1))
    depth = 0.0
    if env.size:
        lo, hi = percentiles(env, [2, 98])
        depth = float(1 - lo / hi) if hi > 0 else 0.0
    return {"bands": bands, "peaks_hz": peaks, "peak_shares": shares,
            "peak_floor_ratios": ratios,
            "peak_threshold": None if threshold is None else round(threshold, 2),
            "depth": round(depth, 4), "_freqs_hz": f, "_power": p}
