"""Binaural-beat detection from each channel's long-term spectrum.

A binaural beat is a steady tone in one ear and a slightly different steady tone in the other
(0.5-40 Hz apart), each absent or weak in the opposite ear. Ordinary stereo music shares its
tones between the channels (and its notes move, so its long-term spectrum has few sharp peaks);
a mono file cannot carry a binaural beat. Tones are read from the average power spectrum
(0.168 Hz bins) with parabolic interpolation of the log power, so the beat is resolved to about
0.01 Hz.
"""
from __future__ import annotations

import numpy as np
from scipy import signal

from ..measure._common import vertex_offset

FMIN_HZ, FMAX_HZ = 20.0, 1500.0
BEAT_MIN_HZ, BEAT_MAX_HZ = 0.5, 40.0
TONAL_DB = 20.0   # a tone stands this far above the spectrum's local median
WEAK_DB = 20.0    # ... and this far above the other channel at its own frequency


def _tones(freqs, pdb, n, fmin_hz, fmax_hz):
    """Up to n sharp peaks (frequency Hz, level dB), strongest first."""
    sel = (freqs >= fmin_hz) & (freqs <= fmax_hz)
    lo, hi = np.flatnonzero(sel)[[0, -1]]
    seg = pdb[lo:hi + 1]
    idx, _ = signal.find_peaks(seg)
    if idx.size == 0:
        return []
    base = signal.medfilt(seg, 301) if seg.size > 301 else np.full_like(seg, np.median(seg))
    idx = idx[seg[idx] - base[idx] >= TONAL_DB]
    idx = idx[np.argsort(seg[idx])[::-1][:n]]
    df = freqs[1] - freqs[0]
    out = []
    for i in idx:
        j = i + lo
        d = vertex_offset(pdb[j - 1], pdb[j], pdb[j + 1])
        out.append((float(freqs[j] + d * df), float(pdb[j])))
    return out


def detect_binaural(freqs_hz: np.ndarray, spectra: np.ndarray, *, n_tones: int = 3,
                    fmin_hz: float = FMIN_HZ, fmax_hz: float = FMAX_HZ) -> dict:
    """Each channel's dominant low tones and the binaural beat between them, if any.

    Parameters
    ----------
    freqs_hz : np.ndarray [shape=(k,)]
        Bin frequencies in Hz, evenly spaced from 0.
    spectra : np.ndarray [shape=(channels, k)]
        Average power spectrum of each channel (linear power).
    n_tones : int >= 1
        Tones to list per channel.
    fmin_hz, fmax_hz : number
        Tone search band in Hz (binaural carriers live below 1500 Hz).

    Returns
    -------
    dict
        ``beat_hz`` (None when no tone pair qualifies, always None for one channel),
        ``left_hz`` and ``right_hz`` (the pair's tones, or None), ``carrier_hz`` (their mean),
        ``left_tones_hz`` and ``right_tones_hz`` (each channel's strongest tones; right is None for
        mono). A pair qualifies when the tones differ by 0.5-40 Hz and each is at least 20 dB
        stronger in its own channel than in the other.
    """
    f = np.asarray(freqs_hz, dtype=np.float64)
    s = np.atleast_2d(np.asarray(spectra, dtype=np.float64))
    pdb = 10 * np.log10(s + 1e-20)
    tones = [_tones(f, pdb[c], n_tones, fmin_hz, fmax_hz) for c in range(min(2, s.shape[0]))]
    out = {"beat_hz": None, "left_hz": None, "right_hz": None, "carrier_hz": None,
           "left_tones_hz": [round(t[0], 3) for t in tones[0]],
           "right_tones_hz": [round(t[0], 3) for t in tones[1]] if len(tones) > 1 else None}
    if len(tones) < 2:
        return out

    def level(c, hz):
        return float(np.interp(hz, f, pdb[c]))

    best = None
    for fl, dl in tones[0]:
        for fr, dr in tones[1]:
            diff = abs(fl - fr)
            if not (BEAT_MIN_HZ <= diff <= BEAT_MAX_HZ):
                continue
            if dl - level(1, fl) < WEAK_DB or dr - level(0, fr) < WEAK_DB:
                continue
            if best is None or dl + dr > best[2]:
                best = (fl, fr, dl + dr)
    if best is not None:
        fl, fr, _ = best
        out.update(beat_hz=round(abs(fl - fr), 3), left_hz=round(fl, 3), right_hz=round(fr, 3),
                   carrier_hz=round((fl + fr) / 2, 3))
    return out
